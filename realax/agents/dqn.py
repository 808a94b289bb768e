"""DQN with a replay buffer, online, and the hybrid offline+online recipe; discrete actions, env-agnostic.

DQN: Mnih et al., "Human-level control through deep reinforcement learning", Nature 2015: epsilon-greedy
exploration, a replay buffer, a target network copied every so often, regression of
``Q(s, a)`` on ``r + gamma (1 - terminal) max_a' Q_target(s', a')``. Defaults follow CleanRL's ``dqn.py``
(Huang et al., JMLR 2022; its CartPole defaults: buffer 10 000, batch 128, Adam 2.5e-4, epsilon 1 -> 0.05
over half the run, gamma 0.99), the whole run one jitted ``lax.scan`` as purejaxrl's ``dqn.py`` (Lu et al.
2022). Truncated episodes bootstrap from ``info["final_obs"]``.

Hybrid (``make_train(..., offline=transitions)``; ``realax train dqn --set dataset=DIR`` loads them): an
offline dataset is kept beside the
replay buffer and every batch is half offline, half online (``offline_fraction``): the symmetric sampling
of RLPD (Ball, Smith, Kostrikov & Levine, "Efficient Online Reinforcement Learning with Offline Data",
ICML 2023), the practical form of the hybrid setting of Song et al.'s Hy-Q (ICLR 2023) and of Wagenmaker &
Pacchiano (ICML 2023). Offline transitions stay in their own fixed array (never overwritten by online ones).

>>> data, _ = realax.offline.loader.load("datasets/spectrum-sa70-v0")
>>> trainer = make_train(DQNConfig(total_timesteps=100_000), env, params, offline=data)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import offline_nets as on
from realax.agents.trainer import RunningReturns, Trainer, epsilon_schedule, make_trainer
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
    """Settings every replay-based learner here shares (DQN's defaults; ``slateq`` changes some)."""

    num_envs: int = 8
    """Environments stepped in parallel; one update is one step of all of them."""
    total_timesteps: int = 200_000
    """Environment steps in the whole run (``num_envs`` per update)."""
    buffer_size: int = 10_000
    """Online replay buffer capacity (transitions)."""
    batch_size: int = 128
    """Transitions per gradient step."""
    lr: float = 2.5e-4
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    eps_start: float = 1.0
    """Exploration rate at the start."""
    eps_end: float = 0.05
    """Exploration rate after the decay."""
    eps_fraction: float = 0.5
    """Fraction of the run over which epsilon decays linearly."""
    learning_starts: int = 1_000
    """Environment steps before the first gradient step."""
    train_every: int = 1
    """Updates (of ``num_envs`` env steps each) between gradient steps."""
    target_every: int = 64
    """Updates between copies of the online network into the target network."""
    hidden: int = 128
    """Width of each ReLU hidden layer."""
    layers: int = 2
    """Hidden layers."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 500
    """Updates per ``Trainer.step`` call."""

    def __post_init__(self):
        require(self, positive=("num_envs", "total_timesteps", "buffer_size", "batch_size", "train_every",
                                "target_every", "hidden", "layers", "num_seeds", "updates_per_chunk"),
                nonnegative=("lr", "learning_starts"), unit=("gamma", "eps_start", "eps_end", "eps_fraction"),
                at_most=SIZE_LIMITS)

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs

    @property
    def num_updates(self) -> int:
        return max(1, self.total_timesteps // self.num_envs)

    @property
    def num_chunks(self) -> int:
        return math.ceil(self.num_updates / self.updates_per_chunk)


@dataclasses.dataclass(frozen=True)
class DQNConfig(ReplayConfig):
    """DQN settings (online, or hybrid with ``dataset``)."""

    dataset: str = ""
    """Hybrid: a dataset folder (``realax data generate``) of this env whose transitions fill the offline share
    of every batch (its shapes are checked, not that its env and realism options match); empty for plain DQN."""
    offline_fraction: float = 0.5
    """Hybrid: share of each batch drawn from the offline data (RLPD: 0.5)."""

    def __post_init__(self):
        super().__post_init__()
        require(self, unit=("offline_fraction",))


class Buffer(NamedTuple):
    """A circular buffer of transitions: ``data`` fields ``[capacity, ...]``, write position and fill."""

    data: on.Transitions
    pos: jax.Array
    size: jax.Array


def buffer_init(obs_example, action_example, capacity: int) -> Buffer:
    z = lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.asarray(x).dtype)
    data = on.Transitions(z(obs_example), z(action_example), jnp.zeros(capacity), z(obs_example), jnp.zeros(capacity),
                          jnp.zeros(capacity, bool))
    return Buffer(data, jnp.int32(0), jnp.int32(0))


def buffer_add(buf: Buffer, batch: on.Transitions) -> Buffer:
    """Write ``n`` transitions at the write position, wrapping around (oldest overwritten)."""
    cap, n = buf.data.reward.shape[0], batch.reward.shape[0]
    idx = (buf.pos + jnp.arange(n)) % cap
    data = jax.tree.map(lambda d, x: d.at[idx].set(x.astype(d.dtype)), buf.data, batch)
    return Buffer(data, (buf.pos + n) % cap, jnp.minimum(buf.size + n, cap))


def buffer_sample(key, buf: Buffer, n: int) -> on.Transitions:
    idx = jax.random.randint(key, (n,), 0, jnp.maximum(buf.size, 1))
    return jax.tree.map(lambda x: x[idx], buf.data)


class DQNCarry(NamedTuple):
    train_state: TrainState
    target: Any
    buffer: Buffer
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array


def make_train(config: DQNConfig, env, params, offline: on.Transitions | None = None) -> Trainer:
    """A ``Trainer`` running DQN on ``env``; hybrid when ``offline`` transitions are given. A learner takes
    arrays, never folders: with ``config.dataset`` set, pass that dataset's transitions as ``offline``
    (``realax.experiment.run`` loads them with ``realax.offline.loader.load``)."""
    c = config
    space = env.action_space(params)
    on.require_kind("dqn", space, ["discrete"])
    if not 0.0 <= c.offline_fraction <= 1.0:
        raise RealaxError(f"offline_fraction must be in [0, 1], got {c.offline_fraction}")
    if c.dataset and offline is None:
        raise RealaxError(f"DQNConfig.dataset is {c.dataset!r}: pass its transitions as offline= "
                          f"(realax.offline.loader.load reads them; realax.experiment.run does this for you)")
    hybrid = offline is not None
    n_off = int(round(c.offline_fraction * c.batch_size)) if hybrid else 0
    net = on.Head(on.encoder(env, params), space.n, on.hidden_layers(c.hidden, c.layers))
    tx = optax.adam(c.lr)
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    epsilon = epsilon_schedule(c)

    if offline is not None:
        on.check_transitions(offline, env, params, "dqn (hybrid)")

    def init(key):
        key, k_net, k_env = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        p = net.init(k_net, obs[0])
        buf = buffer_init(obs[0], jnp.int32(0), c.buffer_size)
        return DQNCarry(TrainState.create(apply_fn=net.apply, params=p, tx=tx), p, buf, env_state, obs,
                        RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    def loss_fn(p, target, batch: on.Transitions):
        q = jnp.take_along_axis(net.apply(p, batch.obs), batch.action.astype(jnp.int32)[:, None], -1)[:, 0]
        y = batch.reward + c.gamma * (1.0 - batch.terminal) * net.apply(target, batch.next_obs).max(-1)
        return ((q - jax.lax.stop_gradient(y)) ** 2).mean()

    def learn(carry: DQNCarry, key):
        k_on, k_off = jax.random.split(key)
        batch = buffer_sample(k_on, carry.buffer, c.batch_size - n_off)
        if n_off:
            off = on.sample(k_off, offline, n_off)
            batch = jax.tree.map(lambda a, b: jnp.concatenate([a, b.astype(a.dtype)]), batch, off)
        loss, grads = jax.value_and_grad(loss_fn)(carry.train_state.params, carry.target, batch)
        return carry.train_state.apply_gradients(grads=grads), loss

    def update(carry: DQNCarry, _):
        key, k_eps, k_rand, k_env, k_learn = jax.random.split(carry.key, 5)
        eps = epsilon(carry.update)
        greedy = jnp.argmax(net.apply(carry.train_state.params, carry.obs), -1)
        explore = jax.random.uniform(k_eps, (c.num_envs,)) < eps
        a = jnp.where(explore, jax.random.randint(k_rand, (c.num_envs,), 0, space.n), greedy).astype(jnp.int32)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           a, params)
        done = term | trunc
        buf = buffer_add(carry.buffer, on.Transitions(carry.obs, a, reward.astype(jnp.float32), info["final_obs"],
                                                      term.astype(jnp.float32), done))
        carry = carry._replace(buffer=buf)
        ready = ((carry.update + 1) * c.num_envs >= c.learning_starts) & (carry.update % c.train_every == 0)
        ts, loss = jax.lax.cond(ready, learn, lambda cr, k: (cr.train_state, jnp.float32(jnp.nan)), carry, k_learn)
        target = jax.tree.map(lambda t, o: jnp.where((carry.update + 1) % c.target_every == 0, o, t),
                              carry.target, ts.params)
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        stats = stats.summarise(done, ep_ret, ep_len)
        carry = DQNCarry(ts, target, buf, env_state, obs, stats, key, carry.update + 1)
        return carry, {"return": stats.last_return, "length": stats.last_length, "epsilon": eps, "td_loss": loss,
                       "env_steps": carry.update * c.num_envs}

    def step(carry: DQNCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: DQNCarry):
        p = carry.train_state.params
        return lambda key, obs: jnp.argmax(net.apply(p, obs), -1).astype(jnp.int32)

    return make_trainer(init, step, c.num_chunks, policy)
