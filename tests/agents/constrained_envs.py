"""A tiny constrained env for the constrained learners' tests (``ppo_lag``, ``tscac``).

``Tempt``: every step the agent picks one of three actions: 0 and 1 are tempting (reward 1, margins ``[-0.5,
+0.5]``), 2 is safe (reward 0.5, margins ``[+0.5, +0.5]``); the observation is the constant 0; episodes are
truncated after ``max_steps``. ``info["cost_margin"]`` follows realax's convention (each constraint holds when
its episode sum is >= 0): constraint 0 ("tempt") holds when a tempting action is taken at most half the time,
constraint 1 ("slack") always holds (its multiplier must stay 0). The expected margin of constraint 0 per step
is ``0.5 - p(tempting)``: ``-1/6`` for the uniform policy a learner starts from, ``-0.5`` for a learner of the
reward alone. ``NoCost`` is the same env without the entry.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from realax.core import Environment, EnvParams
from realax.spaces import Box, Discrete

REWARD = (1.0, 1.0, 0.5)
MARGIN = ((-0.5, 0.5), (-0.5, 0.5), (0.5, 0.5))


class Tempt(Environment):
    description = "a tempting action against a constraint (constrained learners' tests)"
    noop_action = 2
    signals = ("tempt", "slack")

    def __init__(self, max_steps: int = 8):
        self._params = EnvParams(max_steps=max_steps)

    @property
    def default_params(self):
        return self._params

    def reset_env(self, key, params):
        return self.get_obs(jnp.int32(0), params), jnp.int32(0)

    def step_env(self, key, state, action, params):
        a = jnp.clip(jnp.asarray(action, jnp.int32), 0, 2)
        t = state + 1
        info = {"cost_margin": jnp.asarray(MARGIN, jnp.float32)[a]}
        reward = jnp.asarray(REWARD, jnp.float32)[a]
        return self.get_obs(t, params), t, reward, jnp.bool_(False), t >= params.max_steps, info

    def get_obs(self, state, params):
        return jnp.zeros((1,), jnp.float32)

    def observation_space(self, params=None):
        return Box(0.0, 1.0, (1,), jnp.float32)

    def action_space(self, params=None):
        return Discrete(3)

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


class NoCost(Tempt):
    """``Tempt`` without ``info["cost_margin"]`` but with a scalar ``info["cost"]`` (1 for a tempting action)."""

    def step_env(self, key, state, action, params):
        obs, t, reward, term, trunc, info = super().step_env(key, state, action, params)
        return obs, t, reward, term, trunc, {"cost": (info["cost_margin"][0] < 0).astype(jnp.float32)}
