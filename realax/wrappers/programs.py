"""The jitted functions behind the Gymnasium and PettingZoo adapters, built once per id and options.

A new ``jax.jit`` of even the same bound method shares no cache with an earlier one, so every adapter that
jitted its own env traced and compiled anew: ``gymnasium.make_vec(..., vectorization_mode="sync")``,
Stable-Baselines3's ``make_vec_env`` and PettingZoo's own seed test build several adapters of one id, and each
paid the whole compilation again (seconds per copy). ``programs(env_id, options)`` returns one ``Programs``
per id and options instead (options that are not hashable, such as a scenario object, get a fresh one).
Environments hold no mutable state, so adapters can share one; each adapter keeps its own key and state.
A scenario given as a file path is read when its ``Programs`` is first built (the 32 most recent are kept):
after editing the file, ``realax.wrappers.programs.clear()`` (or a new process) has it read anew.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from realax.core import Environment
from realax.registry import make


class Programs:
    """``env`` and ``params`` from ``realax.make(env_id, **options)``, with jitted ``reset``/``step``
    (``reset_env``/``step_env``: the adapters end episodes themselves), ``action_mask``, ``global_state`` and,
    per ``max_episode_steps``, the vmapped reset and autoresetting step of the vector env (``vector``)."""

    def __init__(self, env_id: str, options: dict[str, Any]) -> None:
        self.env, self.params = make(env_id, **options)
        self.reset = jax.jit(self.env.reset_env)
        self.step = jax.jit(self.env.step_env)
        self._vector: dict[int | None, tuple[Any, Any]] = {}

    @functools.cached_property
    def action_mask(self) -> Any:  # multi-agent envs
        return jax.jit(self.env.action_mask)  # type: ignore[attr-defined]

    @functools.cached_property
    def global_state(self) -> Any:  # multi-agent envs
        return jax.jit(self.env.global_state)  # type: ignore[attr-defined]

    def vector(self, max_episode_steps: int | None) -> tuple[Any, Any]:
        """``(reset, step)`` over a batch: ``reset(keys, params)``, ``step(keys, states, elapsed, actions, params)
        -> (obs, states, elapsed, reward, term, trunc, info)`` with same-step autoreset, truncating each copy
        after ``max_episode_steps`` steps too when given."""
        if max_episode_steps not in self._vector:
            one = functools.partial(_autoreset_step, self.env, max_episode_steps)
            self._vector[max_episode_steps] = (jax.jit(jax.vmap(self.env.reset, in_axes=(0, None))),
                                               jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None))))
        return self._vector[max_episode_steps]


def _autoreset_step(env: Environment, limit: int | None, key: jax.Array, state: Any, elapsed: jax.Array,
                    action: jax.Array, params: Any) -> tuple:
    """``env.step`` (which resets an ended episode in the same step), then, with a ``limit``, also truncate and
    reset at ``limit`` steps into the episode."""
    if limit is None:
        obs, state, r, term, trunc, info = env.step(key, state, action, params)
        return obs, state, elapsed, r, term, trunc, info
    key, key_reset = jax.random.split(key)
    obs, state, r, term, trunc, info = env.step(key, state, action, params)
    cut = (elapsed + 1 >= limit) & ~term & ~trunc  # the env did not end it itself
    obs_re, state_re = env.reset(key_reset, params)
    state = jax.tree.map(lambda a, b: jnp.where(cut, a, b), state_re, state)
    obs = jax.tree.map(lambda a, b: jnp.where(cut, a, b), obs_re, obs)  # final_obs already holds the last one
    trunc = trunc | cut
    elapsed = jnp.where(term | trunc, 0, elapsed + 1)
    return obs, state, elapsed, r, term, trunc, info


def programs(env_id: str, options: dict[str, Any]) -> Programs:
    """The shared ``Programs`` of ``env_id`` built with ``options`` (a fresh one when an option is unhashable)."""
    try:
        return _cached(env_id, tuple(sorted(options.items())))
    except TypeError:  # an unhashable option value
        return Programs(env_id, options)


@functools.lru_cache(maxsize=32)
def _cached(env_id: str, options: tuple[tuple[str, Any], ...]) -> Programs:
    return Programs(env_id, dict(options))


def clear() -> None:
    """Forget every shared ``Programs``: a scenario file edited since is read anew by the next adapter."""
    _cached.cache_clear()
