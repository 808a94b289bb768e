"""Context-aware PPO: PPO whose actor and critic also read a context inferred from the episode so far.

Method: Sim2Rec's environment-aware policy (Chen et al., "Sim2Rec: A Simulator-based Decision-making Approach
to Optimize Real-World Long-term User Engagement in Sequential Recommender Systems", ICDE 2023, arXiv
2305.04832): a policy trained on a *set* of simulators transfers to an unseen one when it is conditioned on an
*environment-parameter extractor*, a recurrent network that reads the interaction history and outputs an
embedding of the environment it is in. The facts taken from its code (github ``xionghuichen/Sim2Rec``,
``transfer_learning/src/policies.py`` ``EnvExtractorPolicy``/``EnvAwarePolicy``, defaults in
``lts/src/run_lts.py``):

- the extractor reads the previous observation and action (``pre_obs_acs``) through two ReLU layers of 64
  (``env_extractor_layers``, ``env_relu_act``) into a recurrent cell of 64 (``n_lstm``) whose output goes
  through a dense layer and ``tanh`` (``ent_out_act``) to the environment embedding (``env_params_size`` 64);
- the policy's input is the current observation concatenated with that embedding; the critic is
  context-aware too (``lstm_critic``); the memory is cleared where an episode starts (the ``dones`` mask).

Here, env-agnostic, on top of ``realax.agents.ppo`` (its optimiser, loss, GAE and minibatch epochs are reused
as they are):

- at step ``t`` the extractor reads the observation ``o_t`` and the previous action ``a_{t-1}`` (one-hot for
  ``Discrete``, the value clipped into the box for ``Box``; zeros at an episode's start), i.e. the last
  transition's outcome together with the action that caused it. The reward is not an input: a realax policy
  acts on observations (``policy(key, obs)``), so an env whose reward is evidence puts it in the observation,
  as Sim2Rec's does (the last engagement);
- the cell is a GRU (Cho et al., EMNLP 2014), as realax's recurrent IPPO/MAPPO actor, where Sim2Rec has an
  LSTM: one memory vector per env;
- one loss trains everything: PPO's clipped surrogate, value and entropy terms, their gradients flowing
  through the actor and the critic into the extractor (Sim2Rec gives the extractor its own learning rate;
  here one Adam steps all parameters);
- the update replays whole rollout sequences from the memory each env had at the rollout's start (truncated
  back-propagation through ``num_steps`` steps), so minibatches split the ``num_envs`` sequences, not single
  transitions: ``num_envs`` must be divisible by ``num_minibatches``;
- a truncated episode bootstraps from ``V(final_obs)`` with the context after reading the last transition.

The greedy policy is a ``realax.agents.evaluate.RecurrentPolicy``: its memory is ``(GRU memory, previous
action features, start flag)``; ``realax eval``/``render`` and the runner carry it between steps.
The actor-critic is always MLP-based (no graph network).

>>> env, params = realax.make("realax/Sim2Rec-v0")                      # training domains
>>> trainer = make_train(PPOCtxConfig(total_timesteps=500_000), env, params)
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
from realax.agents.evaluate import RecurrentPolicy
from realax.agents.networks import MLP, ObsEncoder, encoder_for, orthogonal
from realax.agents.ppo import PPOConfig, gae, optimizer, ppo_loss, sgd_epochs, update_metrics
from realax.agents.trainer import RunningReturns, Trainer, make_trainer
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require
from realax.spaces import Discrete, Space


@dataclasses.dataclass(frozen=True)
class PPOCtxConfig(PPOConfig):
    """PPO's settings (``PPOConfig``, same defaults) plus the context extractor's. ``num_envs`` must be divisible
    by ``num_minibatches`` (minibatches are whole sequences)."""

    context: int = 64
    """Width of the extractor's GRU memory and of the context embedding appended to the observation (Sim2Rec:
    ``n_lstm`` = ``env_params_size`` = 64)."""
    context_hidden: int = 64
    """Width of the two ReLU layers between the extractor's input and its GRU (Sim2Rec's
    ``env_extractor_layers`` [64, 64])."""

    def __post_init__(self):
        super().__post_init__()
        require(self, positive=("context", "context_hidden"),
                at_most={"context": SIZE_LIMITS["hidden"], "context_hidden": SIZE_LIMITS["hidden"]})
        if self.num_envs % self.num_minibatches:
            raise RealaxError(f"{type(self).__name__}: num_envs = {self.num_envs} must be divisible by "
                              f"num_minibatches = {self.num_minibatches} (minibatches are whole sequences)")


def action_features(space: Space, action: jax.Array) -> jax.Array:
    """``[..., k]``: a one-hot of a ``Discrete`` action, or a ``Box`` action clipped into its bounds (a sampled
    Gaussian action can leave them; the env clips it the same way)."""
    if isinstance(space, Discrete):
        return jax.nn.one_hot(action, space.n)
    x = jnp.clip(jnp.asarray(action, jnp.float32), jnp.asarray(space.low, jnp.float32),
                 jnp.asarray(space.high, jnp.float32))
    return x.reshape(*x.shape[: x.ndim - len(space.shape)], -1)


class ContextActorCritic(nn.Module):
    """The extractor (``remember``: observation and previous action -> two ReLU layers -> GRU memory; the
    context is ``tanh(Dense(memory))``) and the actor and critic (``heads``: tanh MLPs, as ``ActorCritic``, on
    the encoded observation concatenated with the context). Leading batch axes are kept."""

    encoder: ObsEncoder
    num_outputs: int
    hidden: Sequence[int] = (64, 64)
    gaussian: bool = False  # the last half of the head is a learned log-std, not a function of the input
    context: int = 64
    context_hidden: int = 64

    def setup(self):
        relu_init = orthogonal(np.sqrt(2))
        self.extractor_in = [nn.Dense(self.context_hidden, kernel_init=relu_init) for _ in range(2)]
        self.gru = nn.GRUCell(features=self.context, recurrent_kernel_init=orthogonal())
        self.extractor_out = nn.Dense(self.context)
        n = self.num_outputs // 2 if self.gaussian else self.num_outputs
        self.actor = MLP(self.hidden)
        self.policy_head = nn.Dense(n, kernel_init=orthogonal(0.01))
        if self.gaussian:
            self.log_std = self.param("log_std", nn.initializers.zeros, (n,))
        self.critic = MLP(self.hidden)
        self.value_head = nn.Dense(1, kernel_init=orthogonal(1.0))

    def remember(self, obs: jax.Array, prev_action: jax.Array, memory: jax.Array, start: jax.Array) -> jax.Array:
        """The memory after reading ``obs`` and the action ``prev_action`` that led to it; where ``start`` (bool,
        the leading axes) the episode begins: memory and previous action are cleared first."""
        keep = ~start[..., None]
        u = jnp.concatenate([self.encoder(obs), jnp.where(keep, prev_action, 0.0)], -1)
        for layer in self.extractor_in:
            u = nn.relu(layer(u))
        memory, _ = self.gru(jnp.where(keep, memory, 0.0), u)
        return memory

    def context_of(self, memory: jax.Array) -> jax.Array:
        """The context embedding ``[..., context]`` in (-1, 1)."""
        return jnp.tanh(self.extractor_out(memory))

    def heads(self, obs: jax.Array, memory: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(head, value)`` of ``obs`` given the memory that has read it."""
        x = jnp.concatenate([self.encoder(obs), self.context_of(memory)], -1)
        head = self.policy_head(self.actor(x))
        if self.gaussian:
            head = jnp.concatenate([head, jnp.broadcast_to(self.log_std, head.shape)], -1)
        return head, self.value_head(self.critic(x))[..., 0]

    def __call__(self, obs, prev_action, memory, start) -> tuple[jax.Array, jax.Array, jax.Array]:
        """One step: ``(memory, head, value)``."""
        memory = self.remember(obs, prev_action, memory, start)
        return (memory, *self.heads(obs, memory))

    def bootstrap_value(self, final_obs, action, memory) -> jax.Array:
        """``V(final_obs)`` with the context after reading the transition that reached it (``action`` taken with
        ``memory``): the value a truncated episode bootstraps from."""
        memory = self.remember(final_obs, action, memory, jnp.zeros(memory.shape[:-1], bool))
        return self.heads(final_obs, memory)[1]


def context_actor_critic_for(env, params, c: PPOCtxConfig) -> ContextActorCritic:
    """A ``ContextActorCritic`` sized from ``env``'s spaces and ``c``."""
    space = env.action_space(params)
    gaussian = distributions.is_gaussian(space)
    return ContextActorCritic(encoder_for(env.observation_space(params)),
                              distributions.head_size(space) * (2 if gaussian else 1), (c.hidden,) * 2, gaussian,
                              c.context, c.context_hidden)


class CtxTransition(NamedTuple):
    obs: Any
    prev_action: jax.Array  # features of the action that led to ``obs`` (ignored where ``start``)
    start: jax.Array  # bool: ``obs`` begins an episode
    action: jax.Array
    reward: jax.Array
    value: jax.Array
    log_prob: jax.Array
    terminated: jax.Array
    done: jax.Array
    final_obs: Any
    memory: jax.Array  # the extractor's memory after reading ``obs``
    ep_return: jax.Array
    ep_length: jax.Array


class Sequences(NamedTuple):
    """What the loss replays, per env: ``[num_envs, num_steps, ...]``."""

    obs: Any
    prev_action: jax.Array
    start: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array


class PPOCtxCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    train_state: TrainState
    env_state: Any
    obs: Any
    memory: jax.Array  # float32 [num_envs, context]
    prev_action: jax.Array  # float32 [num_envs, k]
    start: jax.Array  # bool [num_envs]: ``obs`` begins an episode
    stats: RunningReturns
    key: jax.Array
    update: jax.Array  # int32 []: updates done so far


def make_train(config: PPOCtxConfig, env, params) -> Trainer:
    """A ``Trainer`` running context-aware PPO on ``env`` with ``params``; its ``policy`` is a
    ``RecurrentPolicy``."""
    c = config
    net = context_actor_critic_for(env, params, c)
    space = env.action_space(params)
    dist = lambda head: distributions.make(space, head)
    feats = lambda a: action_features(space, a)
    k = distributions.head_size(space)
    tx = optimizer(c)
    v_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    N, H = c.num_envs, c.context

    def init(key):
        key, k_net, k_env = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, N), params)
        one = jax.tree.map(lambda x: x[0], obs)
        net_params = net.init(k_net, one, jnp.zeros(k), jnp.zeros(H), jnp.bool_(True))
        ts = TrainState.create(apply_fn=net.apply, params=net_params, tx=tx)
        return PPOCtxCarry(ts, env_state, obs, jnp.zeros((N, H)), jnp.zeros((N, k)), jnp.ones(N, bool),
                           RunningReturns.zeros(N), key, jnp.int32(0))

    def env_step(carry: PPOCtxCarry, _):
        key, k_act, k_env = jax.random.split(carry.key, 3)
        memory, head, value = net.apply(carry.train_state.params, carry.obs, carry.prev_action, carry.memory,
                                        carry.start)
        pi = dist(head)
        action = pi.sample(k_act)
        obs, env_state, reward, term, trunc, info = v_step(jax.random.split(k_env, N), carry.env_state, action, params)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward, done)
        tr = CtxTransition(carry.obs, carry.prev_action, carry.start, action, reward * c.reward_scale, value,
                           pi.log_prob(action), term, done, info["final_obs"], memory, ep_ret, ep_len)
        return carry._replace(env_state=env_state, obs=obs, memory=memory, prev_action=feats(action), start=done,
                              stats=stats, key=key), tr

    def loss_fn(net_params, seqs: Sequences, adv, targets, memory0):
        """PPO's loss on whole sequences ``[B, T, ...]``, replayed through the extractor from ``memory0 [B, H]``."""
        seqs, adv, targets = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), (seqs, adv, targets))  # time-major

        def step(memory, x):
            obs, prev_action, start = x
            memory = net.apply(net_params, obs, prev_action, memory, start, method="remember")
            return memory, memory

        _, memories = jax.lax.scan(step, memory0, (seqs.obs, seqs.prev_action, seqs.start))
        head, value = net.apply(net_params, seqs.obs, memories, method="heads")
        return ppo_loss(dist(head), value, seqs, adv, targets, c)

    def update(carry: PPOCtxCarry, _):
        memory0 = carry.memory
        carry, traj = jax.lax.scan(env_step, carry, None, c.num_steps)
        net_params = carry.train_state.params
        next_values = net.apply(net_params, traj.final_obs, feats(traj.action), traj.memory, method="bootstrap_value")
        adv, targets = gae(traj.reward, traj.value, next_values, traj.terminated, traj.done, c.gamma, c.gae_lambda)
        seqs = Sequences(traj.obs, traj.prev_action, traj.start, traj.action, traj.log_prob, traj.value)
        per_env = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), (seqs, adv, targets))  # [N, T, ...]
        key, k_epochs = jax.random.split(carry.key)
        ts, aux = sgd_epochs(carry.train_state, (*per_env, memory0), k_epochs, loss_fn, c)
        stats = carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        carry = carry._replace(train_state=ts, stats=stats, key=key, update=carry.update + 1)
        return carry, update_metrics(aux, stats, carry.update * c.batch_size)

    def step(carry: PPOCtxCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: PPOCtxCarry):
        net_params = carry.train_state.params

        def apply(key, obs, memory, mask=None):
            """The greedy action for one observation and the memory ``(gru [H], previous action [k], start)``."""
            gru, prev_action, start = memory
            gru, head, _ = net.apply(net_params, obs, prev_action, gru, start)
            action = dist(head).mode()
            return action, (gru, feats(action), jnp.bool_(False))

        return RecurrentPolicy(apply, (jnp.zeros(H), jnp.zeros(k), jnp.bool_(True)))

    return make_trainer(init, step, c.num_chunks, policy)
