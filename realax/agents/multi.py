"""Multi-agent PPO shared by IPPO and MAPPO: parameter sharing with agents folded into the batch axis.

Algorithms: IPPO (de Witt et al., "Is Independent Learning All You Need in the StarCraft Multi-Agent
Challenge?", arXiv:2011.09533, 2020) and MAPPO (Yu et al., "The Surprising Effectiveness of PPO in
Cooperative Multi-Agent Games", NeurIPS 2022 D&B). Structure follows JaxMARL's ``ippo_ff_*.py`` /
``mappo_*.py`` (Rutherford et al. 2024), itself in the purejaxrl shape, but env-agnostic: it works on any
``realax.core.MultiAgentEnv`` (stacked ``[A, ...]`` arrays, DESIGN §2):

- one actor (and one critic) shared by all agents; a rollout of ``num_envs`` envs gives
  ``num_steps x num_envs x A`` transitions that the update shuffles together;
- invalid actions (``env.action_mask``) get logit ``MASKED_LOGIT`` when sampling, in the loss and in the
  greedy policy, so they are never chosen;
- transitions of agents that were dead when acting (``info["alive"]`` of the previous step) get weight 0 in
  every loss term and in the advantage normalisation;
- GAE per agent (``realax.agents.ppo.gae``) bootstraps a truncated episode from ``V(info["final_obs"])``
  (IPPO) or ``V(global_state(final state))`` (MAPPO) and not a terminated one;
- ``metrics["return"]`` is the team return (sum over agents) of the episodes that finished in an update;
  envs reporting ``info["won"]`` also give ``metrics["win_rate"]`` over those episodes.

``recurrent=True`` gives the actor a GRU memory (JaxMARL's ``ippo_rnn_smax.py`` / ``mappo_rnn_smax.py``
shape): the memory is cleared when an episode starts, and the update trains on whole rollouts, each
minibatch a set of env-agent sequences replayed from the memory they started with (truncated
backpropagation through time over ``num_steps``); the critic stays feed-forward.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax.training.train_state import TrainState

from realax.agents.evaluate import RecurrentPolicy
from realax.agents.networks import agent_actor_critic_for
from realax.agents.ppo import gae
from realax.agents.trainer import RolloutBudget, RunningReturns, Trainer, make_trainer
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require

#: logit given to actions the env's mask forbids (finite, so log-probabilities and entropies stay finite)
MASKED_LOGIT = -1e9


@dataclasses.dataclass(frozen=True)
class MultiPPOConfig(RolloutBudget):
    """Settings shared by IPPO and MAPPO (feed-forward, parameter-shared actor and critic)."""

    num_envs: int = 64
    """Environments stepped in parallel (vmapped); each holds ``A`` agents."""
    num_steps: int = 64
    """Steps per environment in each rollout; a batch is ``num_envs * num_steps * A`` agent transitions."""
    total_timesteps: int = 1_000_000
    """Environment steps in the whole run (one step moves every agent; rounded down to whole updates)."""
    lr: float = 5e-4
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over ``num_updates``."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda (bias/variance trade-off of the advantage)."""
    num_minibatches: int = 4
    """Minibatches per epoch."""
    update_epochs: int = 4
    """Passes over each batch."""
    clip_eps: float = 0.2
    """Clipping range of the probability ratio (and of the value change)."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    hidden: int = 128
    """Width of the two tanh hidden layers of the actor and of the critic."""
    agent_id: bool = True
    """Append a one-hot agent index to the actor's and critic's inputs (lets shared parameters specialise)."""
    recurrent: bool = False
    """GRU actor (memory of width ``hidden``) trained on whole sequences; ``num_envs * A`` must be divisible by
    ``num_minibatches``."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 10
    """Updates per ``Trainer.step`` call (one jitted chunk between progress reports)."""

    def __post_init__(self):
        require(self, positive=("num_envs", "num_steps", "total_timesteps", "num_minibatches", "update_epochs",
                                "hidden", "num_seeds", "updates_per_chunk"),
                nonnegative=("lr", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm"), unit=("gamma", "gae_lambda"),
                at_most=SIZE_LIMITS)


class Transition(NamedTuple):
    obs: Any  # [N, A, ...]
    critic_in: Any  # [N, A, ...]: own obs (IPPO) or global state (MAPPO)
    mask: jax.Array  # bool [N, A, n]
    action: jax.Array  # [N, A]
    reward: jax.Array  # [N, A]
    value: jax.Array  # [N, A]
    log_prob: jax.Array  # [N, A]
    alive: jax.Array  # bool [N, A]: alive when acting (loss weight)
    start: jax.Array  # bool [N]: obs begins an episode (clears a recurrent actor's memory)
    terminated: jax.Array  # [N]
    done: jax.Array  # [N]
    final_critic_in: Any  # [N, A, ...]: critic input of the state reached before any reset
    ep_return: jax.Array  # [N] team return of the episode if done
    ep_length: jax.Array  # [N]
    won: jax.Array  # bool [N]


class MultiCarry(NamedTuple):
    """Everything a run carries between updates (a pytree; vmap it over seeds)."""

    train_state: TrainState
    env_state: Any
    obs: Any  # [N, A, ...]
    alive: jax.Array  # bool [N, A]
    memory: jax.Array  # float32 [N, A, H] (H = 0 without a recurrent actor)
    start: jax.Array  # bool [N]: obs begins an episode
    stats: RunningReturns
    win_rate: jax.Array  # float32 []; NaN until an episode finished (or when the env reports no "won")
    key: jax.Array
    update: jax.Array  # int32 []


def masked_logits(logits: jax.Array, mask: jax.Array | None) -> jax.Array:
    """``logits`` with forbidden actions (``mask`` False) set to ``MASKED_LOGIT``."""
    return logits if mask is None else jnp.where(mask, logits, MASKED_LOGIT)


def weighted_ppo_loss(logits, value, mb_action, mb_log_prob, mb_value, adv, targets, weight, clip_eps: float):
    """PPO loss terms averaged with ``weight`` (0 for dead agents): ``(pg_loss, v_loss, entropy, approx_kl)``.

    ``logits`` must already be masked. Advantages are normalised with the weighted mean and std.
    """
    w = weight.astype(jnp.float32)
    n = jnp.maximum(w.sum(), 1.0)
    wmean = lambda x: (w * x).sum() / n
    logp_all = jax.nn.log_softmax(logits)
    log_prob = jnp.take_along_axis(logp_all, mb_action[..., None], -1)[..., 0]
    log_ratio = log_prob - mb_log_prob
    ratio = jnp.exp(log_ratio)
    mu = wmean(adv)
    adv = (adv - mu) / (jnp.sqrt(wmean((adv - mu) ** 2)) + 1e-8)
    pg_loss = -wmean(jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv))
    v_clipped = mb_value + jnp.clip(value - mb_value, -clip_eps, clip_eps)
    v_loss = 0.5 * wmean(jnp.maximum((value - targets) ** 2, (v_clipped - targets) ** 2))
    entropy = wmean(-(jnp.exp(logp_all) * logp_all).sum(-1))
    approx_kl = wmean((ratio - 1) - log_ratio)
    return pg_loss, v_loss, entropy, approx_kl


def reports_won(env, params) -> bool:
    """Whether ``env`` reports ``info["won"]`` (decided once, from shapes)."""
    _o, state = jax.eval_shape(env.reset, jax.random.key(0), params)
    return "won" in jax.eval_shape(env.step, jax.random.key(0), state, jnp.zeros(env.num_agents, jnp.int32), params)[5]


def update_win_rate(win_rate: jax.Array, done: jax.Array, won: jax.Array) -> jax.Array:
    """The share of won episodes among those that ended (``done``, any shape); ``win_rate`` if none did."""
    n_done = done.sum()
    return jnp.where(n_done > 0, (done & won).sum() / jnp.maximum(n_done, 1), win_rate)


def episode_metrics(stats: RunningReturns, win_rate: jax.Array | None, env_steps: jax.Array) -> dict:
    """An update's episode metrics: team ``return`` and ``length`` of the episodes that ended, ``env_steps``,
    and ``win_rate`` unless None (envs that report no ``info["won"]``)."""
    out = {"return": stats.last_return, "length": stats.last_length, "env_steps": env_steps}
    return out if win_rate is None else {**out, "win_rate": win_rate}


def make_multi_train(config: MultiPPOConfig, env, params, centralised: bool) -> Trainer:
    """A ``Trainer`` running IPPO (``centralised=False``) or MAPPO (``centralised=True``) on ``env``."""
    if not isinstance(env, MultiAgentEnv):
        raise RealaxError(f"{type(env).__name__} is not a MultiAgentEnv; IPPO/MAPPO train multi-agent envs")
    c = config
    A, N = env.num_agents, c.num_envs
    net = agent_actor_critic_for(env, params, c.hidden, centralised=centralised, agent_id=c.agent_id,
                                 recurrent=c.recurrent)
    H = c.hidden if c.recurrent else 0
    if c.recurrent and (N * A) % c.num_minibatches:
        raise RealaxError(f"recurrent: num_envs * agents = {N * A} must be divisible by num_minibatches "
                         f"= {c.num_minibatches}")
    batch = c.num_steps * N * A
    steps_per_update = c.num_minibatches * c.update_epochs
    agents = jnp.broadcast_to(jnp.arange(A), (N, A))

    def lr_schedule(count):
        return c.lr * jnp.maximum(1.0 - (count // steps_per_update) / c.num_updates, 0.0)

    tx = optax.chain(optax.clip_by_global_norm(c.max_grad_norm),
                     optax.adam(lr_schedule if c.anneal_lr else c.lr, eps=1e-5))
    v_step = jax.vmap(env.step_with_final_state, in_axes=(0, 0, 0, None))
    v_mask = jax.vmap(env.action_mask, in_axes=(0, None))

    def critic_input(obs, state):  # [N, A, ...]
        if not centralised:
            return obs
        gs = jax.vmap(env.global_state, in_axes=(0, None))(state, params)
        return jnp.broadcast_to(gs[:, None], (gs.shape[0], A, *gs.shape[1:]))

    has_won = reports_won(env, params)

    def init(key):
        key, k_net, k_env = jax.random.split(key, 3)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, N), params)
        crit = critic_input(obs, env_state)
        net_params = net.init(k_net, obs[0], crit[0], agents[0])
        ts = TrainState.create(apply_fn=net.apply, params=net_params, tx=tx)
        return MultiCarry(ts, env_state, obs, jnp.ones((N, A), bool), jnp.zeros((N, A, H)), jnp.ones(N, bool),
                          RunningReturns.zeros(N), jnp.float32(jnp.nan), key, jnp.int32(0))

    def env_step(carry: MultiCarry, _):
        key, k_act, k_env = jax.random.split(carry.key, 3)
        mask = v_mask(carry.env_state, params)
        crit = critic_input(carry.obs, carry.env_state)
        net_params, memory = carry.train_state.params, carry.memory
        if c.recurrent:
            start = jnp.broadcast_to(carry.start[:, None], (N, A))
            memory, logits = net.apply(net_params, carry.obs, agents, memory, start, method="actor_step")
            value = net.apply(net_params, crit, agents, method="critic")
        else:
            logits, value = net.apply(net_params, carry.obs, crit, agents)
        logits = masked_logits(logits, mask)
        action = jax.random.categorical(k_act, logits).astype(jnp.int32)
        log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[..., None], -1)[..., 0]
        obs, env_state, reward, term, trunc, info, final_state = v_step(jax.random.split(k_env, N),
                                                                        carry.env_state, action, params)
        done = term | trunc
        stats, ep_ret, ep_len = carry.stats.record(reward.sum(-1), done)
        final_crit = info["final_obs"] if not centralised else critic_input(info["final_obs"], final_state)
        alive_next = jnp.where(done[:, None], True, info["alive"].astype(bool))
        won = info["won"].astype(bool) if has_won else jnp.zeros(N, bool)
        tr = Transition(carry.obs, crit, mask, action, reward, value, log_prob, carry.alive, carry.start, term, done,
                        final_crit, ep_ret, ep_len, won)
        return carry._replace(env_state=env_state, obs=obs, alive=alive_next, memory=memory, start=done, stats=stats,
                              key=key), tr

    def actor_critic(net_params, mb, memory0):
        """Logits and values of a minibatch: transitions ``[B, ...]``, or for a recurrent actor sequences
        ``[T, B, ...]`` replayed from their first memory ``memory0 [B, H]``."""
        if not c.recurrent:
            return net.apply(net_params, mb.obs, mb.critic_in, mb.agent)

        def replay(memory, x):
            obs, agent, start = x
            return net.apply(net_params, obs, agent, memory, start, method="actor_step")

        _, logits = jax.lax.scan(replay, memory0, (mb.obs, mb.agent, mb.start))
        return logits, net.apply(net_params, mb.critic_in, mb.agent, method="critic")

    def loss_fn(net_params, mb, memory0, adv, targets):
        logits, value = actor_critic(net_params, mb, memory0)
        logits = masked_logits(logits, mb.mask)
        pg, vl, ent, kl = weighted_ppo_loss(logits, value, mb.action, mb.log_prob, mb.value, adv, targets,
                                            mb.alive, c.clip_eps)
        total = pg + c.vf_coef * vl - c.ent_coef * ent
        return total, {"loss": total, "policy_loss": pg, "value_loss": vl, "entropy": ent, "approx_kl": kl}

    class MB(NamedTuple):  # the per-transition fields the loss needs
        obs: Any
        critic_in: Any
        mask: jax.Array
        action: jax.Array
        log_prob: jax.Array
        value: jax.Array
        alive: jax.Array
        agent: jax.Array
        start: jax.Array

    def sgd_step(ts: TrainState, b):
        grads, aux = jax.grad(loss_fn, has_aux=True)(ts.params, *b)
        return ts.apply_gradients(grads=grads), aux

    def split(x, perm, axis):  # shuffle along ``axis``, then cut it into minibatches (a new leading axis)
        x = jnp.moveaxis(jnp.take(x, perm, axis=axis), axis, 0)
        x = x[: c.num_minibatches * (x.shape[0] // c.num_minibatches)]
        return jnp.moveaxis(x.reshape(c.num_minibatches, -1, *x.shape[1:]), 1, axis + 1)

    def epoch(carry, _):
        ts, key, (seqs, memory0) = carry
        key, k_perm = jax.random.split(key)
        if c.recurrent:  # whole sequences: shuffle the env-agent axis (1), keep time (0) in order
            perm = jax.random.permutation(k_perm, N * A)
            mbs = (jax.tree.map(lambda x: split(x, perm, 1), seqs), split(memory0, perm, 0))
        else:  # single transitions
            perm = jax.random.permutation(k_perm, batch)
            mbs = (jax.tree.map(lambda x: split(x, perm, 0), seqs), jnp.zeros(c.num_minibatches))
        ts, aux = jax.lax.scan(lambda t, b: sgd_step(t, (b[0][0], b[1], *b[0][1:])), ts, mbs)
        return (ts, key, (seqs, memory0)), aux

    def update(carry: MultiCarry, _):
        memory0 = carry.memory
        carry, traj = jax.lax.scan(env_step, carry, None, c.num_steps)
        next_values = net.apply(carry.train_state.params, traj.final_critic_in,
                                jnp.broadcast_to(agents, traj.action.shape), method="critic")
        term = jnp.broadcast_to(traj.terminated[..., None], traj.reward.shape)
        done = jnp.broadcast_to(traj.done[..., None], traj.reward.shape)
        adv, targets = gae(traj.reward, traj.value, next_values, term, done, c.gamma, c.gae_lambda)
        mb = MB(traj.obs, traj.critic_in, traj.mask, traj.action, traj.log_prob, traj.value, traj.alive,
                jnp.broadcast_to(agents, traj.action.shape), jnp.broadcast_to(traj.start[..., None], traj.action.shape))
        if c.recurrent:  # [T, N, A, ...] -> sequences [T, N*A, ...]; memory [N*A, H]
            seqs = jax.tree.map(lambda x: x.reshape(c.num_steps, N * A, *x.shape[3:]), (mb, adv, targets))
            data = (seqs, memory0.reshape(N * A, H))
        else:  # [T, N, A, ...] -> transitions [T*N*A, ...]
            data = (jax.tree.map(lambda x: x.reshape(batch, *x.shape[3:]), (mb, adv, targets)), jnp.zeros(()))
        key, k_epochs = jax.random.split(carry.key)
        (ts, _, _), aux = jax.lax.scan(epoch, (carry.train_state, k_epochs, data), None, c.update_epochs)
        stats = carry.stats.summarise(traj.done, traj.ep_return, traj.ep_length)
        win_rate = update_win_rate(carry.win_rate, traj.done, traj.won)
        carry = carry._replace(train_state=ts, stats=stats, win_rate=win_rate, key=key, update=carry.update + 1)
        metrics = {k: v.mean() for k, v in aux.items()}
        return carry, {**metrics, **episode_metrics(stats, win_rate if has_won else None,
                                                    carry.update * c.env_steps_per_update)}

    def step(carry: MultiCarry):
        return jax.lax.scan(update, carry, None, c.updates_per_chunk)

    def policy(carry: MultiCarry):
        return greedy_policy(net, carry.train_state.params, A, H)

    return make_trainer(init, step, c.num_chunks, policy)


def greedy_policy(net, net_params, num_agents: int, memory: int):
    """The greedy policy of a parameter-shared ``AgentActorCritic``'s actor output (logits, or Q-values for the
    value-based learners of ``realax.agents.marl_q``): ``fn(key, obs [A, ...], mask=None) -> actions [A]``, or
    with a GRU (``memory`` > 0, its width) a ``RecurrentPolicy`` that also carries the memory ``[A, memory]``."""
    agents = jnp.arange(num_agents)

    def fn(key, obs, mask=None):
        """Greedy joint action ``[A]`` for one stacked observation ``[A, ...]``; ``mask`` ``bool [A, n]``."""
        logits = net.apply(net_params, obs, agents, method="actor")
        return jnp.argmax(masked_logits(logits, mask), -1).astype(jnp.int32)

    def recurrent_fn(key, obs, memory, mask=None):
        """Greedy joint action ``[A]`` and the next memory ``[A, H]`` (zeros start an episode)."""
        memory, logits = net.apply(net_params, obs, agents, memory, jnp.zeros(num_agents, bool), method="actor_step")
        return jnp.argmax(masked_logits(logits, mask), -1).astype(jnp.int32), memory

    return RecurrentPolicy(recurrent_fn, jnp.zeros((num_agents, memory))) if memory else fn
