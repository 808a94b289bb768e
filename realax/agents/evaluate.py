"""Greedy evaluation over full episodes, and how a policy is called on an env (masks, oracles, memory)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from realax.core import is_multi_agent
from realax.errors import RealaxError


def evaluate(env, params, policy_fn: Callable[[jax.Array, Any], jax.Array], key: jax.Array,
             episodes: int) -> jax.Array:
    """``float32 [episodes]`` (``[episodes, A]`` for multi-agent envs): each episode's sum of rewards.

    See ``evaluate_episodes``, which also reports wins.
    """
    return evaluate_episodes(env, params, policy_fn, key, episodes)["return"]


def evaluate_episodes(env, params, policy_fn: Callable[[jax.Array, Any], jax.Array], key: jax.Array,
                      episodes: int, sums: tuple[str, ...] = ()) -> dict[str, jax.Array]:
    """``{"return": [episodes(, A)], "won": bool [episodes]}`` of ``episodes`` independent episodes
    (``"won"`` only for envs that report ``info["won"]``, taken at each episode's end), plus, for each
    ``info`` entry named in ``sums``, its sum over each episode (``[episodes, ...]``, float32: e.g. a cost vector).

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
            obs, state, memory, alive, total, won, summed = c
            k_act, k_env = jax.random.split(k_t)
            action, memory = act(k_act, obs, state, memory)
            obs, state, reward, terminated, truncated, info = env.step(k_env, state, action, params)
            done = terminated | truncated
            total = total + jnp.where(alive, reward, 0.0)
            won = jnp.where(alive & done, jnp.asarray(info.get("won", False)).astype(bool), won)
            summed = {k: v + jnp.where(alive, jnp.asarray(info[k], jnp.float32), 0.0) for k, v in summed.items()}
            return (obs, state, memory, alive & ~done, total, won, summed), None

        zero = jnp.zeros((env.num_agents,) if is_multi_agent(env) else (), jnp.float32)
        summed = {k: jnp.zeros(probe[k].shape, jnp.float32) for k in sums}
        init = (obs, state, memory0, jnp.bool_(True), zero, jnp.bool_(False), summed)
        (*_, total, won, summed), _ = jax.lax.scan(body, init, jax.random.split(k_run, num_steps))
        return total, won, summed

    probe = jax.eval_shape(lambda k: env.step(k, env.reset(k, params)[1], _noop(env, params), params)[5], key)
    missing = [k for k in sums if k not in probe]
    if missing:
        raise RealaxError(f"{type(env.unwrapped).__name__} reports no info entry {missing[0]!r}; it has {sorted(probe)}")
    total, won, summed = jax.vmap(episode)(jax.random.split(key, episodes))
    out = {"return": total, **summed}
    if "won" in probe:
        out["won"] = won
    return out


def _noop(env, params):
    """The env's no-op as an action of its space (every agent's, stacked, on multi-agent envs)."""
    space = env.action_space(params)
    lead = (env.num_agents,) if is_multi_agent(env) else ()
    return jnp.full(lead + tuple(space.shape), env.noop_action, space.dtype)


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
