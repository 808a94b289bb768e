"""``realax/Spectrum-v0``: one cognitive radio sharing a band with scripted emitters and jammers.

Anchor: RFRL Gym (Rosen et al., "RFRL Gym: A Reinforcement Learning Testbed for Cognitive Radio
Applications", IEEE ICMLA 2023; code ``vtnsiSDD/rfrl-gym``). Facts carried over: action ``Discrete(1+C)``
with 0 = stay silent; per step the entities choose channels and the radio is scored against that same step's
occupancy (so it must predict); reward 0 when silent, else ``dsa``: +1 on a channel with no entity, -1
otherwise, ``jam``: +1 iff the target entity alone occupies the channel, -1 otherwise; ``detect``
observations show occupied/free, ``classify`` the entity index (collisions are E+1). Episodes last
``max_steps`` steps (truncation). The paper's switch "dampening" (+d for staying on a channel, -d for
switching) is ``params.switch_penalty`` (default 0, as in RFRL Gym's code).

Beyond the anchor: seeded; the observation is a waterfall of the last ``history`` frames (``history=1`` is
RFRL Gym's one-frame observation, which makes hoppers non-Markovian); more jammer types; random scenarios.

- observation: ``int8 [history, C]``, oldest frame first; detect: 0/1, classify: 0 free, i entity i
  (1-based, JSON order), E+1 collision. With ``own_tx=True`` the radio's own transmission adds K (the
  number of codes: 2 in detect, E+2 in classify) to its cell, so it can see what reactive jammers see.
- action: ``int32`` in ``0..C``; inside ``jit`` anything else (a fraction, NaN, infinity, out of range) becomes
  0 (silent) and is counted in ``info["invalid_action"]`` (``realax.core.discrete_action``).
- reward: as above, ``float32``; never terminates, truncates at ``max_steps``.

>>> env, params = realax.make("realax/Spectrum-v0", scenario="hopper")
>>> obs, state = jax.jit(env.reset)(jax.random.key(0), params)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, EnvParams, StepResult
from realax.envs.spectrum import dynamics as dyn
from realax.envs.spectrum import scenarios
from realax.errors import RealaxError
from realax.spaces import Box, Discrete


@struct.dataclass(kw_only=True)
class SpectrumParams(EnvParams):
    entities: dyn.EntityParams
    reward_jam: jax.Array  # bool []; False = dsa
    target: jax.Array  # int32 []; 1-based target entity for jam, 0 = none
    switch_penalty: float = 0.0  # the paper's dampening: +d staying on a channel, -d switching


@struct.dataclass
class SpectrumState:
    t: jax.Array  # int32 []; step index of the newest frame
    ent: dyn.EntityState
    frame: jax.Array  # int8 [C]; entity occupancy codes at t
    waterfall: jax.Array  # int8 [H, C]; observed frames, oldest first
    tx: jax.Array  # int8 [H]; the radio's channel + 1 in each of those frames (0 = silent)


class Spectrum(Environment[SpectrumState, SpectrumParams]):
    description = "One radio doing spectrum access or jamming among RFRL Gym-style emitters and jammers"

    def __init__(self, scenario: str = "hopper", history: int = 8, own_tx: bool = False, seed: int = 0,
                 max_steps: int | None = None):
        """``scenario``: a built-in name or an RFRL Gym JSON path; ``history``: frames observed (1..1024);
        ``own_tx``: also show the radio's own past transmissions (off: RFRL Gym's information; needs at most
        62 entities in classify mode, so that the doubled int8 codes fit); ``seed`` (0..2**32-1): the random hop orders of
        ``rand_hop`` entities and the ``random`` scenario; ``max_steps``: None (the scenario's) or 1..2**30.
        Bad values are a ``RealaxError`` naming the field and the allowed range."""
        self.history, seed, max_steps = scenarios.constructor_options("Spectrum", history, seed, max_steps)
        if not isinstance(own_tx, (bool, np.bool_)):
            raise RealaxError(f"Spectrum: own_tx must be true or false, got {own_tx!r}")
        self.scenario = scenarios.resolve(scenario, seed)
        self.own_tx = bool(own_tx)
        self.num_channels = self.scenario.num_channels
        agent = self.scenario.agents[0]
        self.classify = agent.observation_mode == "classify"
        ents = scenarios.entity_table(self.scenario, seed)
        self.num_entities = ents.kind.shape[0]
        if self.own_tx and 2 * self._levels - 1 > 127:
            raise RealaxError(f"Spectrum: own_tx=True needs at most 62 entities (codes up to 2 * (entities + 2) - 1 "
                              f"must fit int8); scenario {self.scenario.name!r} has {self.num_entities}")
        self._params = SpectrumParams(
            max_steps=self.scenario.max_steps if max_steps is None else max_steps, entities=ents,
            reward_jam=jnp.asarray(agent.reward_mode == "jam"), target=jnp.asarray(agent.target, jnp.int32))

    @property
    def default_params(self) -> SpectrumParams:
        return self._params

    def sample_params(self, key: jax.Array, params: SpectrumParams | None = None) -> SpectrumParams:
        """Same settings with a random entity table (vmap over keys for a batch of scenarios)."""
        params = self._params if params is None else params
        return params.replace(entities=scenarios.sample_entities(key, params.entities, self._params.max_steps),
                              reward_jam=jnp.asarray(False), target=jnp.asarray(0, jnp.int32))

    @property
    def _levels(self) -> int:
        return self.num_entities + 2 if self.classify else 2

    def observation_space(self, params: SpectrumParams | None = None) -> Box:
        top = self._levels * (2 if self.own_tx else 1) - 1
        return Box(0, top, (self.history, self.num_channels), jnp.int8)

    def action_space(self, params: SpectrumParams | None = None) -> Discrete:
        return Discrete(1 + self.num_channels)

    def _encode(self, frame: jax.Array) -> jax.Array:
        return frame if self.classify else (frame > 0).astype(jnp.int8)

    def reset_env(self, key: jax.Array, params: SpectrumParams) -> tuple[jax.Array, SpectrumState]:
        ent, frame, _ = dyn.start(params.entities, key, self.num_channels)
        H, C = self.history, self.num_channels
        state = SpectrumState(t=jnp.int32(0), ent=ent, frame=frame,
                              waterfall=jnp.zeros((H, C), jnp.int8).at[-1].set(self._encode(frame)),
                              tx=jnp.zeros(H, jnp.int8))
        return self.get_obs(state, params), state

    def get_obs(self, state: SpectrumState, params: SpectrumParams) -> jax.Array:
        if not self.own_tx:
            return state.waterfall
        mine = state.tx[:, None] == jnp.arange(1, self.num_channels + 1, dtype=jnp.int8)[None, :]
        return state.waterfall + jnp.int8(self._levels) * mine.astype(jnp.int8)

    def step_env(self, key: jax.Array, state: SpectrumState, action: jax.Array, params: SpectrumParams
                 ) -> StepResult[SpectrumState]:
        a, invalid, t, ent, frame, reward = dyn.radio_turn(params, state.ent, state.frame, state.tx, state.t, action,
                                                           key, self.num_channels)
        state = SpectrumState(t=t, ent=ent, frame=frame,
                              waterfall=jnp.concatenate([state.waterfall[1:], self._encode(frame)[None]]),
                              tx=jnp.concatenate([state.tx[1:], a.astype(jnp.int8)[None]]))
        info = {"invalid_action": invalid}
        return self.get_obs(state, params), state, reward.astype(jnp.float32), jnp.bool_(False), t >= params.max_steps, info

    def render(self, state: SpectrumState, params: SpectrumParams | None = None,
               *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the observed waterfall (channels x the last ``history`` steps) with the
        radio's transmissions, a legend, and the step, last reward and episode return when given
        (``realax.envs.spectrum.render``)."""
        from realax.envs.spectrum import render

        params = self._params if params is None else params
        jam, target = bool(np.asarray(params.reward_jam)), int(np.asarray(params.target))
        title = f"Spectrum-v0 - scenario {self.scenario.name!r}, {self.num_channels} channels"
        return render.draw(np.asarray(state.waterfall), np.asarray(state.tx)[:, None], int(state.t),
                           int(np.asarray(params.max_steps)), kinds=np.asarray(params.entities.kind).tolist(),
                           classify=self.classify, num_radios=1, rules=[render.reward_rule(jam, target)],
                           reward=reward, episode_return=episode_return, title=title)
