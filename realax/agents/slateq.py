"""SlateQ: Q-learning for slates through the user's choice (Ie et al., "SlateQ: A Tractable Decomposition for
Reinforcement Learning with Recommendation Sets", IJCAI 2019).

The value of a slate ``A`` decomposes over the item the user picks (the paper's SC and RTDS assumptions: the
user consumes one item of the slate, or none, and only that item drives the reward and the next state):

    Q(s, A) = sum over i in A and the null item of  P(i | s, A) * Qbar(s, i)

with ``P`` a conditional-logit choice model, ``P(i | s, A) = exp(v_i) / (exp(v_null) + sum_{j in A} exp(v_j))``
(the choice model of RecSim's interest-evolution env, ``realax/SlateRec-v0``). Here one network reads the
observation and gives, for every candidate and for the null item, both ``Qbar`` and the choice score ``v``;
the scores are learned from the observed choices (cross-entropy, as RLlib's SlateQ learns its user choice
model), ``Qbar`` by Q-learning on the item actually chosen (the null item on no click):

    Qbar(s, i) <- r + gamma (1 - terminal) Q_target(s', A*(s'))

``A*`` is the slate the paper's greedy optimisation builds (items added one at a time, each the one that raises
``Q(s, A)`` most; Ie et al. show it near-optimal); exploration is epsilon-greedy over slates; replay and target
network as ``realax.agents.dqn``.

Env-agnostic: any env with a ``Slate`` action space (``k`` distinct items of ``C`` candidates) that reports the
user's choice as ``info["choice"]``: the slate position picked, or ``k`` for no pick.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import offline_nets as on
from realax.agents.dqn import Buffer, ReplayConfig, buffer_add, buffer_sample
from realax.agents.trainer import RunningReturns, Trainer, epsilon_schedule, make_trainer
from realax.errors import RealaxError
from realax.options import require
from realax.spaces import Slate


@dataclasses.dataclass(frozen=True)
class SlateQConfig(ReplayConfig):
    """SlateQ settings: ``realax.agents.dqn``'s, with a larger buffer, RLlib's SlateQ learning rate (1e-3) and a
    slower target copy, plus the choice model's weight."""

    buffer_size: int = 50_000
    """Replay buffer capacity (transitions)."""
    lr: float = 1e-3
    """Adam learning rate."""
    target_every: int = 100
    """Updates between copies of the online network into the target network."""
    choice_coef: float = 1.0
    """Weight of the choice model's cross-entropy beside the TD loss."""

    def __post_init__(self):
        super().__post_init__()
        require(self, nonnegative=("choice_coef",))


class SlateTransition(NamedTuple):
    obs: Any
    slate: jax.Array  # int32 [k]
    choice: jax.Array  # int32 []: the slate position picked, k for none
    reward: jax.Array
    next_obs: Any
    terminal: jax.Array


def slate_value(q: jax.Array, v: jax.Array, slate: jax.Array) -> jax.Array:
    """``Q(s, A)`` of ``slate [k]`` from ``q [C+1]`` and choice scores ``v [C+1]`` (last: the null item)."""
    items = jnp.concatenate([slate, jnp.array([q.shape[-1] - 1], slate.dtype)])
    return jnp.sum(jax.nn.softmax(v[items]) * q[items])


def greedy_slate(q: jax.Array, v: jax.Array, k: int) -> jax.Array:
    """``int32 [k]``: the slate of the paper's greedy optimisation, item by item the one that raises ``Q(s, A)``
    most (with the null item always in the choice set); no item twice."""
    w, qi = jnp.exp(v[:-1] - v.max()), q[:-1]
    num, den = jnp.exp(v[-1] - v.max()) * q[-1], jnp.exp(v[-1] - v.max())
    used = jnp.zeros(qi.shape, bool)
    slate = []
    for _ in range(k):
        gain = jnp.where(used, -jnp.inf, (num + w * qi) / (den + w))
        i = jnp.argmax(gain)
        slate.append(i)
        num, den, used = num + w[i] * qi[i], den + w[i], used.at[i].set(True)
    return jnp.stack(slate).astype(jnp.int32)


def td_targets(q_next: jax.Array, v_next: jax.Array, reward: jax.Array, terminal: jax.Array, gamma: float,
               k: int) -> jax.Array:
    """``r + gamma (1 - terminal) Q(s', A*(s'))`` for a batch (``q_next``, ``v_next``: ``[B, C+1]``)."""
    best = jax.vmap(greedy_slate, in_axes=(0, 0, None))(q_next, v_next, k)
    return reward + gamma * (1.0 - terminal) * jax.vmap(slate_value)(q_next, v_next, best)


class SlateQCarry(NamedTuple):
    train_state: TrainState
    target: Any
    buffer: Buffer
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array


def make_train(config: SlateQConfig, env, params) -> Trainer:
    """A ``Trainer`` running SlateQ on ``env`` (a ``Slate`` action space and ``info["choice"]``)."""
    c = config
    space = env.action_space(params)
    if not isinstance(space, Slate):
        raise RealaxError(f"slateq recommends slates: it needs a Slate action space (k distinct items of C "
                          f"candidates), got {space}")
    C, k = space.num_items, space.k
    info = jax.eval_shape(lambda key: env.step(key, env.reset(key, params)[1], jnp.arange(k, dtype=jnp.int32),
                                               params)[5], jax.random.key(0))
    if "choice" not in info:
        raise RealaxError("slateq learns from the user's choice: the env must report info['choice'] (the slate "
                          "position picked, k for none)")
    net = on.Head(on.encoder(env, params), 2 * (C + 1), on.hidden_layers(c.hidden, c.layers))
    split = lambda out: (out[..., :C + 1], out[..., C + 1:])  # noqa: E731  (Qbar, choice scores)
    tx = optax.adam(c.lr)
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    epsilon = epsilon_schedule(c)

    def init(key):
        key, k_net, k_env = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        p = net.init(k_net, obs[0])
        example = SlateTransition(obs[0], jnp.zeros(k, jnp.int32), jnp.int32(0), jnp.float32(0), obs[0],
                                  jnp.float32(0))
        data = jax.tree.map(lambda x: jnp.zeros((c.buffer_size, *jnp.shape(x)), jnp.asarray(x).dtype), example)
        return SlateQCarry(TrainState.create(apply_fn=net.apply, params=p, tx=tx), p, Buffer(data, jnp.int32(0),
                           jnp.int32(0)), env_state, obs, RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    def loss_fn(p, target, b: SlateTransition):
        q, v = split(net.apply(p, b.obs))
        picked = jnp.where(b.choice < k, jnp.take_along_axis(b.slate, jnp.minimum(b.choice, k - 1)[:, None], 1)[:, 0], C)
        y = td_targets(*split(net.apply(target, b.next_obs)), b.reward, b.terminal, c.gamma, k)
        td = jnp.take_along_axis(q, picked[:, None], 1)[:, 0] - jax.lax.stop_gradient(y)
        choice_set = jnp.concatenate([b.slate, jnp.full((b.slate.shape[0], 1), C, b.slate.dtype)], 1)
        logits = jnp.take_along_axis(v, choice_set, 1)
        xent = optax.softmax_cross_entropy_with_integer_labels(logits, b.choice).mean()
        return (td**2).mean() + c.choice_coef * xent, ((td**2).mean(), xent)

    def learn(carry: SlateQCarry, key):
        batch = buffer_sample(key, carry.buffer, c.batch_size)
        (_, (td, xent)), grads = jax.value_and_grad(loss_fn, has_aux=True)(carry.train_state.params, carry.target,
                                                                           batch)
        return carry.train_state.apply_gradients(grads=grads), td, xent

    def update(carry: SlateQCarry, _):
        key, k_eps, k_rand, k_env, k_learn = jax.random.split(carry.key, 5)
        eps = epsilon(carry.update)
        q, v = split(net.apply(carry.train_state.params, carry.obs))
        greedy = jax.vmap(greedy_slate, in_axes=(0, 0, None))(q, v, k)
        explore = jax.random.uniform(k_eps, (c.num_envs,)) < eps
        random = jax.vmap(space.sample)(jax.random.split(k_rand, c.num_envs))
        a = jnp.where(explore[:, None], random, greedy).astype(jnp.int32)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           a, params)
        done = term | trunc
        buf = buffer_add(carry.buffer, SlateTransition(carry.obs, a, info["choice"].astype(jnp.int32),
                                                       reward.astype(jnp.float32), info["final_obs"],
                                                       term.astype(jnp.float32)))
        carry = carry._replace(buffer=buf)
        ready = ((carry.update + 1) * c.num_envs >= c.learning_starts) & (carry.update % c.train_every == 0)
        nan = jnp.float32(jnp.nan)
        ts, td, xent = jax.lax.cond(ready, learn, lambda cr, kk: (cr.train_state, nan, nan), carry, k_learn)
        target = jax.tree.map(lambda t, o: jnp.where((carry.update + 1) % c.target_every == 0, o, t),
                              carry.target, ts.params)
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        stats = stats.summarise(done, ep_ret, ep_len)
        carry = SlateQCarry(ts, target, buf, env_state, obs, stats, key, carry.update + 1)
        return carry, {"return": stats.last_return, "length": stats.last_length, "epsilon": eps, "td_loss": td,
                       "choice_loss": xent, "env_steps": carry.update * c.num_envs}

    def step(carry: SlateQCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: SlateQCarry):
        p = carry.train_state.params
        return lambda key, obs: greedy_slate(*split(net.apply(p, obs)), k)

    return make_trainer(init, step, c.num_chunks, policy)
