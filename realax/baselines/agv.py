"""AGV baselines: a shortest-path grid planner with a pure-pursuit tracking controller (``astar``).

The reference for time to goal (issue 12; Yin et al. 2024 compare learners only, so the classical
planner-plus-tracker pair of mobile robotics is ours to add):

- **Planning** on an occupancy grid of the layout (``layout.occupancy_grid`` at ``PLAN_CELL_M``, every shelf
  and wall inflated by the AGV radius plus ``MARGIN_M``, so a path keeps the robot clear). The targets of a
  scene are a fixed set of cell centres (starts, goals, pick stations), so instead of an A* search from the
  robot's cell at every step, the search is run once per target, backwards over the whole grid, when the
  policy is built: Dijkstra with 8-connected moves (cost 1 straight, sqrt 2 diagonal, no corner cutting),
  i.e. A* with the zero heuristic, which returns the same optimal costs as A* with any consistent
  heuristic (Hart, Nilsson and Raphael 1968). Inside ``jit`` the path from the robot's cell is then a table
  walk: ``LOOKAHEAD_CELLS`` steepest-descent moves on the target's cost-to-go.
- **Tracking**: pure pursuit (Coulter, "Implementation of the Pure Pursuit Path Tracking Algorithm",
  CMU-RI-TR-92-01, 1992): steer on the arc through the look-ahead point, curvature ``2 y / L**2`` in the
  robot frame; full speed when the point is ahead, slower as it swings aside, turning on the spot when it is
  more than ``TURN_IN_PLACE`` radians off the heading.
- **Waiting**: the planner knows only the static floor. Moving obstacles (the dynamic scenes' walkers and
  scripted AGVs, whose paths a fleet manager knows, read from the true state) are handled by a look-ahead
  check: the robot's arc under the pursuit command and the obstacles' scripted motion are rolled forward
  ``HORIZON`` steps; if they come within ``CLEAR_M`` of each other and standing still would not, the robot
  stops for this step; if both would, it drives on (standing in a walker's path is no escape).
- **Several AGVs** (``MultiAGV``): each AGV tracks its own target's path; priorities by index (lower first):
  each AGV rolls the higher-priority AGVs forward at their current velocities, takes every other AGV as
  standing where it is, and yields by the same check. This is priority-based right of way, not Silver's
  (2005) space-time prioritised planning: two AGVs can block each other until the time limit, and head-on
  meetings in a one-lane aisle can still end in a collision; the results table counts both.

Shelves that an episode leaves out (``gap_prob``) stay obstacles to the planner (a conservative map). Discrete
actions pick the nearest of the env's 15 ``(v, w)`` pairs.
"""

from __future__ import annotations

import heapq
import math

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs.agv import layout as lay
from realax.envs.agv.env import AGV, DISCRETE, advance_phase, obstacles_at
from realax.envs.agv.multi import MultiAGV

PLAN_CELL_M = 0.25
MARGIN_M = 0.3
LOOKAHEAD_CELLS = 4
TURN_IN_PLACE = 0.5
HORIZON = 15
CLEAR_M = 0.15
_MOVES = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def cost_to_go(free: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """``float32 [rows, cols]``: the shortest 8-connected path length (in cells) from every free cell to
    ``target`` (``(row, col)``), ``inf`` where none exists. Diagonal moves cost sqrt 2 and may not cut the
    corner of an occupied cell."""
    rows, cols = free.shape
    dist = np.full((rows, cols), np.inf)
    dist[target] = 0.0
    heap = [(0.0, target)]
    while heap:
        d, (r, c) = heapq.heappop(heap)
        if d > dist[r, c]:
            continue
        for dr, dc in _MOVES:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < rows and 0 <= nc < cols and free[nr, nc]):
                continue
            if dr and dc and not (free[r + dr, c] and free[r, c + dc]):
                continue
            nd = d + (math.sqrt(2.0) if dr and dc else 1.0)
            if nd < dist[nr, nc]:
                dist[nr, nc] = nd
                heapq.heappush(heap, (nd, (nr, nc)))
    return dist.astype(np.float32)


class Planner:
    """The cost-to-go of every target of a scene, on the inflated occupancy grid (see the module docstring)."""

    def __init__(self, env: AGV | MultiAGV, params):
        layout = env.scenario.layout
        free = ~lay.occupancy_grid(layout, PLAN_CELL_M, inflate_m=env.scenario.radius_m + MARGIN_M)
        self.shape = free.shape
        targets = np.unique(np.concatenate([np.asarray(params.starts), np.asarray(params.goals),
                                            np.asarray(params.picks).reshape(-1, 2)]), axis=0)
        fields = []
        for x, y in targets:
            cell = self._cell_np(x, y)
            grid = free.copy()
            grid[cell] = True  # a target cell next to a shelf may sit inside the inflation; it is the goal anyway
            fields.append(cost_to_go(grid, cell))
        self.targets = jnp.asarray(targets, jnp.float32)
        # unreachable cells get a large finite cost so that argmin stays defined; a border of 1e7 around every
        # field (padded here once, not per step) keeps the descent's neighbour look-ups inside the array
        finite = np.where(np.isfinite(fields), fields, 1e6)
        self.fields = jnp.asarray(np.pad(finite, ((0, 0), (1, 1), (1, 1)), constant_values=1e7), jnp.float32)

    def _cell_np(self, x: float, y: float) -> tuple[int, int]:
        rows, cols = self.shape
        return (min(max(int(y / PLAN_CELL_M), 0), rows - 1), min(max(int(x / PLAN_CELL_M), 0), cols - 1))

    def lookahead(self, pos: jax.Array, goal: jax.Array) -> jax.Array:
        """``[2]``: the point ``LOOKAHEAD_CELLS`` moves down the cost-to-go of ``goal`` from ``pos`` (the goal
        itself once it is that close)."""
        rows, cols = self.shape
        padded = self.fields[jnp.argmin(jnp.sum((self.targets - goal) ** 2, axis=1))]
        moves = jnp.asarray(_MOVES, jnp.int32)
        cell = jnp.clip(jnp.floor(pos[::-1] / PLAN_CELL_M).astype(jnp.int32), 0, jnp.array([rows - 1, cols - 1]))

        def descend(cell, _):
            nxt = cell[None, :] + moves
            cost = padded[nxt[:, 0] + 1, nxt[:, 1] + 1] + jnp.where(jnp.all(moves != 0, axis=1), 0.414, 0.0)
            best = nxt[jnp.argmin(cost)]
            return jnp.where(jnp.min(cost) < padded[cell[0] + 1, cell[1] + 1], best, cell), None

        cell, _ = jax.lax.scan(descend, cell, None, LOOKAHEAD_CELLS)
        point = (cell[::-1].astype(jnp.float32) + 0.5) * PLAN_CELL_M
        close = jnp.linalg.norm(goal - pos) < LOOKAHEAD_CELLS * PLAN_CELL_M
        return jnp.where(close, goal, point)


def pursue(pos: jax.Array, theta: jax.Array, point: jax.Array, params) -> jax.Array:
    """``(v / v_max, w / w_max)`` steering onto the arc through ``point`` (pure pursuit)."""
    d = point - pos
    c, s = jnp.cos(theta), jnp.sin(theta)
    x, y = c * d[0] + s * d[1], c * d[1] - s * d[0]  # robot frame: x ahead, y to the left
    bearing = jnp.arctan2(y, x)
    curvature = 2.0 * y / jnp.maximum(x * x + y * y, 1e-6)
    v = jnp.where(jnp.abs(bearing) > TURN_IN_PLACE, 0.0, params.v_max * jnp.clip(jnp.cos(bearing), 0.0, 1.0))
    w = jnp.where(v > 0, v * curvature, jnp.sign(bearing) * params.w_max)
    return jnp.stack([v / params.v_max, jnp.clip(w / params.w_max, -1.0, 1.0)])


def arc(pos: jax.Array, theta: jax.Array, v: jax.Array, w: jax.Array, dt: jax.Array) -> jax.Array:
    """``[HORIZON, 2]``: the positions of a unicycle driven at ``(v, w)`` for the next ``HORIZON`` steps."""
    t = jnp.arange(1, HORIZON + 1, dtype=jnp.float32)
    heading = theta + w * dt * t
    steps = v * dt * jnp.stack([jnp.cos(heading), jnp.sin(heading)], axis=1)
    return pos + jnp.cumsum(steps, axis=0)


def walkers_ahead(phase: jax.Array, agvs: jax.Array, params) -> jax.Array:
    """``[HORIZON, O, 3]``: the scripted obstacles ``(x, y, radius)`` over the next ``HORIZON`` steps, yielding
    to AGVs standing at ``agvs [n, 2]``."""
    def advance(phase, _):
        phase = advance_phase(phase, params, agvs)
        return phase, obstacles_at(phase, params)

    return jax.lax.scan(advance, phase, None, HORIZON)[1]


def conflict(path: jax.Array, movers: jax.Array, radius: jax.Array) -> jax.Array:
    """Whether the robot's ``path [H, 2]`` comes within ``CLEAR_M`` of any ``movers [H, n, 3]`` at the same step."""
    gap = jnp.linalg.norm(path[:, None, :] - movers[..., :2], axis=-1) - movers[..., 2] - radius
    return jnp.any(gap < CLEAR_M)


def guarded(pos, theta, cmd, movers, params) -> jax.Array:
    """``cmd`` (``(v / v_max, w / w_max)``), or stop when that runs into ``movers`` and standing still does not."""
    go = arc(pos, theta, cmd[0] * params.v_max, cmd[1] * params.w_max, params.dt)
    stay = jnp.broadcast_to(pos, go.shape)
    stop = conflict(go, movers, params.radius) & ~conflict(stay, movers, params.radius)
    return jnp.where(stop, 0.0, cmd)


def _to_action(env, a: jax.Array) -> jax.Array:
    if env.action_mode == "discrete":
        return jnp.argmin(jnp.sum((jnp.asarray(DISCRETE) - a[..., None, :]) ** 2, axis=-1), axis=-1).astype(jnp.int32)
    return a


def astar(env, params):
    """The planner-and-tracker policy ``(key, obs, state) -> action`` for ``AGV`` or ``MultiAGV``."""
    inner = env.unwrapped
    planner = Planner(inner, params)

    def single(key, obs, state):
        cmd = pursue(state.pos, state.theta, planner.lookahead(state.pos, state.goal), params)
        movers = walkers_ahead(state.phase, state.pos[None], params)
        return _to_action(inner, guarded(state.pos, state.theta, cmd, movers, params))

    def multi(key, obs, state):
        A = inner.num_agents
        walkers = walkers_ahead(state.phase, state.pos, params)
        idx = jnp.arange(A)
        paths = jax.vmap(arc, in_axes=(0, 0, 0, 0, None))(state.pos, state.theta, state.vel[:, 0], state.vel[:, 1],
                                                          params.dt)  # [A, H, 2] at current velocities
        agvs = jnp.concatenate([jnp.swapaxes(paths, 0, 1), jnp.full((HORIZON, A, 1), params.radius)], axis=-1)

        def one(k):
            # higher-priority AGVs roll on at their velocities; the others (and parked ones) are where they stand
            first = (idx < k) & state.alive
            still = jnp.broadcast_to(jnp.concatenate([state.pos, jnp.full((A, 1), params.radius)], 1), agvs.shape)
            others = jnp.where(first[None, :, None], agvs, still)
            movers = jnp.concatenate([walkers, jnp.where((idx != k)[None, :, None], others, jnp.array([1e6, 1e6, 0.0]))], 1)
            cmd = pursue(state.pos[k], state.theta[k], planner.lookahead(state.pos[k], state.goal[k]), params)
            return guarded(state.pos[k], state.theta[k], cmd, movers, params)

        return _to_action(inner, jax.vmap(one)(idx))

    return multi if isinstance(inner, MultiAGV) else single


#: the baselines ``realax.register(..., baselines="realax.baselines.agv")`` declares
BASELINES = {"astar": astar}
