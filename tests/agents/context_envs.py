"""A tiny env where only the history identifies the domain, for context-aware PPO's tests.

``HiddenSide``: each episode hides a side ``d`` in {0, 1} (``d = 1`` with probability ``params.p_right``);
action ``d`` pays 1, the other 0, for ``max_steps`` (8) steps. The observation is the last reward (0 at the
start), so an agent that remembers which action earned it can play ``d`` from the second step on (greedy
expected return 7.5 of 8), while the best memoryless policy, a function of the last reward only, gets about
4.9 (``memoryless_optimum``). ``domain`` (``both``, ``left``: always 0, ``right``: always 1) chooses the
episodes, not the rules: it is a transfer option, so a saved agent may be evaluated on another domain.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, EnvParams
from realax.spaces import Box, Discrete

SIDE_ID = "realax/TestHiddenSide-v0"
DOMAINS = {"both": 0.5, "left": 0.0, "right": 1.0}


@struct.dataclass(kw_only=True)
class SideParams(EnvParams):
    max_steps: int = 8
    p_right: float = 0.5


class HiddenSide(Environment):
    description = "hidden side per episode, seen only through past rewards (context-aware PPO tests)"
    noop_action = 0
    transfer_options = ("domain",)

    def __init__(self, domain: str = "both", max_steps: int = 8):
        self.domain = domain
        self._params = SideParams(max_steps=max_steps, p_right=DOMAINS[domain])

    @property
    def default_params(self):
        return self._params

    def reset_env(self, key, params):
        state = (jax.random.bernoulli(key, params.p_right).astype(jnp.int32), jnp.float32(0.0), jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key, state, action, params):
        side, _, t = state
        reward = (action == side).astype(jnp.float32)
        state = (side, reward, t + 1)
        return self.get_obs(state, params), state, reward, jnp.bool_(False), t + 1 >= params.max_steps, {}

    def get_obs(self, state, params):
        return state[1][None]

    def observation_space(self, params=None):
        return Box(0.0, 1.0, (1,), jnp.float32)

    def action_space(self, params=None):
        return Discrete(2)

    def render(self, state, params=None):
        return np.zeros((4, 4, 3), np.uint8)


def memoryless_optimum(steps: int = 8, grid: int = 201) -> float:
    """The best expected return of a policy that sees only the last reward: ``P(a = 1 | r = 0) = p0`` (also the
    first step's) and ``P(a = 1 | r = 1) = p1``, searched on a grid, evaluated exactly over both sides."""
    p = np.linspace(0.0, 1.0, grid)
    p0, p1 = np.meshgrid(p, p, indexing="ij")
    total = np.zeros_like(p0)
    for q0, q1 in ((p0, p1), (1 - p0, 1 - p1)):  # side 1, side 0
        hit = np.zeros_like(p0)  # P(last reward = 1)
        for _ in range(steps):
            hit = (1 - hit) * q0 + hit * q1
            total += hit / 2
    return float(total.max())


def register():
    import realax

    realax.register(SIDE_ID, "context_envs:HiddenSide", max_episode_steps=8)


def unregister():
    from realax import registry

    registry._REGISTRY.pop(SIDE_ID, None)
