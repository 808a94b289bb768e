"""Tabular Q-learning and SARSA with epsilon-greedy exploration, for one agent or one table per agent.

Algorithms: Q-learning (Watkins & Dayan, "Q-learning", Machine Learning 8, 1992):
``Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a))``; SARSA (Rummery & Niranjan 1994; Sutton & Barto,
*Reinforcement Learning*, 2nd ed., §6.4): the on-policy target ``r + gamma Q(s', a')`` with ``a'`` the
epsilon-greedy action actually taken next. RFRL Gym (Rosen et al., ICMLA 2023) compares against tabular
Q-learning on its one-frame observation; its defaults (``alpha=0.1``, ``gamma=0.9``, epsilon decaying to a
floor) are kept here. Mondal et al. (IEEE TAES 2025) train **distributed** SARSA on multi-UAV offloading:
every UAV an independent learner with its own table over its own grid cell. On a ``MultiAgentEnv`` both rules
do that: agent ``i`` keeps table ``i``, sees its own observation and learns from its own reward (a team reward
when the env gives every agent the same). Env-agnostic for ``Discrete`` actions and integer-valued
observations (an integer-dtype ``Box``, ``MultiDiscrete`` or ``Discrete``).

Observations become table rows by ``make_indexer``: an exact mixed-radix index when the space has at most
``table_size`` distinct observations, otherwise a fixed hash. ``num_envs`` copies of the environment step
together; their updates are applied at once, and several envs updating the same ``(agent, s, a)`` in one
step move it by ``alpha`` times their mean TD error (so a batch of identical envs is one ordinary update).
The TD target of a finished episode bootstraps from its last observation (``info["final_obs"]``) unless it
terminated; for SARSA the bootstrap action there is drawn epsilon-greedily with the same random numbers
as the next action, so it equals that action whenever the episode goes on.
``metrics["return"]`` is the episode return summed over agents (the team return).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from realax.agents.trainer import RunningReturns, Trainer, epsilon_schedule, make_trainer
from realax.core import is_multi_agent
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require
from realax.spaces import Box, Discrete, MultiDiscrete, Space

#: seed of the hash multipliers (fixed, so a table means the same thing in every run)
HASH_SEED = 0x5EED


@dataclasses.dataclass(frozen=True)
class QConfig:
    """Tabular Q-learning settings (SARSA's are the same, ``SarsaConfig``)."""

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
        raise RealaxError(f"tabular learning (Q-learning, SARSA) needs integer observations, got {space}")
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


@dataclasses.dataclass(frozen=True)
class SarsaConfig(QConfig):
    """Tabular SARSA settings (the fields of ``QConfig``)."""


class QCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    q: jax.Array  # float32 [A, rows, n_actions]: one table per agent (A = 1 for a single-agent env)
    env_state: Any
    obs: Any
    action: jax.Array  # int32 [num_envs, A]: the action chosen at ``obs`` (SARSA's a'; Q-learning redraws)
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []: updates done so far


RULES = {"qlearning": "Q-learning", "sarsa": "SARSA"}


def make_train(config: QConfig, env, params, rule: str = "qlearning") -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running tabular ``rule`` (``qlearning`` or
    ``sarsa``) on ``env``, one table per agent on a ``MultiAgentEnv``."""
    if rule not in RULES:
        raise RealaxError(f"unknown tabular rule {rule!r}; one of {sorted(RULES)}")
    c = config
    action_space = env.action_space(params)
    if not isinstance(action_space, Discrete):
        raise RealaxError(f"tabular {RULES[rule]} needs a Discrete action space, got {action_space}")
    n_actions = action_space.n
    multi = is_multi_agent(env)
    A = env.num_agents if multi else 1
    index, rows = make_indexer(env.observation_space(params), c.table_size)
    rows_of = jax.vmap(jax.vmap(index))  # [N, A, ...] -> [N, A]
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    epsilon = epsilon_schedule(c)
    agents = jnp.arange(A)
    # one agent axis everywhere inside; a single-agent env's arrays get (and lose) it at the boundary
    split = (lambda x: x) if multi else (lambda x: jax.tree.map(lambda y: y[:, None], x))
    join = (lambda a: a) if multi else (lambda a: a[:, 0])

    def draws(k_eps, k_rand, eps):
        """The random part of epsilon-greedy for ``[N, A]`` choices: ``(explore, random action)``."""
        shape = (c.num_envs, A)
        return jax.random.uniform(k_eps, shape) < eps, jax.random.randint(k_rand, shape, 0, n_actions)

    def greedy(q, s, explore, random_action):
        """epsilon-greedy ``[N, A]`` actions at rows ``s [N, A]`` with the given ``draws``."""
        return jnp.where(explore, random_action, jnp.argmax(q[agents[None, :], s], -1)).astype(jnp.int32)

    def init(key):
        key, k_env, k_eps, k_rand = jax.random.split(key, 4)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        q = jnp.zeros((A, rows, n_actions), jnp.float32)
        action = greedy(q, rows_of(split(obs)), *draws(k_eps, k_rand, c.eps_start))
        return QCarry(q, env_state, obs, action, RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    def update(carry: QCarry, _):
        key, k_eps, k_rand, k_env = jax.random.split(carry.key, 4)
        s, a = rows_of(split(carry.obs)), carry.action
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           join(a), params)
        eps = epsilon(carry.update + 1)
        drawn = draws(k_eps, k_rand, eps)
        s_next, s_final = rows_of(split(obs)), rows_of(split(info["final_obs"]))
        q_final = carry.q[agents[None, :], s_final]  # [N, A, n_actions]
        if rule == "sarsa":  # a' is drawn from the table before this update (Sutton & Barto's SARSA box)
            a_next = greedy(carry.q, s_next, *drawn)
            a_final = greedy(carry.q, s_final, *drawn)  # == a_next where the episode goes on
            boot = jnp.take_along_axis(q_final, a_final[..., None], -1)[..., 0]
        else:
            boot = q_final.max(-1)
        r = reward if multi else reward[:, None]
        target = r + c.gamma * (1.0 - term.astype(jnp.float32))[:, None] * boot
        ag = jnp.broadcast_to(agents[None, :], s.shape)
        q_sa = carry.q[ag, s, a]  # [N, A]
        td = target - q_sa
        cell = ((ag * rows + s) * n_actions + a).reshape(-1)
        same = (cell[:, None] == cell[None, :]).astype(jnp.float32)  # average duplicates within the batch
        mean_td = ((same @ td.reshape(-1)) / same.sum(1)).reshape(td.shape)
        q = carry.q.at[ag, s, a].set(q_sa + c.lr * mean_td)
        if rule == "qlearning":  # the behaviour policy acts on the newest table
            a_next = greedy(q, s_next, *drawn)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(r.sum(-1), done)
        stats = stats.summarise(done, ep_ret, ep_len)
        carry = QCarry(q, env_state, obs, a_next, stats, key, carry.update + 1)
        return carry, {"return": stats.last_return, "length": stats.last_length, "epsilon": eps,
                       "td_error": jnp.abs(td).mean(), "env_steps": carry.update * c.num_envs}

    def step(carry: QCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: QCarry):
        q = carry.q
        if multi:
            return lambda key, obs: jnp.argmax(q[agents, jax.vmap(index)(obs)], -1)
        return lambda key, obs: jnp.argmax(q[0, index(obs)], -1)

    return make_trainer(init, step, c.num_chunks, policy)
