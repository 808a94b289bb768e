"""Implicit Q-learning for continuous actions (``Box`` or ``Simplex``), from a dataset, env-agnostic.

Kostrikov, Nair & Levine, "Offline Reinforcement Learning with Implicit Q-Learning", ICLR 2022
(arXiv:2110.06169; code ``ikostrikov/implicit_q_learning``). Three losses, no action outside the data is
ever queried:

- value: expectile regression ``L_2^tau(u) = |tau - 1(u < 0)| u^2`` of ``u = min(Q1, Q2)_target(s, a) - V(s)``
  (``tau = 0.7`` for the MuJoCo locomotion tasks);
- Q: ``(r + gamma (1 - terminal) V(s') - Q_i(s, a))^2`` for both critics; targets by Polyak averaging (0.005);
- policy extraction by advantage-weighted regression (Peng et al. 2019; Nair et al. 2020):
  ``-exp(beta · (Q_target(s, a) - V(s)))`` clipped at 100, times ``log pi(a | s)``, ``beta = 3`` (locomotion);
  ``pi`` a Gaussian with a state-independent log-std whose mean is squashed into the action space, the
  greedy action the mean. The paper decays the actor's learning rate by a cosine schedule.

Rewards: the paper scales MuJoCo rewards by ``1000 / (max return - min return)`` of the dataset's episodes,
for 1000-step episodes; here ``normalize_reward`` scales them by ``mean episode length / (max - min return)``,
which is the same for 1000-step episodes and keeps advantages of the same size for shorter ones.
Adam 3e-4, batch 256, two hidden layers of 256 for all networks (the paper's).
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
class IQLConfig(on.OfflineConfig):
    """IQL settings; defaults are the paper's MuJoCo locomotion ones."""

    lr: float = 3e-4
    """Adam learning rate of the value, the critics and the actor."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    expectile: float = 0.7
    """Expectile of the value regression (0.5 is a mean, larger approaches a max over the data's actions)."""
    beta: float = 3.0
    """Inverse temperature of the advantage weights."""
    max_weight: float = 100.0
    """Clip of the advantage weights ``exp(beta · A)``."""
    normalize_reward: bool = True
    """Scale rewards by ``mean episode length / (max - min episode return)`` of the dataset."""
    cosine_actor_lr: bool = True
    """Decay the actor's learning rate by a cosine schedule over the run (``total_updates``)."""


def expectile_loss(u: jax.Array, expectile: float) -> jax.Array:
    """``|tau - 1(u < 0)| u^2`` elementwise."""
    return jnp.abs(expectile - (u < 0).astype(u.dtype)) * u * u


class IQLCarry(NamedTuple):
    actor: TrainState
    critic: TrainState
    value: TrainState
    critic_target: Any
    key: jax.Array
    update: jax.Array


def make_train(config: IQLConfig, data: on.Transitions, env, params) -> Trainer:
    """A ``Trainer`` running IQL on ``data`` for ``env``'s spaces (continuous actions only)."""
    c = config
    space = env.action_space(params)
    kind = on.require_kind("iql", space, ["box", "simplex"])
    on.check_transitions(data, env, params, "iql")
    norm = on.obs_normaliser(data.obs, env.observation_space(params), c.normalize_obs)
    scale = on.reward_scale(data) if c.normalize_reward else 1.0
    data = data._replace(action=on.action_targets(data.action, kind), reward=data.reward * scale)
    hidden = on.hidden_layers(c.hidden, c.layers)
    actor = on.GaussianActor(on.encoder(env, params), int(space.shape[0]), hidden)
    critic = on.TwinCritic(on.encoder(env, params), hidden)
    value = on.Head(on.encoder(env, params), 0, hidden)
    squash = on.squash(kind, space)
    actor_lr = optax.cosine_decay_schedule(c.lr, c.total_updates) if c.cosine_actor_lr else c.lr
    actor_tx, critic_tx, value_tx = optax.adam(actor_lr), optax.adam(c.lr), optax.adam(c.lr)

    def value_loss(vp, carry: IQLCarry, batch):
        q = critic.apply(carry.critic_target, norm(batch.obs), batch.action).min(0)
        u = jax.lax.stop_gradient(q) - value.apply(vp, norm(batch.obs))
        loss = expectile_loss(u, c.expectile).mean()
        return loss, {"value_loss": loss, "v": (q - u).mean()}

    def critic_loss(cp, vp, batch):
        y = batch.reward + c.gamma * (1.0 - batch.terminal) * value.apply(vp, norm(batch.next_obs))
        q = critic.apply(cp, norm(batch.obs), batch.action)
        loss = ((q - jax.lax.stop_gradient(y)[None]) ** 2).mean(1).sum()
        return loss, {"critic_loss": loss, "q": q[0].mean()}

    def actor_loss(ap, vp, carry: IQLCarry, batch):
        adv = critic.apply(carry.critic_target, norm(batch.obs), batch.action).min(0) - value.apply(vp, norm(batch.obs))
        w = jax.lax.stop_gradient(jnp.minimum(jnp.exp(c.beta * adv), c.max_weight))
        x, log_std = actor.apply(ap, norm(batch.obs))
        ls = jnp.clip(log_std, -5.0, 2.0)
        z = (batch.action - squash(x)) * jnp.exp(-ls)
        log_prob = (-0.5 * z * z - ls - 0.5 * jnp.log(2 * jnp.pi)).sum(-1)
        loss = -(w * log_prob).mean()
        return loss, {"actor_loss": loss, "adv_weight": w.mean()}

    def init(key):
        key, k_a, k_c, k_v = jax.random.split(key, 4)
        o = norm(data.obs[0])
        ap, cp, vp = actor.init(k_a, o), critic.init(k_c, o, data.action[0]), value.init(k_v, o)
        return IQLCarry(TrainState.create(apply_fn=actor.apply, params=ap, tx=actor_tx),
                        TrainState.create(apply_fn=critic.apply, params=cp, tx=critic_tx),
                        TrainState.create(apply_fn=value.apply, params=vp, tx=value_tx), cp, key, jnp.int32(0))

    def update(carry: IQLCarry, _):
        key, k_batch = jax.random.split(carry.key)
        batch = on.sample(k_batch, data, c.batch_size)
        gv, v_aux = jax.grad(value_loss, has_aux=True)(carry.value.params, carry, batch)
        vts = carry.value.apply_gradients(grads=gv)
        ga, a_aux = jax.grad(actor_loss, has_aux=True)(carry.actor.params, vts.params, carry, batch)
        gc, c_aux = jax.grad(critic_loss, has_aux=True)(carry.critic.params, vts.params, batch)
        cts = carry.critic.apply_gradients(grads=gc)
        carry = IQLCarry(carry.actor.apply_gradients(grads=ga), cts, vts, on.polyak(carry.critic_target, cts.params, c.tau),
                         key, carry.update + 1)
        return carry, {**v_aux, **c_aux, **a_aux}

    def step(carry: IQLCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: IQLCarry):
        p = carry.actor.params
        return lambda key, obs: squash(actor.apply(p, norm(obs))[0])

    return make_trainer(init, step, c.num_chunks, policy)
