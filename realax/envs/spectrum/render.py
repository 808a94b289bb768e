"""Waterfall pictures of the spectrum envs, in the manner of RFRL Gym's renderer (``vtnsiSDD/rfrl-gym``
``rfrl_gym/renderers``: a channel x time waterfall of the entities and the agent beside its rewards).

Left: the last ``history`` steps of the band (channels across, time down, the newest step at the bottom);
each cell is coloured by who occupies it -- free, an entity (named by its kind), a radio alone on it
(multi-agent), or a collision -- and each radio's own transmissions are outlined in its colour. Rows before
the episode's first step are hatched. Right: the legend, the step, the last reward and the episode return so
far (when the caller passes them: the state does not hold them) and the reward rule of each radio.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from realax.envs import plotting
from realax.envs.spectrum import schema as sc

FREE, BUSY, COLLISION = "#14142a", "#9a9aa6", "#e8262b"
#: entity colours: matplotlib's tab10 without its red (red means a collision)
ENTITY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
                  "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a")
#: each radio's outline colour (and, in the multi-agent waterfall, the fill of a cell it holds alone)
RADIO_COLOURS = ("#ffffff", "#ffd700", "#00e5c8", "#ff66ff", "#7cfc00", "#ff8c69")
#: entity kinds as RFRL Gym's classes (``scenario.ENTITY_TYPES``), in words
KIND_NAMES = {sc.CONSTANT: "constant emitter", sc.FIXED_HOP: "fixed hopper", sc.RANDOM_HOP: "random hopper",
              sc.STOCH_CONSTANT: "intermittent emitter", sc.AGILE: "agile emitter (dodges)",
              sc.REACTIVE_JAMMER: "reactive jammer", sc.FOLLOW_JAMMER: "follow jammer"}
#: the most entities named one by one in the legend
LEGEND_ENTITIES = 10


def reward_rule(jam: bool, target: int) -> str:
    """One radio's reward mode, short (``dsa``, or ``jam k`` for target entity k)."""
    return f"jam {target}" if jam else "dsa"


#: the reward modes in words (RFRL Gym: ``dsa`` and ``jam``, 0 when silent)
RULES = {"dsa": "dsa: +1 on a free channel, -1 on a busy one",
         "jam": "jam k: +1 on entity k's channel, else -1"}


def _entity_label(i: int, kind: int) -> str:
    return f"entity {i + 1}: {KIND_NAMES.get(int(kind), 'emitter')}"


def draw(codes: np.ndarray, tx: np.ndarray, t: int, max_steps: int, *, kinds: Sequence[int], classify: bool,
         num_radios: int, radio_cells: bool = False, rules: Sequence[str], reward: Any = None, episode_return: Any = None,
         title: str = "") -> np.ndarray:
    """``uint8 [540, 960, 3]`` of one waterfall.

    ``codes int [H, C]``: 0 free, ``1..E`` entity, ``E+1..E+R`` radio j alone on the channel (multi-agent
    only: ``radio_cells=True``), ``E+R+1`` collision; in detect mode (``classify=False``) 0 free, 1 occupied.
    ``tx int [H, R]``: each radio's channel + 1 per row (0 silent). Row ``H-1`` is step ``t``.
    """
    plotting.need_matplotlib()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    H, C = codes.shape
    E, R = len(kinds), num_radios
    if classify:
        colours = [FREE] + [ENTITY_COLOURS[i % len(ENTITY_COLOURS)] for i in range(E)]
        colours += [RADIO_COLOURS[j % len(RADIO_COLOURS)] for j in range(R if radio_cells else 0)]
        colours += [COLLISION]
        top = len(colours) - 1
        data = np.clip(codes, 0, top)
    else:
        colours, top, data = [FREE, BUSY], 1, (codes > 0).astype(np.int64)
    fig = plotting.figure()
    ax = fig.add_axes((0.085, 0.1, 0.5, 0.82))
    first = t - H + 1  # step of row 0
    ax.imshow(data, cmap=ListedColormap(colours), vmin=-0.5, vmax=top + 0.5, interpolation="nearest", aspect="auto",
              extent=(-0.5, C - 0.5, t + 0.5, first - 0.5))
    if first < 0:  # rows before the episode's first step
        ax.add_patch(Rectangle((-0.5, first - 0.5), C, -first, facecolor="#d8d8de", edgecolor="#8888a0",
                               hatch="///", linewidth=0))
    lw = max(1.0, min(3.0, 180.0 / max(C, H)))
    for j in range(tx.shape[1]):
        inset = 0.08 + 0.1 * (j % 3)
        for r in range(H):
            c = int(tx[r, j]) - 1
            if 0 <= c < C:
                ax.add_patch(Rectangle((c - 0.5 + inset, first + r - 0.5 + inset), 1 - 2 * inset, 1 - 2 * inset,
                                       fill=False, edgecolor=RADIO_COLOURS[j % len(RADIO_COLOURS)], linewidth=lw))
    if C <= 40:
        ax.set_xticks(np.arange(C))
        ax.set_xticks(np.arange(C + 1) - 0.5, minor=True)
        ax.grid(which="minor", axis="x", color="#3a3a55", linewidth=0.5)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if H <= 24:
        ax.set_yticks(np.arange(first, t + 1))
        ax.set_yticklabels([f"now {s}" if s == t else str(s) for s in range(first, t + 1)], fontsize=8)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("channel")
    ax.set_ylabel("time step (newest at the bottom)", fontsize=9)
    ax.set_title(title or "spectrum waterfall", fontsize=11)

    handles: list[Any] = [Patch(facecolor=FREE, edgecolor="#555", label="free channel")]
    edge: dict[str, Any] = dict(edgecolor="#555", linewidth=0.5)
    if classify:
        named = [Patch(facecolor=colours[1 + i], label=_entity_label(i, k)) for i, k in enumerate(kinds)
                 if int(k) != sc.NONE]
        handles += named[:LEGEND_ENTITIES]
        if len(named) > LEGEND_ENTITIES:
            handles.append(Patch(facecolor="none", edgecolor="none",
                                 label=f"... {len(named) - LEGEND_ENTITIES} more entities"))
        if radio_cells:
            handles += [Patch(facecolor=colours[1 + E + j], label=f"radio {j} alone on the channel", **edge)
                        for j in range(R)]
        handles.append(Patch(facecolor=COLLISION, label="collision (two or more transmitters)"))
    else:
        handles.append(Patch(facecolor=BUSY, label="occupied (detect view: sender unknown)"))
    for j in range(R):
        name = "own radio" if R == 1 else f"radio {j}"
        handles.append(plotting.outline_handle(FREE, RADIO_COLOURS[j % len(RADIO_COLOURS)],
                                               f"{name} transmits (outline)"))
    if first < 0:
        handles.append(Patch(facecolor="#d8d8de", edgecolor="#8888a0", hatch="///", label="before the episode start"))
    names = ["own radio"] if R == 1 else [f"radio {j}" for j in range(R)]
    lines = plotting.status_lines(t, max_steps, reward, episode_return, names, rules if R > 1 else None)
    if R == 1:
        lines.append(f"reward mode:    {rules[0]}")
    lines += ["", "reward per step (0 when silent):"]
    lines += ["  " + RULES[m] for m in RULES if any(r.split()[0] == m for r in rules)]
    plotting.side_panel(fig, handles, lines, left=0.62)
    return plotting.to_rgb(fig)


#: overlay colours of the IQ picture
DETECTED, FALSE_ALARM, MISSED, TRUTH, OWN = "#00e5ff", "#ff9f1c", "#ff2d55", "#ffffff", "#ffd700"


def draw_iq(spec: np.ndarray, detected: np.ndarray, truth: np.ndarray, tx: np.ndarray, t: int, max_steps: int, *,
            num_channels: int, hear_own: bool, rule: str, detector: str = "energy", reward: Any = None,
            episode_return: Any = None, title: str = "") -> np.ndarray:
    """``uint8 [540, 960, 3]`` of ``realax/SpectrumIQ-v0``: the power spectrogram ``spec [H, B]`` (dB over the
    noise floor; rows are steps, the newest at the bottom; columns span -0.5..0.5 cycles/sample, drawn in
    channel units) with, per step and channel, the detector's decision ``detected [H, C]`` (a box: cyan when
    something is on the air, orange for a false alarm), the truth ``truth [H, C]`` (a white dot where an entity
    transmits), missed detections (a red cross) and the radio's own transmissions ``tx [H]`` (a gold triangle)."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    H, C = detected.shape
    first = t - H + 1
    fig = plotting.figure()
    ax = fig.add_axes((0.075, 0.1, 0.44, 0.82))
    image = ax.imshow(spec, cmap="viridis", vmin=-5.0, vmax=max(20.0, float(np.max(spec))), interpolation="nearest",
                      aspect="auto", extent=(-0.5, C - 0.5, t + 0.5, first - 0.5))
    if first < 0:
        ax.add_patch(Rectangle((-0.5, first - 0.5), C, -first, facecolor="#d8d8de", edgecolor="#8888a0",
                               hatch="///", linewidth=0))
    own = np.zeros((H, C), bool)
    for r in range(H):
        if 0 < int(tx[r]) <= C:
            own[r, int(tx[r]) - 1] = True
    on_air = (truth > 0) | (own & hear_own)
    valid = (np.arange(H) + first >= 0)[:, None]
    lw = max(1.0, min(2.5, 160.0 / max(C, H)))
    for r, c in zip(*np.nonzero(detected.astype(bool) & valid), strict=True):
        colour = DETECTED if on_air[r, c] else FALSE_ALARM
        ax.add_patch(Rectangle((c - 0.42, first + r - 0.42), 0.84, 0.84, fill=False, edgecolor=colour, linewidth=lw))
    rs, cs = np.nonzero((truth > 0) & valid)
    ax.plot(cs, rs + first, "o", color=TRUTH, markersize=4, markeredgecolor="#222")
    rs, cs = np.nonzero(on_air & ~detected.astype(bool) & valid)
    ax.plot(cs + 0.22, rs + first, "x", color=MISSED, markersize=7, markeredgewidth=2)
    rs, cs = np.nonzero(own & valid)
    ax.plot(cs - 0.25, rs + first, "^", color=OWN, markersize=6, markeredgecolor="#222")
    ax.set_xlim(-0.5, C - 0.5)
    ax.set_ylim(t + 0.5, first - 0.5)
    ax.set_xticks(np.arange(C) if C <= 40 else np.arange(0, C, max(1, C // 10)))
    for k in range(1, C):
        ax.axvline(k - 0.5, color="#ffffff", linewidth=0.4, alpha=0.35)
    if H <= 24:
        ax.set_yticks(np.arange(first, t + 1))
        ax.set_yticklabels([f"now {s}" if s == t else str(s) for s in range(first, t + 1)], fontsize=8)
    ax.set_xlabel("channel (frequency -0.5 .. 0.5 cycles/sample)")
    ax.set_ylabel("time step (newest at the bottom)", fontsize=9)
    ax.set_title(title or "IQ spectrogram", fontsize=9)
    cax = fig.add_axes((0.525, 0.1, 0.012, 0.82))
    bar = fig.colorbar(image, cax=cax)
    bar.set_label("power, dB over noise floor", fontsize=8)
    bar.ax.tick_params(labelsize=7)

    def marker(m: str, colour: str, label: str, **kw: Any) -> Line2D:
        edge = colour if m == "x" else "#222"
        return Line2D([], [], marker=m, color=colour, linestyle="none", label=label, markeredgecolor=edge, **kw)

    handles: list[Any] = [
        Patch(facecolor="none", edgecolor=DETECTED, linewidth=1.5, label="detector: occupied (correct)"),
        Patch(facecolor="none", edgecolor=FALSE_ALARM, linewidth=1.5, label="detector: false alarm"),
        marker("x", MISSED, "missed detection", markersize=7, markeredgewidth=2),
        marker("o", TRUTH, "truth: an entity transmits", markersize=5),
        marker("^", OWN, "own radio transmits" + (" (heard)" if hear_own else " (not in samples)"), markersize=6),
    ]
    if first < 0:
        handles.append(Patch(facecolor="#d8d8de", edgecolor="#8888a0", hatch="///", label="before the episode start"))
    seen = valid & np.ones((H, C), bool)
    occ, det = int(np.sum(on_air & seen)), int(np.sum(on_air & detected.astype(bool) & seen))
    vac, fa = int(np.sum(~on_air & seen)), int(np.sum(~on_air & detected.astype(bool) & seen))
    lines = plotting.status_lines(t, max_steps, reward, episode_return, ["own radio"])
    lines += [f"reward mode:    {rule} (on the truth)", "",
              f"{detector} detector, last {min(H, t + 1)} steps:",
              f"  detected     {det} / {occ} occupied",
              f"  false alarms {fa} / {vac} vacant", "",
              "reward per step (0 when silent):"]
    lines += ["  " + RULES[m] for m in RULES if rule.split()[0] == m]
    plotting.side_panel(fig, handles, lines, left=0.62)
    return plotting.to_rgb(fig)
