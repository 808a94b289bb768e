"""TD3+BC for continuous actions (``Box`` or ``Simplex``), from a dataset, env-agnostic.

Fujimoto & Gu, "A Minimalist Approach to Offline Reinforcement Learning", NeurIPS 2021 (arXiv:2106.06860;
code ``sfujim/TD3_BC``). TD3 (Fujimoto, van Hoof & Meger, ICML 2018: clipped double Q, target policy
smoothing with noise 0.2 clipped at 0.5 (in half-ranges of the action box), actor and target updates every 2
critic updates, Polyak rate 0.005, discount 0.99, Adam 3e-4, batch 256, two hidden layers of 256) plus a
behaviour-cloning term in the actor loss:
``pi = argmax E[ lambda · Q1(s, pi(s)) - (pi(s) - a)^2 ]`` with ``lambda = alpha / mean|Q1(s, pi(s))|``
(the mean over the batch, not differentiated) and ``alpha = 2.5``; states are normalised with the dataset's
mean and std (``eps = 1e-3``). The paper trains for 1M steps; budgets here are smaller (``num_updates``).
On a ``Simplex`` the actor ends in a softmax, the dataset actions are normalised onto the simplex, and the
smoothed target action is clipped at 0 and renormalised (``offline_nets.project``).
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
class TD3BCConfig(on.OfflineConfig):
    """TD3+BC settings; defaults are the paper's."""

    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target networks."""
    alpha: float = 2.5
    """Weight of the RL term against the BC term: ``lambda = alpha / mean|Q|``."""
    policy_noise: float = 0.2
    """Std of the target policy smoothing noise, in half-ranges of the action box."""
    noise_clip: float = 0.5
    """Clip of that noise, in half-ranges."""
    policy_freq: int = 2
    """Critic updates per actor (and target) update."""


class TD3BCCarry(NamedTuple):
    actor: TrainState
    critic: TrainState
    actor_target: Any
    critic_target: Any
    key: jax.Array
    update: jax.Array


def make_train(config: TD3BCConfig, data: on.Transitions, env, params) -> Trainer:
    """A ``Trainer`` running TD3+BC on ``data`` for ``env``'s spaces (continuous actions only)."""
    c = config
    space = env.action_space(params)
    kind = on.require_kind("td3bc", space, ["box", "simplex"])
    on.check_transitions(data, env, params, "td3bc")
    norm = on.obs_normaliser(data.obs, env.observation_space(params), c.normalize_obs)
    data = data._replace(action=on.action_targets(data.action, kind))
    hidden = on.hidden_layers(c.hidden, c.layers)
    actor = on.Head(on.encoder(env, params), int(space.shape[0]), hidden)
    critic = on.TwinCritic(on.encoder(env, params), hidden)
    squash, half = on.squash(kind, space), on.half_range(space)
    pi = lambda p, obs: squash(actor.apply(p, norm(obs)))
    actor_tx, critic_tx = optax.adam(c.actor_lr), optax.adam(c.critic_lr)

    def critic_loss(cp, carry: TD3BCCarry, batch, key):
        noise = jnp.clip(c.policy_noise * jax.random.normal(key, batch.action.shape), -c.noise_clip, c.noise_clip)
        a_next = on.project(kind, space, pi(carry.actor_target, batch.next_obs) + noise * half)
        q_next = critic.apply(carry.critic_target, norm(batch.next_obs), a_next).min(0)
        y = jax.lax.stop_gradient(batch.reward + c.gamma * (1.0 - batch.terminal) * q_next)
        q = critic.apply(cp, norm(batch.obs), batch.action)
        loss = ((q - y[None]) ** 2).mean(1).sum()  # MSE of each critic, summed (the paper's critic loss)
        return loss, {"critic_loss": loss, "q": q[0].mean()}

    def actor_loss(ap, cp, batch):
        a = pi(ap, batch.obs)
        q = critic.apply(cp, norm(batch.obs), a)[0]
        lam = c.alpha / jax.lax.stop_gradient(jnp.abs(q).mean())
        bc = ((a - batch.action) ** 2).mean()  # F.mse_loss of sfujim/TD3_BC: mean over batch and action dims
        loss = -lam * q.mean() + bc
        return loss, {"actor_loss": loss, "bc_loss": bc, "lambda": lam}

    def init(key):
        key, k_a, k_c = jax.random.split(key, 3)
        o = norm(data.obs[0])
        ap = actor.init(k_a, o)
        cp = critic.init(k_c, o, data.action[0])
        return TD3BCCarry(TrainState.create(apply_fn=actor.apply, params=ap, tx=actor_tx),
                          TrainState.create(apply_fn=critic.apply, params=cp, tx=critic_tx), ap, cp, key, jnp.int32(0))

    def update(carry: TD3BCCarry, _):
        key, k_batch, k_noise = jax.random.split(carry.key, 3)
        batch = on.sample(k_batch, data, c.batch_size)
        grads, c_aux = jax.grad(critic_loss, has_aux=True)(carry.critic.params, carry, batch, k_noise)
        cts = carry.critic.apply_gradients(grads=grads)

        def actor_step(_):
            g, aux = jax.grad(actor_loss, has_aux=True)(carry.actor.params, cts.params, batch)
            ats = carry.actor.apply_gradients(grads=g)
            return ats, on.polyak(carry.actor_target, ats.params, c.tau), on.polyak(carry.critic_target, cts.params,
                                                                                    c.tau), aux

        def skip(_):
            _, aux = actor_loss(carry.actor.params, cts.params, batch)
            return carry.actor, carry.actor_target, carry.critic_target, aux

        ats, at, ct, a_aux = jax.lax.cond(carry.update % c.policy_freq == 0, actor_step, skip, None)
        return TD3BCCarry(ats, cts, at, ct, key, carry.update + 1), {**c_aux, **a_aux}

    def step(carry: TD3BCCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: TD3BCCarry):
        p = carry.actor.params
        return lambda key, obs: pi(p, obs)

    return make_trainer(init, step, c.num_chunks, policy)
