"""A picture of the fleet, in the manner of RL4AMOD's figures (``StanfordASL/RL4AMOD``: regions on the city
layout, idle vehicles per region, rebalancing flows between them).

Regions sit at their layout positions (``params.xy`` in ``[0, 1]^2``: grid cells for the synthetic city,
classical multidimensional scaling of the travel times for an RL4AMOD city, see ``city.layout``). Idle
vehicles are blue discs whose area is proportional to the count (a region holding an even share of the fleet
gets the reference size), with the count written beside them; last step's lost (unserved) requests are red
rings and numbers; last step's rebalancing flows are orange arrows whose width grows with the vehicles moved.
A side panel holds the legend, the step, the last reward and the episode return so far (when the caller passes
them: the state does not hold them), and the fleet's totals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting

BLUE, RED, ORANGE, GREY = "#2857c8", "#d22828", "#f09614", "#9a9aa6"
#: marker area (points^2) of a region holding an even share of the fleet
REFERENCE_AREA = 500.0
#: the most regions whose counts are written beside them
LABELLED_REGIONS = 40


def draw(state: Any, params: Any, *, reward: Any = None, episode_return: Any = None, title: str = "") -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    mask = np.asarray(params.mask)
    xy = np.asarray(params.xy, np.float64)[mask]
    idle = np.asarray(state.idle)[mask].astype(np.float64)
    lost = np.asarray(state.unserved)[mask].astype(np.float64)
    flows = np.asarray(state.flows)[np.ix_(mask, mask)].astype(np.float64)
    np.fill_diagonal(flows, 0.0)
    transit = int(np.asarray(state.arrivals)[:, mask].sum())
    n = int(mask.sum())
    share = max(float(np.asarray(params.fleet)[mask].sum()) / max(n, 1), 1.0)

    fig = plotting.figure()
    ax = fig.add_axes((0.07, 0.1, 0.5, 0.82))
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.08, 1.08)
    ax.set_aspect("equal")
    ax.set_facecolor("#fbfbfd")
    ax.grid(color="#e2e2ea", linewidth=0.6)
    ax.set_axisbelow(True)
    top = max(flows.max(initial=0.0), 1.0)
    for i, j in zip(*np.nonzero(flows), strict=True):
        f = flows[i, j] / top
        ax.add_patch(FancyArrowPatch(tuple(xy[i]), tuple(xy[j]), arrowstyle="-|>", mutation_scale=8 + 8 * f,
                                     color=ORANGE, alpha=0.45 + 0.5 * f, linewidth=0.8 + 4.0 * f,
                                     shrinkA=6, shrinkB=9, connectionstyle="arc3,rad=0.12", zorder=2))
        if n <= LABELLED_REGIONS and f >= 0.25:  # the main flows get their vehicle count
            mid = (xy[i] + xy[j]) / 2 + 0.06 * np.array([xy[j, 1] - xy[i, 1], xy[i, 0] - xy[j, 0]])
            ax.text(*mid, f"{int(flows[i, j])}", fontsize=7, color="#a05a00", ha="center", va="center", zorder=6,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
    area = lambda v: REFERENCE_AREA * np.minimum(v / share, 6.0)  # noqa: E731
    ax.scatter(xy[:, 0], xy[:, 1], s=14, c=GREY, zorder=3)
    ax.scatter(xy[:, 0], xy[:, 1], s=area(idle), c=BLUE, alpha=0.75, edgecolors="white", linewidths=0.8, zorder=4)
    hit = lost > 0
    ax.scatter(xy[hit, 0], xy[hit, 1], s=area(lost[hit]) * 1.15 + 60, facecolors="none", edgecolors=RED,
               linewidths=2.0, zorder=5)
    if n <= LABELLED_REGIONS:
        for k in range(n):
            ax.annotate(f"{int(idle[k])}", xy[k], xytext=(7, 5), textcoords="offset points", fontsize=7.5,
                        color=BLUE, weight="bold", zorder=6)
            if hit[k]:
                ax.annotate(f"-{int(lost[k])}", xy[k], xytext=(10, -14), textcoords="offset points", fontsize=7.5,
                            color=RED, weight="bold", zorder=6)
    ax.set_xlabel("map x (region layout, 0-1)")
    ax.set_ylabel("map y (region layout, 0-1)")
    ax.set_title(title or "robo-taxi fleet", fontsize=11)

    handles = [
        Line2D([], [], marker="o", markersize=12, color=BLUE, alpha=0.75, linestyle="none",
               label=f"idle vehicles (area ~ count; this size = {share:.0f})"),
        Line2D([], [], marker="o", markersize=12, markerfacecolor="none", markeredgecolor=RED, markeredgewidth=2,
               linestyle="none", label="requests lost last step (ring, red -n)"),
        Line2D([], [], color=ORANGE, linewidth=3, label="rebalancing flow last step (width, number: vehicles)"),
        Line2D([], [], marker="o", markersize=4, color=GREY, linestyle="none", label="region centre"),
    ]
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return)
    lines += ["", f"regions:            {n}",
              f"idle vehicles:      {int(idle.sum())}",
              f"in transit:         {transit}",
              f"rebalanced (last):  {int(flows.sum())}",
              f"lost requests (last): {int(lost.sum())}",
              "", "reward = fares - trip costs", "         - rebalancing costs ($)"]
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
