"""A top-down picture of the warehouse: shelves, walls, depots, pick stations, scripted obstacles and their
paths, each AGV with its heading, lidar rays, goal and trail.

Shelves are brown rectangles (a shelf left out of this episode is a dashed outline), walls dark grey, depots
blue squares, pick stations green triangles, obstacles orange discs with their paths dotted. Each AGV is a
disc in its colour with a line for its heading, its lidar rays (thin, to the hit point), its goal (a ring of
the goal radius) and its trail (the last positions). The side panel has the legend, the step, the last reward
and return, and per AGV its distance to the goal and speed (and, with several, deliveries and status).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting
from realax.envs.agv import kinematics as kin

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
SHELF, WALL, DEPOT, PICK, OBSTACLE = "#b07a45", "#4a4a55", "#3b6fb6", "#2e9e4f", "#ff8c1a"
#: at most this many rays per AGV are drawn (evenly spread over the beams)
MAX_RAYS = 64


def draw(env: Any, state: Any, params: Any, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Rectangle

    lay = env.scenario.layout
    W, H = lay.width_m, lay.height_m
    pos = np.asarray(state.pos, np.float64).reshape(-1, 2)
    A = pos.shape[0]
    theta = np.asarray(state.theta, np.float64).reshape(A)
    goal = np.asarray(state.goal, np.float64).reshape(A, 2)
    trail = np.asarray(state.trail, np.float64).reshape(-1, A, 2)
    alive = np.asarray(getattr(state, "alive", np.ones(A, bool))).reshape(A)
    ranges = np.asarray(env.lidar_ranges(state, params), np.float64).reshape(A, -1)
    radius, goal_r = float(params.radius), float(params.goal_radius)
    colours = [PALETTE[k % len(PALETTE)] for k in range(A)]

    fig = plotting.figure()
    ax = fig.add_axes((0.07, 0.1, 0.5, 0.82))
    pad = 0.5
    ax.set_xlim(-pad, W + pad)
    ax.set_ylim(-pad, H + pad)
    ax.set_aspect("equal")
    ax.set_facecolor("#f6f6f2")
    ax.add_patch(Rectangle((0, 0), W, H, fill=False, edgecolor=WALL, linewidth=2.0))
    shelf_on = np.asarray(state.shelf_on, bool)
    for (x0, y0, x1, y1), on in zip(np.asarray(params.shelves), shelf_on, strict=True):
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=SHELF if on else "none", edgecolor=SHELF,
                               linestyle="-" if on else "--", linewidth=1.0, zorder=2))
    for x0, y0, x1, y1 in np.asarray(params.walls)[:-4]:  # the last four are the map edge
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=WALL, zorder=2))
    dep, pick = np.asarray(params.depots).reshape(-1, 2), np.asarray(params.picks).reshape(-1, 2)
    ax.scatter(dep[:, 0], dep[:, 1], marker="s", s=60, c=DEPOT, alpha=0.5, zorder=1)
    ax.scatter(pick[:, 0], pick[:, 1], marker="^", s=50, c=PICK, alpha=0.5, zorder=1)
    path = np.asarray(params.obstacle_path).reshape(-1, 4)
    if path.shape[0]:
        obst = np.asarray(kin.obstacle_positions(params.obstacle_path, state.phase))
        radii = np.asarray(params.obstacle_radius).reshape(-1)
        for (x0, y0, x1, y1), (ox, oy), orad in zip(path, obst, radii, strict=True):
            ax.plot([x0, x1], [y0, y1], linestyle=":", color=OBSTACLE, linewidth=1.0, zorder=1)
            ax.add_patch(Circle((ox, oy), orad, facecolor=OBSTACLE, edgecolor="black", linewidth=0.6, zorder=5))
    beams = np.asarray(env.beam_angles if hasattr(env, "beam_angles") else [], np.float64)
    idx = np.unique(np.linspace(0, ranges.shape[1] - 1, min(MAX_RAYS, ranges.shape[1])).round().astype(int))
    for k in range(A):
        c = colours[k]
        ang = theta[k] + beams[idx]
        ends = pos[k] + ranges[k, idx, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        segments = np.stack([np.broadcast_to(pos[k], ends.shape), ends], axis=1)
        ax.add_collection(LineCollection(list(segments), colors=c, linewidths=0.4, alpha=0.45, zorder=3))
        ax.plot(trail[:, k, 0], trail[:, k, 1], color=c, linewidth=1.6, alpha=0.7, zorder=4)
        ax.add_patch(Circle(tuple(goal[k]), goal_r, fill=False, edgecolor=c, linewidth=1.6, zorder=4))
        ax.scatter([goal[k, 0]], [goal[k, 1]], marker="*", s=90, c=c, zorder=4)
        ax.add_patch(Circle(tuple(pos[k]), radius, facecolor=c if alive[k] else "#bbbbbb", edgecolor="black",
                            linewidth=0.8, zorder=6))
        ax.plot([pos[k, 0], pos[k, 0] + 1.6 * radius * np.cos(theta[k])],
                [pos[k, 1], pos[k, 1] + 1.6 * radius * np.sin(theta[k])], color="black", linewidth=1.4, zorder=7)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(f"{env.name}-v0 - {env.scenario.name} ({W:g} x {H:g} m)\n{env.action_mode} actions, "
                 f"{env.reward_mode} reward", fontsize=10)

    handles = [
        Line2D([], [], marker="o", markersize=10, color=colours[0], linestyle="none", label="AGV (line: heading)"),
        Line2D([], [], color=colours[0], linewidth=0.6, label="lidar rays"),
        Line2D([], [], color=colours[0], linewidth=1.6, label=f"trail (last {trail.shape[0]} positions)"),
        Line2D([], [], marker="*", markersize=10, color=colours[0], linestyle="none", label="goal (ring: goal radius)"),
        Line2D([], [], marker="s", markersize=9, color=SHELF, linestyle="none", label="shelf (dashed: left out)"),
        Line2D([], [], marker="s", markersize=7, color=DEPOT, alpha=0.5, linestyle="none", label="depot"),
        Line2D([], [], marker="^", markersize=7, color=PICK, alpha=0.5, linestyle="none", label="pick station"),
    ]
    if path.shape[0]:
        handles.append(Line2D([], [], marker="o", markersize=9, color=OBSTACLE, linestyle=":",
                              label="scripted obstacle and path"))
    names = list(getattr(env, "agents", ["agv"]))
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return, names=names if A > 1 else None)
    dist = np.linalg.norm(pos - goal, axis=1)
    speed = np.asarray(state.vel, np.float64).reshape(A, 2)
    for k in range(min(A, 4)):
        tag = f"{names[k]}: " if A > 1 else ""
        status = "" if alive[k] else " (parked)"
        lines.append(f"{tag}goal {dist[k]:.1f} m, v {speed[k, 0]:.2f} m/s{status}")
    if hasattr(state, "deliveries"):
        lines.append(f"deliveries: {int(np.asarray(state.deliveries))}")
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
