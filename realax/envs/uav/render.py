"""A picture of the UAV offloading area: base stations, users coloured by who serves them, UAVs and trails.

Users are dots: one colour per UAV for the users it serves, grey for those on a ground base station, red for
those nobody serves. Base stations are black triangles; UAVs are stars in their colour with a line through
their last positions (the trail). The grid lines are the cells of grid mode. The side panel has the legend,
the step, the last rewards and returns, and the association counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
GREY, RED, BLACK = "#9a9aa6", "#d22828", "#1a1a1a"


def draw(env: Any, state: Any, params: Any, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D

    K, area = env.num_agents, env.area
    colours = [PALETTE[k % len(PALETTE)] for k in range(K)]
    serving = np.asarray(state.serving)
    user, uav, trail = np.asarray(state.user), np.asarray(state.uav), np.asarray(state.trail)
    bs = np.asarray(params.bs_xy).reshape(-1, 2)

    fig = plotting.figure()
    ax = fig.add_axes((0.07, 0.1, 0.5, 0.82))
    pad = 0.04 * area
    ax.set_xlim(-pad, area + pad)
    ax.set_ylim(-pad, area + pad)
    ax.set_aspect("equal")
    ax.set_facecolor("#fbfbfd")
    ticks = np.linspace(0.0, area, env.grid + 1)
    for v in ticks:
        ax.axvline(v, color="#e2e2ea", linewidth=0.6, zorder=0)
        ax.axhline(v, color="#e2e2ea", linewidth=0.6, zorder=0)
    user_colour = np.array([colours[s] if 0 <= s < K else (GREY if s >= K else RED) for s in serving], dtype=object)
    ax.scatter(user[:, 0], user[:, 1], s=14, c=list(user_colour), zorder=3, linewidths=0)
    if bs.size:
        ax.scatter(bs[:, 0], bs[:, 1], s=140, marker="^", c=BLACK, zorder=4)
    for k in range(K):
        ax.plot(trail[:, k, 0], trail[:, k, 1], color=colours[k], linewidth=1.5, alpha=0.6, zorder=4)
        ax.scatter([uav[k, 0]], [uav[k, 1]], s=260, marker="*", c=colours[k], edgecolors="white", linewidths=1.0, zorder=5)
        ax.annotate(str(k), tuple(uav[k]), xytext=(8, 6), textcoords="offset points", fontsize=8, weight="bold",
                    color=colours[k], zorder=6)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(f"UAVOffload-v0 - {env.scenario.name}, {K} UAVs at {float(params.altitude_m):g} m, "
                 f"{env.num_users} users", fontsize=11)

    on_uav = [(serving == k).sum() for k in range(K)]
    handles = [Line2D([], [], marker="*", markersize=13, color=colours[k], linestyle="none",
                      label=f"UAV {k} and its users ({on_uav[k]})") for k in range(min(K, 6))]
    handles += [
        Line2D([], [], marker="o", markersize=5, color=GREY, linestyle="none",
               label=f"user on a base station ({int((serving >= K).sum())})"),
        Line2D([], [], marker="o", markersize=5, color=RED, linestyle="none",
               label=f"user served by nobody ({int((serving < 0).sum())})"),
        Line2D([], [], marker="^", markersize=9, color=BLACK, linestyle="none", label="ground base station"),
        Line2D([], [], color=GREY, linewidth=1.5, label=f"UAV trail (last {trail.shape[0]} positions)"),
    ]
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return, names=list(env.agents))
    lines += ["", f"association rate: {sum(on_uav) / env.num_users:.2f}",
              f"QoS threshold:    {float(params.sinr_threshold_db):g} dB SINR",
              f"cell:             {env.cell:g} m ({env.mode} mode)"]
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
