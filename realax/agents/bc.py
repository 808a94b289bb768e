"""Behaviour cloning from a dataset: supervised learning of the logged actions, env-agnostic.

Discrete actions: cross-entropy of a categorical policy (Pomerleau 1991; Bain & Sammut 1995); the greedy
action is the arg-max. Continuous actions (``Box`` or ``Simplex``): mean squared error of a deterministic actor
whose output is squashed into the action space (``offline_nets.squash``), as the BC baseline of TD3+BC
(Fujimoto & Gu 2021) — or, with ``loss="nll"``, the Gaussian negative log-likelihood with a state-independent
log standard deviation (the greedy action is the mean). Observations are normalised with the dataset's
statistics. NeoRL-2's BC grid (Gao et al. 2025, ``benchmark/results``): 2-3 hidden layers, learning rate in
{1e-4, 5e-4, 1e-3}; the default here is 2 layers of 256 and 1e-3.

>>> trainer = make_train(BCConfig(num_updates=5_000), data, env, params)   # data: offline_nets.Transitions
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import offline_nets as on
from realax.agents.trainer import Trainer, make_trainer
from realax.errors import RealaxError


@dataclasses.dataclass(frozen=True)
class BCConfig(on.OfflineConfig):
    """Behaviour-cloning settings."""

    lr: float = 1e-3
    """Adam learning rate."""
    loss: str = "mse"
    """Continuous actions: ``mse`` (deterministic actor) or ``nll`` (Gaussian, learned log-std). Discrete
    actions always use cross-entropy."""


class BCCarry(NamedTuple):
    train_state: TrainState
    key: jax.Array
    update: jax.Array


def make_train(config: BCConfig, data: on.Transitions, env, params) -> Trainer:
    """A ``Trainer`` fitting the dataset's actions (``data``) for ``env``'s spaces."""
    c = config
    if c.loss not in ("mse", "nll"):
        raise RealaxError(f"BC loss must be 'mse' or 'nll', got {c.loss!r}")
    space = env.action_space(params)
    kind = on.action_kind(space)
    on.check_transitions(data, env, params, "bc")
    norm = on.obs_normaliser(data.obs, env.observation_space(params), c.normalize_obs)
    out = space.n if kind == "discrete" else int(space.shape[0])
    net = on.GaussianActor(on.encoder(env, params), out, on.hidden_layers(c.hidden, c.layers))
    squash = None if kind == "discrete" else on.squash(kind, space)
    data = data._replace(action=data.action if kind == "discrete" else on.action_targets(data.action, kind))
    tx = optax.adam(c.lr)

    def loss_fn(p, batch: on.Transitions):
        x, log_std = net.apply(p, norm(batch.obs))
        if kind == "discrete":
            loss = optax.softmax_cross_entropy_with_integer_labels(x, batch.action.astype(jnp.int32)).mean()
            acc = (jnp.argmax(x, -1) == batch.action).mean()
            return loss, {"loss": loss, "accuracy": acc}
        err = squash(x) - batch.action
        mse = (err ** 2).sum(-1).mean()
        if c.loss == "mse":
            return mse, {"loss": mse, "mse": mse}
        ls = jnp.clip(log_std, -5.0, 2.0)
        nll = (0.5 * (err * jnp.exp(-ls)) ** 2 + ls + 0.5 * jnp.log(2 * jnp.pi)).sum(-1).mean()
        return nll, {"loss": nll, "mse": mse}

    def init(key):
        key, k_net = jax.random.split(key)
        p = net.init(k_net, norm(data.obs[0]))
        return BCCarry(TrainState.create(apply_fn=net.apply, params=p, tx=tx), key, jnp.int32(0))

    def update(carry: BCCarry, _):
        key, k_batch = jax.random.split(carry.key)
        grads, aux = jax.grad(loss_fn, has_aux=True)(carry.train_state.params, on.sample(k_batch, data, c.batch_size))
        return BCCarry(carry.train_state.apply_gradients(grads=grads), key, carry.update + 1), aux

    def step(carry: BCCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: BCCarry):
        p = carry.train_state.params
        if kind == "discrete":
            return lambda key, obs: jnp.argmax(net.apply(p, norm(obs))[0], -1).astype(jnp.int32)
        return lambda key, obs: squash(net.apply(p, norm(obs))[0])

    return make_trainer(init, step, c.num_chunks, policy)
