"""JaxMARL's interface over a realax ``MultiAgentEnv``, so a JaxMARL training script runs unchanged.

JaxMARL (Rutherford et al., NeurIPS 2024 D&B; ``jaxmarl/environments/multi_agent_env.py``) passes
per-agent dicts: ``reset(key) -> (obs, state)``, ``step(key, state, actions) -> (obs, state, rewards,
dones, infos)`` with ``dones["__all__"]`` for the episode, autoreset inside ``step``, and
``get_avail_actions(state)``; there are no params arguments. This adapter binds the params, converts the
stacked ``[A, ...]`` arrays to and from dicts and keeps realax's extra information in ``infos``
(``terminated`` and ``truncated`` apart, ``final_obs``), which JaxMARL scripts ignore.

Actions: ``step`` refuses, with a ``RealaxError`` naming the agent, the action and the space, what no trace
could run: actions that are not a dict of every agent, text, None, objects, a wrong shape or a non-numeric
dtype. Concrete values (a call outside ``jit``) are checked in full as the other adapters do (NaN, fractions,
outside the space); traced values cannot be read, so inside ``jit`` such actions become the no-op and are
counted in ``infos["invalid_action"]`` (``realax.core.discrete_action``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.spaces import Space


class JaxMARLEnv:
    """``JaxMARLEnv("realax/SMAX-v0", scenario="3m")``: the env with JaxMARL's method signatures."""

    def __init__(self, env_id: str, **kwargs: Any) -> None:
        env, self.params = realax.make(env_id, **kwargs)
        if not isinstance(env, MultiAgentEnv):
            raise RealaxError(f"{env_id} is single-agent; JaxMARL's interface is for multi-agent envs")
        self.env: MultiAgentEnv = env
        self.agents = list(self.env.agents)
        self.num_agents = len(self.agents)
        self.observation_spaces = {a: self.env.observation_space(self.params) for a in self.agents}
        self.action_spaces = {a: self.env.action_space(self.params) for a in self.agents}

    def observation_space(self, agent: str) -> Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Space:
        return self.action_spaces[agent]

    def _dict(self, stacked: jax.Array) -> dict[str, jax.Array]:
        return {a: stacked[i] for i, a in enumerate(self.agents)}

    def reset(self, key: jax.Array) -> tuple[dict[str, jax.Array], Any]:
        obs, state = self.env.reset(key, self.params)
        return self._dict(obs), state

    def _action(self, agent: str, action: Any) -> jax.Array:
        """One agent's action as an array, checked as far as its kind allows (see the module docstring)."""
        space, what = self.action_spaces[agent], f"action of agent {agent!r}"
        if isinstance(action, jax.core.Tracer):
            if action.shape != space.shape or not (jnp.issubdtype(action.dtype, jnp.integer)
                                                   or jnp.issubdtype(action.dtype, jnp.floating)):
                raise RealaxError(f"{what} has shape {action.shape} and dtype {action.dtype}; expected {space} "
                                  f"(shape {space.shape}, numbers)")
            return action
        return jnp.asarray(space.check(np.asarray(action) if isinstance(action, jax.Array) else action, (), what))

    def step(self, key: jax.Array, state: Any, actions: Mapping[str, Any]
             ) -> tuple[dict[str, jax.Array], Any, dict[str, jax.Array], dict[str, jax.Array], dict[str, Any]]:
        if not isinstance(actions, Mapping):
            raise RealaxError(f"actions must be a dict {{agent: action}} for agents {self.agents}, "
                              f"got {type(actions).__name__}")
        missing = [a for a in self.agents if a not in actions]
        unknown = [a for a in actions if a not in self.agents]
        if missing or unknown:
            raise RealaxError(f"actions must name every agent once: missing {missing}, unknown {unknown}; "
                              f"agents: {self.agents}")
        stacked = jnp.stack([self._action(a, actions[a]) for a in self.agents])
        obs, state, reward, terminated, truncated, info = self.env.step(key, state, stacked, self.params)
        done = terminated | truncated
        alive = info.get("alive", jnp.ones(self.num_agents, bool))
        dones = {a: done | ~alive[i] for i, a in enumerate(self.agents)}
        dones["__all__"] = done
        infos = {**info, "terminated": terminated, "truncated": truncated}
        return self._dict(obs), state, self._dict(reward), dones, infos

    def get_avail_actions(self, state: Any) -> dict[str, jax.Array]:
        return self._dict(self.env.action_mask(state, self.params))

    def get_world_state(self, state: Any) -> jax.Array:
        """The env's ``global_state`` (what JaxMARL's MAPPO world-state wrappers build)."""
        return self.env.global_state(state, self.params)

    @property
    def name(self) -> str:
        return type(self.env).__name__
