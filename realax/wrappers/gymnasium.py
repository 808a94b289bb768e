"""Gymnasium adapters: ``gymnasium.make("realax/...")`` and ``gymnasium.make_vec(..., "vector_entry_point")``.

The single env returns NumPy arrays and Python scalars and follows Gymnasium's seeding rules (a key is
drawn from ``self.np_random`` at each reset). The vector env is one jitted, vmapped step over the batch
with same-step autoreset (Gymnasium >= 1.0 ``AutoresetMode.SAME_STEP``): ``infos["final_obs"]`` and the
mask ``infos["_final_obs"]`` carry the last observations of the episodes that ended.

Every action goes through ``env.validate_action`` first (``realax.spaces.Space.check``): text, None, objects,
a wrong shape, NaN, a fraction or a value outside the space is a ``RealaxError`` naming the action and the space.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import realax
from realax.core import check_int
from realax.errors import RealaxError

#: the most copies a vector env holds (its state is allocated at reset: refuse absurd counts first)
MAX_NUM_ENVS = 2**20


class GymnasiumEnv(gymnasium.Env):
    """One realax environment behind the ``gymnasium.Env`` interface."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, env_id: str, render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise RealaxError(f"render_mode {render_mode!r} is not supported; use 'rgb_array' or None")
        self.env, self.params = realax.make(env_id, **kwargs)
        self.render_mode = render_mode
        self.observation_space = self.env.observation_space(self.params).to_gymnasium()
        self.action_space = self.env.action_space(self.params).to_gymnasium()
        self._reset = jax.jit(self.env.reset_env)
        self._step = jax.jit(self.env.step_env)
        self._key: jax.Array = jax.random.key(0)  # drawn anew at every reset
        self._state: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key = jax.random.key(int(self.np_random.integers(0, 2**63 - 1)))
        self._key, sub = jax.random.split(self._key)
        obs, self._state = self._reset(sub, self.params)
        return np.asarray(obs), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        a = self.env.validate_action(action, self.params)
        self._key, sub = jax.random.split(self._key)
        obs, self._state, r, term, trunc, info = self._step(sub, self._state, jnp.asarray(a), self.params)
        info = {k: np.asarray(v) for k, v in info.items()}
        return np.asarray(obs), float(r), bool(term), bool(trunc), info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._state is not None:
            return self.env.render(self._state, self.params)
        return None


class GymnasiumVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies stepped by one jitted ``vmap``; same-step autoreset."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, env_id: str, **kwargs: Any) -> None:
        num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS, "GymnasiumVectorEnv")
        kwargs.pop("max_episode_steps", None)  # the env's own params set the horizon
        self.env, self.params = realax.make(env_id, **kwargs)
        self.num_envs = int(num_envs)
        self.single_observation_space = self.env.observation_space(self.params).to_gymnasium()
        self.single_action_space = self.env.action_space(self.params).to_gymnasium()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._reset = jax.jit(jax.vmap(self.env.reset, in_axes=(0, None)))
        self._step = jax.jit(jax.vmap(self.env.step, in_axes=(0, 0, 0, None)))
        self._key: jax.Array = jax.random.key(0)  # drawn anew at every reset
        self._state: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key = jax.random.key(int(self.np_random.integers(0, 2**63 - 1)))
        self._key, sub = jax.random.split(self._key)
        obs, self._state = self._reset(jax.random.split(sub, self.num_envs), self.params)
        return np.asarray(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        a = self.env.validate_action(actions, self.params, batch_shape=(self.num_envs,))
        self._key, sub = jax.random.split(self._key)
        obs, self._state, r, term, trunc, info = self._step(jax.random.split(sub, self.num_envs), self._state,
                                                            jnp.asarray(a), self.params)
        infos = {k: np.asarray(v) for k, v in info.items()}
        done = np.asarray(term) | np.asarray(trunc)
        infos["_final_obs"] = done
        return np.asarray(obs), np.asarray(r), np.asarray(term), np.asarray(trunc), infos
