"""Conservative Q-learning for discrete actions, from a dataset, env-agnostic.

Kumar, Zhou, Tucker & Levine, "Conservative Q-Learning for Offline Reinforcement Learning", NeurIPS 2020
(arXiv:2006.04779). The CQL(H) variant for discrete actions adds to the DQN regression loss the regulariser
``alpha · E_s[ log sum_a exp Q(s, a) - Q(s, a_data) ]`` (eq. 4 with the entropy regulariser H, the
``logsumexp`` form of its discrete-action implementation on QR-DQN/DQN), which pushes down the Q-values of
actions the data do not support and up those it does, so the greedy policy stays near the data's support
where the data are thin and can improve on the behaviour where they cover alternatives. The paper uses
``alpha`` in {0.5, 1, 4} on Atari (larger for smaller datasets); NeoRL-2's grid uses ``min_q_weight`` 5 or 10
for continuous tasks. The TD part is DQN's (Mnih et al. 2015) with a target network updated by Polyak
averaging; the bootstrap is dropped only on termination (a truncated episode bootstraps from ``next_obs``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import offline_nets as on
from realax.agents.trainer import Trainer, make_trainer


@dataclasses.dataclass(frozen=True)
class CQLConfig(on.OfflineConfig):
    """CQL(H) settings (discrete actions)."""

    lr: float = 3e-4
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    alpha: float = 1.0
    """Weight of the CQL(H) regulariser ``logsumexp_a Q(s, a) - Q(s, a_data)``; 0 gives offline DQN."""
    tau: float = 0.005
    """Polyak rate of the target network."""


class CQLCarry(NamedTuple):
    train_state: TrainState
    target: Any
    key: jax.Array
    update: jax.Array


def cql_loss(q: jax.Array, q_next_target: jax.Array, batch: on.Transitions, gamma: float, alpha: float):
    """``(total, td, regulariser)`` for Q-values ``q [B, n]`` at ``batch.obs`` and target Q-values
    ``q_next_target [B, n]`` at ``batch.next_obs``: ``td = 1/2 (Q(s,a) - y)^2`` with
    ``y = r + gamma (1 - terminal) max_a' Q_target(s', a')``, ``reg = logsumexp_a Q(s, a) - Q(s, a)``."""
    q_a = jnp.take_along_axis(q, batch.action.astype(jnp.int32)[:, None], -1)[:, 0]
    y = batch.reward + gamma * (1.0 - batch.terminal) * q_next_target.max(-1)
    td = 0.5 * ((q_a - jax.lax.stop_gradient(y)) ** 2).mean()
    reg = (jax.nn.logsumexp(q, -1) - q_a).mean()
    return td + alpha * reg, td, reg


def make_train(config: CQLConfig, data: on.Transitions, env, params) -> Trainer:
    """A ``Trainer`` running CQL(H) on ``data`` for ``env``'s spaces (``Discrete`` actions only)."""
    c = config
    space = env.action_space(params)
    on.require_kind("cql", space, ["discrete"])
    on.check_transitions(data, env, params, "cql")
    norm = on.obs_normaliser(data.obs, env.observation_space(params), c.normalize_obs)
    net = on.Head(on.encoder(env, params), space.n, on.hidden_layers(c.hidden, c.layers))
    tx = optax.adam(c.lr)

    def loss_fn(p, target, batch):
        q = net.apply(p, norm(batch.obs))
        q_next = net.apply(target, norm(batch.next_obs))
        total, td, reg = cql_loss(q, q_next, batch, c.gamma, c.alpha)
        return total, {"loss": total, "td_loss": td, "cql_reg": reg, "q_mean": q.mean()}

    def init(key):
        key, k_net = jax.random.split(key)
        p = net.init(k_net, norm(data.obs[0]))
        return CQLCarry(TrainState.create(apply_fn=net.apply, params=p, tx=tx), p, key, jnp.int32(0))

    def update(carry: CQLCarry, _):
        key, k_batch = jax.random.split(carry.key)
        batch = on.sample(k_batch, data, c.batch_size)
        grads, aux = jax.grad(loss_fn, has_aux=True)(carry.train_state.params, carry.target, batch)
        ts = carry.train_state.apply_gradients(grads=grads)
        return CQLCarry(ts, on.polyak(carry.target, ts.params, c.tau), key, carry.update + 1), aux

    def step(carry: CQLCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: CQLCarry):
        p = carry.train_state.params
        return lambda key, obs: jnp.argmax(net.apply(p, norm(obs)), -1).astype(jnp.int32)

    return make_trainer(init, step, c.num_chunks, policy)
