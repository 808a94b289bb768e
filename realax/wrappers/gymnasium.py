"""Gymnasium adapters: ``gymnasium.make("realax/...")`` and ``gymnasium.make_vec(..., "vector_entry_point")``.

The single env returns NumPy arrays and Python scalars and follows Gymnasium's seeding rules (a key is
drawn from ``self.np_random`` at each reset). The vector env is one jitted, vmapped step over the batch
with same-step autoreset (Gymnasium >= 1.0 ``AutoresetMode.SAME_STEP``): ``infos["final_obs"]`` and the
mask ``infos["_final_obs"]`` carry the last observations of the episodes that ended.

Every action goes through ``env.validate_action`` first (``realax.spaces.Space.check``): text, None, objects,
a wrong shape, NaN, a fraction or a value outside the space is a ``RealaxError`` naming the action and the space.

Horizons: every env truncates at its own ``params.max_steps``, which options (a scenario, ``max_steps=``) may
change, so Gymnasium's registry holds no ``max_episode_steps`` for our ids (see ``realax._register_gymnasium``)
and ``env.spec.max_episode_steps`` is the horizon of the env actually built. A ``max_episode_steps=k`` given to
``gymnasium.make`` adds Gymnasium's ``TimeLimit(k)`` (and ``spec.max_episode_steps`` is ``k``); given to
``make_vec`` the vector env truncates at ``k`` itself, with the same same-step autoreset. Either way an
episode is truncated at ``min(k, horizon)``, once.

``render()`` draws the state with the step's reward and the episode's return so far, which the single env
keeps (``env.render(state, params, reward=..., episode_return=...)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from realax.core import MAX_STEPS, check_int
from realax.errors import RealaxError
from realax.wrappers.programs import programs

#: the most copies a vector env holds (its state is allocated at reset: refuse absurd counts first)
MAX_NUM_ENVS = 2**20


def _draw(np_random: np.random.Generator) -> np.uint32:
    """The 32-bit seed of a reset's JAX key, drawn from the env's NumPy generator (the low 32 bits of a 63-bit
    draw: what ``jax.random.key`` keeps of a larger seed without x64, so seeded resets are those of earlier
    versions)."""
    return np.uint32(int(np_random.integers(0, 2**63 - 1)) & 0xFFFFFFFF)


def _key_from(np_random: np.random.Generator) -> jax.Array:
    return jax.random.key(_draw(np_random))


def reset_keys(seeds: Any) -> jax.Array:
    """For each integer ``s`` of ``seeds``, the key that ``GymnasiumEnv.reset(seed=s)`` passes to ``reset_env``:
    dataset collection starts each episode from the key of its recorded seed, so that ``reset(seed=...)`` of
    the env a Minari dataset recovers gives the episode's first observation."""
    from gymnasium.utils import seeding

    draws = np.array([_draw(seeding.np_random(int(s))[0]) for s in np.asarray(seeds).reshape(-1)], np.uint32)
    return _keys_of_draws(jnp.asarray(draws))


@jax.jit  # one program per batch size (op by op, each op would compile its own)
def _keys_of_draws(draws: jax.Array) -> jax.Array:
    return jax.vmap(lambda d: jax.random.split(jax.random.key(d))[1])(draws)


class GymnasiumEnv(gymnasium.Env):
    """One realax environment behind the ``gymnasium.Env`` interface."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}
    _spec = None

    def __init__(self, env_id: str, render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode not in (None, "rgb_array"):
            raise RealaxError(f"render_mode {render_mode!r} is not supported; use 'rgb_array' or None")
        shared = programs(env_id, kwargs)
        self.env, self.params = shared.env, shared.params
        self.horizon = int(self.params.max_steps)
        """The step at which the env truncates by itself (``params.max_steps``)."""
        self.render_mode = render_mode
        self.observation_space = self.env.observation_space(self.params).to_gymnasium()
        self.action_space = self.env.action_space(self.params).to_gymnasium()
        self._reset, self._step = shared.reset, shared.step
        self._key: jax.Array = jax.random.key(0)  # drawn anew at every reset
        self._state: Any = None
        self._reward: Any = None  # last step's reward (None right after reset), for render()
        self._return = 0.0  # the episode's return so far, for render()

    @property
    def spec(self) -> Any:
        """Gymnasium's ``EnvSpec`` of this env; ``max_episode_steps``, which ``gymnasium.make`` leaves ``None`` on
        the unwrapped env, is filled with the built env's horizon (a ``TimeLimit`` wrapper reports its own)."""
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        if value is not None and value.max_episode_steps is None:
            value = dataclasses.replace(value, max_episode_steps=self.horizon)
        self._spec = value

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key, sub = jax.random.split(_key_from(self.np_random))
        obs, self._state = self._reset(sub, self.params)
        self._reward, self._return = None, 0.0
        return np.asarray(obs), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        a = self.env.validate_action(action, self.params)
        self._key, sub = jax.random.split(self._key)
        obs, self._state, r, term, trunc, info = self._step(sub, self._state, jnp.asarray(a), self.params)
        info = {k: np.asarray(v) for k, v in info.items()}
        self._reward = float(r)
        self._return += self._reward
        return np.asarray(obs), float(r), bool(term), bool(trunc), info

    def render(self) -> np.ndarray | None:
        """``uint8 [H, W, 3]`` of the current state with the last reward and the episode's return so far
        (``render_mode="rgb_array"``), else None."""
        if self.render_mode == "rgb_array" and self._state is not None:
            return self.env.render(self._state, self.params, reward=self._reward, episode_return=self._return)
        return None


class GymnasiumVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies stepped by one jitted ``vmap``; same-step autoreset. ``max_episode_steps`` (None or -1:
    none, else 1..2**30) truncates each copy after that many steps, on top of the env's own horizon."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}
    _spec = None

    def __init__(self, num_envs: int, env_id: str, max_episode_steps: int | None = None, **kwargs: Any) -> None:
        num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS, "GymnasiumVectorEnv")
        if max_episode_steps == -1:  # gymnasium.make's "no TimeLimit" value (``make`` docstring)
            max_episode_steps = None
        if max_episode_steps is not None:
            max_episode_steps = check_int("max_episode_steps", max_episode_steps, 1, MAX_STEPS, "GymnasiumVectorEnv")
        self.max_episode_steps = max_episode_steps
        shared = programs(env_id, kwargs)
        self.env, self.params = shared.env, shared.params
        self.horizon = int(self.params.max_steps)
        """The step at which the env truncates by itself (``params.max_steps``)."""
        self.num_envs = int(num_envs)
        self.single_observation_space = self.env.observation_space(self.params).to_gymnasium()
        self.single_action_space = self.env.action_space(self.params).to_gymnasium()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._reset, self._step = shared.vector(max_episode_steps)
        self._key: jax.Array = jax.random.key(0)  # drawn anew at every reset
        self._state: Any = None
        self._elapsed: Any = None  # int32 [num_envs]; steps into each copy's episode

    @property
    def spec(self) -> Any:
        """Gymnasium's ``EnvSpec``; ``max_episode_steps`` is the ``max_episode_steps`` passed, else the horizon."""
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        if value is not None:
            value = dataclasses.replace(value, max_episode_steps=self.max_episode_steps or self.horizon)
        self._spec = value

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key, sub = jax.random.split(_key_from(self.np_random))
        obs, self._state = self._reset(jax.random.split(sub, self.num_envs), self.params)
        self._elapsed = jnp.zeros(self.num_envs, jnp.int32)
        return np.asarray(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        a = self.env.validate_action(actions, self.params, batch_shape=(self.num_envs,))
        self._key, sub = jax.random.split(self._key)
        obs, self._state, self._elapsed, r, term, trunc, info = self._step(
            jax.random.split(sub, self.num_envs), self._state, self._elapsed, jnp.asarray(a), self.params)
        infos = {k: np.asarray(v) for k, v in info.items()}
        done = np.asarray(term) | np.asarray(trunc)
        infos["_final_obs"] = done
        return np.asarray(obs), np.asarray(r), np.asarray(term), np.asarray(trunc), infos
