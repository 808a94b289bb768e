"""``realax/SMAX-v0``: StarCraft-style unit micromanagement on a 32 x 32 map (JaxMARL's SMAX rules).

Anchor: Rutherford et al., "JaxMARL: Multi-Agent RL Environments and Algorithms in JAX" (NeurIPS 2024 D&B),
``JaxMARL:jaxmarl/environments/smax/smax_env.py``, summarised in research/jax-env-anchors.md §2. Facts
carried over (section numbers of that page):

- six unit types with velocity, damage per shot, attack range, sight range, radius, health and weapon
  cooldown as in §2.2 (shields folded into health; no armour); map 32 x 32; one env step is 8 ticks of 1/16 s.
- per tick (§2.3): every living unit either moves (direction x velocity x 1/16, clipped to the map) or shoots
  its target if that target is alive and closer than the attack range and its own cooldown is <= 0; all shots
  of a tick land together (several shooters add up on one target); a shot sets the cooldown to the type
  cooldown + U(-1/16, 2/16), otherwise it runs down by 1/16; units touching a wall die; health <= 0 is death;
  overlapping living units are pushed apart by their radii; dead units never move.
- actions (§2.4): ``Discrete(5 + n_enemies)``: 0 +y, 1 +x, 2 -y, 3 -x, 4 stop, ``5 + k`` attack enemy ``k``;
  stop is always available, moves need the unit alive, attack ``k`` needs both alive and the target within
  attack range. Enemies number allies in reverse order.
- observation (§2.5, "unit_list"): 13 features of every other unit (allies first) -- health fraction, position
  relative to the observer / the observer's sight range, last move direction, last action index / (n - 1),
  cooldown fraction, type one-hot -- zero unless both are alive and it is within sight; then 10 own features
  (health fraction, position / map size, cooldown fraction, type one-hot). ``global_state`` is JaxMARL's world
  state: per unit health fraction, x, y, cooldown (s), type one-hot (zero when dead), then teams and types.
- reward (§2.6): the opposing team's health removed this step, each unit's loss as a fraction of its maximum
  health, summed and divided by the opposing team's size (paid to every agent, dead ones too), plus
  ``won_battle_bonus`` when every opponent is dead and one of the team lives (both wiped out is a draw).
- the enemy team is played by the heuristic of §2.7 (``heuristic.py``) unless ``self_play=True``.

Beyond the anchor: the episode terminates when a team is wiped out and is truncated at ``max_steps``
(JaxMARL folds both into one ``done``); a masked, out-of-range, fractional or NaN action is replaced by stop
(4, the ``noop_action``) and counted in ``info["invalid_action"]`` (``realax.core.discrete_action``);
``info["alive"]`` and ``info["won"]`` report the
battle; observations are clipped into ``Box(-1, 1)``; the cooldown is kept >= 0 (same firing times).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, EnvParams, MultiAgentEnv, StepResult, check_int, discrete_action
from realax.envs import smallops as so
from realax.envs.sampling import uniforms
from realax.envs.smax import scenarios as sc
from realax.envs.smax.heuristic import STOP, heuristic_actions
from realax.envs.smax.jaxmarl_options import translate
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

#: the most simulation ticks per env step (JaxMARL: 8); each tick draws N uniforms and runs the N x N physics
MAX_TICKS = 256

N_TYPES = len(sc.UNIT_TYPES)
UNIT_FEATURES, OWN_FEATURES = 7 + N_TYPES, 4 + N_TYPES


#: ``(x, y, health, cooldown, alive)`` of every unit, carried through the ticks of a step
_Units = tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]


def _arr(*v: float) -> Any:
    return struct.field(default_factory=lambda: jnp.array(v, jnp.float32))


@struct.dataclass(kw_only=True)
class SMAXParams(EnvParams):
    """Unit stats per type (marine, marauder, stalker, zealot, zergling, hydralisk), §2.2."""

    velocity: jax.Array = _arr(3.15, 2.25, 4.13, 3.15, 4.13, 3.15)  # float32 [6]; map units / s
    attack: jax.Array = _arr(9.0, 10.0, 13.0, 8.0, 5.0, 12.0)  # float32 [6]; damage per shot
    attack_range: jax.Array = _arr(5.0, 6.0, 6.0, 2.0, 2.0, 5.0)  # float32 [6]
    sight_range: jax.Array = _arr(9.0, 10.0, 10.0, 9.0, 8.0, 9.0)  # float32 [6]
    radius: jax.Array = _arr(0.375, 0.5625, 0.625, 0.5, 0.375, 0.625)  # float32 [6]
    health: jax.Array = _arr(45.0, 125.0, 160.0, 150.0, 35.0, 80.0)  # float32 [6]
    cooldown: jax.Array = _arr(0.61, 1.07, 1.87, 0.86, 0.5, 0.59)  # float32 [6]; seconds between shots
    map_width: float = 32.0
    map_height: float = 32.0
    time_per_tick: float = 1.0 / 16.0
    won_battle_bonus: float = 1.0
    reward_scale: float = 1.0  # multiplies the whole reward (Q-learning configs use 10)
    walls_cause_death: bool = True
    see_enemy_actions: bool = True


@struct.dataclass
class SMAXState:
    t: jax.Array  # int32 []; env steps taken
    pos: jax.Array  # float32 [N, 2]; allies then enemies
    health: jax.Array  # float32 [N]
    alive: jax.Array  # bool [N]
    cooldown: jax.Array  # float32 [N]; seconds until the weapon is ready (>= 0)
    types: jax.Array  # int32 [N]
    prev_move: jax.Array  # float32 [N, 2]; last move direction (zero when stopped or shooting)
    prev_attack: jax.Array  # int32 [N]; last action index if it was an attack, else 0
    enemy_goal: jax.Array  # float32 [E, 2]; heuristic default target (start rotated about the centre)
    enemy_last: jax.Array  # int32 [E]; heuristic's last target (ally index, -1 none)


def _pairs(x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``dx, dy, dist`` float32 ``[N, N]`` with ``dx[i, j] = x[i] - x[j]`` (x and y apart: no axis of size 2)."""
    dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
    return dx, dy, jnp.sqrt(dx * dx + dy * dy)


def _pdist(pos: jax.Array) -> jax.Array:
    """``dist`` float32 ``[N, N]`` between the rows of ``pos [N, 2]``."""
    return _pairs(pos[:, 0], pos[:, 1])[2]


class SMAX(MultiAgentEnv[SMAXState, SMAXParams]):
    """SMAX unit micromanagement; the episode terminates when a team is wiped out (see module docstring)."""

    description = "StarCraft-style micromanagement (JaxMARL SMAX rules) against the heuristic enemy"
    noop_action = STOP
    #: JaxMARL's keyword arguments of SMAX as ``(realax options, SMAXParams fields)`` (``realax.wrappers.jaxmarl``)
    jaxmarl_options = staticmethod(translate)

    def __init__(self, scenario: str | sc.Scenario = "3m", self_play: bool = False, ticks_per_step: int = 8,
                 max_steps: int = 100):
        """``scenario``: a name of ``SCENARIOS`` or a ``Scenario`` (``scenarios.custom``); ``self_play``: the
        enemies are agents too; ``ticks_per_step`` 1..``MAX_TICKS`` (JaxMARL: 8); ``max_steps`` 1..2**30.
        Bad values are a ``RealaxError`` naming the field and the allowed range."""
        ticks = check_int("ticks_per_step", ticks_per_step, 1, MAX_TICKS, "SMAX")
        self._params = SMAXParams(max_steps=check_int("max_steps", max_steps, 1, MAX_STEPS, "SMAX"))
        if not isinstance(self_play, (bool, np.bool_)):
            raise RealaxError(f"SMAX: self_play must be true or false, got {self_play!r}")
        self.scenario = sc.resolve(scenario, self._params.map_width, self._params.map_height)
        self.num_allies, self.num_enemies = self.scenario.num_allies, self.scenario.num_enemies
        self.num_units = self.num_allies + self.num_enemies
        self.self_play, self.ticks = bool(self_play), ticks
        names = [f"ally_{i}" for i in range(self.num_allies)]
        if self.self_play:
            names += [f"enemy_{i}" for i in range(self.num_enemies)]
        self._agents = tuple(names)
        n_a, n_e = self.num_allies, self.num_enemies
        self.n_actions = 5 + (max(n_a, n_e) if self.self_play else n_e)
        self._is_ally = np.arange(self.num_units) < n_a
        # each unit's own action count (features divide the last action index by it minus one)
        self._unit_n_actions = np.where(self._is_ally, 5 + n_e, 5 + n_a).astype(np.float32)
        self.obs_size = UNIT_FEATURES * (self.num_units - 1) + OWN_FEATURES

    @property
    def agents(self) -> tuple[str, ...]:
        return self._agents

    @property
    def default_params(self) -> SMAXParams:
        return self._params

    # -- spaces ---------------------------------------------------------------------------------------------
    def observation_space(self, params: SMAXParams | None = None) -> Box:
        return Box(-1.0, 1.0, (self.obs_size,), jnp.float32)

    def action_space(self, params: SMAXParams | None = None) -> Discrete:
        return Discrete(self.n_actions)

    def _global_high(self, params: SMAXParams) -> jax.Array:
        unit = jnp.concatenate([jnp.stack([1.0, params.map_width, params.map_height, jnp.max(params.cooldown) + 1.0]),
                                jnp.ones(N_TYPES)])
        return jnp.concatenate([jnp.tile(unit, self.num_units), jnp.ones(self.num_units),
                                jnp.full(self.num_units, N_TYPES - 1.0)]).astype(jnp.float32)

    def global_state_space(self, params: SMAXParams | None = None) -> Box:
        high = np.asarray(self._global_high(params or self._params))
        return Box(np.zeros_like(high), high, high.shape, jnp.float32)

    # -- helpers --------------------------------------------------------------------------------------------
    def _stats(self, types: jax.Array, params: SMAXParams) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Type one-hot float32 ``[N, 6]`` and per-unit stats (dict of float32 ``[N]``) looked up by type."""
        oh = (types[:, None] == jnp.arange(N_TYPES)[None, :]).astype(jnp.float32)
        table = {"velocity": params.velocity, "attack": params.attack, "range": params.attack_range,
                 "sight": params.sight_range, "radius": params.radius, "health": params.health,
                 "cooldown": params.cooldown}
        return oh, {k: so.lookup(jnp.asarray(v, jnp.float32), types) for k, v in table.items()}

    def _can_attack(self, state: SMAXState, dist: jax.Array, rng: jax.Array) -> jax.Array:
        """bool [N, N]: unit i may shoot unit j now (both alive, opposite teams, j within i's range)."""
        opp = jnp.asarray(self._is_ally[:, None] != self._is_ally[None, :])
        return opp & state.alive[:, None] & state.alive[None, :] & (dist < rng[:, None])

    def _masks(self, state: SMAXState, dist: jax.Array, rng: jax.Array) -> jax.Array:
        n_a, n_e, N, n = self.num_allies, self.num_enemies, self.num_units, self.n_actions
        can = self._can_attack(state, dist, rng)
        # enemies' rows need n_a attack columns and allies' n_e: build both, keep the action space's n - 5
        # (without self-play that is n_e, and only the allies' rows are used; more allies than enemies
        # once failed to trace here -- found by tests/fuzz)
        attack = jnp.zeros((N, max(n_a, n_e)), bool)
        attack = attack.at[:n_a, :n_e].set(can[:n_a, n_a:]).at[n_a:, :n_a].set(can[n_a:, :n_a][:, ::-1])[:, : n - 5]
        alive = state.alive[:, None]
        return jnp.concatenate([jnp.repeat(alive, 4, axis=1), jnp.ones((N, 1), bool), attack], axis=1)

    def action_mask(self, state: SMAXState, params: SMAXParams | None = None) -> jax.Array:
        params = params or self._params
        _, st = self._stats(state.types, params)
        return self._masks(state, _pdist(state.pos), st["range"])[: self.num_agents]

    def _push(self, x: jax.Array, y: jax.Array, alive: jax.Array, radius: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Separate overlapping living units: each pair moves apart by half its overlap ratio (§2.3)."""
        dx, dy, dist = _pairs(x, y)
        dist = dist + jnp.eye(self.num_units) + 1e-6
        pair = alive[:, None] & alive[None, :]
        overlap = jnp.where(pair, jax.nn.relu((radius[:, None] + radius[None, :]) / dist - 1.0), 0.0)
        return (jnp.where(alive, x + so.sum_axis(dx * overlap) / 2, x),
                jnp.where(alive, y + so.sum_axis(dy * overlap) / 2, y))

    # -- reset ----------------------------------------------------------------------------------------------
    def _start_positions(self, u: jax.Array, params: SMAXParams) -> jax.Array:
        s, n_a, n_e = self.scenario, self.num_allies, self.num_enemies
        W, H = params.map_width, params.map_height
        wh = jnp.stack([W, H]).astype(jnp.float32)
        noise = 4.0 * u[: 2 * self.num_units].reshape(self.num_units, 2) - 2.0
        base = jnp.where(jnp.asarray(self._is_ally)[:, None], jnp.stack([W / 4, H / 2]), jnp.stack([3 * W / 4, H / 2]))
        pos = base + noise
        if s.ally_positions is not None:
            pos = pos.at[:n_a].set(jnp.asarray(s.ally_positions, jnp.float32))
        if s.enemy_positions is not None:
            pos = pos.at[n_a:].set(jnp.asarray(s.enemy_positions, jnp.float32))
        if not s.smacv2_positions:
            return pos
        # §2.8 surround: one team at the centre +- 2, the other in 4 groups on the centre-corner diagonals
        v = u[2 * self.num_units:]
        N = self.num_units
        centre = wh / 2
        corners = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]) * wh
        t = v[:4, None]
        groups = t * centre + (1 - t) * corners
        g = jnp.floor(v[4:4 + N] * 4).astype(jnp.int32).clip(0, 3)
        outside = jnp.stack([so.lookup(groups[:, 0], g), so.lookup(groups[:, 1], g)], axis=1) + noise
        allies_inside = v[4 + N] < 0.5
        inside_team = jnp.where(allies_inside, jnp.asarray(self._is_ally), ~jnp.asarray(self._is_ally))
        surround = jnp.where(inside_team[:, None], centre + noise, outside)
        # §2.8 reflect: allies uniform over the left half, enemies mirrored (extra enemies: right half)
        r = v[5 + N:5 + 3 * N].reshape(N, 2)
        left = r[:n_a] * jnp.stack([W / 2, H])
        k = min(n_a, n_e)
        right = r[n_a:] * jnp.stack([W / 2, H]) + jnp.stack([W / 2, 0.0])
        mirrored = jnp.stack([W - left[:k, 0], left[:k, 1]], axis=1)
        reflect = jnp.concatenate([left, mirrored, right[k:n_e]], axis=0)
        return jnp.where(v[5 + 3 * N] < 0.5, surround, reflect)

    def reset_env(self, key: jax.Array, params: SMAXParams) -> tuple[jax.Array, SMAXState]:
        N, n_a, n_e = self.num_units, self.num_allies, self.num_enemies
        u = uniforms(key, (2 * N + 6 + 3 * N + N,))
        types = jnp.asarray(self.scenario.ally_types + self.scenario.enemy_types, jnp.int32)
        if self.scenario.smacv2_types:  # §2.8: allies uniform over all six types, enemies copy them
            draw = jnp.floor(u[-N:] * N_TYPES).astype(jnp.int32).clip(0, N_TYPES - 1)
            ally = draw[:n_a]
            enemy = jnp.concatenate([ally[: min(n_a, n_e)], draw[n_a + min(n_a, n_e):]])[:n_e]
            types = jnp.concatenate([ally, enemy])
        _, st = self._stats(types, params)
        alive = jnp.ones(N, bool)
        start = self._start_positions(u, params)
        pos = jnp.stack(self._push(start[:, 0], start[:, 1], alive, st["radius"]), axis=1)
        centre = jnp.stack([params.map_width, params.map_height]) / 2
        state = SMAXState(t=jnp.int32(0), pos=pos.astype(jnp.float32), health=st["health"], alive=alive,
                          cooldown=jnp.zeros(N, jnp.float32), types=types, prev_move=jnp.zeros((N, 2), jnp.float32),
                          prev_attack=jnp.zeros(N, jnp.int32), enemy_goal=2 * centre - pos[n_a:],
                          enemy_last=jnp.full(n_e, -1, jnp.int32))
        return self.get_obs(state, params), state

    # -- step -----------------------------------------------------------------------------------------------
    def step_env(self, key: jax.Array, state: SMAXState, action: jax.Array, params: SMAXParams) -> StepResult[SMAXState]:
        N, n_a, n_e, A, n = self.num_units, self.num_allies, self.num_enemies, self.num_agents, self.n_actions
        T, dt = self.ticks, params.time_per_tick
        _oh, st = self._stats(state.types, params)
        x, y = state.pos[:, 0], state.pos[:, 1]
        pairs = _pairs(x, y)
        dist = pairs[2]
        mask = self._masks(state, dist, st["range"])
        action, invalid = discrete_action(action, n, STOP, (A,))  # fractions, NaN, out of range -> STOP
        ok = (invalid == 0) & so.any_axis(mask[:A] & (action[:, None] == jnp.arange(n)[None, :]))
        act = jnp.where(ok, action, STOP)
        u = uniforms(key, (T * N + n_e,))
        enemy_last = state.enemy_last
        if not self.self_play:
            enemy_act, enemy_last = heuristic_actions(
                dist[n_a:, :n_a], state.pos[n_a:], state.pos[:n_a], state.alive[n_a:], state.alive[:n_a],
                st["sight"][n_a:], st["range"][n_a:], state.enemy_goal, state.enemy_last, u[T * N:])
            act = jnp.concatenate([act, enemy_act])
        # decode: move direction (actions 0..3: +y, +x, -y, -x) and target one-hot [N, N]
        # (allies: 5+k -> enemy k; enemies: 5+k -> ally n_a-1-k)
        move_x = jnp.where(act == 1, 1.0, jnp.where(act == 3, -1.0, 0.0))
        move_y = jnp.where(act == 0, 1.0, jnp.where(act == 2, -1.0, 0.0))
        k = act - 5
        target = jnp.where(jnp.asarray(self._is_ally), n_a + k, n_a - 1 - k)
        aim = (act[:, None] >= 5) & (target[:, None] == jnp.arange(N)[None, :])
        aim &= jnp.asarray(self._is_ally[:, None] != self._is_ally[None, :])
        W, H = params.map_width, params.map_height
        speed = st["velocity"] * dt
        step_x, step_y = move_x * speed, move_y * speed
        dev = (3.0 * u[: T * N].reshape(T, N) - 1.0) * dt  # U(-dt, 2 dt)

        def tick(i: jax.Array | int | None, carry: _Units) -> _Units:
            x, y, health, cooldown, alive = carry
            d = dist if i is None else _pairs(x, y)[2]
            hit = aim & (d < st["range"][:, None]) & alive[None, :]
            fire = alive & (cooldown <= 0.0) & so.any_axis(hit)
            damage = so.sum_axis(jnp.where(fire[:, None] & hit, st["attack"][:, None], 0.0), axis=0)
            health = jnp.maximum(health - damage, 0.0)
            dev_i = jax.lax.dynamic_index_in_dim(dev, i if i is not None else 0, keepdims=False)
            cooldown = jnp.where(fire, st["cooldown"] + dev_i, jnp.maximum(cooldown - dt, 0.0))
            x = jnp.where(alive, jnp.clip(x + step_x, 0.0, W), x)
            y = jnp.where(alive, jnp.clip(y + step_y, 0.0, H), y)
            wall = ((x <= 0.0) | (x >= W) | (y <= 0.0) | (y >= H)) & params.walls_cause_death
            health = jnp.where(wall, 0.0, health)
            alive = health > 0.0
            return (*self._push(x, y, alive, st["radius"]), health, cooldown, alive)

        carry = tick(None, (x, y, state.health, state.cooldown, state.alive))  # tick 0 reuses dist
        x, y, health, cooldown, alive = jax.lax.fori_loop(1, T, tick, carry)
        lost = (state.health - health) / st["health"]
        allies_dead, enemies_dead = ~so.any_axis(alive[:n_a]), ~so.any_axis(alive[n_a:])
        bonus = params.won_battle_bonus
        r_ally = so.sum_axis(lost[n_a:]) / n_e + jnp.where(enemies_dead & ~allies_dead, bonus, 0.0)
        r_enemy = so.sum_axis(lost[:n_a]) / n_a + jnp.where(allies_dead & ~enemies_dead, bonus, 0.0)
        reward = jnp.where(jnp.asarray(self._is_ally[:A]), r_ally, r_enemy) * params.reward_scale
        t = state.t + 1
        # prev_move as float32, not weakly typed: the state a step returns has reset's types, so a jitted step
        # fed its own output compiles once, not twice
        state = SMAXState(t=t, pos=jnp.stack([x, y], axis=1), health=health, alive=alive, cooldown=cooldown,
                          types=state.types, prev_move=jnp.stack([move_x, move_y], axis=1).astype(jnp.float32),
                          prev_attack=jnp.where(act >= 5, act, 0), enemy_goal=state.enemy_goal, enemy_last=enemy_last)
        terminated = allies_dead | enemies_dead
        info = {"alive": alive[:A], "invalid_action": (~ok).astype(jnp.int32), "won": enemies_dead & ~allies_dead}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), terminated,
                (t >= params.max_steps) & ~terminated, info)

    # -- observations ---------------------------------------------------------------------------------------
    def get_obs(self, state: SMAXState, params: SMAXParams) -> jax.Array:
        N, n_a, A = self.num_units, self.num_allies, self.num_agents
        oh, st = self._stats(state.types, params)
        x, y = state.pos[:, 0], state.pos[:, 1]
        dx, dy, dist = _pairs(x, y)
        cd_frac = jnp.clip(state.cooldown / st["cooldown"], 0.0, 1.0)
        hp = state.health / st["health"]
        last = state.prev_attack.astype(jnp.float32) / jnp.asarray(self._unit_n_actions - 1.0)
        same_team = jnp.asarray(self._is_ally[:, None] == self._is_ally[None, :])
        see = same_team | params.see_enemy_actions  # bool [N, N]: i sees j's last action
        visible = (dist < st["sight"][:, None]) & state.alive[:, None] & state.alive[None, :]
        row = lambda v: jnp.broadcast_to(v[None, :], (N, N))  # feature of unit j, for every observer i
        feats = jnp.stack([row(hp), -dx / st["sight"][:, None], -dy / st["sight"][:, None],
                           jnp.where(see, row(state.prev_move[:, 0]), 0.0), jnp.where(see, row(state.prev_move[:, 1]), 0.0),
                           jnp.where(see, row(last), 0.0), row(cd_frac)] + [row(oh[:, c]) for c in range(N_TYPES)],
                          axis=-1)  # [N, N, F]
        # clipped and materialised here: fused into the off-diagonal copy below, XLA:CPU recomputed every
        # feature per output element (a third of a step's time)
        feats = jax.lax.optimization_barrier(jnp.clip(jnp.where(visible[..., None], feats, 0.0), -1.0, 1.0))
        F = feats.shape[-1]

        def off_diagonal(m: jax.Array) -> jax.Array:  # drop j == i from each row: [N, N, F] -> [N, N-1, F]
            return m.reshape(N * N, F)[1:].reshape(N - 1, N + 1, F)[:, :N].reshape(N, N - 1, F)

        others = off_diagonal(feats)[:n_a]
        if self.self_play:  # enemies list the units in reverse index order (own team first)
            others = jnp.concatenate([others, off_diagonal(feats[::-1, ::-1])[: N - n_a][::-1]], axis=0)
        own = jnp.concatenate([jnp.stack([hp, x / params.map_width, y / params.map_height, cd_frac], axis=1), oh],
                              axis=1)
        own = jnp.clip(jnp.where(state.alive[:, None], own, 0.0)[:A], -1.0, 1.0)
        return jnp.concatenate([others.reshape(A, -1), own], axis=1).astype(jnp.float32)

    def global_state(self, state: SMAXState, params: SMAXParams | None = None) -> jax.Array:
        params = params or self._params
        oh, st = self._stats(state.types, params)
        wh = jnp.stack([params.map_width, params.map_height])
        unit = jnp.concatenate([(state.health / st["health"])[:, None], jnp.clip(state.pos, 0.0, wh),
                                state.cooldown[:, None], oh], axis=1)
        unit = jnp.where(state.alive[:, None], unit, 0.0)
        teams = jnp.asarray(~self._is_ally, jnp.float32)
        high = self._global_high(params)
        flat = jnp.concatenate([unit.reshape(-1), teams, state.types.astype(jnp.float32)])
        return jnp.clip(flat, 0.0, high).astype(jnp.float32)

    def render(self, state: SMAXState, params: SMAXParams | None = None,
               *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the map with every unit (team colour, type letter, health bar), last step's
        attacks, a legend, and the step, last reward and episode return when given (``realax.envs.smax.render``)."""
        from realax.envs.smax.render import draw

        params = params or self._params
        title = f"SMAX-v0 - scenario {self.scenario.name!r}" + (" (self-play)" if self.self_play else "")
        return draw(state, params, self.num_allies, reward=reward, episode_return=episode_return, title=title,
                    self_play=self.self_play)
