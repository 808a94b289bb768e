"""Small tabular environments for the dataset tests, with counts that can be done by hand.

``Chain``: states 0..4, start 0 (``random_start``: uniform over 0..3), action 1 moves right and 0 left (clipped
at 0); reaching 4 ends the episode (terminated, reward 1); otherwise reward 0 and truncation after 8 steps. The
expert (always right) reaches the goal in 4 steps, so its episodes visit exactly the pairs (0,1), (1,1), (2,1),
(3,1).

``Echo``: the observation is the action applied at the previous step and the reward is the action applied
now (as a float); never terminates, truncates after 10 steps. Delays show up one for one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from realax.core import Environment, EnvParams
from realax.spaces import Box, Discrete


class Chain(Environment):
    description = "tabular chain (offline tests)"
    noop_action = 0

    def __init__(self, n: int = 5, max_steps: int = 8, random_start: bool = False):
        self.n, self.random_start = n, random_start
        self._params = EnvParams(max_steps=max_steps)

    @property
    def default_params(self):
        return self._params

    def reset_env(self, key, params):
        start = jax.random.randint(key, (), 0, self.n - 1) if self.random_start else 0
        state = (jnp.int32(start), jnp.int32(0))  # position, time
        return self.get_obs(state, params), state

    def step_env(self, key, state, action, params):
        pos, t = state
        pos = jnp.clip(pos + jnp.where(action == 1, 1, -1), 0, self.n - 1).astype(jnp.int32)
        t = t + 1
        goal = pos == self.n - 1
        state = (pos, t)
        return self.get_obs(state, params), state, goal.astype(jnp.float32), goal, (t >= params.max_steps) & ~goal, {}

    def get_obs(self, state, params):
        return state[0]

    def observation_space(self, params=None):
        return Box(0, self.n - 1, (), jnp.int32)

    def action_space(self, params=None):
        return Discrete(2)

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


class Echo(Environment):

    description = "echo env (offline tests)"
    noop_action = 0

    def __init__(self, n: int = 4, max_steps: int = 10):
        self.n = n
        self._params = EnvParams(max_steps=max_steps)

    @property
    def default_params(self):
        return self._params

    def reset_env(self, key, params):
        state = (jnp.int32(0), jnp.int32(0))  # last applied action, time
        return state[0], state

    def step_env(self, key, state, action, params):
        t = state[1] + 1
        a = jnp.asarray(action, jnp.int32)
        return a, (a, t), a.astype(jnp.float32), jnp.bool_(False), t >= params.max_steps, {}

    def get_obs(self, state, params):
        return state[0]

    def observation_space(self, params=None):
        return Box(0, self.n - 1, (), jnp.int32)

    def action_space(self, params=None):
        return Discrete(self.n)

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


def go_right(env, params):
    """The chain's expert: always action 1."""
    return lambda key, obs: jnp.int32(1)


CHAIN_ID = "realax/TestChain-v0"


def go_left(env, params):
    """Worse than random on the chain: always action 0, so it never reaches the goal (return 0)."""
    return lambda key, obs: jnp.int32(0)


def transmit_on_4(env, params):
    """The best policy of Spectrum's ``constant`` scenario: always transmit on channel 4 (action 5), where the
    target emitter is, so every step jams it (sense-and-avoid avoids it and scores below random there)."""
    return lambda key, obs: jnp.int32(5)
