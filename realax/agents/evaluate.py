"""What every agent shares: the ``Trainer`` interface, episode statistics during training, and greedy
evaluation over full episodes.

Episode statistics follow purejaxrl's ``LogWrapper`` idea (``luchris429/purejaxrl``, ``wrappers.py``):
each parallel env carries its running return and length; when an episode ends they are reported and reset.
Here this lives in the training carry instead of a wrapper, because realax environments autoreset inside
``step`` (DESIGN §2).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from realax.core import is_multi_agent


class Trainer(NamedTuple):
    """What ``make_train`` of every agent returns (the CLI relies on exactly these fields).

    ``init(key) -> carry`` and ``step(carry) -> (carry, metrics)`` are pure and vmappable over seeds;
    ``step`` runs ``updates_per_chunk`` updates and its metrics have that leading axis. ``num_chunks``
    steps make the whole run; ``train(key)`` does all of them in one jitted call. ``policy(carry)`` is the
    greedy policy ``fn(key, obs) -> action`` for one unbatched observation (a ``RecurrentPolicy`` for agents
    with memory).
    """

    init: Callable[[jax.Array], Any]
    step: Callable[[Any], tuple[Any, dict]]
    num_chunks: int
    policy: Callable[[Any], Callable[[jax.Array, Any], jax.Array]]
    train: Callable[[jax.Array], tuple[Any, dict]]


def make_trainer(init, step, num_chunks: int, policy) -> Trainer:
    """Completes a ``Trainer`` with ``train``: ``init`` then ``num_chunks`` scanned ``step`` calls, jitted;
    metrics come back with one leading axis of ``num_chunks * updates_per_chunk`` updates."""

    @jax.jit
    def train(key):
        carry, metrics = jax.lax.scan(lambda c, _: step(c), init(key), None, num_chunks)
        return carry, jax.tree.map(lambda m: m.reshape(-1, *m.shape[2:]), metrics)

    return Trainer(init=init, step=step, num_chunks=num_chunks, policy=policy, train=train)


class EpisodeStats(NamedTuple):
    """Per-env running return/length and the mean return of the last batch of finished episodes."""

    ep_return: jax.Array  # float32 [num_envs]
    ep_length: jax.Array  # int32 [num_envs]
    last_return: jax.Array  # float32 []; NaN until an episode has finished
    last_length: jax.Array  # float32 []

    @classmethod
    def zeros(cls, num_envs: int) -> "EpisodeStats":
        return cls(jnp.zeros(num_envs), jnp.zeros(num_envs, jnp.int32), jnp.float32(jnp.nan), jnp.float32(jnp.nan))

    def record(self, reward: jax.Array, done: jax.Array) -> tuple["EpisodeStats", jax.Array, jax.Array]:
        """One vectorised step: ``(stats, finished_return [num_envs], finished_length [num_envs])``;
        the finished values are meaningful where ``done``."""
        ret, length = self.ep_return + reward, self.ep_length + 1
        stats = self._replace(ep_return=jnp.where(done, 0.0, ret), ep_length=jnp.where(done, 0, length))
        return stats, ret, length

    def summarise(self, done: jax.Array, returns: jax.Array, lengths: jax.Array) -> "EpisodeStats":
        """Mean over the episodes that finished in an update (any shape); keeps the previous value if none."""
        n = done.sum()
        mean = lambda x: jnp.where(n > 0, jnp.where(done, x, 0).sum() / jnp.maximum(n, 1), jnp.nan)
        return self._replace(last_return=jnp.where(n > 0, mean(returns), self.last_return),
                             last_length=jnp.where(n > 0, mean(lengths.astype(jnp.float32)), self.last_length))


def evaluate(env, params, policy_fn: Callable[[jax.Array, Any], jax.Array], key: jax.Array,
             episodes: int) -> jax.Array:
    """``float32 [episodes]`` (``[episodes, A]`` for multi-agent envs): each episode's sum of rewards.

    See ``evaluate_episodes``, which also reports wins.
    """
    return evaluate_episodes(env, params, policy_fn, key, episodes)["return"]


def evaluate_episodes(env, params, policy_fn: Callable[[jax.Array, Any], jax.Array], key: jax.Array,
                      episodes: int) -> dict[str, jax.Array]:
    """``{"return": [episodes(, A)], "won": bool [episodes]}`` of ``episodes`` independent episodes
    (``"won"`` only for envs that report ``info["won"]``, taken at each episode's end).

    Each episode is a ``jax.lax.scan`` of ``params.max_steps`` steps (so ``params`` must be concrete),
    vmapped over episodes; what follows an episode's first ``terminated or truncated`` is ignored.
    ``policy_fn(key, obs) -> action`` acts on one unbatched observation; on a multi-agent env a policy
    with a ``mask`` parameter gets ``mask=env.action_mask(state, params)`` (see ``actor``).
    """
    num_steps = int(params.max_steps)
    memory0, act = stateful_actor(env, params, policy_fn)

    def episode(k):
        k_reset, k_run = jax.random.split(k)
        obs, state = env.reset(k_reset, params)

        def body(c, k_t):
            obs, state, memory, alive, total, won = c
            k_act, k_env = jax.random.split(k_t)
            action, memory = act(k_act, obs, state, memory)
            obs, state, reward, terminated, truncated, info = env.step(k_env, state, action, params)
            done = terminated | truncated
            total = total + jnp.where(alive, reward, 0.0)
            won = jnp.where(alive & done, jnp.asarray(info.get("won", False)).astype(bool), won)
            return (obs, state, memory, alive & ~done, total, won), None

        zero = jnp.zeros((env.num_agents,) if is_multi_agent(env) else (), jnp.float32)
        init = (obs, state, memory0, jnp.bool_(True), zero, jnp.bool_(False))
        (*_, total, won), _ = jax.lax.scan(body, init, jax.random.split(k_run, num_steps))
        return total, won

    total, won = jax.vmap(episode)(jax.random.split(key, episodes))
    out = {"return": total}
    probe = jax.eval_shape(lambda k: env.step(k, env.reset(k, params)[1], _noop(env, params), params)[5], key)
    if "won" in probe:
        out["won"] = won
    return out


def _noop(env, params):
    shape = (env.num_agents,) if is_multi_agent(env) else ()
    return jnp.full(shape, env.noop_action, jnp.int32)


class RecurrentPolicy(NamedTuple):
    """A policy with memory (a recurrent agent): ``apply(key, obs, memory, mask=None) -> (action, memory)``;
    ``initial`` is the memory at the start of an episode."""

    apply: Callable
    initial: Any


def stateful_actor(env, params, policy) -> tuple[Any, Callable]:
    """``(memory0, act(key, obs, state, memory) -> (action, memory))`` for any policy: a ``RecurrentPolicy``
    carries its memory (reset it to ``memory0`` when an episode ends); a plain policy's memory is ``()``."""
    if isinstance(policy, RecurrentPolicy):
        masked = is_multi_agent(env)

        def act(key, obs, state, memory):
            return policy.apply(key, obs, memory, mask=env.action_mask(state, params) if masked else None)

        return policy.initial, act
    plain = actor(env, params, policy)
    return (), lambda key, obs, state, memory: (plain(key, obs, state), memory)


def actor(env, params, policy_fn) -> Callable[[jax.Array, Any, Any], jax.Array]:
    """``act(key, obs, state)`` for a memoryless policy: multi-agent policies that take ``mask`` (IPPO/MAPPO,
    the random baseline) get ``env.action_mask(state, params)``, policies that take ``state`` (oracles) the
    env state; others are called as ``policy_fn(key, obs)``.
    Policies with memory go through ``stateful_actor``."""
    if isinstance(policy_fn, RecurrentPolicy):
        raise TypeError("this policy is recurrent (it carries a memory between steps); use stateful_actor")
    if _accepts(policy_fn, "state"):  # oracles that read the true state (e.g. RoboTaxi's MPC)
        return lambda k, obs, state: policy_fn(k, obs, state=state)
    if is_multi_agent(env) and _accepts(policy_fn, "mask"):
        return lambda k, obs, state: policy_fn(k, obs, mask=env.action_mask(state, params))
    return lambda k, obs, state: policy_fn(k, obs)


def _accepts(fn, name: str) -> bool:
    """Whether a policy takes the keyword ``name`` (``mask``: multi-agent policies that respect action masks;
    ``state``: oracles)."""
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
