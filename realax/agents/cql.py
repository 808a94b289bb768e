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

Continuous actions (``Box`` or ``Simplex``): CQL(H) on SAC (the paper's appendix F; RL4AMOD's offline
robo-taxi learner, ``StanfordASL/RL4AMOD`` ``src/algos/sac.py`` with ``conservative=True`` and
``src/config/model/cql.yaml``). The log-sum-exp over actions is estimated by importance sampling with
``num_random`` actions per state from each of three proposals, all scored by ``Q(s, .)``: uniform actions
(uniform on the box; Dirichlet(1, ..., 1) on a simplex, RL4AMOD's), the policy's actions at ``s`` and at
``s'``, each ``Q`` minus the proposal's log-density (``conservative_penalty``); the penalty is
``alpha · (cql_temp · E_s logsumexp(./cql_temp) - E_data Q(s, a))`` per critic. The backup is the
deterministic one of both codes (``r + gamma (1 - terminal) min_i Q_target_i(s', a')``, ``a' ~ pi(s')``, no
entropy term); the actor is SAC's with a fixed temperature ``entropy_coef`` (RL4AMOD: 0.3). Networks as
``realax.agents.sac`` (RL4AMOD's graph actor and critics on graph envs); rewards are normalised as IQL's
(``offline_nets.reward_scale``) where RL4AMOD multiplies them by 0.01.
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
from realax.agents import sac
from realax.agents.trainer import Trainer, make_trainer
from realax.options import SIZE_LIMITS, require


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
    actor_lr: float = 1e-4
    """Continuous actions: Adam learning rate of the SAC actor (Kumar et al.: 1e-4)."""
    entropy_coef: float = 0.3
    """Continuous actions: SAC's temperature in the actor's loss (RL4AMOD: 0.3)."""
    num_random: int = 10
    """Continuous actions: actions drawn per state from each proposal of the log-sum-exp (both codes: 10)."""
    cql_temp: float = 1.0
    """Continuous actions: temperature of the log-sum-exp (RL4AMOD ``temp``: 1)."""
    normalize_reward: bool = True
    """Continuous actions: scale rewards by ``mean episode length / (max - min episode return)``."""
    graph: bool = True
    """Continuous actions: RL4AMOD's graph actor and critics on envs that describe their observation as a graph."""

    def __post_init__(self):
        super().__post_init__()
        require(self, positive=("num_random", "cql_temp", "actor_lr"), nonnegative=("alpha", "entropy_coef", "lr"),
                unit=("gamma", "tau"), at_most=SIZE_LIMITS)


class CQLCarry(NamedTuple):
    train_state: TrainState
    target: Any
    key: jax.Array
    update: jax.Array


class CQLSACCarry(NamedTuple):
    actor: TrainState
    critic: TrainState
    critic_target: Any
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


def conservative_penalty(q_data, proposals, temp: float):
    """CQL(H)'s penalty per critic, ``[2]``: ``temp · mean_s logsumexp_k((Q(s, a_k) - log p(a_k)) / temp) -
    mean Q(s, a_data)``; ``q_data`` is ``[2, B]`` and ``proposals`` a list of ``(Q [2, B, K], log p [B, K])``
    of the sampled actions (the log-density of each action under the proposal it came from)."""
    cat = jnp.concatenate([q - logp[None] for q, logp in proposals], -1)
    return temp * jax.nn.logsumexp(cat / temp, -1).mean(-1) - q_data.mean(-1)


def make_train(config: CQLConfig, data: on.Transitions, env, params) -> Trainer:
    """A ``Trainer`` running CQL(H) on ``data`` for ``env``'s spaces: on a Q-network for ``Discrete`` actions,
    on SAC for ``Box`` or ``Simplex`` ones."""
    c = config
    space = env.action_space(params)
    if on.require_kind("cql", space, ["discrete", "box", "simplex"]) != "discrete":
        return _make_train_sac(c, data, env, params)
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


def _make_train_sac(c: CQLConfig, data: on.Transitions, env, params) -> Trainer:
    """CQL(H) on SAC for continuous actions (see the module docstring)."""
    space = env.action_space(params)
    on.check_transitions(data, env, params, "cql")
    actor, critic, kind = sac.networks(env, params, c.hidden, c.graph, "cql")
    norm = on.obs_normaliser(data.obs, env.observation_space(params), c.normalize_obs)
    scale = on.reward_scale(data) if c.normalize_reward else 1.0
    data = data._replace(action=on.action_targets(data.action, kind), reward=data.reward * scale)
    pi = lambda p, obs: sac.policy_distribution(space, kind, actor.apply(p, norm(obs)))
    n, k = int(space.shape[0]), c.num_random
    if kind == "simplex":  # Dirichlet(1, ..., 1): density (n - 1)! on the simplex
        uniform = lambda key, b: (jax.random.dirichlet(key, jnp.ones(n), (b, k)), jnp.full((b, k), math.lgamma(n)))
    else:
        low, high = jnp.asarray(space.low, jnp.float32), jnp.asarray(space.high, jnp.float32)
        log_density = -jnp.log(high - low).sum()
        uniform = lambda key, b: (jax.random.uniform(key, (b, k, n), minval=low, maxval=high),
                                  jnp.full((b, k), log_density))
    actor_tx, critic_tx = optax.adam(c.actor_lr), optax.adam(c.lr)

    def critic_loss(cp, carry: CQLSACCarry, batch: on.Transitions, key):
        k_next, k_rand, k_pi, k_npi = jax.random.split(key, 4)
        a_next, _ = pi(carry.actor.params, batch.next_obs).sample_and_log_prob(k_next)
        y = batch.reward + c.gamma * (1.0 - batch.terminal) * critic.apply(carry.critic_target, norm(batch.next_obs),
                                                                          a_next).min(0)
        q = critic.apply(cp, norm(batch.obs), batch.action)
        td = ((q - jax.lax.stop_gradient(y)[None]) ** 2).mean(1).sum()
        repeat = lambda o: jnp.repeat(o[:, None], k, 1)  # [B, ...] -> [B, K, ...]
        obs_k, next_k = repeat(batch.obs), repeat(batch.next_obs)
        scored = lambda a, logp: (critic.apply(cp, norm(obs_k), jax.lax.stop_gradient(a)), jax.lax.stop_gradient(logp))
        proposals = [scored(*uniform(k_rand, batch.reward.shape[0])),
                     scored(*pi(carry.actor.params, obs_k).sample_and_log_prob(k_pi)),
                     scored(*pi(carry.actor.params, next_k).sample_and_log_prob(k_npi))]
        penalty = conservative_penalty(q, proposals, c.cql_temp).sum()
        loss = td + c.alpha * penalty
        return loss, {"critic_loss": loss, "td_loss": td, "cql_reg": penalty, "q_mean": q.mean()}

    def actor_loss(ap, cp, obs, key):
        a, logp = pi(ap, obs).sample_and_log_prob(key)
        loss = (c.entropy_coef * logp - critic.apply(cp, norm(obs), a).min(0)).mean()
        return loss, {"actor_loss": loss, "entropy": -logp.mean()}

    def init(key):
        key, k_a, k_c = jax.random.split(key, 3)
        o = norm(data.obs[0])
        ap = actor.init(k_a, o)
        cp = critic.init(k_c, o, data.action[0])
        return CQLSACCarry(TrainState.create(apply_fn=actor.apply, params=ap, tx=actor_tx),
                           TrainState.create(apply_fn=critic.apply, params=cp, tx=critic_tx), cp, key, jnp.int32(0))

    def update(carry: CQLSACCarry, _):
        key, k_batch, k_critic, k_actor = jax.random.split(carry.key, 4)
        batch = on.sample(k_batch, data, c.batch_size)
        g, c_aux = jax.grad(critic_loss, has_aux=True)(carry.critic.params, carry, batch, k_critic)
        cts = carry.critic.apply_gradients(grads=g)
        g, a_aux = jax.grad(actor_loss, has_aux=True)(carry.actor.params, cts.params, batch.obs, k_actor)
        ats = carry.actor.apply_gradients(grads=g)
        return CQLSACCarry(ats, cts, on.polyak(carry.critic_target, cts.params, c.tau), key,
                           carry.update + 1), {**c_aux, **a_aux}

    def step(carry: CQLSACCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: CQLSACCarry):
        p = carry.actor.params
        return lambda key, obs: pi(p, obs).mode()

    return make_trainer(init, step, c.num_chunks, policy)
