"""PPO-Lagrangian: PPO under expected-cumulative constraints, one Lagrange multiplier per constraint; env-agnostic.

The constraints come from the env's ``info`` by realax's convention (``realax.agents.constraints``: a margin
vector ``info["cost_margin"]``, each constraint holding when its episode sum is >= 0, or a cost with a
per-step limit). An env without it is refused with a ``RealaxError`` naming the missing entry.

Facts and their sources:

- The Lagrangian relaxation of a constrained MDP, ``max_pi min_{lambda >= 0} J_r(pi) + sum_i lambda_i
  J_i(pi)``, solved by policy-gradient steps on ``pi`` and projected gradient steps on the multipliers
  (``lambda_i`` rises while its constraint is violated, falls towards 0 while it holds), the multipliers on
  a slower timescale: Tessler, Mankowitz & Mannor, "Reward Constrained Policy Optimization" (RCPO), ICLR 2019
  (arXiv 1805.11074).
- PPO-Lagrangian: a separate critic of the cost signal and a cost advantage by GAE beside the reward's, the
  policy surrogate on ``(A_r - lambda A_c) / (1 + lambda)``, and ``lambda`` updated once per batch by a gradient
  step on the measured constraint violation: Ray, Achiam & Amodei, "Benchmarking Safe Exploration in Deep
  Reinforcement Learning" (safety-gym, 2019) and its ``safety-starter-agents`` code. Here margins replace
  costs (``+ lambda A_m`` instead of ``- lambda A_c``), and there are ``M`` of each.
- PPO itself is ``realax.agents.ppo`` (its rollout, GAE, clipped surrogate, value loss, minibatch epochs and
  optimiser are reused as they are).

Our choices [ours]:

- One vector-valued cost critic (``networks.ValueHeads``: one output per constraint) beside PPO's
  actor-critic, trained with the same clipped value loss and the same optimiser; margins discounted by
  ``cost_gamma``.
- Each advantage stream is standardised over the batch before they are combined,
  ``A = (std(A_r) + sum_i lambda_i std(A_i)) / (1 + sum_i lambda_i)``, so that a multiplier weighs
  constraints in units of their own advantage spread (ShortVideo's watch time and its binary signals differ
  by orders of magnitude); PPO's surrogate then standardises ``A`` per minibatch as always.
- ``J_i`` in the multiplier step is the batch mean of the per-step margin (an estimate of the constraint's
  per-step value, whose sign is the sign of its episode sum when the episodes are of fixed length):
  ``lambda_i <- max(0, lambda_i - lambda_lr J_i)`` once per update, before the policy update that uses it.

Metrics per update: ``lambda_<name>`` and ``margin_<name>`` (the batch mean per-step margin, < 0: violated)
per constraint, beside PPO's.

>>> env, params = realax.make("realax/ShortVideo-v0")
>>> trainer = make_train(PPOLagConfig(total_timesteps=100_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax.training.train_state import TrainState

from realax.agents import distributions
from realax.agents.constraints import (
    ConstrainedConfig,
    constraint_count,
    margins,
    signal_gae,
    signal_names,
    update_multipliers,
)
from realax.agents.networks import ValueHeads, actor_critic_for, encoder_for
from realax.agents.ppo import (
    PPOCarry,
    Transition,
    gae,
    greedy,
    make_env_step,
    make_init,
    optimizer,
    policy_loss,
    sgd_epochs,
    standardise,
    update_metrics,
    value_loss,
)
from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.options import require


@dataclasses.dataclass(frozen=True)
class PPOLagConfig(ConstrainedConfig):
    """PPO-Lagrangian settings: every ``PPOConfig`` field, where the constraints are read from
    (``cost_key``, ``cost_limit``), and the multipliers'."""

    cost_gamma: float = 0.99
    """Discount of the margin streams (the cost critics' GAE); PPO's ``gamma`` by default."""
    lambda_lr: float = 5.0
    """Step size of the multipliers' projected gradient step on the batch-mean per-step margin. Margins of
    about 0.01 per step (ShortVideo's rates against their thresholds) move a multiplier by about 0.05 an
    update at the default."""
    lambda_init: float = 0.0
    """Every multiplier's value at the start."""

    def __post_init__(self):
        super().__post_init__()
        require(self, nonnegative=("lambda_lr", "lambda_init"), unit=("cost_gamma",))


class PPOLagCarry(NamedTuple):
    """PPO's carry (``train_state.params`` holds ``{"agent", "costs"}``) plus the multipliers."""

    train_state: TrainState
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []
    multipliers: jax.Array  # float32 [M], each >= 0


def make_train(config: PPOLagConfig, env: Any, params: Any) -> Trainer:
    """A ``Trainer`` running PPO-Lagrangian on ``env``; ``RealaxError`` when ``env`` reports no constraints."""
    c = config
    m = constraint_count("ppo_lag", env, params, c)
    names = signal_names(env, m)
    net = actor_critic_for(env, params, c.hidden, graph=c.graph)
    costs_net = ValueHeads(encoder_for(env.observation_space(params)), m, (c.hidden, c.hidden))
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    env_step = make_env_step(env, params, net, dist, c, agent_params=lambda p: p["agent"], info_keys=(c.cost_key,))

    def init_params(key, obs):
        k_agent, k_costs = jax.random.split(key)
        return {"agent": net.init(k_agent, obs), "costs": costs_net.init(k_costs, obs)}

    ppo_init = make_init(env, params, init_params, optimizer(c), c)

    def init(key):
        return PPOLagCarry(*ppo_init(key), jnp.full((m,), c.lambda_init, jnp.float32))

    def loss_fn(p, mb: Transition, cost_v, adv, targets, cost_targets):
        head, value = net.apply(p["agent"], mb.obs)
        pi = dist(head)
        pg_loss, approx_kl = policy_loss(pi.log_prob(mb.action), mb.log_prob, adv, c.clip_eps)
        v_loss = value_loss(value, mb.value, targets, c.clip_eps)
        c_loss = value_loss(costs_net.apply(p["costs"], mb.obs), cost_v, cost_targets, c.clip_eps)
        entropy = pi.entropy().mean()
        total = pg_loss + c.vf_coef * (v_loss + c_loss) - c.ent_coef * entropy
        return total, {"loss": total, "policy_loss": pg_loss, "value_loss": v_loss, "cost_value_loss": c_loss,
                       "entropy": entropy, "approx_kl": approx_kl}

    def update(carry: PPOLagCarry, _):
        ppo_carry, traj = jax.lax.scan(env_step, PPOCarry(*carry[:6]), None, c.num_steps)
        p = ppo_carry.train_state.params
        margin = margins(traj.extras[c.cost_key], c)  # [T, N, M]
        _, next_values = net.apply(p["agent"], traj.final_obs)
        cost_v, next_cost_v = costs_net.apply(p["costs"], traj.obs), costs_net.apply(p["costs"], traj.final_obs)
        adv_r, targets = gae(traj.reward, traj.value, next_values, traj.terminated, traj.done, c.gamma, c.gae_lambda)
        adv_m, cost_targets = signal_gae(margin, cost_v, next_cost_v, traj.terminated, traj.done, c.cost_gamma,
                                         c.gae_lambda)
        mean_margin = margin.mean((0, 1))
        lam = update_multipliers(carry.multipliers, mean_margin, c.lambda_lr)
        adv = (standardise(adv_r) + standardise(adv_m, (0, 1)) @ lam) / (1.0 + lam.sum())
        batch = (traj._replace(extras=None), cost_v, adv, targets, cost_targets)
        flat = jax.tree.map(lambda x: x.reshape(c.batch_size, *x.shape[2:]), batch)
        key, k_epochs = jax.random.split(ppo_carry.key)
        ts, aux = sgd_epochs(ppo_carry.train_state, flat, k_epochs, loss_fn, c)
        stats = ppo_carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        carry = PPOLagCarry(ts, ppo_carry.env_state, ppo_carry.obs, stats, key, carry.update + 1, lam)
        metrics = update_metrics(aux, stats, carry.update * c.batch_size)
        metrics.update({f"lambda_{n}": lam[i] for i, n in enumerate(names)})
        metrics.update({f"margin_{n}": mean_margin[i] for i, n in enumerate(names)})
        return carry, metrics

    def step(carry: PPOLagCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: PPOLagCarry):
        return greedy(net, dist, carry.train_state.params["agent"])

    return make_trainer(init, step, c.num_chunks, policy)
