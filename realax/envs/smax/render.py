"""A picture of a SMAX battle, in the manner of JaxMARL's SMAX visualiser (``JaxMARL:jaxmarl/viz/visualizer.py``
``SMAXVisualizer``: units as discs coloured by team on the map, with their attacks).

The whole map in map units (x right, y up; the map edges kill when ``walls_cause_death``). Each living unit is
a disc of its true radius in its team's colour (allies blue, enemies red) with its SMAC type letter (m marine,
M marauder, s stalker, Z zealot, z zergling, h hydralisk) and a health bar above it (green: health left);
dead units are grey crosses; last step's attack orders are lines from the shooter to its target; each living
ally's attack range is a faint dotted circle. The side panel holds the legend, the step, the last reward and
the episode return so far (when the caller passes them: the state does not hold them) and units alive per team.
A frame costs one matplotlib draw (about 0.1-0.2 s); JaxMARL#162 asked for cheap frames, so nothing is drawn
per tick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting
from realax.envs.smax.scenarios import UNIT_TYPES

ALLY, ENEMY, DEAD = "#3c6eff", "#eb3c32", "#8a8a8a"
HEALTH, HEALTH_LOST = "#3cc850", "#5a1e1e"
#: SMAC's one-letter abbreviation of each unit type (``scenarios._ALIASES``)
LETTERS = ("m", "M", "s", "Z", "z", "h")


def draw(state: Any, params: Any, num_allies: int, *, reward: Any = None, episode_return: Any = None, title: str = "",
         self_play: bool = False) -> np.ndarray:
    """``uint8 [540, 960, 3]``. ``reward``/``episode_return``: ``[A]`` per agent (or a scalar); every ally is
    paid the same, so one value per team is shown (the enemy team's too under ``self_play``)."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Patch

    W, H = float(params.map_width), float(params.map_height)
    pos, health = np.asarray(state.pos, np.float64), np.asarray(state.health, np.float64)
    alive, types = np.asarray(state.alive), np.asarray(state.types)
    max_hp, radius = np.asarray(params.health)[types], np.asarray(params.radius)[types]
    attack_range = np.asarray(params.attack_range)[types]
    attack = np.asarray(state.prev_attack)
    N = pos.shape[0]
    is_ally = np.arange(N) < num_allies

    fig = plotting.figure()
    ax = fig.add_axes((0.06, 0.1, 0.5, 0.82))
    (x0, x1), (y0, y1) = view(pos, W, H)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_facecolor("#f7f5ef")
    ax.grid(color="#e4e1d6", linewidth=0.6)
    ax.set_axisbelow(True)
    for a in np.flatnonzero((attack >= 5) & alive):  # attack orders of last step
        k = int(attack[a]) - 5
        j = num_allies + k if is_ally[a] else num_allies - 1 - k
        if 0 <= j < N and is_ally[j] != is_ally[a]:
            ax.plot(*zip(pos[a], pos[j], strict=True), color=ALLY if is_ally[a] else ENEMY, linewidth=1.1,
                    alpha=0.8, linestyle=(0, (4, 2)), zorder=2)
    bar = (x1 - x0) / 90
    for i in range(N):
        x, y = pos[i]
        if not alive[i]:
            ax.plot(x, y, marker="x", color=DEAD, markersize=6, markeredgewidth=1.5, zorder=3)
            continue
        colour = ALLY if is_ally[i] else ENEMY
        if is_ally[i]:
            ax.add_patch(Circle((x, y), attack_range[i], fill=False, edgecolor=ALLY, alpha=0.25, linewidth=0.7,
                                linestyle=":", zorder=1))
        ax.add_patch(Circle((x, y), radius[i], facecolor=colour, edgecolor="black", linewidth=0.6, zorder=4))
        ax.text(x, y, LETTERS[int(types[i])], ha="center", va="center", fontsize=6.5, color="white",
                weight="bold", zorder=5)
        frac = float(np.clip(health[i] / max_hp[i], 0.0, 1.0))
        w, yb = 2.2 * max(radius[i], 0.5), y + radius[i] + bar
        ax.add_patch(plotting_rect(x - w / 2, yb, w, bar, HEALTH_LOST))
        ax.add_patch(plotting_rect(x - w / 2, yb, w * frac, bar, HEALTH))
    zoomed = (x1 - x0) < W or (y1 - y0) < H
    ax.set_xlabel("map x" + (f" (view zoomed on the units; the map is {W:g} x {H:g})" if zoomed else ""))
    ax.set_ylabel("map y")
    ax.set_title(title or "SMAX", fontsize=11)

    present = sorted(set(int(t) for t in types))
    handles = [Patch(facecolor=ALLY, edgecolor="black", label=f"allies (agents), {int(alive[:num_allies].sum())}"
                     f"/{num_allies} alive"),
               Patch(facecolor=ENEMY, edgecolor="black", label=f"enemies, {int(alive[num_allies:].sum())}"
                     f"/{N - num_allies} alive"),
               Line2D([], [], marker="x", color=DEAD, linestyle="none", markeredgewidth=1.5, label="dead unit"),
               Patch(facecolor=HEALTH, edgecolor=HEALTH_LOST, linewidth=2, label="health bar (green: health left)"),
               Line2D([], [], color="#555", linestyle=(0, (4, 2)), label="attack order, last step"),
               Line2D([], [], color=ALLY, alpha=0.5, linestyle=":", label="ally attack range")]
    handles.append(Line2D([], [], linestyle="none", label="letters: " + ", ".join(
        f"{LETTERS[t]} {UNIT_TYPES[t]}" for t in present)))
    names = ["ally team", "enemy team"] if self_play else None
    lines = plotting.status_lines(state.t, params.max_steps, _teams(reward, num_allies, self_play),
                                  _teams(episode_return, num_allies, self_play), names)
    lines.append("(the same for every unit of a team)")
    lines += ["", "reward: the opponents' health removed", "  (fraction of max, / their count)",
              f"  + {float(params.won_battle_bonus):g} for winning"]
    plotting.side_panel(fig, handles, lines, left=0.59)
    return plotting.to_rgb(fig)


def view(pos: np.ndarray, W: float, H: float, least: float = 12.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((x0, x1), (y0, y1))``: a square around every unit with a margin of 3 map units, at least ``least``
    map units wide, inside the map (the whole map when the units spread over it)."""
    reach = 3.0
    lo, hi = pos.min(0) - reach, pos.max(0) + reach
    span = min(max(float((hi - lo).max()), least), W, H)
    centre = (lo + hi) / 2
    x0 = float(np.clip(centre[0] - span / 2, 0.0, W - span))
    y0 = float(np.clip(centre[1] - span / 2, 0.0, H - span))
    return (x0, x0 + span), (y0, y0 + span)


def _teams(value: Any, num_allies: int, self_play: bool) -> np.ndarray | None:
    """One value per team from per-agent values (allies first; enemies are agents only under self-play)."""
    if value is None:
        return None
    v = np.asarray(value, np.float64).reshape(-1)
    if v.size <= 1:
        return v
    return v[[0, min(num_allies, v.size - 1)]] if self_play else v[0]


def plotting_rect(x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="none", zorder=6)
