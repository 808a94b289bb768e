"""Two-stage constrained actor-critic (TSCAC), env-agnostic: one policy per constraint, then a main policy that
maximises the reward while staying close to them.

Source: Cai, Xue, Zhang et al., "Two-Stage Constrained Actor-Critic for Short Video Recommendation", WWW 2023
(arXiv 2302.01680), as summarised in the project's research notes (``papers-uav-agv-tscac.md``,
``amod-recsys.md`` §2b). The facts used:

- The problem is a constrained MDP, ``max E[V_1]`` (the main reward, watch time) subject to ``E[V_i] >= C_i``
  for the auxiliary signals ``i >= 2``, each signal with its own discount ``gamma_i``; a multi-critic (one
  critic per signal) estimates them.
- **Stage one** learns one policy ``pi_i`` per auxiliary signal, each maximising its signal with its own
  critic (the paper's multi-critic).
- **Stage two** learns the main policy by maximising the main advantage ``A_1`` while staying KL-close to the
  stage-one policies. The optimum of that problem has the closed form
  ``pi*(a|s) ∝ prod_i pi_i(a|s)^(lambda_i / sum_j lambda_j) exp(A_1(s, a) / sum_j lambda_j)``, and the actor
  minimises the KL divergence from ``pi*`` to itself. All ``lambda_i`` are equal in production; the paper
  tried ``lambda`` from 1e-1 to 1e-5 on its own advantage scale.

The constraints come from the env's ``info`` by realax's convention (``realax.agents.constraints``: a margin per
constraint, each holding when its episode sum is >= 0). A stage-one policy's signal is its constraint's margin,
so policy ``i`` learns to satisfy constraint ``i`` by as much as it can.

Our choices [ours] where the notes give no detail:

- Both stages are PPO-style on-policy learners on ``realax.agents.ppo``'s pieces. Stage one is PPO itself
  (``ppo.make_update``: clipped surrogate, clipped value loss, GAE), one learner per constraint, all
  vmapped in one program, learner ``i`` on the margin ``i`` with discount ``aux_gammas[i]``; stage two
  starts from a fresh actor-critic after stage one is done (``Trainer.stages``).
- Stage two's KL projection is estimated on the main policy's own rollouts (behaviour policy ``beta``, the
  policy before the update): ``KL(pi* || pi_theta) = -E_beta[(pi* / beta) log pi_theta] + const``, so the
  actor loss is the weighted log-likelihood ``-mean(w log pi_theta(a|s))`` with
  ``log w = sum_i alpha_i log pi_i(a|s) - log beta(a|s) + A_1 / sum_j lambda_j`` (``alpha_i = 1 / M``,
  every ``lambda_i = kl_coef``). The normaliser of ``pi*`` is unknown: the weights are normalised over each
  minibatch (mean 1) and clipped at ``weight_clip``. ``A_1`` is GAE of the reward, standardised per
  minibatch, so ``kl_coef`` is in units of the advantage's spread, not the paper's.
- The critic of the main policy is PPO's (clipped value loss on GAE targets, discount ``gamma``).

Budgets: ``total_timesteps`` are the main policy's env steps, ``stage1_timesteps`` each stage-one policy's;
a run makes ``M * stage1 + total`` env steps in all (``env_steps`` counts them), in whole chunks per stage.

Metrics per update (the same keys in both stages): ``stage`` (1 or 2), PPO's (of the stage's learners, the
mean over the stage-one learners), ``margin_<name>``: the batch-mean per-step margin of each constraint under
the policy training at that stage (stage one: learner ``i`` on its own constraint; stage two: the main
policy), ``weight_ess`` (stage two: the effective sample size of the weights over a minibatch, as a fraction).

>>> env, params = realax.make("realax/ShortVideo-v0")
>>> trainer = make_train(TSCACConfig(stage1_timesteps=100_000, total_timesteps=100_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from realax.agents import distributions
from realax.agents.constraints import ConstrainedConfig, constraint_count, margins, signal_names
from realax.agents.networks import actor_critic_for
from realax.agents.ppo import (
    PPOCarry,
    Transition,
    gae,
    greedy,
    make_env_step,
    make_init,
    make_update,
    optimizer,
    sgd_epochs,
    standardise,
    update_metrics,
    value_loss,
)
from realax.agents.trainer import Trainer, make_trainer
from realax.errors import RealaxError
from realax.options import require


def parse_gammas(text: str) -> tuple[float, ...]:
    """Comma-separated discounts (``"0.9, 0.99"``) as floats, each in [0, 1]; ``""`` gives ``()``."""
    try:
        values = tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise RealaxError(f"aux_gammas must be comma-separated numbers in [0, 1], got {text!r}") from None
    if any(not 0.0 <= g <= 1.0 for g in values):
        raise RealaxError(f"aux_gammas must each be in [0, 1], got {text!r}")
    return values


def kl_weights(log_prior: jax.Array, log_behaviour: jax.Array, adv: jax.Array, temperature: float,
               clip: float) -> jax.Array:
    """Sample weights ``w ∝ pi*(a|s) / beta(a|s)`` of stage two's loss ``-mean(w log pi_theta(a|s))`` over a batch
    of samples ``a ~ beta``: ``log w = log_prior + adv / temperature - log_behaviour`` (``log_prior = sum_i
    alpha_i log pi_i(a|s)``, ``temperature = sum_j lambda_j``), normalised to mean 1 over the batch, clipped at
    ``clip``, and held constant for the gradient. Weighted this way the samples' action frequencies are
    ``pi*``'s, ``pi* ∝ prod_i pi_i^alpha_i exp(adv / temperature)`` [the paper's closed form]."""
    log_w = log_prior + adv / temperature - log_behaviour
    return jax.lax.stop_gradient(jnp.minimum(jax.nn.softmax(log_w) * log_w.size, clip))


@dataclasses.dataclass(frozen=True)
class TSCACConfig(ConstrainedConfig):
    """TSCAC settings: every ``PPOConfig`` field (both stages use them; ``gamma`` discounts the main reward),
    where the constraints are read from (``cost_key``, ``cost_limit``), and the two stages'."""

    stage1_timesteps: int = 200_000
    """Env steps of *each* stage-one policy (one per constraint)."""
    aux_gammas: str = ""
    """Discount of each stage-one policy's signal, comma-separated in the env's constraint order (the paper's
    per-signal ``gamma_i``); empty: ``gamma`` for every signal."""
    kl_coef: float = 1.0
    """``lambda``, every stage-one policy's weight in the stage-two KL (equal weights, as the paper's
    production setting); the temperature of ``A_1`` is ``M * kl_coef``. Larger: closer to the stage-one
    policies; smaller: greedier in the main reward."""
    weight_clip: float = 20.0
    """Upper clip of the stage-two sample weights ``pi* / beta`` (after their normalisation to mean 1)."""

    def __post_init__(self):
        super().__post_init__()
        require(self, positive=("stage1_timesteps", "kl_coef", "weight_clip"))
        parse_gammas(self.aux_gammas)

    @property
    def stage1_updates(self) -> int:
        return max(1, self.stage1_timesteps // self.batch_size)

    @property
    def stage2_updates(self) -> int:
        return max(1, self.total_timesteps // self.batch_size)

    @property
    def stages(self) -> tuple[int, int]:
        """Chunks of stage one and of stage two (whole chunks of ``updates_per_chunk`` updates each)."""
        return (math.ceil(self.stage1_updates / self.updates_per_chunk),
                math.ceil(self.stage2_updates / self.updates_per_chunk))

    @property
    def num_updates(self) -> int:
        return self.stage1_updates + self.stage2_updates

    @property
    def num_chunks(self) -> int:
        return sum(self.stages)

    def budget_note(self) -> str | None:
        """What the run makes, stage by stage (``realax.experiment.budget_note``)."""
        s1, s2 = self.stages
        per_chunk = self.updates_per_chunk * self.batch_size
        return (f"note: tscac runs stage one for {s1} chunks ({s1 * per_chunk:,} env steps for each stage-one policy, "
                f"one per constraint), then stage two for {s2} chunks ({s2 * per_chunk:,} env steps of the main "
                f"policy)")


class TSCACCarry(NamedTuple):
    aux: PPOCarry  # the stage-one learners, stacked on a leading axis [M]
    main: PPOCarry  # the stage-two learner


def make_train(config: TSCACConfig, env: Any, params: Any) -> Trainer:
    """A two-stage ``Trainer`` running TSCAC on ``env``; ``RealaxError`` when ``env`` reports no constraints."""
    c = config
    m = constraint_count("tscac", env, params, c)
    names = signal_names(env, m)
    gammas = parse_gammas(c.aux_gammas) or (c.gamma,) * m
    if len(gammas) != m:
        raise RealaxError(f"tscac: aux_gammas has {len(gammas)} discounts; {type(env.unwrapped).__name__} reports "
                          f"{m} constraints {list(names)}")
    net = actor_critic_for(env, params, c.hidden, graph=c.graph)
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    env_step = make_env_step(env, params, net, dist, c, info_keys=(c.cost_key,))
    aux_init = make_init(env, params, net.init, optimizer(c, c.stage1_updates), c, net.apply)
    main_init = make_init(env, params, net.init, optimizer(c, c.stage2_updates), c, net.apply)
    learn = lambda traj, ctx: (margins(traj.extras[c.cost_key], c)[..., ctx[0]], ctx[1])  # noqa: E731
    aux_update = jax.vmap(make_update(c, net, dist, env_step, learn))
    ctx = (jnp.arange(m), jnp.asarray(gammas, jnp.float32))
    nan = jnp.float32(jnp.nan)

    def init(key):
        k_aux, k_main = jax.random.split(key)
        return TSCACCarry(jax.vmap(aux_init)(jax.random.split(k_aux, m)), main_init(k_main))

    def env_steps(carry: TSCACCarry):
        return (carry.aux.update[0] * m + carry.main.update) * c.batch_size

    def stage_one(carry: TSCACCarry, _):
        aux, am = aux_update(carry.aux, ctx)
        carry = carry._replace(aux=aux)
        metrics = {k: am[k].mean() for k in ("loss", "policy_loss", "value_loss", "entropy", "approx_kl", "length")}
        metrics.update({"stage": jnp.float32(1), "return": am["return"].mean(), "weight_ess": nan,
                        "env_steps": env_steps(carry)})
        metrics.update({f"margin_{n}": am["learnt_reward"][i] for i, n in enumerate(names)})
        return carry, metrics

    def loss_fn(p, mb: Transition, adv, targets, prior):
        head, value = net.apply(p, mb.obs)
        pi = dist(head)
        w = kl_weights(prior, mb.log_prob, standardise(adv), m * c.kl_coef, c.weight_clip)
        actor = -jnp.mean(w * pi.log_prob(mb.action))
        v_loss = value_loss(value, mb.value, targets, c.clip_eps)
        entropy = pi.entropy().mean()
        total = actor + c.vf_coef * v_loss - c.ent_coef * entropy
        log_r = mb.log_prob - pi.log_prob(mb.action)
        return total, {"loss": total, "policy_loss": actor, "value_loss": v_loss, "entropy": entropy,
                       "approx_kl": (jnp.exp(-log_r) - 1 + log_r).mean(),
                       "weight_ess": jnp.sum(w) ** 2 / jnp.sum(w**2) / w.size}

    def stage_two(carry: TSCACCarry, _):
        main, traj = jax.lax.scan(env_step, carry.main, None, c.num_steps)
        p = main.train_state.params
        _, next_values = net.apply(p, traj.final_obs)
        adv, targets = gae(traj.reward, traj.value, next_values, traj.terminated, traj.done, c.gamma, c.gae_lambda)
        # sum_i alpha_i log pi_i(a|s) with every alpha_i = 1 / M: the stage-one policies' mean log-probability
        log_pi = lambda ap: dist(net.apply(ap, traj.obs)[0]).log_prob(traj.action)  # noqa: E731
        prior = jax.vmap(log_pi)(carry.aux.train_state.params).mean(0)
        margin = margins(traj.extras[c.cost_key], c).mean((0, 1))
        flat = jax.tree.map(lambda x: x.reshape(c.batch_size, *x.shape[2:]),
                            (traj._replace(extras=None), adv, targets, prior))
        key, k_epochs = jax.random.split(main.key)
        ts, aux = sgd_epochs(main.train_state, flat, k_epochs, loss_fn, c)
        stats = main.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        carry = carry._replace(main=main._replace(train_state=ts, stats=stats, key=key, update=main.update + 1))
        metrics = {**update_metrics(aux, stats, env_steps(carry)), "stage": jnp.float32(2)}
        metrics.update({f"margin_{n}": margin[i] for i, n in enumerate(names)})
        return carry, metrics

    def step(carry: TSCACCarry, stage: int):
        return jax.lax.scan(stage_two if stage else stage_one, carry, None, c.updates_per_chunk)

    def policy(carry: TSCACCarry):
        return greedy(net, dist, carry.main.train_state.params)

    return make_trainer(init, step, c.num_chunks, policy, stages=c.stages)
