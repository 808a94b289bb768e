"""JaxMARL's interface over a realax ``MultiAgentEnv``, so a JaxMARL training script runs unchanged.

A script written for JaxMARL's SMAX changes one line, its import: ``from realax.wrappers.jaxmarl import
HeuristicEnemySMAX, map_name_to_scenario`` in place of ``from jaxmarl.environments.smax import ...``.
``JaxMARLEnv("realax/SMAX-v0", scenario="3m")`` is the same env, and takes any multi-agent id.

JaxMARL (Rutherford et al., NeurIPS 2024 D&B; v0.2.0 ``jaxmarl/environments/multi_agent_env.py``,
``smax/heuristic_enemy_smax_env.py``) passes per-agent dicts: ``reset(key) -> (obs, state)``,
``step(key, state, actions) -> (obs, state, rewards, dones, infos)`` with ``dones["__all__"]`` for the episode,
autoreset inside ``step``, ``get_avail_actions(state)``; no params arguments. Its SMAX adds
``obs["world_state"]`` (``get_world_state``, of length ``state_size``), ``num_allies``, ``num_enemies``,
``max_steps``, and an empty ``infos``. What its baselines read of the env (``SMAXLogWrapper``, ``LogWrapper``,
the MAPPO script's ``SMAXWorldStateWrapper``, ``baselines/{IPPO,MAPPO}/*_rnn_smax.py``): ``agents``,
``num_agents``, ``num_allies``, ``state_size``, ``observation_space(a)``, ``action_space(a).n``,
``obs["world_state"]``, ``get_avail_actions``, and ``infos`` entries they can reshape to
``[num_envs * num_agents]``.

This adapter binds the params and converts the stacked ``[A, ...]`` arrays to and from dicts:

- ``obs``: one entry per agent and ``"world_state"``, the env's ``global_state`` (a flat vector).
- ``dones[agent]``: the episode ended or the agent is dead (JaxMARL's SMAX: dead only); ``dones["__all__"]``:
  terminated or truncated.
- ``infos``: per-agent arrays ``[A]`` only, as JaxMARL's are: realax's per-agent entries (``alive``,
  ``invalid_action``, ...) and its episode-level ones (``won``, ``terminated``, ``truncated``) repeated for each
  agent. The rest of realax's info, ``final_obs [A, ...]`` (the observation before the autoreset), comes from
  ``step_full``, which returns realax's whole info instead.
- JaxMARL's SMAX keyword arguments are read by the env (``SMAX.jaxmarl_options``): mapped to realax's options
  where realax has them, refused with a ``RealaxError`` saying what realax has instead where it does not.

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
from realax import registry
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.spaces import Space

PerAgent = dict[str, jax.Array]


class JaxMARLEnv:
    """``JaxMARLEnv("realax/SMAX-v0", scenario="3m")``: the env with JaxMARL's method signatures."""

    def __init__(self, env_id: str, **kwargs: Any) -> None:
        options, updates = _jaxmarl_options(env_id, kwargs)
        env, params = realax.make(env_id, **options)
        if not isinstance(env, MultiAgentEnv):
            raise RealaxError(f"{env_id} is single-agent; JaxMARL's interface is for multi-agent envs")
        self.env: MultiAgentEnv = env
        self.params = params.replace(**updates) if updates else params
        self.agents = list(self.env.agents)
        self.num_agents = len(self.agents)
        self.observation_spaces = {a: self.env.observation_space(self.params) for a in self.agents}
        self.action_spaces = {a: self.env.action_space(self.params) for a in self.agents}

    # -- what JaxMARL's SMAX and its wrappers read ------------------------------------------------------------
    @property
    def num_allies(self) -> int:
        """SMAX: the allied units (the agents, without self-play)."""
        return int(self._attr("num_allies"))

    @property
    def num_enemies(self) -> int:
        """SMAX: the enemy units."""
        return int(self._attr("num_enemies"))

    @property
    def state_size(self) -> int:
        """Length of ``obs["world_state"]`` (``get_world_state``)."""
        return int(np.prod(self.env.global_state_space(self.params).shape))

    @property
    def max_steps(self) -> int:
        """The step at which an episode is truncated (``params.max_steps``)."""
        return int(self.params.max_steps)

    @property
    def name(self) -> str:
        return type(self.env).__name__

    def _attr(self, name: str) -> Any:
        if not hasattr(self.env, name):
            raise AttributeError(f"{self.name} has no {name!r} (JaxMARL's SMAX attribute)")
        return getattr(self.env, name)

    def observation_space(self, agent: str) -> Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Space:
        return self.action_spaces[agent]

    # -- the interface ------------------------------------------------------------------------------------------
    def reset(self, key: jax.Array) -> tuple[PerAgent, Any]:
        obs, state = self.env.reset(key, self.params)
        return self._obs(obs, state), state

    def step(self, key: jax.Array, state: Any, actions: Mapping[str, Any], reset_state: Any = None
             ) -> tuple[PerAgent, Any, PerAgent, PerAgent, PerAgent]:
        """One step with autoreset (into ``reset_state`` when given, as JaxMARL's ``step``); ``infos`` holds
        per-agent arrays only (see the module docstring; ``step_full`` returns realax's whole info)."""
        obs, state, rewards, dones, info = self.step_full(key, state, actions, reset_state)
        return obs, state, rewards, dones, self._per_agent(info)

    def step_full(self, key: jax.Array, state: Any, actions: Mapping[str, Any], reset_state: Any = None
                  ) -> tuple[PerAgent, Any, PerAgent, PerAgent, dict[str, Any]]:
        """``step`` with realax's whole info: ``final_obs [A, ...]``, ``terminated`` and ``truncated`` (episode
        scalars), and the env's own entries as the env returns them."""
        stacked = self._actions(actions)
        if reset_state is None:
            obs, state, reward, terminated, truncated, info = self.env.step(key, state, stacked, self.params)
        else:  # the base class's step, resetting into the given state (same keys)
            key_step, _ = jax.random.split(key)
            obs_st, state_st, reward, terminated, truncated, info = self.env.step_env(key_step, state, stacked,
                                                                                      self.params)
            end = terminated | truncated
            state = jax.tree.map(lambda a, b: jnp.where(end, a, b), reset_state, state_st)
            obs, info = self.env.get_obs(state, self.params), {**info, "final_obs": obs_st}
        done = terminated | truncated
        alive = info.get("alive", jnp.ones(self.num_agents, bool))
        dones = {a: done | ~alive[i] for i, a in enumerate(self.agents)}
        dones["__all__"] = done
        info = {**info, "terminated": terminated, "truncated": truncated}
        return self._obs(obs, state), state, self._dict(reward), dones, info

    def get_obs(self, state: Any) -> PerAgent:
        return self._obs(self.env.get_obs(state, self.params), state)

    def get_avail_actions(self, state: Any) -> PerAgent:
        return self._dict(self.env.action_mask(state, self.params))

    def get_world_state(self, state: Any) -> jax.Array:
        """The env's ``global_state`` (JaxMARL's SMAX ``get_world_state``; also ``obs["world_state"]``)."""
        return self.env.global_state(state, self.params)

    # -- conversions --------------------------------------------------------------------------------------------
    def _dict(self, stacked: jax.Array) -> PerAgent:
        return {a: stacked[i] for i, a in enumerate(self.agents)}

    def _obs(self, stacked: jax.Array, state: Any) -> PerAgent:
        return {**self._dict(stacked), "world_state": self.get_world_state(state)}

    def _per_agent(self, info: dict[str, Any]) -> PerAgent:
        """The entries of ``info`` that are per agent (``[A]``), and its scalars repeated per agent."""
        out = {}
        for k, v in info.items():
            v = jnp.asarray(v)
            if v.shape == (self.num_agents,):
                out[k] = v
            elif v.shape == ():
                out[k] = jnp.broadcast_to(v, (self.num_agents,))
        return out

    def _actions(self, actions: Mapping[str, Any]) -> jax.Array:
        if not isinstance(actions, Mapping):
            raise RealaxError(f"actions must be a dict {{agent: action}} for agents {self.agents}, "
                              f"got {type(actions).__name__}")
        missing = [a for a in self.agents if a not in actions]
        unknown = [a for a in actions if a not in self.agents]
        if missing or unknown:
            raise RealaxError(f"actions must name every agent once: missing {missing}, unknown {unknown}; "
                              f"agents: {self.agents}")
        return jnp.stack([self._action(a, actions[a]) for a in self.agents])

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


class HeuristicEnemySMAX(JaxMARLEnv):
    """realax's SMAX where JaxMARL's ``HeuristicEnemySMAX(scenario=..., **kwargs)`` stands: the same keyword
    arguments (``scenario`` from ``map_name_to_scenario``, a JaxMARL ``Scenario``, a realax name or
    ``Scenario``; None: JaxMARL's 5 x 5 marines, or ``num_allies`` x ``num_enemies``)."""

    def __init__(self, scenario: Any = None, **kwargs: Any) -> None:
        if "self_play" in kwargs:
            raise RealaxError("HeuristicEnemySMAX plays the enemies by the heuristic; for self-play use "
                              "JaxMARLEnv('realax/SMAX-v0', self_play=True)")
        if scenario is None:
            kwargs = {"num_allies": 5, "num_enemies": 5, **kwargs}
        super().__init__("realax/SMAX-v0", scenario=scenario, **kwargs)


def map_name_to_scenario(map_name: str) -> Any:
    """realax's SMAX scenario of a JaxMARL map name (``"3m"``, ``"2s3z"``, ...); a ``RealaxError`` lists them."""
    return _jaxmarl_options("realax/SMAX-v0", {"scenario": map_name})[0]["scenario"]


def _jaxmarl_options(env_id: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options for realax.make, params fields to replace)`` of JaxMARL keyword arguments: read by the env
    class's ``jaxmarl_options`` where it has one (SMAX), else passed on as realax options."""
    translate = getattr(registry.spec(env_id).load(), "jaxmarl_options", None)
    return translate(kwargs) if translate is not None else (kwargs, {})
