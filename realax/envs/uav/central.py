"""``realax/UAVOffloadCentral-v0``: one controller flies every UAV (a single-agent view of ``UAVOffload``).

For single-agent learners and Gymnasium clients (Stable-Baselines3): the observation is the multi-agent
env's ``global_state`` (every UAV's position, the step, the user-density maps), the action every UAV's
move at once (``MultiDiscrete([5] * K)`` in grid mode, ``Box [-1, 1]^(K x 2)`` in velocity mode), and the
reward the mean of the UAVs' rewards (with the default team reward: the association rate minus the mean
penalty). ``info`` is the multi-agent env's.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from realax.core import Environment, StepResult
from realax.envs.uav.env import MOVES, UAVOffload, UAVParams, UAVState
from realax.envs.uav.scenarios import Scenario
from realax.spaces import Box, MultiDiscrete


class UAVOffloadCentral(Environment[UAVState, UAVParams]):
    description = "UAVOffload with one controller for all UAVs (single-agent, Gymnasium/SB3-ready)"

    def __init__(self, scenario: str | Scenario = "mondal2025", mode: str = "grid", map_size: int = 5,
                 max_steps: int | None = None):
        """The options of ``UAVOffload`` (the observation is always the global state)."""
        self.inner = UAVOffload(scenario, mode=mode, obs="vector", map_size=map_size, max_steps=max_steps)
        self.scenario = self.inner.scenario
        self.noop_action = self.inner.noop_action

    @property
    def default_params(self) -> UAVParams:
        return self.inner.default_params

    @property
    def num_uavs(self) -> int:
        return self.inner.num_agents

    def observation_space(self, params: UAVParams | None = None) -> Box:
        return self.inner.global_state_space(params)

    def action_space(self, params: UAVParams | None = None) -> MultiDiscrete | Box:
        if self.inner.mode == "grid":
            return MultiDiscrete(np.full(self.num_uavs, len(MOVES)))
        return Box(-1.0, 1.0, (self.num_uavs, 2), jnp.float32)

    def get_obs(self, state: UAVState, params: UAVParams) -> jax.Array:
        return self.inner.global_state(state, params)

    def reset_env(self, key: jax.Array, params: UAVParams) -> tuple[jax.Array, UAVState]:
        _, state = self.inner.reset_env(key, params)
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: UAVState, action: Any, params: UAVParams) -> StepResult[UAVState]:
        _, state, reward, terminated, truncated, info = self.inner.step_env(key, state, action, params)
        return self.get_obs(state, params), state, reward.mean(), terminated, truncated, info

    def render(self, state: UAVState, params: UAVParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        return self.inner.render(state, params, reward=reward, episode_return=episode_return)
