"""Small environments for the offline-learner tests, with experts known by hand.

``Reach`` (continuous ``Box`` action): position ``x`` in [-1, 1], start uniform; ``x' = clip(x + 0.25 a)``;
reward ``1 - |x' - 0.5|``; 10 steps, then truncation. The expert moves straight to 0.5
(``a = clip(4 (0.5 - x), -1, 1)``); random actions drift around and score far less.

``Allocate`` (a simplex action, declared by the space's ``simplex = True``): each step one of 3 places is
wanted (one-hot in the observation, drawn at random); the reward is the share of the (normalised) action on
it. Expert: all weight on the wanted place (return 10); a uniform action gets ~1/3 per step.

The tabular ``Chain`` comes from ``tests/offline/chain_env.py`` (put on ``sys.path`` here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "offline"))

from chain_env import Chain, go_right  # noqa: E402,F401

from realax.core import Environment, EnvParams  # noqa: E402
from realax.spaces import Box  # noqa: E402

REACH_ID = "realax/TestReach-v0"
ALLOCATE_ID = "realax/TestAllocate-v0"
CHAIN_ID = "realax/TestOfflineChain-v0"


class _Small(Environment):
    noop_action = 0

    def __init__(self, max_steps: int = 10):
        self._params = EnvParams(max_steps=max_steps)

    @property
    def default_params(self):
        return self._params

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


class Reach(_Small):

    description = "1-D reaching (offline tests)"
    def reset_env(self, key, params):
        state = (jax.random.uniform(key, (), minval=-1.0, maxval=1.0), jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key, state, action, params):
        x, t = state
        x = jnp.clip(x + 0.25 * jnp.clip(jnp.ravel(action)[0], -1.0, 1.0), -1.0, 1.0)
        state = (x, t + 1)
        return self.get_obs(state, params), state, 1.0 - jnp.abs(x - 0.5), jnp.bool_(False), t + 1 >= params.max_steps, {}

    def get_obs(self, state, params):
        return jnp.reshape(state[0], (1,)).astype(jnp.float32)

    def observation_space(self, params=None):
        return Box(-1.0, 1.0, (1,), jnp.float32)

    def action_space(self, params=None):
        return Box(-1.0, 1.0, (1,), jnp.float32)


class Allocate(_Small):

    description = "simplex allocation (offline tests)"
    def reset_env(self, key, params):
        state = (jax.random.randint(key, (), 0, 3), jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key, state, action, params):
        want, t = state
        w = jnp.maximum(jnp.broadcast_to(action, (3,)), 0.0)
        share = w[want] / jnp.maximum(w.sum(), 1e-8)
        state = (jax.random.randint(key, (), 0, 3), t + 1)
        return self.get_obs(state, params), state, share, jnp.bool_(False), t + 1 >= params.max_steps, {}

    def get_obs(self, state, params):
        return jax.nn.one_hot(state[0], 3, dtype=jnp.float32)

    def observation_space(self, params=None):
        return Box(0.0, 1.0, (3,), jnp.float32)

    def action_space(self, params=None):
        space = Box(0.0, 1.0, (3,), jnp.float32)
        space.simplex = True
        return space


def reach_expert(env, params):
    return lambda key, obs: jnp.clip(4.0 * (0.5 - obs), -1.0, 1.0)


def allocate_expert(env, params):
    return lambda key, obs: obs


def register_all():
    import realax

    realax.register(REACH_ID, "offline_envs:Reach")
    realax.register(ALLOCATE_ID, "offline_envs:Allocate")
    realax.register(CHAIN_ID, "chain_env:Chain")


def unregister_all():
    from realax import registry

    for i in (REACH_ID, ALLOCATE_ID, CHAIN_ID):
        registry._REGISTRY.pop(i, None)
