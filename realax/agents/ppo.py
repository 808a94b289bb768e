"""Proximal Policy Optimization, env-agnostic, in the purejaxrl shape.

Algorithm: Schulman et al., "Proximal Policy Optimization Algorithms", arXiv:1707.06347 (2017): clipped
surrogate objective, value loss and entropy bonus, advantages by GAE (Schulman et al., "High-Dimensional
Continuous Control Using Generalized Advantage Estimation", ICLR 2016). Structure and defaults follow
purejaxrl (Lu et al., "Discovered Policy Optimisation", NeurIPS 2022; ``luchris429/purejaxrl``,
``purejaxrl/ppo.py``): vectorised rollout with ``lax.scan``, epochs of shuffled minibatches, advantage
normalisation per minibatch, clipped value loss, gradient-norm clipping, Adam with ``eps=1e-5`` and a
linearly annealed learning rate. One difference: realax envs autoreset inside ``step``, so a truncated
episode is bootstrapped from ``V(info["final_obs"])`` instead of being treated as terminal.

The policy distribution follows the action space (``realax.agents.distributions``): categorical for
``Discrete``, Dirichlet for a ``Simplex`` (RL4AMOD's fleet-distribution actor), diagonal Gaussian for other
boxes; envs that describe their observation as a graph (``env.graph``) get RL4AMOD's graph actor-critic
(``realax.agents.networks.GraphActorCritic``), and envs whose observation is a set of candidate items to pick
from (``env.items``) a network that scores each item alike (``ItemActorCritic``), unless ``graph=False``. The
greedy policy is the mode (the Dirichlet's mean).

>>> env, params = realax.make("realax/Spectrum-v0", scenario="constant")
>>> trainer = make_train(PPOConfig(total_timesteps=50_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import distributions
from realax.agents.networks import actor_critic_for
from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """PPO settings. The structure follows purejaxrl's CartPole config (``purejaxrl/ppo.py``: 4 envs × 128 steps,
    Adam 2.5e-4, entropy 0.01, 64-unit tanh layers, 4 epochs of 4 minibatches, gamma 0.99, lambda 0.95, clip
    0.2, value weight 0.5, grad-norm 0.5, linear annealing); where the defaults here differ (32 envs × 64
    steps, Adam 1e-3, entropy 0.05, 128 units) they were chosen for realax's spectrum and robo-taxi
    environments, whose README results tables were produced with them."""

    num_envs: int = 32
    """Environments stepped in parallel (vmapped)."""
    num_steps: int = 64
    """Steps per environment in each rollout; a batch is ``num_envs * num_steps`` transitions."""
    total_timesteps: int = 500_000
    """Environment steps in the whole run (rounded down to whole updates)."""
    lr: float = 1e-3
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over ``num_updates``."""
    gamma: float = 0.99
    """Discount factor."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this for learning (the reported returns are not), e.g. 1e-3 for dollars."""
    gae_lambda: float = 0.95
    """GAE lambda (bias/variance trade-off of the advantage)."""
    num_minibatches: int = 4
    """Minibatches per epoch."""
    update_epochs: int = 4
    """Passes over each batch."""
    clip_eps: float = 0.2
    """Clipping range of the probability ratio (and of the value change)."""
    ent_coef: float = 0.05
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    hidden: int = 128
    """Width of the two tanh hidden layers of the actor and of the critic (of the graph network's MLPs)."""
    graph: bool = True
    """Use the env's structured network: the graph actor-critic on envs that describe their observation as a
    graph (``env.graph``), the item scorer on envs that describe it as candidate items (``env.items``)."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 10
    """Updates per ``Trainer.step`` call (one jitted chunk between progress reports)."""

    def __post_init__(self):
        require(self, positive=("num_envs", "num_steps", "total_timesteps", "reward_scale", "num_minibatches",
                                "update_epochs", "hidden", "num_seeds", "updates_per_chunk"),
                nonnegative=("lr", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm"), unit=("gamma", "gae_lambda"),
                at_most=SIZE_LIMITS)
        if self.batch_size % self.num_minibatches:
            raise RealaxError(f"{type(self).__name__}: num_envs * num_steps = {self.batch_size} must be divisible by "
                              f"num_minibatches = {self.num_minibatches}")

    @property
    def env_steps_per_update(self) -> int:
        return self.batch_size

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return max(1, self.total_timesteps // self.batch_size)

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    @property
    def num_chunks(self) -> int:
        return math.ceil(self.num_updates / self.updates_per_chunk)


def gae(rewards, values, next_values, terminated, dones, gamma: float, lam: float):
    """Generalized advantage estimation over time-major ``[T, ...]`` arrays: ``(advantages, targets)``.

    ``next_values[t]`` is the value of the observation reached by transition ``t`` before any reset
    (``V(final_obs)``); ``terminated[t]`` drops that bootstrap, ``dones[t]`` (terminated or truncated)
    stops the advantage from flowing back across the episode boundary:
    ``delta_t = r_t + gamma (1 - term_t) V'_t - V_t``, ``A_t = delta_t + gamma lam (1 - done_t) A_{t+1}``
    (Schulman et al. 2016, eq. 16, with the time-limit handling of Pardo et al., "Time Limits in
    Reinforcement Learning", ICML 2018). ``targets = advantages + values`` are the value regression targets.
    """
    f = lambda x: jnp.asarray(x, jnp.float32)

    def body(adv_next, x):
        r, v, nv, term, done = x
        adv = r + gamma * nv * (1.0 - term) - v + gamma * lam * (1.0 - done) * adv_next
        return adv, adv

    xs = (f(rewards), f(values), f(next_values), f(terminated), f(dones))
    _, adv = jax.lax.scan(body, jnp.zeros_like(xs[1][0]), xs, reverse=True)
    return adv, adv + xs[1]


def optimizer(c: PPOConfig, num_updates: int | None = None) -> optax.GradientTransformation:
    """Global-norm clipping then Adam (``eps=1e-5``), its rate annealed linearly to 0 over ``num_updates``
    (default ``c.num_updates``) when ``c.anneal_lr`` (purejaxrl's ``linear_schedule``, held at 0 past the last
    update)."""
    steps_per_update = c.num_minibatches * c.update_epochs
    updates = c.num_updates if num_updates is None else num_updates

    def lr_schedule(count):
        return c.lr * jnp.maximum(1.0 - (count // steps_per_update) / updates, 0.0)

    return optax.chain(optax.clip_by_global_norm(c.max_grad_norm),
                       optax.adam(lr_schedule if c.anneal_lr else c.lr, eps=1e-5))


def standardise(x: jax.Array, axis: Any = None) -> jax.Array:
    """``(x - mean) / (std + 1e-8)`` over ``axis`` (all axes when None)."""
    return (x - x.mean(axis, keepdims=True)) / (x.std(axis, keepdims=True) + 1e-8)


def update_metrics(aux: dict, stats: Any, env_steps: jax.Array) -> dict:
    """The metrics every PPO-style update reports: each loss term of ``aux`` averaged over its epochs and
    minibatches, the last finished episodes' ``return`` and ``length`` (``stats``), and ``env_steps``."""
    return {**{k: v.mean() for k, v in aux.items()}, "return": stats.last_return, "length": stats.last_length,
            "env_steps": env_steps}


def policy_loss(log_prob, old_log_prob, adv, clip_eps: float):
    """PPO's clipped surrogate on a minibatch, the advantages normalised within it: ``(loss, approx_kl)``,
    the KL by Schulman's k3 estimator ``(ratio - 1) - log ratio``."""
    log_ratio = log_prob - old_log_prob
    ratio = jnp.exp(log_ratio)
    adv = standardise(adv)
    loss = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv).mean()
    return loss, ((ratio - 1) - log_ratio).mean()


def value_loss(value, old_value, targets, clip_eps: float):
    """Clipped value loss ``0.5 max((V - G)^2, (V_clip - G)^2)``, ``V_clip`` within ``clip_eps`` of the
    rollout's value (purejaxrl)."""
    v_clipped = old_value + jnp.clip(value - old_value, -clip_eps, clip_eps)
    return 0.5 * jnp.maximum((value - targets) ** 2, (v_clipped - targets) ** 2).mean()


def ppo_loss(pi, value, mb, adv, targets, c: PPOConfig):
    """PPO's loss on a minibatch: clipped surrogate + ``vf_coef`` clipped value loss - ``ent_coef`` entropy, for
    the policy ``pi`` (a ``distributions`` object) and values ``value`` of the minibatch ``mb`` (with the
    rollout's ``action``, ``log_prob`` and ``value``). Returns ``(loss, metrics)``."""
    pg_loss, approx_kl = policy_loss(pi.log_prob(mb.action), mb.log_prob, adv, c.clip_eps)
    v_loss = value_loss(value, mb.value, targets, c.clip_eps)
    entropy = pi.entropy().mean()
    total = pg_loss + c.vf_coef * v_loss - c.ent_coef * entropy
    return total, {"loss": total, "policy_loss": pg_loss, "value_loss": v_loss, "entropy": entropy,
                   "approx_kl": approx_kl}


def sgd_epochs(ts: TrainState, batch, key: jax.Array, loss_fn, c: PPOConfig):
    """``c.update_epochs`` passes over ``batch`` (a pytree of ``[n, ...]`` arrays: ``n`` transitions, or ``n``
    whole sequences for a recurrent learner), each shuffled into ``c.num_minibatches`` minibatches with one
    gradient step each; ``loss_fn(params, *minibatch) -> (loss, aux)``. Returns ``(ts, aux)``, ``aux`` stacked
    ``[epochs, minibatches]``."""
    n = jax.tree.leaves(batch)[0].shape[0]

    def sgd_step(ts: TrainState, mb):
        grads, aux = jax.grad(loss_fn, has_aux=True)(ts.params, *mb)
        return ts.apply_gradients(grads=grads), aux

    def epoch(carry, _):
        ts, key = carry
        key, k_perm = jax.random.split(key)
        perm = jax.random.permutation(k_perm, n)
        mbs = jax.tree.map(lambda x: x[perm].reshape(c.num_minibatches, n // c.num_minibatches, *x.shape[1:]), batch)
        ts, aux = jax.lax.scan(sgd_step, ts, mbs)
        return (ts, key), aux

    (ts, _), aux = jax.lax.scan(epoch, (ts, key), None, c.update_epochs)
    return ts, aux


class Transition(NamedTuple):
    obs: Any
    action: jax.Array
    reward: jax.Array
    value: jax.Array
    log_prob: jax.Array
    terminated: jax.Array
    done: jax.Array
    final_obs: Any
    ep_return: jax.Array
    ep_length: jax.Array
    extras: Any = None  # ``{key: info[key]}`` for the ``info_keys`` given to ``make_env_step`` (None: none kept)


class PPOCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    train_state: TrainState
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []: updates done so far


def make_env_step(env: Any, params: Any, net: Any, dist: Callable, c: PPOConfig,
                  agent_params: Callable | None = None, info_keys: tuple[str, ...] = ()) -> Callable:
    """``env_step(carry, _) -> (carry, Transition)``: one vectorised step of the current policy on ``c.num_envs``
    envs, for ``lax.scan``. ``carry`` is any NamedTuple with PPOCarry's ``train_state``, ``env_state``, ``obs``,
    ``stats`` and ``key`` fields; ``agent_params(train_state.params)`` picks the actor-critic's parameters (for
    learners that train more networks beside it); ``info_keys`` are kept in ``Transition.extras``."""
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    pick = agent_params or (lambda p: p)

    def env_step(carry, _):
        key, k_act, k_env = jax.random.split(carry.key, 3)
        head, value = net.apply(pick(carry.train_state.params), carry.obs)
        pi = dist(head)
        action = pi.sample(k_act)
        log_prob = pi.log_prob(action)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           action, params)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        extras = {k: info[k] for k in info_keys} if info_keys else None
        tr = Transition(carry.obs, action, reward * c.reward_scale, value, log_prob, term, done, info["final_obs"],
                        ep_ret, ep_len, extras)
        return carry._replace(env_state=env_state, obs=obs, stats=stats, key=key), tr

    return env_step


def make_update(c: PPOConfig, net: Any, dist: Callable, env_step: Callable, learn: Callable | None = None) -> Callable:
    """``update(carry: PPOCarry, ctx=None) -> (carry, metrics)``: one PPO update (a rollout of ``c.num_steps``
    steps by ``env_step``, GAE, ``c.update_epochs`` epochs of minibatches).

    ``learn(traj, ctx) -> (rewards [T, N], gamma)`` chooses what is learnt from the rollout (default: the env's
    reward, scaled, and ``c.gamma``); ``ctx`` is any pytree passed through, so that one update can be vmapped
    over learners that each learn another signal with another discount (``realax.agents.tscac``'s stage one).
    The reported ``return`` is always the env's reward."""

    def loss_fn(net_params, mb: Transition, adv, targets):
        head, value = net.apply(net_params, mb.obs)
        return ppo_loss(dist(head), value, mb, adv, targets, c)

    def update(carry: PPOCarry, ctx=None):
        carry, traj = jax.lax.scan(env_step, carry, None, c.num_steps)
        rewards, gamma = (traj.reward, c.gamma) if learn is None else learn(traj, ctx)
        _, next_values = net.apply(carry.train_state.params, traj.final_obs)
        adv, targets = gae(rewards, traj.value, next_values, traj.terminated, traj.done, gamma, c.gae_lambda)
        flat = jax.tree.map(lambda x: x.reshape(c.batch_size, *x.shape[2:]), (traj._replace(extras=None), adv, targets))
        key, k_epochs = jax.random.split(carry.key)
        ts, aux = sgd_epochs(carry.train_state, flat, k_epochs, loss_fn, c)
        stats = carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        carry = carry._replace(train_state=ts, stats=stats, key=key, update=carry.update + 1)
        metrics = update_metrics(aux, stats, carry.update * c.batch_size)
        if learn is not None:
            metrics["learnt_reward"] = jnp.mean(rewards)
        return carry, metrics

    return update


def make_init(env: Any, params: Any, init_params: Callable, tx: optax.GradientTransformation, c: PPOConfig,
              apply_fn: Callable | None = None) -> Callable[[jax.Array], PPOCarry]:
    """``init(key) -> PPOCarry``: ``c.num_envs`` envs reset and fresh parameters ``init_params(key, obs)`` (an
    actor-critic's ``net.init``, or several networks' in a dict) with optimiser ``tx``."""

    def init(key):
        key, k_net, k_env = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        net_params = init_params(k_net, jax.tree.map(lambda x: x[0], obs))
        ts = TrainState.create(apply_fn=apply_fn, params=net_params, tx=tx)
        return PPOCarry(ts, env_state, obs, RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    return init


def greedy(net: Any, dist: Callable, agent_params: Any) -> Callable[[jax.Array, Any], jax.Array]:
    """The greedy policy ``fn(key, obs) -> action`` (the distribution's mode) of an actor-critic's parameters."""
    return lambda key, obs: dist(net.apply(agent_params, obs)[0]).mode()


def make_train(config: PPOConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running PPO on ``env`` with ``params``."""
    c = config
    net = actor_critic_for(env, params, c.hidden, graph=c.graph)
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    update = make_update(c, net, dist, make_env_step(env, params, net, dist, c))

    def step(carry: PPOCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: PPOCarry):
        return greedy(net, dist, carry.train_state.params)

    return make_trainer(make_init(env, params, net.init, optimizer(c), c, net.apply), step, c.num_chunks, policy)
