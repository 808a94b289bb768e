"""Behaviour policies for datasets: a named policy, mixed with random actions at a level, plus noise.

Policies are ``random``, any baseline of ``realax.baselines`` by name, a folder written by
``realax train``, or ``module:factory`` with ``factory(env, params) -> policy(key, obs)`` (a controller of
your own). Behaviour levels follow NeoRL (Qin et al., "NeoRL: A Near Real-World Benchmark for Offline
Reinforcement Learning", NeurIPS 2022 Datasets & Benchmarks; code ``polixir/NeoRL``): there, the data of a
level come from a SAC policy at ~25/50/75 % of the expert return, with 80 % of the actions the policy's mean
and 20 % sampled. Here ``level`` is the probability that an action is the given policy's (otherwise it is
uniformly random, independently per step and per agent), so ``level=1`` is the policy itself and ``level=0``
the random policy; ``noise`` adds Gaussian noise of std ``noise·(high-low)/2`` to continuous actions, as
NeoRL's sampled actions do. ``calibrate_level`` finds the level whose return is a given fraction of the way
from random to the policy (NeoRL-2: "returns ranging from 50% to 80% of the expert's return").
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from realax import baselines
from realax.agents import algorithms, checkpoint
from realax.agents.evaluate import actor
from realax.core import is_multi_agent
from realax.errors import RealaxError
from realax.spaces import Box, Discrete, MultiDiscrete, Slate
from realax.wrappers.realism import conservative

#: ``act(key, obs, state, level) -> action``: the behaviour at one env (``level`` is a float32 scalar)
Act = Callable[[jax.Array, jax.Array, object, jax.Array], jax.Array]


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or os.sep in spec or spec.startswith(("~", "./", "../")) or spec in (".", "..")


def _agent_meta(spec: str) -> dict | None:
    """The ``meta.json`` of the saved agent folder ``spec``; None when ``spec`` is a name (a baseline or
    ``module:factory``); a ``RealaxError`` for a path that is missing or not a saved agent."""
    path = Path(os.path.expanduser(spec))
    if not _looks_like_path(spec) and not (path / "meta.json").is_file():
        return None  # a name (baseline, module:factory), even where a folder of that name happens to exist
    if not os.path.lexists(path):
        raise RealaxError(f"policy {spec!r}: no such folder (a saved agent is a folder written by `realax train`)")
    if not path.is_dir():
        raise RealaxError(f"policy {spec!r} is a file; a saved agent is a folder written by `realax train`")
    return checkpoint.read_meta(path)


def _check_env(spec: str, meta: dict, env_id: str) -> None:
    if meta["env_id"] != env_id:
        raise RealaxError(f"agent {spec} was trained on {meta['env_id']}, not {env_id}")


def resolve(spec: str, env_id: str, env, params) -> Callable:
    """``policy(key, obs[, mask]) -> action`` for ``random``, a baseline name, a saved agent folder, or
    ``module:factory``; a ``RealaxError`` naming what is wrong otherwise.

    ``env``/``params`` are the environment without realism wrappers (what policies were written for).
    """
    meta = _agent_meta(spec)
    if meta is not None:
        _check_env(spec, meta, env_id)
        data = None
        if algorithms.get(meta["algo"]).offline:
            from realax.offline.loader import load  # an offline agent normalises with its dataset's statistics

            data, _ = load(meta["dataset"], check=False)
        return checkpoint.load_policy(Path(os.path.expanduser(spec)), env, params, data)
    if spec in baselines.names(env):
        return baselines.get(spec, env, params)
    if ":" in spec:  # "module:factory", factory(env, params) -> policy (a controller of your own)
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as e:
            raise RealaxError(f"policy {spec!r}: cannot import {attr!r} from {module!r} ({e})") from None
        return factory(env, params)
    folder = f" (the folder {spec} is not a saved agent: no meta.json)" if os.path.isdir(spec) else ""
    raise RealaxError(f"unknown policy {spec!r} for {env_id}{folder}: use one of {baselines.names(env)}, "
                      f"a folder written by `realax train`, or module:factory")


def agent_env_kwargs(spec: str, env_id: str, env_kwargs: dict) -> dict:
    """The env options to collect with: those a saved agent was trained with (``meta.json``), plus the given
    ones, which may not contradict them (its network fits those shapes); ``env_kwargs`` for other policies.
    The agent's env id is checked first, so an agent of another env is reported as such (not as a bad option)."""
    meta = _agent_meta(spec)
    if meta is None:
        return dict(env_kwargs)
    _check_env(spec, meta, env_id)
    trained = meta.get("env_kwargs") or {}
    clash = checkpoint.kwargs_clash(trained, env_kwargs)
    if clash:
        raise RealaxError(f"agent {spec} was trained on {env_id} with {trained}; it cannot collect with {clash}")
    return {**trained, **env_kwargs}


def expert_candidates(spec: str, env) -> list[str]:
    """The policies the expert reference is chosen from (the best by measured return): the behaviour policy
    unless it is ``random``, then the env's non-random baselines (slow ones left out: give one as the expert to
    use it)."""
    out = [] if spec == "random" else [spec]
    return out + [n for n in baselines.fast_names(env) if n != "random" and n not in out]


def default_expert(spec: str, env) -> str | None:
    """The first expert candidate, unmeasured (None when there is none); ``generate`` measures them all and
    takes the best."""
    cands = expert_candidates(spec, env)
    return cands[0] if cands else None


def check_level(level: float, noise: float, space) -> None:
    if not 0.0 <= float(level) <= 1.0:
        raise RealaxError(f"level must be in [0, 1] (probability of the policy's action), got {level}")
    if not float(noise) >= 0:
        raise RealaxError(f"noise must be >= 0, got {noise}")
    if float(noise) > 0 and not (isinstance(space, Box) and not space.is_integer):
        raise RealaxError(f"noise applies to continuous (Box) actions; {space} is discrete: use --level")


def behaviour(env, params, base_env, base_params, policy: Callable, noise: float = 0.0,
              conservative_width: float | None = None) -> Act:
    """The behaviour ``act(key, obs, state, level)`` on the (possibly wrapped) ``env``.

    Order: controller -> conservative narrowing (realism) -> Gaussian noise -> mixing with random actions at
    ``level``. Multi-agent policies and the random baseline get the env's action masks when they take them.
    """
    space = base_env.action_space(base_params)
    check_level(0.0, noise, space)
    act_pol = actor(env, params, policy)
    act_rand = actor(env, params, baselines.random_policy(base_env, base_params))
    if conservative_width is not None:
        act_pol = conservative(act_pol, space, conservative_width)

    def act(key, obs, state, level):
        k_pol, k_rand, k_mix, k_noise = jax.random.split(key, 4)
        a = act_pol(k_pol, obs, state)
        if noise > 0:
            half = (jnp.asarray(space.high) - jnp.asarray(space.low)) / 2
            a = jnp.clip(a + noise * half * jax.random.normal(k_noise, a.shape), space.low, space.high).astype(a.dtype)
        r = act_rand(k_rand, obs, state)
        pick = jax.random.uniform(k_mix, jnp.shape(a)[:jnp.ndim(a) - len(space.shape)]) < level
        pick = pick.reshape(pick.shape + (1,) * len(space.shape))
        return jnp.where(pick, a, r).astype(a.dtype)

    return act


def uniform_log_prob(space) -> float:
    """Log-probability of any one action under ``space.sample`` (uniform) for the discrete spaces: ``Discrete(n)``
    ``-log n``; ``MultiDiscrete`` ``-sum log nvec``; ``Slate(k of n)`` (ordered, without repeats)
    ``-log(n (n-1) ... (n-k+1))``. A ``RealaxError`` for continuous spaces (a density, not a probability)."""
    if isinstance(space, Slate):
        return -float(np.sum(np.log(space.num_items - np.arange(space.k))))
    if isinstance(space, MultiDiscrete):
        return -float(np.sum(np.log(space.nvec)))
    if isinstance(space, Discrete):
        return -float(np.log(space.n))
    raise RealaxError(f"propensities are recorded for discrete actions; {space} is continuous")


def propensity(env, params, base_env, base_params, policy: Callable, policy_is_random: bool) -> Callable:
    """``prop(key, obs, state, level, action) -> float32 [] or [A]``: the probability that the behaviour of
    ``behaviour`` (without noise or conservative narrowing) takes ``action`` (per agent for multi-agent envs,
    whose agents mix independently): ``level * pi(action) + (1 - level) * u(action)``, ``u`` the random
    policy's probability (uniform over the space, or per agent over its valid actions), ``pi`` the policy's:
    ``u`` again for the random policy, else ``1`` where ``action`` is the policy's own and ``0`` otherwise,
    which holds for deterministic policies only (``generate`` checks that the policy is one). The inverse of
    these is what importance-sampling estimators of off-policy evaluation weigh by."""
    space = base_env.action_space(base_params)
    log_u = uniform_log_prob(space)
    act_pol = actor(env, params, policy)
    multi = is_multi_agent(base_env)

    def prop(key, obs, state, level, action):
        if multi:  # each agent uniform over its valid actions
            u = 1.0 / jnp.sum(env.action_mask(state, params), axis=-1)
        else:
            u = jnp.exp(jnp.float32(log_u))
        pi = u if policy_is_random else jnp.all(
            (act_pol(key, obs, state) == action).reshape(jnp.shape(u) + (-1,)), axis=-1).astype(jnp.float32)
        return (level * pi + (1.0 - level) * u).astype(jnp.float32)

    return prop
