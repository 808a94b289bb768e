"""A small hard-exploration env for PPO+RND's must-learn test (and its command-line smoke test).

``Lure``: a chain of positions 0..n-1, start 0. Action 1 moves one step right; action 0 goes back to 0
and pays ``lure`` (0.001). Reaching n-1 pays 1 and ends the episode (terminated); otherwise the episode is
truncated after ``max_steps``. The best return is 1 (n-1 = 15 steps right); always going back is the easy
local optimum (return ``lure * max_steps`` = 0.02) that the gradient pulls towards, and a uniformly random walk
reaches the end in about 1 of 10,000 episodes (15 rights in a row within 20 steps), so plain PPO does not
find the goal. The position is the observation (one-hot encoded by the agents' encoder). The shape is that
of bsuite's "deep sea" (Osband et al., ICLR 2020): a small sure reward against a far one.

The lure is kept below ``(1 - gamma) gamma^(n-2)`` (= 0.0087 at gamma 0.99): a larger one makes staying at
the start worth more than the goal to a discounted learner that bootstraps through time-limit truncations,
so it would be the optimum, not a lure.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from realax.core import Environment, EnvParams
from realax.spaces import Box, Discrete

LURE_ID = "realax/TestLure-v0"


class Lure(Environment):
    description = "chain with a lure back to the start (PPO+RND tests)"
    noop_action = 0

    def __init__(self, n: int = 16, max_steps: int = 20, lure: float = 0.001):
        self.n, self.lure = n, lure
        self._params = EnvParams(max_steps=max_steps)

    @property
    def default_params(self):
        return self._params

    def reset_env(self, key, params):
        state = (jnp.int32(0), jnp.int32(0))  # position, time
        return self.get_obs(state, params), state

    def step_env(self, key, state, action, params):
        pos, t = state
        right = action == 1
        pos = jnp.where(right, jnp.minimum(pos + 1, self.n - 1), 0).astype(jnp.int32)
        t = t + 1
        goal = pos == self.n - 1
        reward = jnp.where(goal, 1.0, jnp.where(right, 0.0, self.lure)).astype(jnp.float32)
        state = (pos, t)
        return self.get_obs(state, params), state, reward, goal, (t >= params.max_steps) & ~goal, {}

    def get_obs(self, state, params):
        return state[0]

    def observation_space(self, params=None):
        return Box(0, self.n - 1, (), jnp.int32)

    def action_space(self, params=None):
        return Discrete(2)

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


def register():
    import realax

    realax.register(LURE_ID, "explore_envs:Lure")


def unregister():
    from realax import registry

    registry._REGISTRY.pop(LURE_ID, None)
