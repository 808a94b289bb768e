"""Multi-agent value-based learners for ``MultiAgentEnv``: independent Q-learning (``iql_marl``), VDN and QMIX.

Algorithms: independent Q-learning with parameter sharing (Tan, ICML 1993; Tampuu et al. 2017), VDN
(Sunehag et al., AAMAS 2018) and QMIX (Rashid et al., ICML 2018); the mixers and targets are in
``realax.agents.mixing``. Structure and SMAX defaults follow JaxMARL's ``baselines/QLearning/{iql,vdn,qmix}_rnn.py``
and ``config/alg/ql_rnn_smax.yaml`` (Rutherford et al., NeurIPS 2024 D&B), env-agnostic on stacked ``[A, ...]``
arrays (DESIGN §2):

- one Q-network shared by all agents, an agent-id one-hot appended to its input (``agent_id``); with
  ``recurrent=True`` it is the GRU network of IPPO/MAPPO's recurrent actor (``networks.AgentActorCritic``:
  dense, GRU, dense, one Q-value per action), otherwise its feed-forward actor;
- epsilon-greedy over the legal actions only (``env.action_mask``): greedy is the best legal action,
  exploring draws uniformly among legal ones; the double-Q target's arg-max skips illegal actions too;
- each update steps ``num_envs`` envs ``num_steps`` times (envs carry on across updates, as in IPPO/MAPPO)
  and stores each env's ``num_steps`` transitions as one sequence, with the GRU memory it started from, in a
  replay buffer of ``buffer_size`` sequences; then ``num_epochs`` gradient steps each train on ``batch_size``
  sampled sequences, replayed from their stored memory (R2D2's "stored state", Kapturowski et al., ICLR 2019),
  the memory cleared where an episode starts. JaxMARL instead resets the envs at every update so that its
  sequences start with episodes; carrying on keeps episodes longer than ``num_steps`` whole;
- targets: double-Q (online arg-max, target-network value) on the observation reached before any reset
  (``info["final_obs"]``, its global state and action mask), so a truncated episode bootstraps and a
  terminated one does not; λ-returns over each sequence (``td_lambda``; 0 is the one-step target of JaxMARL's
  ``*_rnn.py``); the target network is a copy of the online one every ``target_every`` updates;
- VDN and QMIX learn from the team reward, the mean of the agents' rewards (SMAX pays every agent the same
  reward, so this is JaxMARL's ``rewards[agents[0]]`` there); IQL learns each agent's own reward;
- dead agents (``info["alive"]``, as IPPO/MAPPO read it): an agent dead when acting adds nothing to
  ``Q_tot`` (its Q-value enters the mixer as 0) and its own IQL loss has weight 0; an agent that dies in a
  step has no next value (its term enters the next ``Q_tot`` as 0; for IQL that step ends its episode);
- ``metrics["return"]`` is the team return (sum over agents, unscaled) of the episodes that finished in an
  update; envs reporting ``info["won"]`` also give ``metrics["win_rate"]``.

>>> env, params = realax.make("realax/SMAX-v0", scenario="3m")
>>> trainer = make_train(QMIXConfig(total_timesteps=200_000), env, params, "qmix")
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents.dqn import Buffer, buffer_add, buffer_sample
from realax.agents.mixing import QMixer, double_q_next, lambda_returns, vdn
from realax.agents.multi import episode_metrics, greedy_policy, masked_logits, reports_won, update_win_rate
from realax.agents.networks import agent_actor_critic_for, encoder_for
from realax.agents.trainer import RolloutBudget, RunningReturns, Trainer, epsilon_schedule, make_trainer
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require

#: how each learner combines the agents' Q-values: none (independent), a sum, or QMIX's mixer
MIXERS = ("none", "vdn", "qmix")


@dataclasses.dataclass(frozen=True)
class MarlQConfig(RolloutBudget):
    """Settings shared by IQL, VDN and QMIX; defaults are JaxMARL's SMAX ones (``baselines/QLearning/config/alg/
    ql_rnn_smax.yaml``, "valid for iql, vdn, qmix") except ``buffer_size``."""

    num_envs: int = 16
    """Environments stepped in parallel (vmapped); each holds ``A`` agents (JaxMARL: 16)."""
    num_steps: int = 128
    """Steps per environment in each update: the length of a stored sequence (JaxMARL: 128)."""
    total_timesteps: int = 10_000_000
    """Environment steps in the whole run (one step moves every agent; rounded down to whole updates; JaxMARL:
    1e7)."""
    buffer_size: int = 1_000
    """Replay capacity in sequences of ``num_steps`` steps, oldest overwritten. JaxMARL keeps 5,000; realax
    keeps fewer by default because it stores each step's next observation too (so truncations bootstrap) and
    checkpoints the buffer with the run: QMIX's 1,000 sequences of SMAX 3m are 0.32 GB per seed (5,000: 1.6 GB)."""
    batch_size: int = 32
    """Sequences per gradient step (JaxMARL: 32)."""
    num_epochs: int = 8
    """Gradient steps per update (JaxMARL: 8)."""
    lr: float = 5e-5
    """RAdam learning rate (JaxMARL: 5e-5, RAdam)."""
    max_grad_norm: float = 10.0
    """Global gradient-norm clip (JaxMARL: 10)."""
    gamma: float = 0.99
    """Discount factor (JaxMARL: 0.99)."""
    td_lambda: float = 0.0
    """λ of the λ-return targets; 0 is the one-step target (JaxMARL's ``*_rnn.py``; PyMARL2 uses 0.6)."""
    eps_start: float = 1.0
    """Exploration rate at the start (JaxMARL: 1.0)."""
    eps_end: float = 0.05
    """Exploration rate after the decay (JaxMARL: 0.05)."""
    eps_fraction: float = 0.1
    """Fraction of the updates over which epsilon decays linearly (JaxMARL: 0.1)."""
    learning_starts: int = 10_000
    """Environment steps before the first gradient step (JaxMARL: 10,000)."""
    target_every: int = 10
    """Updates between copies of the online networks into the target networks (JaxMARL: 10, tau 1)."""
    reward_scale: float = 10.0
    """Multiplies the rewards learnt from (not the reported returns); JaxMARL's 10 brings SMAX's rewards to
    SMAC's scale."""
    hidden: int = 512
    """Width of the agent network's layers and GRU memory (JaxMARL: 512)."""
    recurrent: bool = True
    """GRU agent network trained on sequences (JaxMARL's ``*_rnn.py``); false: a two-layer feed-forward one."""
    agent_id: bool = True
    """Append a one-hot agent index to the agent network's input (lets shared parameters specialise)."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 10
    """Updates per ``Trainer.step`` call (one jitted chunk between progress reports)."""

    def __post_init__(self):
        require(self, positive=("num_envs", "num_steps", "total_timesteps", "buffer_size", "batch_size",
                                "num_epochs", "target_every", "reward_scale", "hidden", "num_seeds",
                                "updates_per_chunk"),
                nonnegative=("lr", "max_grad_norm", "learning_starts"),
                unit=("gamma", "td_lambda", "eps_start", "eps_end", "eps_fraction"), at_most=SIZE_LIMITS)


@dataclasses.dataclass(frozen=True)
class IQLMarlConfig(MarlQConfig):
    """Independent Q-learning settings (all fields from ``MarlQConfig``): each agent regresses its own Q-value
    on its own reward."""


@dataclasses.dataclass(frozen=True)
class VDNConfig(MarlQConfig):
    """VDN settings (all fields from ``MarlQConfig``): ``Q_tot`` is the sum of the agents' Q-values."""


@dataclasses.dataclass(frozen=True)
class QMIXConfig(MarlQConfig):
    """QMIX settings: ``MarlQConfig`` and the mixing network's (JaxMARL's ``ql_rnn_smax.yaml``)."""

    mixer_embed: int = 64
    """Width of the mixing network's hidden layer (JaxMARL ``MIXER_EMBEDDING_DIM``: 64)."""
    hypernet_hidden: int = 256
    """Width of the hypernetworks' hidden layer (JaxMARL ``MIXER_HYPERNET_HIDDEN_DIM``: 256)."""
    mixer_init_scale: float = 0.001
    """Gain of the mixer's orthogonal initialisation (JaxMARL ``MIXER_INIT_SCALE``: 0.001)."""

    def __post_init__(self):
        super().__post_init__()
        require(self, positive=("mixer_embed", "hypernet_hidden", "mixer_init_scale"),
                at_most={"mixer_embed": SIZE_LIMITS["hidden"], "hypernet_hidden": SIZE_LIMITS["hidden"]})


class Sequence(NamedTuple):
    """One env's ``num_steps`` transitions (``[T, ...]``; the buffer adds a leading axis) and its first memory."""

    obs: Any  # [T, A, ...]
    next_obs: Any  # [T, A, ...]: reached before any reset (info["final_obs"])
    state: jax.Array  # float32 [T, S]: global state when acting (S = 0 unless QMIX)
    next_state: jax.Array  # float32 [T, S]: global state reached before any reset
    next_mask: jax.Array  # bool [T, A, n]: legal actions there
    action: jax.Array  # int32 [T, A]
    reward: jax.Array  # float32 [T, A], scaled by reward_scale
    alive: jax.Array  # bool [T, A]: alive when acting
    next_alive: jax.Array  # bool [T, A]: alive after the step
    start: jax.Array  # bool [T]: obs begins an episode (clears the memory)
    terminated: jax.Array  # bool [T]
    done: jax.Array  # bool [T]: terminated or truncated
    memory0: jax.Array  # float32 [A, H]: the memory the sequence started from (H = 0 without a GRU)


class QCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    train_state: TrainState  # params {"agent": ..., "mixer": ...}
    target: Any
    buffer: Buffer
    env_state: Any
    obs: Any  # [N, A, ...]
    alive: jax.Array  # bool [N, A]
    memory: jax.Array  # float32 [N, A, H]
    start: jax.Array  # bool [N]
    stats: RunningReturns
    win_rate: jax.Array  # float32 []
    key: jax.Array
    update: jax.Array  # int32 []


def epsilon_greedy(key: jax.Array, q: jax.Array, mask: jax.Array, eps: jax.Array) -> jax.Array:
    """``int32 [...]`` actions from ``q [..., n]``: with probability ``eps`` uniform among the legal actions
    (``mask`` bool ``[..., n]``), otherwise the best legal one."""
    k_explore, k_uniform = jax.random.split(key)
    greedy = jnp.argmax(masked_logits(q, mask), -1)
    uniform = jax.random.categorical(k_uniform, masked_logits(jnp.zeros_like(q), mask))
    return jnp.where(jax.random.uniform(k_explore, greedy.shape) < eps, uniform, greedy).astype(jnp.int32)


def td_targets(q_next_online: jax.Array, q_next_target: jax.Array, seq: Sequence, mix_target, gamma: float,
               lam: float) -> jax.Array:
    """Double-Q λ-return targets of time-major sequences (``[T, B, ...]``; Q-values ``[T, B, A, n]``): ``[T, B]``
    for ``Q_tot`` with the target mixer ``mix_target(q [T, B, A], state) -> Q_tot``, or ``[T, B, A]`` per agent
    when it is None (independent learners). See the module docstring for dead agents."""
    next_q = double_q_next(q_next_online, q_next_target, seq.next_mask) * seq.next_alive
    if mix_target is None:  # per agent: an agent that dies ends its own episode there
        gone = ~seq.next_alive
        return lambda_returns(seq.reward, next_q, seq.terminated[..., None] | gone, seq.done[..., None] | gone,
                              gamma, lam)
    return lambda_returns(seq.reward.mean(-1), mix_target(next_q, seq.next_state), seq.terminated, seq.done,
                          gamma, lam)


def td_loss(q: jax.Array, targets: jax.Array, seq: Sequence, mix) -> jax.Array:
    """Squared TD error of the chosen actions' values ``q [T, B, A, n]`` against ``targets`` (``td_targets``):
    of ``Q_tot = mix(q_chosen [T, B, A], state)``, where dead agents' values enter as 0, or per agent (``mix``
    None), dead agents weighted 0."""
    alive = seq.alive.astype(jnp.float32)
    chosen = jnp.take_along_axis(q, seq.action[..., None], -1)[..., 0] * alive
    targets = jax.lax.stop_gradient(targets)
    if mix is None:
        return (alive * (chosen - targets) ** 2).sum() / jnp.maximum(alive.sum(), 1.0)
    return ((mix(chosen, seq.state) - targets) ** 2).mean()


def make_train(config: MarlQConfig, env, params, mixer: str) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running independent Q-learning (``mixer="none"``),
    VDN (``"vdn"``) or QMIX (``"qmix"``, with a ``QMIXConfig``) on ``env``; ``policy(carry)`` is the greedy
    ``fn(key, obs [A, ...], mask=None) -> actions [A]``, or with a GRU a ``RecurrentPolicy``."""
    if mixer not in MIXERS:
        raise RealaxError(f"unknown mixer {mixer!r}; one of {list(MIXERS)}")
    if not isinstance(env.unwrapped, MultiAgentEnv):
        raise RealaxError(f"{type(env).__name__} is not a MultiAgentEnv; IQL/VDN/QMIX train multi-agent envs")
    if mixer == "qmix" and not isinstance(config, QMIXConfig):
        raise RealaxError(f"QMIX needs a QMIXConfig (its mixer's settings), got {type(config).__name__}")
    c = config
    A, N, T = env.num_agents, c.num_envs, c.num_steps
    net = agent_actor_critic_for(env, params, c.hidden, centralised=False, agent_id=c.agent_id,
                                 recurrent=c.recurrent)
    H = c.hidden if c.recurrent else 0
    agents = jnp.broadcast_to(jnp.arange(A), (N, A))
    tx = optax.chain(optax.clip_by_global_norm(c.max_grad_norm), optax.radam(c.lr))
    v_step = jax.vmap(env.step_with_final_state, in_axes=(0, 0, 0, None))
    v_mask = jax.vmap(env.action_mask, in_axes=(0, None))
    epsilon = epsilon_schedule(c)
    has_won = reports_won(env, params)
    qmixer = QMixer(c.mixer_embed, c.hypernet_hidden, c.mixer_init_scale) if mixer == "qmix" else None
    n_actions = env.action_space(params).n
    state_encoder = encoder_for(env.global_state_space(params))

    def global_state(env_state):  # [N, S]; nothing is stored for learners without a mixing network
        if qmixer is None:
            return jnp.zeros((N, 0))
        return jax.vmap(env.global_state, in_axes=(0, None))(env_state, params)

    def mixers(net_params):
        """``mix(q [..., A], state [..., S]) -> Q_tot`` of ``net_params`` (None for independent learners)."""
        if mixer == "vdn":
            return lambda q, s: vdn(q)
        if mixer == "qmix":
            return lambda q, s: qmixer.apply(net_params["mixer"], q, state_encoder.apply({}, s))
        return None

    def q_values(agent_params, obs, agent, memory, start):
        """``(memory, q [..., n])`` of one step; memory passes through untouched without a GRU."""
        if c.recurrent:
            return net.apply(agent_params, obs, agent, memory, start, method="actor_step")
        return memory, net.apply(agent_params, obs, agent, method="actor")

    def init(key):
        key, k_net, k_mix, k_env = jax.random.split(key, 4)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, N), params)
        if c.recurrent:
            agent_params = net.init(k_net, obs[0], agents[0], jnp.zeros((A, H)), jnp.ones(A, bool), method="actor_step")
        else:
            agent_params = net.init(k_net, obs[0], agents[0], method="actor")
        gs = global_state(env_state)[0]
        mix_params = qmixer.init(k_mix, jnp.zeros(A), state_encoder.apply({}, gs)) if qmixer is not None else {}
        net_params = {"agent": agent_params, "mixer": mix_params}
        ts = TrainState.create(apply_fn=net.apply, params=net_params, tx=tx)
        z = lambda shape, dtype=jnp.float32: jnp.zeros((c.buffer_size, *shape), dtype)  # noqa: E731
        ob, st = (T, *obs.shape[1:]), (T, *gs.shape)
        rows = Sequence(z(ob, obs.dtype), z(ob, obs.dtype), z(st, gs.dtype), z(st, gs.dtype), z((T, A, n_actions), bool),
                        z((T, A), jnp.int32), z((T, A)), z((T, A), bool), z((T, A), bool), z((T,), bool), z((T,), bool),
                        z((T,), bool), z((A, H)))
        return QCarry(ts, net_params, Buffer(rows, jnp.int32(0), jnp.int32(0)), env_state, obs, jnp.ones((N, A), bool),
                      jnp.zeros((N, A, H)), jnp.ones(N, bool), RunningReturns.zeros(N), jnp.float32(jnp.nan), key,
                      jnp.int32(0))

    def env_step(carry: QCarry, _):
        key, k_act, k_env = jax.random.split(carry.key, 3)
        start = jnp.broadcast_to(carry.start[:, None], (N, A))
        memory, q = q_values(carry.train_state.params["agent"], carry.obs, agents, carry.memory, start)
        action = epsilon_greedy(k_act, q, v_mask(carry.env_state, params), epsilon(carry.update))
        obs, env_state, reward, term, trunc, info, final_state = v_step(jax.random.split(k_env, N),
                                                                        carry.env_state, action, params)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward.sum(-1), done)
        next_alive = info["alive"].astype(bool)
        step = Sequence(carry.obs, info["final_obs"], global_state(carry.env_state), global_state(final_state),
                        v_mask(final_state, params), action, reward.astype(jnp.float32) * c.reward_scale,
                        carry.alive, next_alive, carry.start, term, done, jnp.zeros(N))
        won = info["won"].astype(bool) if has_won else jnp.zeros(N, bool)
        carry = carry._replace(env_state=env_state, obs=obs, alive=jnp.where(done[:, None], True, next_alive),
                               memory=memory, start=done, stats=stats, key=key)
        return carry, (step, ep_ret, ep_len, won)

    def collect(carry: QCarry):
        """``num_steps`` steps of every env: the carry after them, the sequences ``[N, T, ...]`` and the
        episode ends ``(return, length, won, done)`` ``[T, N]``."""
        memory0 = carry.memory
        carry, (steps, ep_ret, ep_len, won) = jax.lax.scan(env_step, carry, None, T)
        seqs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), steps)._replace(memory0=memory0)
        return carry, seqs, (ep_ret, ep_len, won, steps.done)

    def unroll(agent_params, seq: Sequence):
        """Q-values at the observations ``[T, B, A, n]`` and at the next observations, each reached from the
        memory after its own step (time-major sequences; memory replayed from ``seq.memory0``)."""
        agent = jnp.broadcast_to(jnp.arange(A), seq.action.shape)
        if not c.recurrent:
            return (net.apply(agent_params, seq.obs, agent, method="actor"),
                    net.apply(agent_params, seq.next_obs, agent, method="actor"))

        def body(memory, x):
            obs, ag, start = x
            memory, q = q_values(agent_params, obs, ag, memory, start)
            return memory, (memory, q)

        start = jnp.broadcast_to(seq.start[..., None], seq.action.shape)
        _, (memories, q) = jax.lax.scan(body, seq.memory0, (seq.obs, agent, start))
        _, q_next = q_values(agent_params, seq.next_obs, agent, memories, jnp.zeros(seq.action.shape, bool))
        return q, q_next

    def loss_fn(net_params, target, seq: Sequence):
        q, q_next_online = unroll(net_params["agent"], seq)
        _, q_next_target = unroll(target["agent"], seq)
        y = td_targets(q_next_online, q_next_target, seq, mixers(target), c.gamma, c.td_lambda)
        return td_loss(q, y, seq, mixers(net_params))

    def grad_step(carry, key):
        ts, target, buf = carry
        seq = buffer_sample(key, buf, c.batch_size)  # [B, T, ...] -> time-major [T, B, ...]; memory [B, A, H]
        seq = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), seq._replace(memory0=None))._replace(memory0=seq.memory0)
        loss, grads = jax.value_and_grad(loss_fn)(ts.params, target, seq)
        return (ts.apply_gradients(grads=grads), target, buf), loss

    def learn(ts, target, buf, key):
        (ts, _, _), loss = jax.lax.scan(grad_step, (ts, target, buf), jax.random.split(key, c.num_epochs))
        return ts, loss.mean()

    def update(carry: QCarry, _):
        k_learn, key = jax.random.split(carry.key)
        eps = epsilon(carry.update)
        carry, seqs, (ep_ret, ep_len, won, done) = collect(carry._replace(key=key))
        buf = buffer_add(carry.buffer, seqs)
        ready = (carry.update + 1) * c.env_steps_per_update >= c.learning_starts
        ts, loss = jax.lax.cond(ready, learn, lambda ts, *_: (ts, jnp.float32(jnp.nan)), carry.train_state,
                                carry.target, buf, k_learn)
        copy = (carry.update + 1) % c.target_every == 0
        target = jax.tree.map(lambda t, o: jnp.where(copy, o, t), carry.target, ts.params)
        stats = carry.stats.summarise(done, ep_ret, ep_len)
        win_rate = update_win_rate(carry.win_rate, done, won)
        carry = carry._replace(train_state=ts, target=target, buffer=buf, stats=stats, win_rate=win_rate,
                               update=carry.update + 1)
        return carry, {"td_loss": loss, "epsilon": eps, **episode_metrics(stats, win_rate if has_won else None,
                                                                           carry.update * c.env_steps_per_update)}

    def step(carry: QCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: QCarry):
        return greedy_policy(net, carry.train_state.params["agent"], A, H)

    return make_trainer(init, step, c.num_chunks, policy)
