"""``realax/MultiAGV-v0``: several AGVs sharing the aisles of one warehouse (``MultiAgentEnv``, PettingZoo).

The floor, robot, lidar, actions, collisions and reward constants are those of ``realax/AGV-v0``
(``realax.envs.agv.env``); what changes:

- each AGV's lidar also sees the other AGVs (discs of the AGV radius); AGV-AGV contact is swept on the
  relative motion of each pair, like a moving obstacle, and ends both AGVs' episodes (JaxNav: collisions are
  terminal per agent);
- an AGV whose episode is over stays where it stopped ("parked", still an obstacle to the others),
  ``info["alive"]`` turns False, its actions are masked to stop (the no-op) and it earns 0; the episode is
  terminated when no AGV is alive, truncated at ``max_steps`` (as SMAX and JaxNav's non-evaporating agents);
- ``task="navigate"``: each AGV starts at a distinct start cell (drawn from the split like ``AGV-v0``'s pairs)
  and drives to a distinct goal; reaching it parks it (``success``);
- ``task="deliver"`` (RWARE-style pick and deliver; Papoudakis et al. 2021, ``semitable/robotic-warehouse``):
  requests are pick stations in a FIFO queue of ``queue_length`` (RWARE's request queue, default one per
  AGV). An AGV drives to its request's station (pick-up), then back to the depot it started from
  (delivery, counted in ``info["deliveries"]``), then takes the request at the head of the queue, while a new
  uniformly random station joins its tail. AGVs are parked only by collisions. Sparse reward: ``goal_reward``
  per delivery (RWARE's +1); dense: ``goal_reward`` at each pick-up and delivery, with JaxNav's shaping
  towards the current target.

Observation ``float32 [A, B + 6]``: ``AGV-v0``'s per AGV plus a carrying flag (0 in ``navigate``).
``global_state``: every AGV's position / floor size, heading (sin, cos), velocities / limits, target / floor
size, alive and carrying flags, the step / max_steps, and the obstacles' positions / floor size.
``info``: ``success [A]`` (goal or delivery this step), ``collision [A]``, ``agv_collision [A]``,
``time_to_goal [A]`` (step count at a success, else -1), ``distance_to_goal [A]``, ``delivered [A]``,
``deliveries`` (the episode's so far), ``invalid_action [A]``, ``clipped_action [A]``, ``alive [A]``,
``cost [A]`` (1 on collision).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MultiAgentEnv, StepResult, check_int
from realax.envs.agv import kinematics as kin
from realax.envs.agv import lidar
from realax.envs.agv.env import (
    DISCRETE,
    TRAIL,
    Accessors,
    AGVParams,
    advance_phase,
    check_options,
    command,
    goal_features,
    initial_phase,
    obs_bounds,
    observe,
    obstacles_at,
    params_of,
    rects_of,
)
from realax.envs.agv.scenarios import Scenario, resolve
from realax.envs.sampling import choice, uniforms
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

TASKS = ("navigate", "deliver")


@struct.dataclass
class MultiAGVState:
    t: jax.Array  # int32 []
    pos: jax.Array  # float32 [A, 2]
    theta: jax.Array  # float32 [A]
    vel: jax.Array  # float32 [A, 2]
    goal: jax.Array  # float32 [A, 2]: the current target
    goal_feat: jax.Array  # float32 [A, 3]: ``env.goal_features`` of pos, theta, goal (``sync`` after editing those)
    home: jax.Array  # float32 [A, 2]: the start cell (the delivery depot in ``deliver``)
    alive: jax.Array  # bool [A]
    carrying: jax.Array  # bool [A]
    queue: jax.Array  # int32 [Q]: requested pick stations, head first
    deliveries: jax.Array  # int32 []: this episode's
    shelf_on: jax.Array  # bool [R]
    phase: jax.Array  # float32 [O]
    trail: jax.Array  # float32 [TRAIL, A, 2]


class MultiAGV(Accessors, MultiAgentEnv[MultiAGVState, AGVParams]):
    description = "several AGVs sharing warehouse aisles: lidar navigation or RWARE-style pick-and-deliver requests"

    def __init__(self, scenario: str | Scenario = "simple_static", num_agvs: int = 3, task: str = "navigate",
                 action_mode: str = "discrete", reward_mode: str = "sparse", num_beams: int = 64,
                 split: str = "train", layout_seed: int = 0, queue_length: int | None = None,
                 max_steps: int | None = None):
        """``num_agvs`` 1..64 (at most the start and goal cells); ``task``: ``navigate`` or ``deliver``;
        ``action_mode``: ``discrete`` (15 pairs; PettingZoo needs it) or ``continuous``; ``queue_length``
        None (one request per AGV) or 1..1024; the rest as ``realax/AGV-v0``."""
        self.num_beams, self.layout_seed, max_steps = check_options(
            "MultiAGV", action_mode, reward_mode, split, num_beams, layout_seed, max_steps)
        if task not in TASKS:
            raise RealaxError(f"MultiAGV: task must be one of {list(TASKS)}, got {task!r}")
        self.scenario = resolve(scenario)
        lay = self.scenario.layout
        A = check_int("num_agvs", num_agvs, 1, 64, "MultiAGV")
        most = min(len(lay.starts), len(lay.goals)) if task == "navigate" else len(lay.starts)
        if A > most:
            raise RealaxError(f"MultiAGV: num_agvs must be in 1..{most} for scenario {self.scenario.name} (one start "
                              f"cell{' and one goal cell' if task == 'navigate' else ''} each), got {num_agvs}")
        if task == "deliver" and not lay.pick_stations:
            raise RealaxError(f"MultiAGV: task 'deliver' needs pick_stations in the layout of {self.scenario.name}")
        self.queue_length = A if queue_length is None else check_int("queue_length", queue_length, 1, 1024, "MultiAGV")
        self.task, self.action_mode, self.reward_mode, self.split = task, action_mode, reward_mode, split
        self._agents = tuple(f"agv_{k}" for k in range(A))
        self._params = params_of(self.scenario, reward_mode, split, self.layout_seed, max_steps)
        self.beam_angles = angles = lidar.beam_angles(self.num_beams)
        self._cos, self._sin = np.cos(angles), np.sin(angles)
        self.noop_action = 0 if action_mode == "discrete" else 0.0

    @property
    def agents(self) -> tuple[str, ...]:
        return self._agents

    def observation_space(self, params: AGVParams | None = None) -> Box:
        low, high = obs_bounds(self.num_beams, extra=1)
        return Box(low, high, low.shape, jnp.float32)

    def action_space(self, params: AGVParams | None = None) -> Discrete | Box:
        if self.action_mode == "discrete":
            return Discrete(len(DISCRETE))
        return Box(np.array([0.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32), (2,), jnp.float32)

    def _state_size(self, params: AGVParams) -> int:
        return 10 * self.num_agents + 1 + 2 * params.obstacle_path.shape[0]

    def global_state_space(self, params: AGVParams | None = None) -> Box:
        return Box(-1.0, 1.0, (self._state_size(self._params if params is None else params),), jnp.float32)

    def action_mask(self, state: MultiAGVState, params: AGVParams) -> jax.Array:
        """``bool [A, 15]``: everything for an AGV in play, only stop (0) for a parked one."""
        if self.action_mode != "discrete":
            raise RealaxError("MultiAGV: continuous actions have no action mask")
        stop = jnp.arange(len(DISCRETE)) == 0
        return state.alive[:, None] | stop[None, :]

    # -- observations ---------------------------------------------------------------------------------
    def _discs(self, pos: jax.Array, phase: jax.Array, params: AGVParams) -> jax.Array:
        """``[A, A + O, 3]``: what each AGV's lidar sees as discs (the other AGVs, then the obstacles)."""
        A = self.num_agents
        agvs = jnp.concatenate([pos, jnp.broadcast_to(params.radius, (A, 1))], axis=1)
        others = jnp.where(jnp.eye(A, dtype=bool)[:, :, None], lidar.FAR, agvs[None])
        obst = jnp.broadcast_to(obstacles_at(phase, params)[None], (A, params.obstacle_path.shape[0], 3))
        return jnp.concatenate([others, obst], axis=1)

    def get_obs(self, state: MultiAGVState, params: AGVParams) -> jax.Array:
        rects = rects_of(state.shelf_on, params)
        cos_a, sin_a = jnp.asarray(self._cos), jnp.asarray(self._sin)
        obs = jax.vmap(lambda p, th, v, g, d: observe(p, th, v, g, rects, d, cos_a, sin_a, params))(
            state.pos, state.theta, state.vel, state.goal_feat, self._discs(state.pos, state.phase, params))
        return jnp.concatenate([obs, state.carrying[:, None].astype(jnp.float32)], axis=1)

    def global_state(self, state: MultiAGVState, params: AGVParams) -> jax.Array:
        size = params.size
        parts = [state.pos / size, jnp.sin(state.theta)[:, None], jnp.cos(state.theta)[:, None],
                 state.vel / jnp.stack([params.v_max, params.w_max]), state.goal / size,
                 state.alive[:, None].astype(jnp.float32), state.carrying[:, None].astype(jnp.float32)]
        flat = jnp.concatenate([p.reshape(-1) for p in parts] + [jnp.reshape(state.t / params.max_steps, (1,)),
                                (obstacles_at(state.phase, params)[:, :2] / size).reshape(-1)])
        return jnp.clip(flat, -1.0, 1.0).astype(jnp.float32)

    # -- dynamics -------------------------------------------------------------------------------------
    def _placements(self, u: jax.Array, params: AGVParams) -> tuple[jax.Array, jax.Array]:
        """``(start index [A], goal index [A])``: distinct starts and goals, each pair from the split when one
        is left (else any free pair), drawn agent by agent from uniforms ``u [A]``."""
        S, G = params.allowed.shape
        free_s, free_g = jnp.ones(S, bool), jnp.ones(G, bool)
        starts, goals = [], []
        for k in range(self.num_agents):
            free = free_s[:, None] & free_g[None, :]
            mask = jnp.where(jnp.any(params.allowed & free), params.allowed & free, free).reshape(-1)
            idx = choice(mask, u[k])
            s, g = idx // G, idx % G
            starts.append(s)
            goals.append(g)
            free_s, free_g = free_s.at[s].set(False), free_g.at[g].set(False)
        return jnp.stack(starts), jnp.stack(goals)

    def reset_env(self, key: jax.Array, params: AGVParams) -> tuple[jax.Array, MultiAGVState]:
        A, Q = self.num_agents, self.queue_length
        R, n_obs, K = params.shelves.shape[0], params.obstacle_path.shape[0], params.picks.shape[0]
        u = uniforms(key, (2 * A + R + n_obs + A + Q,))
        s_idx, g_idx = self._placements(u[:A], params)
        home = params.starts[s_idx]
        requests = jnp.minimum((u[2 * A + R + n_obs:] * K).astype(jnp.int32), K - 1)
        goal = params.goals[g_idx] if self.task == "navigate" else params.picks[requests[:A]]
        theta = (2.0 * u[A:2 * A] - 1.0) * jnp.pi
        state = MultiAGVState(
            t=jnp.int32(0), pos=home, theta=theta, vel=jnp.zeros((A, 2), jnp.float32), goal=goal,
            goal_feat=goal_features(home, theta, goal, params), home=home, alive=jnp.ones(A, bool),
            carrying=jnp.zeros(A, bool), queue=requests[A:],
            deliveries=jnp.int32(0), shelf_on=u[2 * A:2 * A + R] >= params.gap_prob,
            phase=initial_phase(u[2 * A + R:2 * A + R + n_obs], home, params), trail=jnp.broadcast_to(home, (TRAIL, A, 2)))
        return self.get_obs(state, params), state

    def _collide(self, state: MultiAGVState, delta: jax.Array, phase: jax.Array, params: AGVParams
                 ) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(first contact fraction [A], collision [A], agv_collision [A])`` of the AGVs in play."""
        A = self.num_agents
        o0, o1 = obstacles_at(state.phase, params), obstacles_at(phase, params)
        rects = rects_of(state.shelf_on, params)
        hit = jax.vmap(lambda p, d: kin.sweep_rects(p, d, rects, params.radius))(state.pos, delta)
        rel0, rel_d = state.pos[:, None] - o0[None, :, :2], delta[:, None] - (o1 - o0)[None, :, :2]
        hit = jnp.minimum(hit, jnp.min(kin.sweep_discs(rel0, rel_d, params.radius + o1[None, :, 2]), axis=1,
                                       initial=jnp.inf))
        pair = kin.sweep_discs(state.pos[:, None] - state.pos[None], delta[:, None] - delta[None], 2.0 * params.radius)
        pair = jnp.where(jnp.eye(A, dtype=bool), jnp.inf, pair)
        t_agv = jnp.min(pair, axis=1)
        hit = jnp.where(state.alive, jnp.minimum(hit, t_agv), jnp.inf)
        return hit, hit <= 1.0, state.alive & (t_agv <= 1.0) & (t_agv <= hit)

    def step_env(self, key: jax.Array, state: MultiAGVState, action: Any, params: AGVParams
                 ) -> StepResult[MultiAGVState]:
        A, Q, K = self.num_agents, self.queue_length, params.picks.shape[0]
        cmd, invalid, clipped = command(action, self.action_mode, params, (A,))
        cmd = jnp.where(state.alive[:, None], cmd, 0.0)
        vel = kin.drive(state.vel, cmd, params.dt, params.v_max, params.w_max, params.v_acc, params.w_acc)
        vel = jnp.where(state.alive[:, None], vel, 0.0)
        delta, theta = kin.advance(state.pos, state.theta, vel, params.dt)
        phase = advance_phase(state.phase, params, jnp.concatenate([state.pos, state.pos + delta]))
        hit, collision, agv_collision = self._collide(state, delta, phase, params)
        length = jnp.linalg.norm(delta, axis=1)
        frac = jnp.where(collision, jnp.maximum(hit - kin.BACKOFF_M / jnp.maximum(length, 1e-9), 0.0), 1.0)
        moved = frac[:, None] * delta
        pos = state.pos + moved
        vel = jnp.where(collision[:, None], 0.0, vel)
        reached = (kin.segment_point_distance(state.pos, moved, state.goal) <= params.goal_radius) & ~collision & state.alive
        d_old = jnp.linalg.norm(state.pos - state.goal, axis=1)
        d_new = jnp.linalg.norm(pos - state.goal, axis=1)
        rects, discs = rects_of(state.shelf_on, params), self._discs(pos, phase, params)
        near = jax.vmap(lambda p, d: kin.clearance(p, rects, d))(pos, discs) - params.radius < params.proximity_m
        if self.task == "navigate":
            paid, delivered = reached, jnp.zeros(A, bool)
            alive, carrying, goal, queue = state.alive & ~reached & ~collision, state.carrying, state.goal, state.queue
        else:
            picked, delivered = reached & ~state.carrying, reached & state.carrying
            paid = delivered | (picked if self.reward_mode == "dense" else jnp.zeros(A, bool))
            rank = jnp.cumsum(delivered) - 1  # delivering AGVs take the queue's head requests in agent order
            n = jnp.sum(delivered)
            fresh = jnp.minimum((uniforms(key, (Q,)) * K).astype(jnp.int32), K - 1)
            nxt = state.queue[jnp.clip(rank, 0, Q - 1)]
            nxt = jnp.where(rank < Q, nxt, fresh[jnp.clip(rank - Q, 0, Q - 1)])  # more deliveries than requests
            queue = jnp.where(jnp.arange(Q) < Q - n, jnp.roll(state.queue, -n), fresh)
            goal = jnp.where(picked[:, None], state.home, jnp.where(delivered[:, None], params.picks[nxt], state.goal))
            carrying = (state.carrying | picked) & ~delivered
            alive = state.alive & ~collision
        progress = jnp.where(paid, params.goal_reward, jnp.where(reached, 0.0, params.progress_weight * (d_old - d_new)))
        reward = (progress + params.collision_reward * collision + params.step_reward
                  + params.proximity_reward * near) * state.alive
        t = state.t + 1
        theta = jnp.where(state.alive, theta, state.theta)
        state = dataclasses.replace(state, t=t, pos=pos, theta=theta, vel=vel, goal=goal,
                              goal_feat=goal_features(pos, theta, goal, params),
                              alive=alive, carrying=carrying, queue=queue,
                              deliveries=state.deliveries + jnp.sum(delivered).astype(jnp.int32), phase=phase,
                              trail=jnp.concatenate([state.trail[1:], pos[None]]))
        terminated = ~jnp.any(alive)
        success = reached if self.task == "navigate" else delivered
        info = {"success": success, "collision": collision, "agv_collision": agv_collision,
                "time_to_goal": jnp.where(success, t, -1), "distance_to_goal": d_new,
                "delivered": delivered.astype(jnp.int32), "deliveries": state.deliveries,
                "invalid_action": invalid * state.alive, "clipped_action": clipped * state.alive, "alive": alive,
                "cost": collision.astype(jnp.float32)}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), terminated,
                (t >= params.max_steps) & ~terminated, info)

    def render(self, state: MultiAGVState, params: AGVParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: as ``AGV-v0``'s, one colour per AGV; parked AGVs grey."""
        from realax.envs.agv import render

        return render.draw(self, state, self._params if params is None else params, reward=reward,
                           episode_return=episode_return)


__all__ = ["MultiAGV", "MultiAGVState", "TASKS"]
