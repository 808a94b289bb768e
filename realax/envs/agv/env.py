"""``realax/AGV-v0``: one AGV finding its way through a warehouse to a pick station, by lidar.

Anchor: Yin et al., "Random Network Distillation Based Deep Reinforcement Learning for AGV Path Planning"
(arXiv 2404.12594): continuous positions and actions in warehouse scenes (simple/complex x static/dynamic)
where a sparse goal reward defeats PPO. The paper gives neither robot, sensor nor constants; where it is
silent this env follows JaxNav (JaxMARL ``jaxnav_env.py``), the closest JAX analogue (research note
``rf-uav-agv.md`` §3.4), and says so.

One step (``dt`` seconds, 0.1 in every preset):

1. the action commands ``(v, w)`` (continuous: ``Box [0, 1] x [-1, 1]`` times ``(v_max, w_max)``; discrete:
   one of ``DISCRETE`` = JaxNav's 15 pairs, ``v in {0, .5, 1} v_max`` x ``w in {0, +-.5, +-1} w_max``, index 0
   = stop = the no-op); the velocities move towards it within the acceleration limits (``kinematics``);
2. the scripted obstacles walk along their paths; one whose lane the AGV (where it is or where the step takes
   it) takes less than ``yield_m`` ahead turns back (``advance_phase``);
3. the AGV moves along the straight segment of its step; the first contact with a shelf, a wall, the map
   edge or an obstacle along it (swept, so no tunnelling at any speed) is a **collision**: the AGV stops
   there and the episode is **terminated**;
4. reaching the goal (the step's segment passes within ``goal_radius`` of it) without colliding is
   **success**, also terminal; the time limit ``max_steps`` is **truncation**.

Observation ``float32 [B + 5]``: the ``B`` lidar ranges / range (beam ``B // 2`` straight ahead, ``lidar``),
goal distance / floor diagonal, sine and cosine of the goal bearing relative to the heading, ``v / v_max``,
``w / w_max``.

Reward (``reward_mode``; all constants are ``AGVParams`` fields, so they can be changed and vmapped):

- ``sparse`` (the paper's setting): +1 on success, -1 on collision, 0 otherwise;
- ``dense`` (JaxNav's constants): +4 on success, else 0.25 x (metres of progress towards the goal); -5 on
  collision; -0.01 per step; -0.1 while the clearance to the nearest obstacle is under 0.1 m (JaxNav tests
  its lidar against ``radius + 0.1``; here the exact clearance is used).

``info``: ``success``, ``collision`` (this step), ``time_to_goal`` (the step count at success, else -1),
``distance_to_goal`` (m), ``invalid_action`` (1 for a NaN/infinite or non-integral action, replaced by stop),
``clipped_action`` (1 for a continuous action outside the box, clipped), ``cost`` (``[1]``: 1 on collision).

Layouts for generalisation: every episode draws its (start, goal) pair from the ``split`` -- ``train``,
``test`` or ``all`` -- of the scenario's candidate pairs: a pair is in the test split when a hash of its two
cells and ``layout_seed`` is 0 mod 4 (a quarter of the pairs), so the splits are disjoint, fixed by the seed,
and every episode of one split comes from the same compiled function. ``gap_prob`` leaves shelves out too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, EnvParams, StepResult, check_int, discrete_action
from realax.envs.agv import kinematics as kin
from realax.envs.agv import lidar
from realax.envs.agv.scenarios import Scenario, ScenarioError, resolve
from realax.envs.sampling import uniforms
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

#: ``(v / v_max, w / w_max)`` of each discrete action: JaxNav's 15, stop first (the no-op), ``w`` as fractions
_V, _W = (0.0, 0.5, 1.0), (0.0, 0.5, -0.5, 1.0, -1.0)
DISCRETE = np.array([(v, w) for v in _V for w in _W], np.float32)
ACTION_MODES = ("continuous", "discrete")
REWARD_MODES = ("sparse", "dense")
SPLITS = ("train", "test", "all")
#: positions kept for the picture's trail
TRAIL = 32
#: margin (m) beyond touching across a mover's lane within which an AGV ahead turns it back
YIELD_LANE_M = 0.05
#: ``(goal, collision, step, progress weight, proximity, proximity distance m)`` of each reward mode
REWARDS = {"sparse": (1.0, -1.0, 0.0, 0.0, 0.0, 0.1), "dense": (4.0, -5.0, -0.01, 0.25, -0.1, 0.1)}


@struct.dataclass(kw_only=True)
class AGVParams(EnvParams):
    """Every number of a scene. Shapes: ``[R]`` shelves, ``[W]`` walls (the map edge included), ``[S]`` starts,
    ``[G]`` goals, ``[P]`` (start, goal) pairs of the split, ``[O]`` obstacles, ``[D]`` depots, ``[K]`` stations."""

    dt: jax.Array
    radius: jax.Array
    v_max: jax.Array
    w_max: jax.Array
    v_acc: jax.Array
    w_acc: jax.Array
    goal_radius: jax.Array
    lidar_range: jax.Array
    lidar_resolution: jax.Array
    goal_reward: jax.Array
    collision_reward: jax.Array
    step_reward: jax.Array
    progress_weight: jax.Array
    proximity_reward: jax.Array
    proximity_m: jax.Array
    gap_prob: jax.Array
    size: jax.Array  # float32 [2]: width, height (m)
    shelves: jax.Array  # float32 [R, 4]
    walls: jax.Array  # float32 [W, 4]
    starts: jax.Array  # float32 [S, 2]
    goals: jax.Array  # float32 [G, 2]
    pairs: jax.Array  # int32 [P, 2]: (start index, goal index) of the split
    allowed: jax.Array  # bool [S, G]: the split as a table
    depots: jax.Array  # float32 [D, 2]
    picks: jax.Array  # float32 [K, 2]
    obstacle_path: jax.Array  # float32 [O, 4]
    obstacle_speed: jax.Array  # float32 [O] m/s
    obstacle_radius: jax.Array  # float32 [O]
    yield_m: jax.Array


@struct.dataclass
class AGVState:
    t: jax.Array  # int32 []
    pos: jax.Array  # float32 [2]
    theta: jax.Array  # float32 []
    vel: jax.Array  # float32 [2]: v, w
    goal: jax.Array  # float32 [2]
    goal_feat: jax.Array  # float32 [3]: ``goal_features`` of pos, theta, goal (``sync`` after editing those)
    shelf_on: jax.Array  # bool [R]
    phase: jax.Array  # float32 [O] in [0, 2)
    trail: jax.Array  # float32 [TRAIL, 2], oldest first


def _hash(*ints: int) -> int:
    """A 32-bit hash of a few small integers (MurmurHash3's finaliser over a running mix)."""
    h = 0x9E3779B9
    for i in ints:
        h = (h ^ (int(i) & 0xFFFFFFFF)) * 0x85EBCA6B & 0xFFFFFFFF
        h ^= h >> 13
        h = h * 0xC2B2AE35 & 0xFFFFFFFF
        h ^= h >> 16
    return h


def split_table(s: Scenario, split: str, layout_seed: int, routes: int = 0) -> np.ndarray:
    """``bool [S, G]``: the (start, goal) pairs of ``split``: at least ``min_goal_distance_m`` apart, and in the
    test split exactly when the hash of the two cells and ``layout_seed`` is 0 mod 4. ``routes`` k > 0 keeps k
    of them: those whose hash of ``layout_seed`` and the two cells (a second hash) is smallest."""
    lay = s.layout
    st, go = lay.centres(lay.starts), lay.centres(lay.goals)
    far = np.linalg.norm(st[:, None] - go[None], axis=-1) >= max(s.min_goal_distance_m, 1e-6)
    test = np.array([[_hash(layout_seed, *a, *b) % 4 == 0 for b in lay.goals] for a in lay.starts], bool)
    table = far & {"train": ~test, "test": test, "all": np.ones_like(test)}[split]
    if not table.any():
        raise ScenarioError(f"scenario {s.name}: the {split!r} split with layout_seed={layout_seed} holds no "
                            f"(start, goal) pair at least {s.min_goal_distance_m:g} m apart; try another seed or split")
    if routes:
        pairs = np.argwhere(table)
        if routes > len(pairs):
            raise ScenarioError(f"scenario {s.name}: routes={routes}, but the {split!r} split with "
                                f"layout_seed={layout_seed} holds only {len(pairs)} (start, goal) pairs; allowed 0..{len(pairs)}")
        rank = [_hash(layout_seed, 0x5EED, *lay.starts[i], *lay.goals[j]) for i, j in pairs]
        table = np.zeros_like(table)
        for i, j in pairs[np.argsort(rank, kind="stable")[:routes]]:
            table[i, j] = True
    return table


def params_of(s: Scenario, reward_mode: str = "sparse", split: str = "train", layout_seed: int = 0,
              max_steps: int | None = None, routes: int = 0) -> AGVParams:
    """The ``AGVParams`` of a scenario (``max_steps`` overrides the scenario's; ``routes`` as ``split_table``)."""
    lay = s.layout
    f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    W, H = lay.width_m, lay.height_m
    edge = [(-1.0, -1.0, W + 1.0, 0.0), (-1.0, H, W + 1.0, H + 1.0), (-1.0, 0.0, 0.0, H), (W, 0.0, W + 1.0, H)]
    table = split_table(s, split, layout_seed, routes)
    obs = np.asarray(s.obstacles, np.float32).reshape(-1, 6)
    goal, coll, step, prog, prox, prox_m = REWARDS[reward_mode]
    return AGVParams(
        max_steps=s.max_steps if max_steps is None else max_steps, dt=f32(s.dt_s), radius=f32(s.radius_m),
        v_max=f32(s.v_max_mps), w_max=f32(s.w_max_radps), v_acc=f32(s.v_acc_mps2), w_acc=f32(s.w_acc_radps2),
        goal_radius=f32(s.goal_radius_m), lidar_range=f32(s.lidar_range_m), lidar_resolution=f32(s.lidar_resolution_m),
        goal_reward=f32(goal), collision_reward=f32(coll), step_reward=f32(step), progress_weight=f32(prog),
        proximity_reward=f32(prox), proximity_m=f32(prox_m), gap_prob=f32(s.gap_prob), size=f32([W, H]),
        shelves=f32(np.asarray(lay.shelves, np.float32).reshape(-1, 4)),
        walls=f32(np.asarray(list(lay.walls) + edge, np.float32).reshape(-1, 4)),
        starts=f32(lay.centres(lay.starts)), goals=f32(lay.centres(lay.goals)),
        pairs=jnp.asarray(np.argwhere(table), jnp.int32), allowed=jnp.asarray(table),
        depots=f32(lay.centres(lay.depots)), picks=f32(lay.centres(lay.pick_stations)),
        obstacle_path=f32(obs[:, :4]), obstacle_speed=f32(obs[:, 4]), obstacle_radius=f32(obs[:, 5]),
        yield_m=f32(s.yield_m))


def rects_of(shelf_on: jax.Array, params: AGVParams) -> jax.Array:
    """``[R + W, 4]`` the rectangles of an episode: its shelves (the gaps moved far away) and the walls."""
    shelves = jnp.where(shelf_on[:, None], params.shelves, lidar.FAR)
    return jnp.concatenate([shelves, params.walls])


def obstacles_at(phase: jax.Array, params: AGVParams) -> jax.Array:
    """``[O, 3]`` ``(x, y, radius)`` of the scripted obstacles at ``phase``."""
    xy = kin.obstacle_positions(params.obstacle_path, phase)
    return jnp.concatenate([xy, params.obstacle_radius[:, None]], axis=1)


def advance_phase(phase: jax.Array, params: AGVParams, agvs: jax.Array) -> jax.Array:
    """The obstacles' phases one step later (a path of length L is walked out and back, phase 0 -> 2).

    An obstacle gives way to the AGV discs at ``agvs [n, 2]``: when one lies in its protective field (in its
    lane, centres less than the two radii plus 5 cm apart across it, and ahead of it, less than the two radii,
    its step and ``yield_m`` along it) it turns back, as a worker who meets a robot in an aisle would; if an
    AGV stands in its field behind it too, or its path ends less than a step behind it, it waits. Moving
    otherwise cannot bring the discs into contact, so a mover never runs into an AGV. It does not leave the
    way free for good: near the end of its path it walks to the end, turns and comes back while an AGV stays
    in its lane."""
    p0, p1 = params.obstacle_path[:, 0:2], params.obstacle_path[:, 2:4]
    length = jnp.maximum(jnp.linalg.norm(p1 - p0, axis=1), 1e-6)
    step = params.obstacle_speed * params.dt
    heading = jnp.where((phase < 1.0)[:, None], p1 - p0, p0 - p1) / length[:, None]
    rel = agvs[None] - kin.obstacle_positions(params.obstacle_path, phase)[:, None]  # [O, n, 2]
    along = jnp.sum(rel * heading[:, None], axis=-1)
    across = jnp.abs(rel[..., 0] * heading[:, None, 1] - rel[..., 1] * heading[:, None, 0])
    reach = (params.obstacle_radius + params.radius)[:, None]
    lane = across < reach + YIELD_LANE_M
    field = reach + step[:, None] + params.yield_m
    ahead = jnp.any(lane & (along > 0.0) & (along < field), axis=1)
    behind = jnp.any(lane & (along < 0.0) & (along > -field), axis=1)
    d = step / length
    cornered = jnp.mod(phase, 1.0) <= d  # the path ends less than a step behind it: turning back turns it again
    wait = ahead & (behind | cornered)
    phase = jnp.where(ahead, 2.0 - phase, phase)  # the same point of the path, walked the other way
    return jnp.mod(phase + jnp.where(wait, 0.0, d), 2.0)


def initial_phase(u: jax.Array, start: jax.Array, params: AGVParams) -> jax.Array:
    """``[O]`` obstacle phases from uniforms ``u [O]``: uniform, but mirrored to the other half of the path
    when that puts the obstacle within 1 m of a start (``start [A, 2]``) -- no episode begins in a collision."""
    phase = 2.0 * u
    xy = kin.obstacle_positions(params.obstacle_path, phase)
    gap = jnp.min(jnp.linalg.norm(xy[:, None] - start[None], axis=-1), axis=1, initial=jnp.inf)
    near = gap < params.obstacle_radius + params.radius + 1.0
    return jnp.where(near, jnp.mod(phase + 1.0, 2.0), phase)  # phase + 1: the opposite point of the path


def command(action: Any, mode: str, params: AGVParams, lead: tuple[int, ...]) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(cmd [*lead, 2] in m/s and rad/s, invalid [*lead], clipped [*lead])``: the rule for actions inside jit."""
    scale = jnp.stack([params.v_max, params.w_max])
    if mode == "discrete":
        a, invalid = discrete_action(action, len(DISCRETE), 0, lead)
        return jnp.asarray(DISCRETE)[a] * scale, invalid, jnp.zeros(lead, jnp.int32)
    try:
        a = jnp.asarray(action, jnp.float32)
    except (TypeError, ValueError):
        raise RealaxError(f"action {action!r:.80} is not an array of numbers; expected shape {lead + (2,)} in "
                          "[0, 1] x [-1, 1]") from None
    if a.shape != lead + (2,):
        raise RealaxError(f"action has shape {a.shape}; expected {lead + (2,)} of numbers in [0, 1] x [-1, 1]")
    ok = jnp.all(jnp.isfinite(a), axis=-1)
    c = jnp.clip(a, jnp.array([0.0, -1.0]), jnp.array([1.0, 1.0]))
    clipped = (ok & jnp.any(c != a, axis=-1)).astype(jnp.int32)
    return jnp.where(ok[..., None], c, 0.0) * scale, (~ok).astype(jnp.int32), clipped


def goal_features(pos: jax.Array, theta: jax.Array, goal: jax.Array, params: AGVParams) -> jax.Array:
    """``float32 [..., 3]``: goal distance / floor diagonal (at most 1), sine and cosine of the goal bearing
    relative to the heading. Kept in the state (``goal_feat``) and computed where the state changes, not in
    ``get_obs``: inside jit XLA fuses these products and sums into fused multiply-adds, so recomputing them in
    an eager ``get_obs`` (``reset_to``) could differ in the last bit from ``step``'s observation."""
    g = goal - pos
    dist = jnp.sqrt(g[..., 0] * g[..., 0] + g[..., 1] * g[..., 1])
    ct, st = jnp.cos(theta), jnp.sin(theta)
    fwd, left = ct * g[..., 0] + st * g[..., 1], ct * g[..., 1] - st * g[..., 0]
    safe = jnp.maximum(dist, 1e-6)
    far = dist > 1e-6
    feat = [jnp.minimum(dist / jnp.linalg.norm(params.size), 1.0), jnp.where(far, left / safe, 0.0),
            jnp.where(far, fwd / safe, 1.0)]
    return jnp.clip(jnp.stack(feat, axis=-1), -1.0, 1.0).astype(jnp.float32)


def observe(pos: jax.Array, theta: jax.Array, vel: jax.Array, goal_feat: jax.Array, rects: jax.Array,
            discs: jax.Array, cos_a: jax.Array, sin_a: jax.Array, params: AGVParams) -> jax.Array:
    """``float32 [B + 5]`` one AGV's observation (see the module docstring)."""
    ranges = lidar.scan(pos, theta, cos_a, sin_a, rects, discs, params.lidar_range, params.lidar_resolution)
    # products with reciprocals, not divisions (see ``lidar.scan``): the same rounding in and out of jit
    vel_n = jnp.clip(vel * (1.0 / jnp.stack([params.v_max, params.w_max])), -1.0, 1.0)
    return jnp.concatenate([jnp.minimum(ranges * (1.0 / params.lidar_range), 1.0), goal_feat, vel_n]).astype(jnp.float32)


def obs_bounds(num_beams: int, extra: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` of an observation with ``extra`` trailing entries in [0, 1]."""
    low = np.concatenate([np.zeros(num_beams + 1), [-1.0, -1.0, 0.0, -1.0], np.zeros(extra)]).astype(np.float32)
    return low, np.ones_like(low)


def check_options(owner: str, action_mode: str, reward_mode: str, split: str, num_beams: int, layout_seed: int,
                  max_steps: int | None) -> tuple[int, int, int | None]:
    """The constructor options' checks shared by both envs: ``(num_beams, layout_seed, max_steps)``."""
    for name, value, allowed in (("action_mode", action_mode, ACTION_MODES), ("reward_mode", reward_mode, REWARD_MODES),
                                 ("split", split, SPLITS)):
        if value not in allowed:
            raise RealaxError(f"{owner}: {name} must be one of {list(allowed)}, got {value!r}")
    beams = check_int("num_beams", num_beams, 1, 1024, owner)
    seed = check_int("layout_seed", layout_seed, 0, 2**31 - 1, owner)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, 1, 2**30, owner)
    return beams, seed, max_steps


class Accessors:
    """What ``AGV`` and ``MultiAGV`` share beyond the step: the default params, ``sync`` and the lidar in metres
    (the leading axes of the state's ``pos`` are kept: ``[B]`` for one AGV, ``[A, B]`` for several)."""

    _params: AGVParams
    _obs_fn: Any = None
    num_beams: int
    get_obs: Any

    @property
    def default_params(self) -> AGVParams:
        return self._params

    def sync(self, state: Any, params: AGVParams | None = None) -> Any:
        """``state`` with ``goal_feat`` recomputed: call it after editing ``pos``, ``theta`` or ``goal`` by hand."""
        params = self._params if params is None else params
        return dataclasses.replace(state, goal_feat=goal_features(state.pos, state.theta, state.goal, params))

    def lidar_ranges(self, state: Any, params: AGVParams | None = None) -> jax.Array:
        """``float32 [..., B]`` the lidar ranges in metres (what the observation holds / range)."""
        params = self._params if params is None else params
        if self._obs_fn is None:  # compiled once, on the first picture (op by op it took most of a render)
            self._obs_fn = jax.jit(self.get_obs)
        return self._obs_fn(state, params)[..., : self.num_beams] * params.lidar_range


class AGV(Accessors, Environment[AGVState, AGVParams]):
    description = "one AGV through a warehouse to a pick station by lidar (Yin et al. 2024 RND-PPO scenes; JaxNav robot)"

    def __init__(self, scenario: str | Scenario = "simple_static", action_mode: str = "continuous",
                 reward_mode: str = "sparse", num_beams: int = 64, split: str = "train", layout_seed: int = 0,
                 max_steps: int | None = None, routes: int = 0):
        """``scenario``: a preset (``simple_static``, ``simple_dynamic``, ``complex_static``, ``complex_dynamic``)
        or a JSON file; ``action_mode``: ``continuous`` (``Box [0, 1] x [-1, 1]``) or ``discrete`` (15 pairs);
        ``reward_mode``: ``sparse`` or ``dense``; ``num_beams`` 1..1024 lidar beams over 360 degrees;
        ``split``: ``train``, ``test`` or ``all`` (start, goal) pairs, drawn with ``layout_seed``;
        ``max_steps`` None (the scenario's) or 1..2**30; ``routes``: 0 (every pair of the split, a new one
        each episode) or k >= 1 (only k of them, picked by ``layout_seed``; 1 is a fixed route, the reading of
        Yin et al.'s scenes with one start and one target)."""
        self.num_beams, self.layout_seed, max_steps = check_options(
            "AGV", action_mode, reward_mode, split, num_beams, layout_seed, max_steps)
        self.routes = check_int("routes", routes, 0, 2**16, "AGV")
        self.scenario = resolve(scenario)
        self.action_mode, self.reward_mode, self.split = action_mode, reward_mode, split
        self._params = params_of(self.scenario, reward_mode, split, self.layout_seed, max_steps, self.routes)
        self.beam_angles = angles = lidar.beam_angles(self.num_beams)
        self._cos, self._sin = np.cos(angles), np.sin(angles)
        self.noop_action = 0 if action_mode == "discrete" else 0.0

    def observation_space(self, params: AGVParams | None = None) -> Box:
        low, high = obs_bounds(self.num_beams)
        return Box(low, high, low.shape, jnp.float32)

    def action_space(self, params: AGVParams | None = None) -> Discrete | Box:
        if self.action_mode == "discrete":
            return Discrete(len(DISCRETE))
        return Box(np.array([0.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32), (2,), jnp.float32)

    def get_obs(self, state: AGVState, params: AGVParams) -> jax.Array:
        return observe(state.pos, state.theta, state.vel, state.goal_feat, rects_of(state.shelf_on, params),
                       obstacles_at(state.phase, params), jnp.asarray(self._cos), jnp.asarray(self._sin), params)

    def reset_env(self, key: jax.Array, params: AGVParams) -> tuple[jax.Array, AGVState]:
        R, n_obs = params.shelves.shape[0], params.obstacle_path.shape[0]
        u = uniforms(key, (2 + R + n_obs,))
        P = params.pairs.shape[0]
        pair = params.pairs[jnp.minimum((u[0] * P).astype(jnp.int32), P - 1)]
        start, goal = params.starts[pair[0]], params.goals[pair[1]]
        theta = (2.0 * u[1] - 1.0) * jnp.pi
        state = AGVState(t=jnp.int32(0), pos=start, theta=theta, vel=jnp.zeros(2, jnp.float32), goal=goal,
                         goal_feat=goal_features(start, theta, goal, params), shelf_on=u[2:2 + R] >= params.gap_prob,
                         phase=initial_phase(u[2 + R:], start[None], params),
                         trail=jnp.broadcast_to(start, (TRAIL, 2)))
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: AGVState, action: Any, params: AGVParams) -> StepResult[AGVState]:
        cmd, invalid, clipped = command(action, self.action_mode, params, ())
        vel = kin.drive(state.vel, cmd, params.dt, params.v_max, params.w_max, params.v_acc, params.w_acc)
        delta, theta = kin.advance(state.pos, state.theta, vel, params.dt)
        phase = advance_phase(state.phase, params, jnp.stack([state.pos, state.pos + delta]))
        o0, o1 = obstacles_at(state.phase, params), obstacles_at(phase, params)
        rects = rects_of(state.shelf_on, params)
        hit = kin.sweep_rects(state.pos, delta, rects, params.radius)
        hit = jnp.minimum(hit, jnp.min(kin.sweep_discs(state.pos - o0[:, :2], delta - (o1[:, :2] - o0[:, :2]),
                                                      params.radius + o1[:, 2]), initial=jnp.inf))
        collision = hit <= 1.0
        length = jnp.sqrt(jnp.sum(delta * delta))
        frac = jnp.where(collision, jnp.maximum(hit - kin.BACKOFF_M / jnp.maximum(length, 1e-9), 0.0), 1.0)
        moved = frac * delta
        pos = state.pos + moved
        vel = jnp.where(collision, 0.0, vel)
        success = (kin.segment_point_distance(state.pos, moved, state.goal) <= params.goal_radius) & ~collision
        d_old = jnp.linalg.norm(state.pos - state.goal)
        d_new = jnp.linalg.norm(pos - state.goal)
        near = kin.clearance(pos, rects, o1) - params.radius < params.proximity_m
        reward = (jnp.where(success, params.goal_reward, params.progress_weight * (d_old - d_new))
                  + params.collision_reward * collision + params.step_reward + params.proximity_reward * near)
        t = state.t + 1
        state = dataclasses.replace(state, t=t, pos=pos, theta=theta, vel=vel, phase=phase,
                              goal_feat=goal_features(pos, theta, state.goal, params),
                              trail=jnp.concatenate([state.trail[1:], pos[None]]))
        terminated = success | collision
        info = {"success": success, "collision": collision, "time_to_goal": jnp.where(success, t, -1),
                "distance_to_goal": d_new, "invalid_action": invalid, "clipped_action": clipped,
                "cost": collision.astype(jnp.float32)[None]}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), terminated,
                (t >= params.max_steps) & ~terminated, info)

    def render(self, state: AGVState, params: AGVParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the floor, shelves, obstacles, the AGV with its lidar rays, goal and trail."""
        from realax.envs.agv import render

        return render.draw(self, state, self._params if params is None else params, reward=reward,
                           episode_return=episode_return)


__all__ = ["AGV", "Accessors", "AGVParams", "AGVState", "DISCRETE", "params_of", "split_table", "goal_features"]
