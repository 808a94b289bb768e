"""Soft actor-critic (SAC) for continuous actions (``Simplex`` or a 1-D ``Box``), online, env-agnostic.

Algorithm: Haarnoja et al., "Soft Actor-Critic: Off-Policy Maximum Entropy Deep Reinforcement Learning with
a Stochastic Actor", ICML 2018, with the twin critics and learned temperature of Haarnoja et al., "Soft
Actor-Critic Algorithms and Applications", arXiv:1812.05905 (2018):

- critics regress on ``y = r + gamma (1 - terminal) (min_i Q_target_i(s', a') - alpha log pi(a' | s'))``,
  ``a' ~ pi(. | s')`` (``soft_target``); target critics follow by Polyak averaging (``tau``);
- the actor minimises ``alpha log pi(a | s) - min_i Q_i(s, a)`` with ``a`` drawn reparameterised;
- with ``auto_alpha`` the temperature follows ``min_{log alpha} -log alpha · (log pi(a | s) + H_target)``
  (``temperature_loss``; ``H_target = target_entropy · dim``, ``-dim`` by the paper's heuristic), otherwise
  it stays at ``alpha``.

Settings follow RL4AMOD's SAC for robo-taxi rebalancing (Tresca et al. 2025, ``StanfordASL/RL4AMOD``
``src/algos/sac.py`` and ``src/config/model/sac.yaml``): fixed ``alpha`` 0.3, Adam 1e-3 for actor and critics,
batch 100, Polyak 0.995, ``gamma`` 0.99, rewards scaled by 0.01, critic gradients clipped at norm 500 and the
actor's at 10, one gradient step per environment step, learning from the 12th episode on, a log-alpha Adam at
1e-3 when auto-tuned. The policy follows the action space: on a ``Simplex`` a Dirichlet (RL4AMOD's actor),
on a box a tanh-squashed Gaussian (``distributions.TanhGaussian``, log-std squashed into [-5, 2] as in CleanRL's
``sac_continuous_action.py``). Envs that describe their observation as a graph (``env.graph``, one action
output per node) get RL4AMOD's graph actor and critics (``networks.GraphActor``/``GraphCritic``, hidden 256);
others two ReLU layers of ``hidden``. Differences: several envs may step per update (``num_envs``;
RL4AMOD: 1), the twin critics share one gradient clip (RL4AMOD clips each), the replay buffer is a ring of
``buffer_size`` (RL4AMOD keeps everything), and a truncated episode bootstraps from ``info["final_obs"]``.

>>> env, params = realax.make("realax/RoboTaxi-v0")
>>> trainer = make_train(SACConfig(total_timesteps=20_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents import distributions
from realax.agents import offline_nets as on
from realax.agents.dqn import Buffer, buffer_add, buffer_init, buffer_sample
from realax.agents.networks import GraphActor, GraphCritic, graph_of
from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require

#: range of the box policy's log-std (CleanRL ``sac_continuous_action.py``: -5, 2)
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


@dataclasses.dataclass(frozen=True)
class SACConfig:
    """SAC settings; defaults are RL4AMOD's (``src/config/model/sac.yaml``, ``src/algos/sac.py``) where it has one."""

    num_envs: int = 1
    """Environments stepped in parallel; one update is one step of all of them (RL4AMOD: 1)."""
    total_timesteps: int = 200_000
    """Environment steps in the whole run (RL4AMOD: 10,000 episodes of 20 steps)."""
    grad_steps: int = 1
    """Gradient steps per update (RL4AMOD: one per environment step)."""
    buffer_size: int = 100_000
    """Replay capacity in transitions, oldest overwritten (RL4AMOD keeps every transition)."""
    batch_size: int = 100
    """Transitions per gradient step (RL4AMOD: 100)."""
    actor_lr: float = 1e-3
    """Adam learning rate of the actor (RL4AMOD ``p_lr``: 1e-3)."""
    critic_lr: float = 1e-3
    """Adam learning rate of the critics (RL4AMOD ``q_lr``: 1e-3)."""
    gamma: float = 0.99
    """Discount factor (RL4AMOD: 0.99)."""
    tau: float = 0.005
    """Polyak rate of the target critics (RL4AMOD: polyak 0.995)."""
    alpha: float = 0.3
    """Entropy temperature, and its starting value when ``auto_alpha`` (RL4AMOD: 0.3; its log-alpha starts at 0)."""
    auto_alpha: bool = False
    """Learn the temperature towards ``target_entropy`` per action dimension (RL4AMOD ``auto_entropy``: false)."""
    target_entropy: float = -1.0
    """Target entropy per action dimension when ``auto_alpha`` (Haarnoja et al.'s ``-dim(A)``: -1). A Dirichlet
    on ``n`` places has entropy at most ``-log((n - 1)!)``, so on a ``Simplex`` the target must lie below
    ``-log((n - 1)!) / n`` per dimension (-1.74 for RoboTaxi's 16 regions); a higher one is refused."""
    alpha_lr: float = 1e-3
    """Adam learning rate of log-alpha (RL4AMOD: 1e-3)."""
    reward_scale: float = 0.01
    """Rewards are multiplied by this for learning; the reported returns are not (RL4AMOD ``rew_scale``: 0.01)."""
    critic_clip: float = 500.0
    """Global gradient-norm clip of the critics (RL4AMOD ``clip``: 500)."""
    actor_clip: float = 10.0
    """Global gradient-norm clip of the actor (RL4AMOD: 10)."""
    learning_starts: int = 220
    """Environment steps before the first gradient step (RL4AMOD: after 11 episodes of 20 steps)."""
    hidden: int = 256
    """Width of the hidden layers (RL4AMOD ``hidden_size``: 256)."""
    graph: bool = True
    """Use the graph actor and critics on envs that describe their observation as a graph (``env.graph``)."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 1000
    """Updates per ``Trainer.step`` call (one jitted chunk between progress reports)."""

    def __post_init__(self):
        require(self, positive=("num_envs", "total_timesteps", "grad_steps", "buffer_size", "batch_size",
                                "actor_lr", "critic_lr", "alpha_lr", "reward_scale", "critic_clip", "actor_clip",
                                "hidden", "num_seeds", "updates_per_chunk"),
                nonnegative=("alpha", "learning_starts"), unit=("gamma", "tau"), at_most=SIZE_LIMITS)

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs

    @property
    def num_updates(self) -> int:
        return max(1, self.total_timesteps // self.num_envs)

    @property
    def num_chunks(self) -> int:
        return math.ceil(self.num_updates / self.updates_per_chunk)


def soft_target(reward, terminal, q_next, logp_next, alpha, gamma: float):
    """The critics' regression target ``r + gamma (1 - terminal) (min_i q_next[i] - alpha logp_next)``;
    ``q_next`` is ``[2, B]`` (the target critics at ``(s', a')``), the others ``[B]``."""
    return reward + gamma * (1.0 - terminal) * (q_next.min(0) - alpha * logp_next)


def temperature_loss(log_alpha, logp, target_entropy):
    """``-mean(log_alpha · (logp + target_entropy))``, ``logp`` held fixed: its gradient raises alpha while
    the policy's entropy ``-logp`` is below the target and lowers it above (RL4AMOD's and Haarnoja et al.'s
    log-alpha form)."""
    return -(log_alpha * jax.lax.stop_gradient(logp + target_entropy)).mean()


def check_simplex_target(target: float, n: int) -> None:
    """``RealaxError`` unless a Dirichlet on ``n`` places can reach the entropy ``target``: its entropy is at
    most ``-log((n - 1)!)`` (the uniform Dirichlet(1, ..., 1)), so a higher target (``-n`` among them for
    ``n > 3``) would raise the temperature without end."""
    top = -math.lgamma(n)
    if not target < top:
        raise RealaxError(f"SACConfig.target_entropy: {target / n:g} per dimension asks a Dirichlet on {n} places "
                          f"for entropy {target:g}, but its entropy is at most -log({n - 1}!) = {top:.4g}; set "
                          f"target_entropy below {top / n:.4g}")


class SACCarry(NamedTuple):
    actor: TrainState
    critic: TrainState
    critic_target: Any
    temperature: TrainState  # params: {"log_alpha": a scalar}
    buffer: Buffer
    env_state: Any
    obs: Any
    stats: RunningReturns
    key: jax.Array
    update: jax.Array


class _Twin(nn.Module):
    """Two independent copies of a critic (clipped double Q): ``[2, ...]``."""

    critic: Any  # a critic module class
    kwargs: dict

    @nn.compact
    def __call__(self, obs, action):
        return jnp.stack([self.critic(**self.kwargs)(obs, action), self.critic(**self.kwargs)(obs, action)])


def networks(env, params, hidden: int, graph: bool, algo: str = "sac"):
    """``(actor, twin critic, kind)`` for continuous actions: RL4AMOD's graph networks on a graph env (when
    ``graph``), two ReLU layers of ``hidden`` otherwise; ``RealaxError`` naming ``algo`` for other actions."""
    space = env.action_space(params)
    kind = on.require_kind(algo, space, ["box", "simplex"])
    n = int(space.shape[0])
    g = graph_of(env, params, n) if graph and kind == "simplex" else None
    if g is not None:
        sizes = {"adjacency": g[0], "node_features": g[1], "hidden": hidden}
        return GraphActor(**sizes), _Twin(GraphCritic, sizes), kind
    layers = on.hidden_layers(hidden, 2)
    actor = on.Head(on.encoder(env, params), n * (2 if kind == "box" else 1), layers)
    return actor, on.TwinCritic(on.encoder(env, params), layers), kind


def policy_distribution(space, kind: str, head: jax.Array):
    """The SAC policy from the actor's head: a Dirichlet on a simplex, a ``TanhGaussian`` on a box."""
    if kind == "simplex":  # distributions.make's Dirichlet, also for spaces marked ``simplex = True``
        return distributions.Dirichlet(jax.nn.softplus(head) + distributions.MIN_CONCENTRATION)
    mean, raw = jnp.split(head, 2, axis=-1)
    log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (jnp.tanh(raw) + 1.0)
    return distributions.TanhGaussian(mean, log_std, jnp.asarray(space.low, jnp.float32),
                                      jnp.asarray(space.high, jnp.float32))


def make_train(config: SACConfig, env, params) -> Trainer:
    """A ``Trainer`` running SAC on ``env`` (``Simplex`` or 1-D float ``Box`` actions)."""
    c = config
    space = env.action_space(params)
    actor, critic, kind = networks(env, params, c.hidden, c.graph)
    target_entropy = c.target_entropy * int(space.shape[0])
    if c.auto_alpha and kind == "simplex":
        check_simplex_target(target_entropy, int(space.shape[0]))
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    pi = lambda p, obs: policy_distribution(space, kind, actor.apply(p, obs))
    actor_tx = optax.chain(optax.clip_by_global_norm(c.actor_clip), optax.adam(c.actor_lr))
    critic_tx = optax.chain(optax.clip_by_global_norm(c.critic_clip), optax.adam(c.critic_lr))

    def alpha_of(carry: SACCarry):
        return jnp.exp(carry.temperature.params["log_alpha"]) if c.auto_alpha else jnp.float32(c.alpha)

    def init(key):
        key, k_a, k_c, k_env, k_act = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, c.num_envs), params)
        ap = actor.init(k_a, obs[0])
        a0, _ = pi(ap, obs[0]).sample_and_log_prob(k_act)
        cp = critic.init(k_c, obs[0], a0)
        log_alpha = jnp.log(jnp.float32(max(c.alpha, 1e-8)))
        return SACCarry(TrainState.create(apply_fn=actor.apply, params=ap, tx=actor_tx),
                        TrainState.create(apply_fn=critic.apply, params=cp, tx=critic_tx), cp,
                        TrainState.create(apply_fn=None, params={"log_alpha": log_alpha}, tx=optax.adam(c.alpha_lr)),
                        buffer_init(obs[0], a0, c.buffer_size), env_state, obs, RunningReturns.zeros(c.num_envs),
                        key, jnp.int32(0))

    def critic_loss(cp, carry: SACCarry, batch: on.Transitions, key):
        a_next, logp_next = pi(carry.actor.params, batch.next_obs).sample_and_log_prob(key)
        q_next = critic.apply(carry.critic_target, batch.next_obs, a_next)
        y = soft_target(c.reward_scale * batch.reward, batch.terminal, q_next, logp_next, alpha_of(carry), c.gamma)
        q = critic.apply(cp, batch.obs, batch.action)
        loss = ((q - jax.lax.stop_gradient(y)[None]) ** 2).mean(1).sum()  # each critic's MSE, summed
        return loss, {"critic_loss": loss, "q": q[0].mean()}

    def actor_loss(ap, cp, alpha, obs, key):
        a, logp = pi(ap, obs).sample_and_log_prob(key)
        q = critic.apply(cp, obs, a).min(0)
        loss = (alpha * logp - q).mean()
        return loss, {"actor_loss": loss, "entropy": -logp.mean(), "logp": logp}

    def learn(carry: SACCarry, key):
        k_batch, k_next, k_pi = jax.random.split(key, 3)
        batch = buffer_sample(k_batch, carry.buffer, c.batch_size)
        g, c_aux = jax.grad(critic_loss, has_aux=True)(carry.critic.params, carry, batch, k_next)
        cts = carry.critic.apply_gradients(grads=g)
        g, a_aux = jax.grad(actor_loss, has_aux=True)(carry.actor.params, cts.params, alpha_of(carry), batch.obs,
                                                      k_pi)
        ats = carry.actor.apply_gradients(grads=g)
        logp = a_aux.pop("logp")
        temperature = carry.temperature
        if c.auto_alpha:
            g = jax.grad(lambda t: temperature_loss(t["log_alpha"], logp, target_entropy))(temperature.params)
            temperature = temperature.apply_gradients(grads=g)
        carry = carry._replace(actor=ats, critic=cts, critic_target=on.polyak(carry.critic_target, cts.params, c.tau),
                               temperature=temperature)
        return carry, {**c_aux, **a_aux, "alpha": alpha_of(carry)}

    def skip(carry: SACCarry, key):
        nan = jnp.float32(jnp.nan)
        return carry, {"critic_loss": nan, "q": nan, "actor_loss": nan, "entropy": nan, "alpha": alpha_of(carry)}

    def update(carry: SACCarry, _):
        key, k_act, k_env, k_learn = jax.random.split(carry.key, 4)
        a, _ = pi(carry.actor.params, carry.obs).sample_and_log_prob(k_act)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, c.num_envs), carry.env_state,
                                                           a, params)
        done = term | trunc
        buf = buffer_add(carry.buffer, on.Transitions(carry.obs, a, reward.astype(jnp.float32), info["final_obs"],
                                                      term.astype(jnp.float32), done))
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        stats = stats.summarise(done, ep_ret, ep_len)
        carry = carry._replace(buffer=buf, env_state=env_state, obs=obs, stats=stats, key=key, update=carry.update + 1)
        ready = carry.update * c.num_envs >= max(c.learning_starts, c.batch_size)

        def grad_steps(carry, key):
            carry, aux = jax.lax.scan(lambda cr, k: learn(cr, k), carry, jax.random.split(key, c.grad_steps))
            return carry, jax.tree.map(lambda x: x[-1], aux)

        carry, aux = jax.lax.cond(ready, grad_steps, skip, carry, k_learn)
        return carry, {**aux, "return": stats.last_return, "length": stats.last_length,
                       "env_steps": carry.update * c.num_envs}

    def step(carry: SACCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: SACCarry):
        p = carry.actor.params
        return lambda key, obs: pi(p, obs).mode()

    return make_trainer(init, step, c.num_chunks, policy)

