"""PettingZoo adapter: a realax ``MultiAgentEnv`` behind ``pettingzoo.ParallelEnv``.

Observations are dicts ``{"observation": ..., "action_mask": int8 [n_actions]}`` (PettingZoo's convention
for masks); agents whose episode ended, or who died, leave ``agents``; there is no autoreset inside.
Actions outside the space always raise; masked (currently invalid) actions raise too unless
``strict_masks=False``, which replaces them with the env's ``noop_action`` as the jitted path does
(PettingZoo's own seed and state tests sample actions without looking at masks).
Every bad action -- text, None, an object, a wrong shape, NaN, a fraction, outside the space, a masked one,
actions that are not a dict of the agents in play -- is a ``RealaxError`` naming the agent, the action and the
space (``realax.spaces.Space.check``, the same check as ``env.validate_action``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from realax._extras import MissingExtra
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.spaces import Discrete
from realax.wrappers.programs import programs

try:
    from pettingzoo import ParallelEnv
except ModuleNotFoundError as err:  # the [marl] extra
    raise MissingExtra("pettingzoo", "marl", "the PettingZoo adapter", err) from err


class PettingZooEnv(ParallelEnv):
    metadata = {"name": "realax", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, env_id: str, render_mode: str | None = None, strict_masks: bool = True, **kwargs: Any) -> None:
        shared = programs(env_id, kwargs)
        env, self.params = shared.env, shared.params
        if not isinstance(strict_masks, (bool, np.bool_)):
            raise RealaxError(f"strict_masks must be true or false, got {strict_masks!r}")
        if not isinstance(env, MultiAgentEnv):
            raise RealaxError(f"{env_id} is single-agent; use gymnasium.make({env_id!r}) instead")
        self.env: MultiAgentEnv = env
        if render_mode not in (None, "rgb_array"):
            raise RealaxError(f"render_mode {render_mode!r} is not supported; use 'rgb_array' or None")
        self.render_mode = render_mode
        self.strict_masks = strict_masks
        self.metadata = {**self.metadata, "name": env_id}
        self.possible_agents = list(self.env.agents)
        self.agents: list[str] = []
        obs_sp = self.env.observation_space(self.params).to_gymnasium()
        act_sp = self.env.action_space(self.params)
        if not isinstance(act_sp, Discrete):
            raise RealaxError(f"{env_id}: the PettingZoo adapter needs a Discrete action space, got {act_sp}")
        self._n_actions = act_sp.n
        self._space = act_sp
        self._obs_spaces = {a: gymnasium.spaces.Dict({
            "observation": obs_sp,
            "action_mask": gymnasium.spaces.Box(0, 1, (act_sp.n,), np.int8)}) for a in self.possible_agents}
        self._act_spaces = {a: act_sp.to_gymnasium() for a in self.possible_agents}
        self.state_space = self.env.global_state_space(self.params).to_gymnasium()
        self._reset, self._step, self._mask = shared.reset, shared.step, shared.action_mask
        self._global_state = shared.global_state
        self._key = jax.random.key(int(np.random.SeedSequence().generate_state(1)[0]))
        self._state: Any = None
        self._reward: np.ndarray | None = None  # float32 [A]: the last step's rewards (None right after reset), for render()
        self._return: np.ndarray | None = None  # float32 [A]: the episode's returns so far, for render()

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self._act_spaces[agent]

    def _obs(self, obs: jax.Array) -> dict[str, dict[str, np.ndarray]]:
        arr, mask = np.asarray(obs), np.asarray(self._mask(self._state, self.params)).astype(np.int8)
        idx = {a: i for i, a in enumerate(self.possible_agents)}
        return {a: {"observation": arr[idx[a]], "action_mask": mask[idx[a]]} for a in self.agents}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._key = jax.random.key(seed)
        self._key, sub = jax.random.split(self._key)
        obs, self._state = self._reset(sub, self.params)
        self._reward, self._return = None, np.zeros(len(self.possible_agents), np.float32)
        self.agents = list(self.possible_agents)
        return self._obs(obs), {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float], dict[str, bool],
                                                       dict[str, bool], dict[str, dict[str, Any]]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(actions, Mapping):
            raise RealaxError(f"actions must be a dict {{agent: action}} for the agents in play {self.agents}, "
                              f"got {type(actions).__name__}")
        unknown = [a for a in actions if a not in self.agents]
        if unknown:
            raise RealaxError(f"actions given for agents not in play: {unknown!r}; in play: {self.agents}")
        mask = np.asarray(self._mask(self._state, self.params))
        arr = np.zeros(len(self.possible_agents), np.int32)
        for i, a in enumerate(self.possible_agents):
            if a not in self.agents:
                continue
            if a not in actions:
                raise RealaxError(f"no action given for agent {a!r}; in play: {self.agents}")
            act = int(self._space.check(actions[a], (), f"action of agent {a!r}"))
            if mask[i, act]:
                arr[i] = act
            elif self.strict_masks:
                valid = np.flatnonzero(mask[i]).tolist()
                raise RealaxError(f"action {act} of agent {a!r} is masked (invalid now); valid: {valid}")
            else:
                arr[i] = self.env.noop_action
        self._key, sub = jax.random.split(self._key)
        obs, self._state, r, term, trunc, info = self._step(sub, self._state, jnp.asarray(arr), self.params)
        r, alive = np.asarray(r), np.asarray(info.get("alive", np.ones(len(arr), bool)))
        self._reward = r.astype(np.float32)
        self._return = self._return + self._reward
        term, trunc = bool(term), bool(trunc)
        live = self.agents
        idx = {a: i for i, a in enumerate(self.possible_agents)}
        rewards = {a: float(r[idx[a]]) for a in live}
        terminations = {a: term or not bool(alive[idx[a]]) for a in live}
        truncations = {a: trunc for a in live}
        infos: dict[str, dict[str, Any]] = {a: {} for a in live}
        observations = self._obs(obs)
        self.agents = [a for a in live if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        if self._state is None:
            raise RuntimeError("call reset() before state()")
        return np.asarray(self._global_state(self._state, self.params))

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._state is not None:
            return self.env.render(self._state, self.params, reward=self._reward, episode_return=self._return)
        return None

    def close(self) -> None:
        pass
