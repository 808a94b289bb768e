"""Wrappers that stay inside JAX: they compose, jit and vmap like the environments they wrap."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, MultiAgentEnv, StepResult, is_multi_agent
from realax.spaces import Box, Space


class Wrapper(Environment[Any, Any]):
    """Forwards everything to ``env``; subclasses override what they change."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    @property
    def unwrapped(self) -> Environment:
        return self.env.unwrapped

    @property
    def default_params(self) -> Any:
        return self.env.default_params

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        return self.env.reset_env(key, params)

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        return self.env.step_env(key, state, action, params)

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self.env.get_obs(state, params)

    def observation_space(self, params: Any = None) -> Space:
        return self.env.observation_space(params)

    def action_space(self, params: Any = None) -> Space:
        return self.env.action_space(params)

    def render(self, state: Any, params: Any = None, **kwargs: Any) -> np.ndarray:
        return self.env.render(state, params, **kwargs)


@struct.dataclass
class EpisodeStatsState:
    env_state: object
    episode_return: jax.Array  # running return of the current episode (per agent for multi-agent envs)
    episode_length: jax.Array  # int32


class EpisodeStats(Wrapper):
    """Adds ``info["returned_episode"]`` (bool), ``info["episode_return"]`` and ``info["episode_length"]``:
    the totals of the episode that ended this step (zeros otherwise). Wraps ``step`` (with autoreset)."""

    def reset(self, key: jax.Array, params: Any = None) -> tuple[jax.Array, EpisodeStatsState]:
        obs, s = self.env.reset(key, params)
        zero_r = jnp.zeros(jnp.shape(self._reward_shape(params)), jnp.float32)
        return obs, EpisodeStatsState(s, zero_r, jnp.int32(0))

    def _reward_shape(self, params: Any) -> jax.Array:
        env = self.env.unwrapped
        return jnp.zeros((env.num_agents,)) if isinstance(env, MultiAgentEnv) else jnp.zeros(())

    def step(self, key: jax.Array, state: EpisodeStatsState, action: Any, params: Any = None
             ) -> StepResult[EpisodeStatsState]:
        obs, s, reward, term, trunc, info = self.env.step(key, state.env_state, action, params)
        done = term | trunc
        ret = state.episode_return + reward
        length = state.episode_length + 1
        info = {**info, "returned_episode": done, "episode_return": jnp.where(done, ret, 0.0),
                "episode_length": jnp.where(done, length, 0)}
        new = EpisodeStatsState(s, jnp.where(done, 0.0, ret), jnp.where(done, 0, length))
        return obs, new, reward, term, trunc, info

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, EpisodeStatsState]:
        obs, s = self.env.reset_to(state, params)
        return obs, EpisodeStatsState(s, jnp.zeros(jnp.shape(self._reward_shape(params))), jnp.int32(0))

    def render(self, state: Any, params: Any = None, **kwargs: Any) -> np.ndarray:
        """The inner picture with this episode's return so far (unless ``episode_return`` is given)."""
        kwargs.setdefault("episode_return", state.episode_return)
        return self.env.render(state.env_state, params, **kwargs)


class FlattenObservation(Wrapper):
    """Observations reshaped to one axis (the agent axis kept for multi-agent envs), as ``float32``."""

    def _flat(self, obs: jax.Array) -> jax.Array:
        lead = 1 if is_multi_agent(self.env) else 0
        return obs.reshape(obs.shape[:lead] + (-1,)).astype(jnp.float32)

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        obs, s = self.env.reset_env(key, params)
        return self._flat(obs), s

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        obs, s, r, te, tr, info = self.env.step_env(key, state, action, params)
        return self._flat(obs), s, r, te, tr, info

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self._flat(self.env.get_obs(state, params))

    def observation_space(self, params: Any = None) -> Box:
        sp = self.env.observation_space(params)
        if not isinstance(sp, Box):
            raise TypeError(f"FlattenObservation needs a Box observation space, got {sp}")
        return Box(sp.low.reshape(-1).astype("float32"), sp.high.reshape(-1).astype("float32"),
                   (int(sp.low.size),), jnp.float32)
