"""PPO with random network distillation (PPO+RND), env-agnostic: PPO plus a novelty bonus for exploration.

Algorithm: Burda, Edwards, Storkey & Klimov, "Exploration by Random Network Distillation", arXiv:1810.12894
(ICLR 2019), on top of ``realax.agents.ppo`` (its optimiser, clipped surrogate, value loss, GAE and
minibatch epochs are reused as they are):

- a *target* network ``f`` is drawn at random and never trained; a *predictor* ``f^`` is trained by MSE to
  match it on the observations the agent reaches (a random ``rnd_update_proportion`` of each batch). The
  intrinsic reward of a transition is the prediction error on the observation it reaches,
  ``r_i = mean_k (f^(s') - f(s'))_k^2`` (the paper's ``||f^(s') - f(s')||^2``, averaged over the features as
  its code does): large on observations like none seen before, small on familiar ones;
- the RND nets see observations normalised by a running mean and standard deviation and clipped to
  ``[-obs_clip, obs_clip]`` (paper: 5); the running statistics take in each rollout's observations before its
  rewards are computed (the paper warms them up with random steps first; at small budgets the first rollout
  serves);
- the intrinsic reward is divided by a running standard deviation of the *discounted intrinsic returns*
  (a per-env ``R <- gamma_int R + r_i`` that never resets: the paper's ``RewardForwardFilter``);
- two value heads: the extrinsic one is episodic (GAE as PPO: a terminal state cuts the bootstrap, a
  truncation bootstraps from ``V_e(final_obs)``), the intrinsic one is non-episodic (``gamma_int``, no cut at
  episode ends: an episode's end leads on to the next episode's first observation, so ending an episode
  early does not forfeit future novelty);
- advantages combine as ``A = ext_coef A_e + int_coef A_i`` (paper: 2 and 1), then go through PPO's
  clipped surrogate; the predictor's loss is added to PPO's with weight ``rnd_coef`` and one optimiser steps
  both (as the paper's code).

Yin et al. (arXiv:2404.12594, 2024) train RND beside PPO on AGV dispatching with the reward
``r = r_e + r_i``; that is ``ext_coef = int_coef = 1`` here up to the two heads' separate discounts.

Defaults are chosen for small budgets (tens of thousands of steps) and say where they come from in their
field docstrings; the network sizes are far smaller than the paper's Atari convolutions.

The policy distribution, the actor and the extrinsic critic are PPO's (``actor_critic_for``: categorical,
Dirichlet or Gaussian heads, the graph actor-critic on graph envs, the item scorer on item envs); the intrinsic
critic is a separate MLP on the flattened observation. The greedy policy is the actor's mode, as PPO's.

>>> env, params = realax.make("realax/Spectrum-v0", scenario="hopper")
>>> trainer = make_train(PPORNDConfig(total_timesteps=200_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.training.train_state import TrainState

from realax.agents import distributions
from realax.agents.networks import MLP, ObsEncoder, actor_critic_for, encoder_for, orthogonal
from realax.agents.ppo import PPOConfig, gae, optimizer, policy_loss, sgd_epochs, update_metrics, value_loss
from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.options import SIZE_LIMITS, require


@dataclasses.dataclass(frozen=True)
class PPORNDConfig(PPOConfig):
    """PPO+RND settings: every ``PPOConfig`` field (``gamma`` is the extrinsic discount) plus the RND ones.
    PPO's defaults are kept except where a field below says otherwise."""

    gamma: float = 0.99
    """Extrinsic discount ``gamma_e`` (episodic). The paper uses 0.999 for Atari's long episodes; PPO's 0.99
    here, which suits episodes of up to a few hundred steps."""
    gamma_int: float = 0.99
    """Intrinsic discount ``gamma_i`` (non-episodic: no cut at episode ends); the paper's 0.99."""
    ext_coef: float = 2.0
    """Weight of the extrinsic advantage in ``A = ext_coef A_e + int_coef A_i`` (paper: 2)."""
    int_coef: float = 1.0
    """Weight of the intrinsic advantage (paper: 1); 0 turns exploration off (PPO with an idle predictor)."""
    rnd_coef: float = 1.0
    """Weight of the predictor's MSE in the loss (the paper's code adds it with weight 1)."""
    rnd_update_proportion: float = 1.0
    """Fraction of each minibatch the predictor trains on (paper: 0.25, to slow the predictor with its 128
    envs; with the 32 envs here every transition is used, as the paper's code at 32 envs)."""
    rnd_features: int = 64
    """Output width of the target and predictor networks (paper: 512 on Atari; small obs here)."""
    rnd_hidden: int = 64
    """Width of the hidden ReLU layers of the RND nets (target: 2 layers, predictor: 3, as the paper's
    predictor is deeper than its target)."""
    obs_clip: float = 5.0
    """Normalised observations fed to the RND nets are clipped to ``[-obs_clip, obs_clip]`` (paper: 5)."""

    def __post_init__(self):
        super().__post_init__()
        require(self, positive=("rnd_features", "rnd_hidden", "obs_clip"),
                nonnegative=("ext_coef", "int_coef", "rnd_coef"), unit=("gamma_int", "rnd_update_proportion"),
                at_most={"rnd_features": SIZE_LIMITS["hidden"], "rnd_hidden": SIZE_LIMITS["hidden"]})


class RunningMeanStd(NamedTuple):
    """Running mean and (population) variance over a leading batch axis, merged batch by batch (Chan,
    Golub & LeVeque's parallel update, as OpenAI baselines' ``RunningMeanStd`` the paper's code uses; the
    count starts at 1e-4 there and here, so the first batch sets the statistics)."""

    mean: jax.Array  # float32 [...]: one per feature
    var: jax.Array  # float32 [...]
    count: jax.Array  # float32 []

    @classmethod
    def start(cls, shape: Sequence[int] = ()) -> "RunningMeanStd":
        return cls(jnp.zeros(shape), jnp.ones(shape), jnp.float32(1e-4))

    def update(self, x: jax.Array) -> "RunningMeanStd":
        """Take in ``x [n, *shape]``."""
        x = jnp.asarray(x, jnp.float32)
        n = x.shape[0]
        b_mean, b_var = x.mean(0), x.var(0)
        delta = b_mean - self.mean
        total = self.count + n
        mean = self.mean + delta * n / total
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        return RunningMeanStd(mean, m2 / total, total)

    @property
    def std(self) -> jax.Array:
        return jnp.sqrt(self.var + 1e-8)


def discounted_returns(rewards: jax.Array, start: jax.Array, gamma: float) -> tuple[jax.Array, jax.Array]:
    """The paper's ``RewardForwardFilter`` over a time-major rollout ``rewards [T, N]``: ``R_t = gamma R_{t-1}
    + r_t`` from ``start [N]``, never reset. Returns ``(R_T, R [T, N])``."""

    def body(ret, r):
        ret = gamma * ret + r
        return ret, ret

    return jax.lax.scan(body, start, jnp.asarray(rewards, jnp.float32))


def two_head_gae(ext_rewards, int_rewards, ext_values, int_values, ext_next_values, int_next_values, terminated,
                 dones, gamma_ext: float, gamma_int: float, lam: float):
    """GAE for both heads over time-major ``[T, ...]`` arrays: ``((adv_e, targets_e), (adv_i, targets_i))``.

    Extrinsic: PPO's ``gae`` (``ext_next_values[t] = V_e(final_obs_t)``, cut by ``terminated``/``dones``).
    Intrinsic: non-episodic, ``int_next_values[t]`` the value of the next observation the agent sees (the
    next episode's first after an end) and no cut at all:
    ``delta_t = r_i_t + gamma_i V_i(s_{t+1}) - V_i(s_t)``, ``A_t = delta_t + gamma_i lam A_{t+1}``.
    """
    never = jnp.zeros(jnp.shape(int_rewards), bool)
    return (gae(ext_rewards, ext_values, ext_next_values, terminated, dones, gamma_ext, lam),
            gae(int_rewards, int_values, int_next_values, never, never, gamma_int, lam))


class RNDNet(nn.Module):
    """ReLU MLP with orthogonal(sqrt 2) hidden layers (the paper's initialisation) and a linear output of
    ``features``: the target (``layers=2``) or the predictor (``layers=3``)."""

    hidden: int
    features: int
    layers: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.layers):
            x = nn.relu(nn.Dense(self.hidden, kernel_init=orthogonal(np.sqrt(2)))(x))
        return nn.Dense(self.features, kernel_init=orthogonal(np.sqrt(2)))(x)


def novelty(predictor: RNDNet, target: RNDNet, predictor_params, target_params, x: jax.Array) -> jax.Array:
    """The intrinsic reward before normalisation, and the predictor's loss: the squared prediction error of
    each row of ``x [..., D]`` (normalised observations), averaged over the output features."""
    return ((predictor.apply(predictor_params, x) - target.apply(target_params, x)) ** 2).mean(-1)


class RNDActorCritic(nn.Module):
    """``obs -> (head, extrinsic value, intrinsic value)``: PPO's network (``actor_critic``) and an intrinsic
    critic, a tanh MLP of width ``hidden`` on the encoded observation."""

    actor_critic: nn.Module
    encoder: ObsEncoder
    hidden: Sequence[int]

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        head, value = self.actor_critic(obs)
        x = MLP(self.hidden)(self.encoder(obs))
        return head, value, nn.Dense(1, kernel_init=orthogonal(1.0))(x)[..., 0]


class RNDTransition(NamedTuple):
    obs: Any
    action: jax.Array
    reward: jax.Array
    value: jax.Array  # extrinsic
    int_value: jax.Array
    log_prob: jax.Array
    terminated: jax.Array
    done: jax.Array
    final_obs: Any
    ep_return: jax.Array
    ep_length: jax.Array


class RNDState(NamedTuple):
    """The RND half of the carry: the fixed target's parameters, the running statistics and the per-env
    discounted intrinsic returns. (The predictor's parameters train with the agent's, in ``train_state``.)"""

    target: Any
    obs_rms: RunningMeanStd
    ret_rms: RunningMeanStd
    int_return: jax.Array  # float32 [num_envs]


class PPORNDCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds). ``train_state.params`` is
    ``{"agent": ..., "predictor": ...}``."""

    train_state: TrainState
    rnd: RNDState
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []: updates done so far


def make_train(config: PPORNDConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running PPO+RND on ``env`` with ``params``;
    besides PPO's metrics it reports ``intrinsic_reward`` (mean normalised ``r_i`` of each rollout),
    ``novelty`` (its mean before normalisation), ``rnd_loss`` and ``int_value_loss``."""
    c = config
    obs_space = env.observation_space(params)
    encoder = encoder_for(obs_space)
    net = RNDActorCritic(actor_critic_for(env, params, c.hidden, graph=c.graph), encoder, (c.hidden,) * 2)
    target_net = RNDNet(c.rnd_hidden, c.rnd_features, 2)
    predictor_net = RNDNet(c.rnd_hidden, c.rnd_features, 3)
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    encode = lambda obs: encoder.apply({}, obs)
    tx = optimizer(c)
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def init(key):
        key, k_net, k_target, k_pred, k_env = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        one = jax.tree.map(lambda x: x[0], obs)
        x = encode(one)
        net_params = {"agent": net.init(k_net, one), "predictor": predictor_net.init(k_pred, x)}
        ts = TrainState.create(apply_fn=net.apply, params=net_params, tx=tx)
        rnd = RNDState(target_net.init(k_target, x), RunningMeanStd.start(x.shape), RunningMeanStd.start(),
                       jnp.zeros(c.num_envs))
        return PPORNDCarry(ts, rnd, env_state, obs, RunningReturns.zeros(c.num_envs), key, jnp.int32(0))

    def env_step(carry: PPORNDCarry, _):
        key, k_act, k_env = jax.random.split(carry.key, 3)
        head, value, int_value = net.apply(carry.train_state.params["agent"], carry.obs)
        pi = dist(head)
        action = pi.sample(k_act)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           action, params)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        tr = RNDTransition(carry.obs, action, reward * c.reward_scale, value, int_value, pi.log_prob(action), term,
                           done, info["final_obs"], ep_ret, ep_len)
        return carry._replace(env_state=env_state, obs=obs, stats=stats, key=key), tr

    def loss_fn(net_params, mb: RNDTransition, x, rnd_mask, target_params, adv_e, adv_i, targets_e, targets_i):
        head, value, int_value = net.apply(net_params["agent"], mb.obs)
        pi = dist(head)
        pg_loss, approx_kl = policy_loss(pi.log_prob(mb.action), mb.log_prob, c.ext_coef * adv_e + c.int_coef * adv_i,
                                         c.clip_eps)
        v_loss = value_loss(value, mb.value, targets_e, c.clip_eps)
        iv_loss = value_loss(int_value, mb.int_value, targets_i, c.clip_eps)
        entropy = pi.entropy().mean()
        err = novelty(predictor_net, target_net, net_params["predictor"], jax.lax.stop_gradient(target_params), x)
        rnd_loss = (err * rnd_mask).sum() / jnp.maximum(rnd_mask.sum(), 1.0)
        total = pg_loss + c.vf_coef * (v_loss + iv_loss) - c.ent_coef * entropy + c.rnd_coef * rnd_loss
        return total, {"loss": total, "policy_loss": pg_loss, "value_loss": v_loss, "int_value_loss": iv_loss,
                       "entropy": entropy, "approx_kl": approx_kl, "rnd_loss": rnd_loss}

    def update(carry: PPORNDCarry, _):
        carry, traj = jax.lax.scan(env_step, carry, None, c.num_steps)
        agent = carry.train_state.params["agent"]
        _, next_values, _ = net.apply(agent, traj.final_obs)
        # the intrinsic stream runs on across episode ends: the next observation the agent sees
        seen_next = jax.tree.map(lambda o, last: jnp.concatenate([o[1:], last[None]]), traj.obs, carry.obs)
        _, _, int_next_values = net.apply(agent, seen_next)
        # novelty of the observation each transition reaches, on normalised and clipped observations
        x = encode(traj.final_obs)  # [T, N, D]
        obs_rms = carry.rnd.obs_rms.update(x.reshape(-1, x.shape[-1]))
        x = jnp.clip((x - obs_rms.mean) / obs_rms.std, -c.obs_clip, c.obs_clip)
        raw = novelty(predictor_net, target_net, carry.train_state.params["predictor"], carry.rnd.target, x)
        int_return, returns = discounted_returns(raw, carry.rnd.int_return, c.gamma_int)
        ret_rms = carry.rnd.ret_rms.update(returns.reshape(-1))
        int_reward = raw / ret_rms.std
        (adv_e, targets_e), (adv_i, targets_i) = two_head_gae(
            traj.reward, int_reward, traj.value, traj.int_value, next_values, int_next_values, traj.terminated,
            traj.done, c.gamma, c.gamma_int, c.gae_lambda)
        key, k_epochs, k_mask = jax.random.split(carry.key, 3)
        rnd_mask = (jax.random.uniform(k_mask, raw.shape) < c.rnd_update_proportion).astype(jnp.float32)
        flat = jax.tree.map(lambda a: a.reshape(c.batch_size, *a.shape[2:]),
                            (traj, x, rnd_mask, adv_e, adv_i, targets_e, targets_i))
        target = carry.rnd.target
        ts, aux = sgd_epochs(carry.train_state, flat, k_epochs,
                             lambda p, mb, x, m, *rest: loss_fn(p, mb, x, m, target, *rest), c)
        stats = carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        rnd = RNDState(target, obs_rms, ret_rms, int_return)
        carry = carry._replace(train_state=ts, rnd=rnd, stats=stats, key=key, update=carry.update + 1)
        metrics = {**update_metrics(aux, stats, carry.update * c.batch_size),
                   "intrinsic_reward": int_reward.mean(), "novelty": raw.mean()}
        return carry, metrics

    def step(carry: PPORNDCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: PPORNDCarry):
        agent = carry.train_state.params["agent"]
        return lambda key, obs: dist(net.apply(agent, obs)[0]).mode()

    return make_trainer(init, step, c.num_chunks, policy)
