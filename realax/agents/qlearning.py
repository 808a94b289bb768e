"""Tabular Q-learning with epsilon-greedy exploration: the RFRL Gym comparison agent.

Algorithm: Watkins & Dayan, "Q-learning", Machine Learning 8 (1992):
``Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a))``. RFRL Gym (Rosen et al., ICMLA 2023) compares
against tabular Q-learning on its one-frame observation; its defaults (``alpha=0.1``, ``gamma=0.9``,
epsilon decaying to a floor) are kept here. Env-agnostic for ``Discrete`` actions and integer-valued
observations (an integer-dtype ``Box``, ``MultiDiscrete`` or ``Discrete``).

Observations become table rows by ``make_indexer``: an exact mixed-radix index when the space has at most
``table_size`` distinct observations, otherwise a fixed hash. ``num_envs`` copies of the environment step
together; their updates are applied at once, and several envs updating the same ``(s, a)`` in one step
move it by ``alpha`` times their mean TD error (so a batch of identical envs is one ordinary update).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require
from realax.spaces import Box, Discrete, MultiDiscrete, Space

#: seed of the hash multipliers (fixed, so a table means the same thing in every run)
HASH_SEED = 0x5EED


@dataclasses.dataclass(frozen=True)
class QConfig:
    """Tabular Q-learning settings."""

    num_envs: int = 16
    """Environments stepped in parallel; one update is one step of all of them."""
    total_timesteps: int = 200_000
    """Environment steps in the whole run (``num_envs`` per update)."""
    lr: float = 0.1
    """Step size alpha."""
    gamma: float = 0.9
    """Discount factor."""
    eps_start: float = 1.0
    """Exploration rate at the start."""
    eps_end: float = 0.05
    """Exploration rate after the decay."""
    eps_fraction: float = 0.5
    """Fraction of the run over which epsilon decays linearly from ``eps_start`` to ``eps_end``."""
    table_size: int = 2**18
    """Most table rows; larger observation spaces are hashed into this many rows."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 500
    """Updates per ``Trainer.step`` call."""

    def __post_init__(self):
        require(self, positive=("num_envs", "total_timesteps", "lr", "table_size", "num_seeds", "updates_per_chunk"),
                unit=("lr", "gamma", "eps_start", "eps_end", "eps_fraction"), at_most=SIZE_LIMITS)

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs

    @property
    def num_updates(self) -> int:
        return max(1, self.total_timesteps // self.num_envs)

    @property
    def num_chunks(self) -> int:
        return math.ceil(self.num_updates / self.updates_per_chunk)


def make_indexer(space: Space, table_size: int) -> tuple[Callable[[jax.Array], jax.Array], int]:
    """``(index, rows)``: ``index(obs) -> int32 []`` maps one observation to a row in ``0 .. rows-1``.

    If the space holds ``n <= table_size`` distinct observations the index is exact (mixed radix,
    ``rows = n``). Otherwise ``rows = table_size`` and the index is a fixed hash: the dot product of the
    flattened observation with random odd 32-bit multipliers (seed ``HASH_SEED``), wrapping mod 2**32,
    folded by ``h ^ (h >> 16)`` and taken mod ``table_size``. Distinct observations may then share a row;
    only the few observations an environment actually visits matter, so collisions are rare in practice.
    """
    if isinstance(space, Discrete):
        low, radix = np.zeros(1, np.int64), np.array([space.n])
    elif isinstance(space, MultiDiscrete):
        low, radix = np.zeros(space.nvec.size, np.int64), space.nvec.reshape(-1)
    elif isinstance(space, Box) and space.is_integer:
        low = space.low.reshape(-1).astype(np.int64)
        radix = space.high.reshape(-1).astype(np.int64) - low + 1
    else:
        raise RealaxError(f"tabular Q-learning needs integer observations, got {space}")
    count = math.prod(int(r) for r in radix)
    low_j = jnp.asarray(low, jnp.int32)
    if count <= table_size:
        strides = jnp.asarray(np.concatenate([[1], np.cumprod(radix[:-1])]), jnp.int32)
        return lambda obs: ((jnp.ravel(obs).astype(jnp.int32) - low_j) * strides).sum(), count
    mult = np.random.default_rng(HASH_SEED).integers(0, 2**32, radix.size, dtype=np.uint64) | 1
    mult = jnp.asarray(mult.astype(np.uint32))

    def index(obs):
        h = ((jnp.ravel(obs).astype(jnp.int32) - low_j).astype(jnp.uint32) * mult).sum(dtype=jnp.uint32)
        return ((h ^ (h >> 16)) % jnp.uint32(table_size)).astype(jnp.int32)

    return index, table_size


class QCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    q: jax.Array  # float32 [rows, n_actions]
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []: updates done so far


def make_train(config: QConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running tabular Q-learning on ``env``."""
    c = config
    action_space = env.action_space(params)
    if not isinstance(action_space, Discrete):
        raise RealaxError(f"tabular Q-learning needs a Discrete action space, got {action_space}")
    n_actions = action_space.n
    index, rows = make_indexer(env.observation_space(params), c.table_size)
    v_index = jax.vmap(index)
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    decay_updates = max(1.0, c.eps_fraction * c.num_updates)

    def init(key):
        key, k_env = jax.random.split(key)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        q = jnp.zeros((rows, n_actions), jnp.float32)
        return QCarry(q, env_state, obs, RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    def update(carry: QCarry, _):
        key, k_eps, k_rand, k_env = jax.random.split(carry.key, 4)
        eps = c.eps_start + jnp.minimum(carry.update / decay_updates, 1.0) * (c.eps_end - c.eps_start)
        s = v_index(carry.obs)
        explore = jax.random.uniform(k_eps, (c.num_envs,)) < eps
        a = jnp.where(explore, jax.random.randint(k_rand, (c.num_envs,), 0, n_actions),
                      jnp.argmax(carry.q[s], -1))
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           a, params)
        target = reward + c.gamma * (1.0 - term) * carry.q[v_index(info["final_obs"])].max(-1)
        td = target - carry.q[s, a]
        cell = s * n_actions + a
        same = (cell[:, None] == cell[None, :]).astype(jnp.float32)  # average duplicates within the batch
        mean_td = (same @ td) / same.sum(1)
        q = carry.q.at[s, a].set(carry.q[s, a] + c.lr * mean_td)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        stats = stats.summarise(done, ep_ret, ep_len)
        carry = QCarry(q, env_state, obs, stats, key, carry.update + 1)
        return carry, {"return": stats.last_return, "length": stats.last_length, "epsilon": eps,
                       "td_error": jnp.abs(td).mean(), "env_steps": carry.update * c.num_envs}

    def step(carry: QCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: QCarry):
        q = carry.q
        return lambda key, obs: jnp.argmax(q[index(obs)], -1)

    return make_trainer(init, step, c.num_chunks, policy)
