"""Advantage actor-critic (A2C), env-agnostic, as RL4AMOD trains its graph network.

Algorithm: Mnih et al., "Asynchronous Methods for Deep Reinforcement Learning", ICML 2016 (the synchronous
variant: every env steps with the same parameters, one gradient step per rollout). The settings follow RL4AMOD's
``src/algos/a2c.py`` (Tresca et al. 2025; Gammelli et al., CDC 2021), which trains its Dirichlet graph actor and
graph critic on robo-taxi rebalancing:

- returns ``R_t`` by discounting the rewards to the end of the rollout (``gamma`` 0.97 there), standardised
  over the batch (RL4AMOD standardises each episode's returns) when ``normalize_returns``;
- the critic regresses ``V(s_t)`` on ``R_t`` with the smooth L1 (Huber) loss; the actor minimises
  ``-log pi(a_t | s_t) (R_t - V(s_t))`` with the value held fixed;
- Adam at 1e-4 for both, no entropy bonus, no gradient clipping. RL4AMOD steps two Adams, one per network;
  the actor and critic here share no parameter and no clipping couples them, so one Adam over the summed loss
  takes the same steps.

Differences, both for env-agnosticism: the losses are means over the batch where RL4AMOD sums over the
episode's steps (a constant factor on the step size), and a rollout that ends inside an episode, or an
episode cut by its time limit, is bootstrapped from the critic (``realax.agents.ppo.gae`` with
``lambda = 1``) where RL4AMOD's episodes end with the data. With ``num_steps`` equal to an episode's length,
rollouts are whole episodes, as RL4AMOD's (``num_steps=20`` on ``RoboTaxi-v0``).

>>> env, params = realax.make("realax/RoboTaxi-v0")
>>> trainer = make_train(A2CConfig(total_timesteps=20_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses

import jax
import optax
from flax.training.train_state import TrainState

from realax.agents import distributions
from realax.agents.networks import actor_critic_for
from realax.agents.ppo import PPOCarry, Transition, gae, greedy, make_env_step, make_init, standardise, update_metrics
from realax.agents.trainer import RolloutBudget, Trainer, make_trainer
from realax.options import SIZE_LIMITS, require


@dataclasses.dataclass(frozen=True)
class A2CConfig(RolloutBudget):
    """A2C settings; defaults are RL4AMOD's (``src/algos/a2c.py``) where it has one."""

    num_envs: int = 16
    """Environments stepped in parallel (RL4AMOD: 1)."""
    num_steps: int = 20
    """Steps per environment in each rollout (RL4AMOD: one whole episode, 20 steps on its cities)."""
    total_timesteps: int = 500_000
    """Environment steps in the whole run."""
    lr: float = 1e-4
    """Adam learning rate of the actor and the critic (RL4AMOD: 1e-4 each)."""
    gamma: float = 0.97
    """Discount factor (RL4AMOD: 0.97)."""
    normalize_returns: bool = True
    """Standardise the returns over the batch before both losses (RL4AMOD: over the episode)."""
    ent_coef: float = 0.0
    """Weight of an entropy bonus (RL4AMOD: none)."""
    vf_coef: float = 1.0
    """Weight of the critic's loss (RL4AMOD: its own optimiser, i.e. 1)."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this for learning (the reported returns are not)."""
    hidden: int = 32
    """Width of the hidden layers (RL4AMOD's graph network: the node-feature count; 32 in its registry)."""
    graph: bool = True
    """Use the env's structured network: the graph actor-critic on envs that describe their observation as a
    graph (``env.graph``), the item scorer on envs that describe it as candidate items (``env.items``)."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 50
    """Updates per ``Trainer.step`` call."""

    def __post_init__(self):
        require(self, positive=("num_envs", "num_steps", "total_timesteps", "lr", "reward_scale", "hidden",
                                "num_seeds", "updates_per_chunk"),
                nonnegative=("ent_coef", "vf_coef"), unit=("gamma",), at_most=SIZE_LIMITS)

    @property
    def batch_size(self) -> int:
        return self.env_steps_per_update


def a2c_loss(log_prob: jax.Array, entropy: jax.Array, value: jax.Array, returns: jax.Array, c: A2CConfig):
    """A2C's loss on a batch: ``-mean(log_prob * (R - stop_gradient(V)))`` + ``vf_coef`` smooth L1 of ``V``
    against ``R`` - ``ent_coef`` entropy. Returns ``(loss, metrics)``."""
    adv = returns - jax.lax.stop_gradient(value)
    pg_loss = -(log_prob * adv).mean()
    v_loss = optax.huber_loss(value, returns, delta=1.0).mean()
    ent = entropy.mean()
    total = pg_loss + c.vf_coef * v_loss - c.ent_coef * ent
    return total, {"loss": total, "policy_loss": pg_loss, "value_loss": v_loss, "entropy": ent}


def make_train(config: A2CConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running A2C on ``env`` with ``params``."""
    c = config
    net = actor_critic_for(env, params, c.hidden, graph=c.graph)
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    env_step = make_env_step(env, params, net, dist, c)  # type: ignore[arg-type]  # reads num_envs, reward_scale

    def loss_fn(net_params, traj: Transition, returns):
        head, value = net.apply(net_params, traj.obs)
        pi = dist(head)
        return a2c_loss(pi.log_prob(traj.action), pi.entropy(), value, returns, c)

    def update(carry: PPOCarry, _):
        carry, traj = jax.lax.scan(env_step, carry, None, c.num_steps)
        _, next_values = net.apply(carry.train_state.params, traj.final_obs)
        _, returns = gae(traj.reward, traj.value, next_values, traj.terminated, traj.done, c.gamma, 1.0)
        if c.normalize_returns:
            returns = standardise(returns)
        grads, aux = jax.grad(loss_fn, has_aux=True)(carry.train_state.params, traj._replace(extras=None), returns)
        ts: TrainState = carry.train_state.apply_gradients(grads=grads)
        stats = carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        carry = carry._replace(train_state=ts, stats=stats, update=carry.update + 1)
        return carry, update_metrics(aux, stats, carry.update * c.batch_size)

    def step(carry: PPOCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: PPOCarry):
        return greedy(net, dist, carry.train_state.params)

    init = make_init(env, params, net.init, optax.adam(c.lr), c, net.apply)  # type: ignore[arg-type]
    return make_trainer(init, step, c.num_chunks, policy)
