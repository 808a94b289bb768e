"""``realax/UAVOffload-v0``: UAVs as flying access points that take users off congested ground base stations.

Anchor: Mondal et al., "Multi-Agent Reinforcement Learning for Offloading Cellular Communications with
Cooperating UAVs", IEEE TAES 61(4):9344-9358, 2025 (arXiv 2402.02957; research note ``rf-uav-agv.md`` §2).
What the paper confirms is kept: every UAV an independent agent; a finite-state grid whose cell is the
distance flown in one slot at the speed limit; moves N/E/S/W/hover; a user offloaded to a UAV when its SINR
meets the QoS threshold; the objective and metric the number (rate) of users associated with UAVs. The
numbers it does not give are the presets' (``scenarios``), each marked with its source.

One step, in order:

1. each UAV moves (grid mode: one cell N/E/S/W or hover; velocity mode: a displacement of at most
   ``v_max * slot`` per axis); a move that would leave the area is not made and costs
   ``boundary_penalty``;
2. users move (random waypoint at ``user_speed_mps``; 0 = static);
3. channels: air-to-ground (Al-Hourani LoS model) from every UAV, ground (3GPP TR 36.814 with the episode's
   shadowing) from every base station; SINR counts the other UAVs on the same band, and every other base
   station, as interference (``channel``);
4. association (``association``: UAVs by proposal rounds with capacity, then base stations);
5. reward: with ``team_reward`` every UAV gets the share of users associated with UAVs; otherwise each UAV
   the share of users it serves; minus ``collision_penalty`` for each UAV closer than ``min_separation_m``
   to another (grid mode: in the same cell).

Episodes never terminate; they are truncated at ``max_steps``. At reset nobody is associated yet
(``serving`` all -1): association happens in each step, after the moves. (Every ``step`` also computes a
reset for same-step autoreset, and association is most of a step's cost, so reset does without it.)

- ``obs="cell"`` (default, what the paper's tabular SARSA sees): ``int32 [K]``, each UAV's own cell
  ``row * G + col`` (``Discrete(G*G)`` per agent).
- ``obs="vector"`` (deep agents): ``float32 [K, D]``: own position / area (2), the other UAVs' positions
  relative to it / area (2 (K-1)), the step / max_steps (1), the density of all users and of users not
  served by a UAV on a ``map_size x map_size`` map, each as a share of all users (2 map_size**2).
- ``global_state``: every UAV's position / area, the step, and the two density maps.
- ``info``: ``association_rate`` (share of users on UAVs), ``uav_users [K]``, ``bs_served``, ``unserved``,
  ``collision [K]``, ``out_of_area [K]``, ``invalid_action [K]``, ``alive [K]``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import EnvParams, MultiAgentEnv, StepResult, check_int, discrete_action
from realax.envs.sampling import uniforms
from realax.envs.uav import association, channel
from realax.envs.uav.scenarios import Scenario, ScenarioError, resolve
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

#: grid moves: hover, north (+y), east (+x), south, west; hover is the no-op
MOVES = np.array([[0, 0], [0, 1], [1, 0], [0, -1], [-1, 0]], np.float32)
ACTION_NAMES = ("hover", "north", "east", "south", "west")
MODES = ("grid", "velocity")
OBS_MODES = ("cell", "vector")
#: positions kept for the picture's trails
TRAIL = 16


@struct.dataclass(kw_only=True)
class UAVParams(EnvParams):
    """Every number of a scenario; shapes ``[K]`` UAVs, ``[B]`` base stations, ``[U]`` users, ``[H]`` hotspots."""

    altitude_m: jax.Array
    uav_power_dbm: jax.Array
    uav_capacity: jax.Array  # int32 [K]
    uav_band: jax.Array  # int32 [K]
    uav_start: jax.Array  # float32 [K, 2]
    bs_xy: jax.Array  # float32 [B, 2]
    bs_power_dbm: jax.Array
    bs_capacity: jax.Array  # int32 [B]
    shadowing_db: jax.Array
    hotspots: jax.Array  # float32 [H, 4]: x, y, std, weight
    uniform_fraction: jax.Array
    user_xy: jax.Array  # float32 [U, 2]; used when ``fixed_users``
    fixed_users: jax.Array  # bool
    user_speed_m: jax.Array  # metres per step
    a2g: jax.Array  # float32 [4]: a, b, eta_LoS, eta_NLoS
    freq_hz: jax.Array
    noise_dbm: jax.Array
    sinr_threshold_db: jax.Array
    bs_sinr_threshold_db: jax.Array
    collision_penalty: jax.Array
    boundary_penalty: jax.Array
    min_separation_m: jax.Array
    team_reward: jax.Array  # bool


@struct.dataclass
class UAVState:
    t: jax.Array  # int32 []
    uav: jax.Array  # float32 [K, 2] metres
    user: jax.Array  # float32 [U, 2]
    waypoint: jax.Array  # float32 [U, 2]
    shadow: jax.Array  # float32 [U, B] dB
    serving: jax.Array  # int32 [U]: k UAV, K + b base station, -1 nobody
    trail: jax.Array  # float32 [TRAIL, K, 2], oldest first


def params_of(s: Scenario, max_steps: int | None = None) -> UAVParams:
    """The ``UAVParams`` of a scenario (``max_steps`` overrides the scenario's)."""
    K, area, cell = s.num_uavs, s.area_m, s.cell_m
    f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    if s.uav_start is not None:
        start = np.asarray(s.uav_start, np.float32)
    else:  # the cells nearest the centre, in order of distance (ties: row-major)
        G = s.grid
        centres = (np.stack(np.meshgrid(np.arange(G), np.arange(G), indexing="xy"), -1).reshape(-1, 2) + 0.5) * cell
        order = np.argsort(np.linalg.norm(centres - area / 2, axis=1), kind="stable")
        start = centres[order[:K]].astype(np.float32)
    bands = s.uav_bands if s.uav_bands is not None else (0,) * K
    users = np.asarray(s.users, np.float32) if s.users else np.zeros((s.num_users, 2), np.float32)
    hotspots = np.asarray(s.hotspots, np.float32).reshape(-1, 4)
    return UAVParams(
        max_steps=s.max_steps if max_steps is None else max_steps,
        altitude_m=f32(s.altitude_m), uav_power_dbm=f32(s.uav_power_dbm),
        uav_capacity=jnp.full((K,), s.uav_capacity, jnp.int32), uav_band=jnp.asarray(bands, jnp.int32),
        uav_start=f32(start), bs_xy=f32(np.asarray(s.base_stations, np.float32).reshape(-1, 2)),
        bs_power_dbm=f32(s.bs_power_dbm), bs_capacity=jnp.full((len(s.base_stations),), s.bs_capacity, jnp.int32),
        shadowing_db=f32(s.shadowing_db), hotspots=f32(hotspots), uniform_fraction=f32(s.uniform_fraction),
        user_xy=f32(users), fixed_users=jnp.bool_(bool(s.users)), user_speed_m=f32(s.user_speed_mps * s.slot_s),
        a2g=f32(channel.ENVIRONMENTS[s.environment]), freq_hz=f32(s.freq_hz),
        noise_dbm=channel.noise_dbm(f32(s.bandwidth_hz), f32(s.noise_dbm_hz), f32(s.noise_figure_db)),
        sinr_threshold_db=f32(s.sinr_threshold_db), bs_sinr_threshold_db=f32(s.bs_sinr_threshold_db),
        collision_penalty=f32(s.collision_penalty), boundary_penalty=f32(s.boundary_penalty),
        min_separation_m=f32(s.min_separation_m), team_reward=jnp.bool_(s.team_reward))


def _sq_dist(a: jax.Array, b: jax.Array) -> jax.Array:
    """``float32 [A * B]``: squared distances of every pair of ``a [A, 2]`` and ``b [B, 2]``, ``a``-major."""
    dx = (a[:, None, 0] - b[None, :, 0]).reshape(-1)
    dy = (a[:, None, 1] - b[None, :, 1]).reshape(-1)
    return dx * dx + dy * dy


def box_muller(u1: jax.Array, u2: jax.Array) -> jax.Array:
    """``[..., 2]`` two independent standard normals from two uniforms in [0, 1) (Box and Muller, 1958)."""
    r = jnp.sqrt(-2.0 * jnp.log1p(-u1))
    return jnp.stack([r * jnp.cos(2 * jnp.pi * u2), r * jnp.sin(2 * jnp.pi * u2)], axis=-1)


class UAVOffload(MultiAgentEnv[UAVState, UAVParams]):
    description = "UAVs offloading users from ground base stations (Mondal et al. 2025): A2G channels, SINR/QoS association"
    lazy_reset = True  # the users' drop and shadowing draws cost a third of a step; episodes only truncate

    def __init__(self, scenario: str | Scenario = "mondal2025", mode: str = "grid", obs: str = "cell",
                 map_size: int = 5, max_steps: int | None = None):
        """``scenario``: a preset name (``scenarios.PRESETS``) or a JSON file path; ``mode``: ``grid`` (moves
        N/E/S/W/hover, the paper's) or ``velocity`` (a ``Box [-1, 1]^2`` action times ``v_max * slot``);
        ``obs``: ``cell`` or ``vector`` (see the module docstring); ``map_size`` 1..64 cells per side of the
        density maps; ``max_steps`` None (the scenario's) or 1..2**30."""
        if mode not in MODES:
            raise RealaxError(f"UAVOffload: mode must be one of {list(MODES)}, got {mode!r}")
        if obs not in OBS_MODES:
            raise RealaxError(f"UAVOffload: obs must be one of {list(OBS_MODES)}, got {obs!r}")
        self.scenario = resolve(scenario)
        s = self.scenario
        self.mode, self.obs_mode = mode, obs
        self.map_size = check_int("map_size", map_size, 1, 64, "UAVOffload")
        if max_steps is not None:
            max_steps = check_int("max_steps", max_steps, 1, 2**30, "UAVOffload")
        self.area, self.cell, self.grid = float(s.area_m), float(s.cell_m), s.grid
        self.num_users = s.num_users
        self._agents = tuple(f"uav_{k}" for k in range(s.num_uavs))
        self._params = params_of(s, max_steps)
        self.noop_action = 0 if mode == "grid" else 0.0

    # -- spaces ---------------------------------------------------------------------------------------
    @property
    def agents(self) -> tuple[str, ...]:
        return self._agents

    @property
    def default_params(self) -> UAVParams:
        return self._params

    @property
    def _obs_size(self) -> int:
        return 2 + 2 * (self.num_agents - 1) + 1 + 2 * self.map_size**2

    def observation_space(self, params: UAVParams | None = None) -> Discrete | Box:
        if self.obs_mode == "cell":
            return Discrete(self.grid**2)
        return Box(-1.0, 1.0, (self._obs_size,), jnp.float32)

    def action_space(self, params: UAVParams | None = None) -> Discrete | Box:
        return Discrete(len(MOVES)) if self.mode == "grid" else Box(-1.0, 1.0, (2,), jnp.float32)

    def global_state_space(self, params: UAVParams | None = None) -> Box:
        return Box(0.0, 1.0, (2 * self.num_agents + 1 + 2 * self.map_size**2,), jnp.float32)

    def action_mask(self, state: UAVState, params: UAVParams) -> jax.Array:
        """All moves are allowed (a move off the area is refused by the env and penalised, not masked)."""
        if self.mode != "grid":
            raise RealaxError("UAVOffload: velocity mode has continuous actions and no action mask")
        return jnp.ones((self.num_agents, len(MOVES)), bool)

    # -- observations ---------------------------------------------------------------------------------
    def cells(self, xy: jax.Array) -> jax.Array:
        """``int32 [...]``: the grid cell ``row * G + col`` of positions ``[..., 2]`` (x = column, y = row)."""
        rc = jnp.clip(jnp.floor(xy / self.cell), 0, self.grid - 1).astype(jnp.int32)
        return rc[..., 1] * self.grid + rc[..., 0]

    def density(self, xy: jax.Array, weight: jax.Array) -> jax.Array:
        """``float32 [M*M]``: the summed ``weight`` of the points ``xy [U, 2]`` in each map cell, / users."""
        M = self.map_size
        rc = jnp.clip(jnp.floor(xy / self.area * M), 0, M - 1).astype(jnp.int32)
        return jnp.zeros(M * M, jnp.float32).at[rc[:, 1] * M + rc[:, 0]].add(weight) / self.num_users

    def _maps(self, state: UAVState) -> jax.Array:
        on_uav = (state.serving >= 0) & (state.serving < self.num_agents)
        ones = jnp.ones(self.num_users, jnp.float32)
        return jnp.concatenate([self.density(state.user, ones), self.density(state.user, (~on_uav).astype(jnp.float32))])

    def get_obs(self, state: UAVState, params: UAVParams) -> jax.Array:
        if self.obs_mode == "cell":
            return self.cells(state.uav)
        K = self.num_agents
        pos = state.uav / self.area
        other = np.array([[j for j in range(K) if j != k] for k in range(K)], np.int32).reshape(K, K - 1)
        others = (pos[other] - pos[:, None, :]).reshape(K, -1)  # the other UAVs in index order, relative
        step = jnp.broadcast_to(state.t / params.max_steps, (K, 1)).astype(jnp.float32)
        maps = jnp.broadcast_to(self._maps(state), (K, 2 * self.map_size**2))
        return jnp.concatenate([pos, others, step, maps], axis=1).astype(jnp.float32)

    def global_state(self, state: UAVState, params: UAVParams) -> jax.Array:
        step = jnp.reshape(state.t / params.max_steps, (1,))
        return jnp.concatenate([(state.uav / self.area).reshape(-1), step, self._maps(state)]).astype(jnp.float32)

    # -- dynamics -------------------------------------------------------------------------------------
    def _drop(self, u: jax.Array, params: UAVParams) -> jax.Array:
        """``[U, 2]`` user positions from uniforms ``u [U, 6]``: fixed ones, or a drop (uniform over the area
        with probability ``uniform_fraction``, else around a hotspot chosen by weight, Gaussian, clipped to
        the area). One draw of cheap uniforms (``realax.envs.sampling.uniforms``) feeds everything: inverse
        CDF for the hotspot, Box-Muller for the Gaussian."""
        uniform = u[:, :2] * self.area
        if params.hotspots.shape[0]:
            h = params.hotspots
            weights = jnp.maximum(h[:, 3], 0.0)
            cdf = jnp.cumsum(weights) / jnp.maximum(weights.sum(), 1e-12)
            idx = jnp.minimum((u[:, 2:3] >= cdf[None, :]).sum(axis=1), h.shape[0] - 1)
            near = h[idx, :2] + h[idx, 2:3] * box_muller(u[:, 3], u[:, 4])
            dropped = jnp.where(u[:, 5:6] < params.uniform_fraction, uniform, jnp.clip(near, 0.0, self.area))
        else:
            dropped = uniform
        return jnp.where(params.fixed_users, params.user_xy, dropped)

    def _start(self, params: UAVParams) -> jax.Array:
        if self.mode == "grid":  # snap to cell centres
            return (jnp.clip(jnp.floor(params.uav_start / self.cell), 0, self.grid - 1) + 0.5) * self.cell
        return jnp.clip(params.uav_start, 0.0, self.area)

    def sinr(self, uav: jax.Array, user: jax.Array, shadow: jax.Array, params: UAVParams) -> tuple[jax.Array, jax.Array]:
        """``(uav_sinr [U, K], bs_sinr [U, B])``, linear, for UAVs at ``uav [K, 2]`` and users at ``user [U, 2]``.

        Per-link values are computed on flat ``[U * T]`` vectors: under ``vmap`` on CPU, XLA vectorises a loop
        over one long minor axis and not over a ``[U, T]`` pair of short ones (3 to 5x here)."""
        U, K, B = user.shape[0], uav.shape[0], params.bs_xy.shape[0]
        rx = channel.air_to_ground_rx_mw(params.uav_power_dbm, _sq_dist(user, uav), params.altitude_m,
                                         params.freq_hz, params.a2g).reshape(U, K)
        noise = channel.dbm_to_mw(params.noise_dbm)
        uav_sinr = channel.sinr(rx, params.uav_band[:, None] == params.uav_band[None, :], noise)
        if B == 0:
            return uav_sinr, jnp.zeros((U, 0), jnp.float32)
        rx_bs = channel.ground_rx_mw((params.bs_power_dbm + shadow).reshape(-1), _sq_dist(user, params.bs_xy))
        return uav_sinr, channel.sinr(rx_bs.reshape(U, B), None, noise)

    def links(self, uav: jax.Array, user: jax.Array, shadow: jax.Array, params: UAVParams) -> tuple[jax.Array, jax.Array]:
        """``sinr`` in dB."""
        uav_sinr, bs_sinr = self.sinr(uav, user, shadow, params)
        return 10.0 * jnp.log10(uav_sinr), 10.0 * jnp.log10(bs_sinr)

    def _associate(self, uav: jax.Array, user: jax.Array, shadow: jax.Array, params: UAVParams) -> jax.Array:
        uav_sinr, bs_sinr = self.sinr(uav, user, shadow, params)
        return association.associate(uav_sinr, bs_sinr, channel.dbm_to_mw(params.sinr_threshold_db),
                                     channel.dbm_to_mw(params.bs_sinr_threshold_db), params.uav_capacity,
                                     params.bs_capacity)

    def reset_env(self, key: jax.Array, params: UAVParams) -> tuple[jax.Array, UAVState]:
        U, B = self.num_users, params.bs_xy.shape[0]
        u = uniforms(key, (U, 8 + 2 * ((B + 1) // 2)))  # drop (6), waypoint (2), shadowing pairs
        user = self._drop(u[:, :6], params)
        pairs = u[:, 8:].reshape(U, -1, 2)
        shadow = params.shadowing_db * box_muller(pairs[..., 0], pairs[..., 1]).reshape(U, -1)[:, :B]
        uav = self._start(params)
        state = UAVState(t=jnp.int32(0), uav=uav, user=user, waypoint=u[:, 6:8] * self.area, shadow=shadow,
                         serving=jnp.full((U,), association.UNSERVED, jnp.int32),
                         trail=jnp.broadcast_to(uav, (TRAIL, *uav.shape)))
        return self.get_obs(state, params), state

    def _move(self, uav: jax.Array, action: Any) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(new positions, out_of_area [K], invalid [K])``."""
        K = self.num_agents
        if self.mode == "grid":
            a, invalid = discrete_action(action, len(MOVES), 0, (K,))
            target = uav + jnp.asarray(MOVES)[a] * self.cell
            out = jnp.any((target < 0) | (target > self.area), axis=-1)
            return jnp.where(out[:, None], uav, target), out, invalid
        try:
            a = jnp.asarray(action, jnp.float32)
        except (TypeError, ValueError):
            raise RealaxError(f"action {action!r:.80} is not an array of numbers; expected shape ({K}, 2) in [-1, 1]") from None
        if a.shape != (K, 2):
            raise RealaxError(f"action has shape {a.shape}; expected ({K}, 2) of numbers in [-1, 1]")
        ok = jnp.all(jnp.isfinite(a), axis=-1)
        step = jnp.where(ok[:, None], jnp.clip(a, -1.0, 1.0), 0.0) * self.cell
        target = uav + step
        out = jnp.any((target < 0) | (target > self.area), axis=-1)
        return jnp.clip(target, 0.0, self.area), out, (~ok).astype(jnp.int32)

    def _walk(self, key: jax.Array, user: jax.Array, waypoint: jax.Array, speed: jax.Array
              ) -> tuple[jax.Array, jax.Array]:
        """Random waypoint: each user walks ``speed`` metres towards its waypoint and draws a new one, uniform
        over the area, on arrival."""
        gap = waypoint - user
        dist = jnp.linalg.norm(gap, axis=-1, keepdims=True)
        arrive = dist <= speed
        moved = jnp.where(arrive, waypoint, user + gap / jnp.maximum(dist, 1e-9) * speed)
        fresh = uniforms(key, waypoint.shape) * self.area
        return moved, jnp.where(arrive & (speed > 0), fresh, waypoint)

    def step_env(self, key: jax.Array, state: UAVState, action: Any, params: UAVParams) -> StepResult[UAVState]:
        K = self.num_agents
        uav, out, invalid = self._move(state.uav, action)
        user, waypoint = self._walk(key, state.user, state.waypoint, params.user_speed_m)
        serving = self._associate(uav, user, state.shadow, params)
        uav_users = (serving[None, :] == jnp.arange(K)[:, None]).sum(axis=1)
        share = uav_users.astype(jnp.float32) / self.num_users
        rate = share.sum()
        gap = jnp.linalg.norm(uav[:, None, :] - uav[None, :, :], axis=-1)
        collision = jnp.any((gap < params.min_separation_m) & ~jnp.eye(K, dtype=bool), axis=1)
        reward = (jnp.where(params.team_reward, rate, share) - params.collision_penalty * collision
                  - params.boundary_penalty * out)
        t = state.t + 1
        state = UAVState(t=t, uav=uav, user=user, waypoint=waypoint, shadow=state.shadow, serving=serving,
                         trail=jnp.concatenate([state.trail[1:], uav[None]]))
        info = {"association_rate": rate, "uav_users": uav_users, "bs_served": (serving >= K).sum(),
                "unserved": (serving < 0).sum(), "collision": collision, "out_of_area": out,
                "invalid_action": invalid, "alive": jnp.ones(K, bool)}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), jnp.bool_(False),
                t >= params.max_steps, info)

    def render(self, state: UAVState, params: UAVParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the area with base stations, users coloured by who serves them, UAVs with
        their trails, and the association counts (``realax.envs.uav.render``)."""
        from realax.envs.uav import render

        return render.draw(self, state, self._params if params is None else params, reward=reward,
                           episode_return=episode_return)


__all__ = ["UAVOffload", "UAVParams", "UAVState", "ScenarioError", "params_of", "MOVES", "ACTION_NAMES"]
