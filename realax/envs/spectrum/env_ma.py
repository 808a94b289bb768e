"""``realax/SpectrumMA-v0``: several radios in one band, each with its own observation and reward mode.

Anchor: RFRL Gym's multi-agent branch (Vangaru et al., "A Multi-Agent Reinforcement Learning Testbed for
Cognitive Radio Applications", IEEE CCNC 2025; ``vtnsiSDD/rfrl-gym`` branch ``marl-dev``). Facts carried
over: per-agent observation mode, reward mode and target; a ``dsa`` radio earns +1 only when it is alone on
its channel (no entity, no other radio) and -1 otherwise (CCNC Eq. 1-3); a ``jam`` radio earns +1 when
the target entity transmits on its channel; silence earns 0; the classify view shows entities, radios and
collisions. Entities react to the radios' transmissions of the previous step.

- observation: ``int8 [A, history, C]``; cell codes 0 free, i entity i, E+j radio j, E+A+1 collision
  (detect agents see 0/1).
- action: ``int32 [A]`` in ``0..C`` (anything else inside ``jit``: silent, counted in ``info["invalid_action"]``);
  reward ``float32 [A]``; ``info["alive"]`` all true.
- ``global_state``: the classify waterfall and the radios' recent channels, flattened.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import EnvParams, MultiAgentEnv, StepResult, check_int
from realax.envs.spectrum import dynamics as dyn
from realax.envs.spectrum import scenarios
from realax.envs.spectrum import schema as sc
from realax.spaces import Box, Discrete


@struct.dataclass(kw_only=True)
class SpectrumMAParams(EnvParams):
    entities: dyn.EntityParams
    reward_jam: jax.Array  # bool [A]
    target: jax.Array  # int32 [A]; 1-based target entity, 0 = none
    classify: jax.Array  # bool [A]; False = detect view
    switch_penalty: float = 0.0


@struct.dataclass
class SpectrumMAState:
    t: jax.Array  # int32 []
    ent: dyn.EntityState
    frame: jax.Array  # int8 [C]; entity-only occupancy at t (what entities react to)
    waterfall: jax.Array  # int8 [H, C]; full view (entities and radios), oldest first
    tx: jax.Array  # int8 [H, A]; each radio's channel + 1 per frame


class SpectrumMA(MultiAgentEnv[SpectrumMAState, SpectrumMAParams]):
    description = "Several radios sharing a band (RFRL Gym MARL): collisions with entities and each other"

    def __init__(self, scenario: str = "marl_mixed", history: int = 8, seed: int = 0, num_agents: int = 2,
                 max_steps: int | None = None):
        """Multi-agent scenario files set their own agents; single-agent ones are given to
        ``num_agents`` radios with identical settings (1 .. 126 - entities: int8 occupancy codes).
        ``history`` 1..1024, ``seed`` 0..2**32-1, ``max_steps`` None (the scenario's) or 1..2**30; bad values
        are a ``RealaxError`` naming the field and the allowed range."""
        history, seed, max_steps = scenarios.constructor_options("SpectrumMA", history, seed, max_steps)
        self.scenario = scenarios.resolve(scenario, seed)
        if self.scenario.multi_agent_file:
            specs = self.scenario.agents
        else:
            most = sc.max_agents(max(len(self.scenario.entities), 1))
            specs = self.scenario.agents * check_int("num_agents", num_agents, 1, most, "SpectrumMA")
        self.history, self.num_channels = int(history), self.scenario.num_channels
        self._agents = tuple(f"radio_{i}" for i in range(len(specs)))
        ents = scenarios.entity_table(self.scenario, seed)
        self.num_entities = ents.kind.shape[0]
        self._params = SpectrumMAParams(
            max_steps=self.scenario.max_steps if max_steps is None else max_steps, entities=ents,
            reward_jam=jnp.array([s.reward_mode == "jam" for s in specs]),
            target=jnp.array([s.target for s in specs], jnp.int32),
            classify=jnp.array([s.observation_mode == "classify" for s in specs]))

    @property
    def agents(self) -> tuple[str, ...]:
        return self._agents

    @property
    def default_params(self) -> SpectrumMAParams:
        return self._params

    @property
    def _collision(self) -> int:
        return self.num_entities + self.num_agents + 1

    def observation_space(self, params: SpectrumMAParams | None = None) -> Box:
        return Box(0, self._collision, (self.history, self.num_channels), jnp.int8)

    def action_space(self, params: SpectrumMAParams | None = None) -> Discrete:
        return Discrete(1 + self.num_channels)

    def global_state_space(self, params: SpectrumMAParams | None = None) -> Box:
        return Box(0, max(self._collision, self.num_channels), (self.history * (self.num_channels + self.num_agents),), jnp.int8)

    def global_state(self, state: SpectrumMAState, params: SpectrumMAParams | None = None) -> jax.Array:
        return jnp.concatenate([state.waterfall.reshape(-1), state.tx.reshape(-1)])

    def get_obs(self, state: SpectrumMAState, params: SpectrumMAParams) -> jax.Array:
        wf = state.waterfall[None]
        return jnp.where(params.classify[:, None, None], wf, (wf > 0).astype(jnp.int8))

    def _view(self, frame: jax.Array, ent_counts: jax.Array, chans: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Full occupancy codes: entities, radios (E+1+j), collisions."""
        E, C = self.num_entities, self.num_channels
        radio, radio_counts = dyn.occupancy(chans, C, self._collision, offset=E)
        total = ent_counts + radio_counts
        view = jnp.where(total > 1, self._collision, jnp.where(ent_counts > 0, frame, radio))
        return view.astype(jnp.int8), radio_counts

    def reset_env(self, key: jax.Array, params: SpectrumMAParams) -> tuple[jax.Array, SpectrumMAState]:
        H, C, A = self.history, self.num_channels, self.num_agents
        ent, frame, counts = dyn.start(params.entities, key, C)
        view, _ = self._view(frame, counts, jnp.full((A,), -1))
        state = SpectrumMAState(t=jnp.int32(0), ent=ent, frame=frame,
                                waterfall=jnp.zeros((H, C), jnp.int8).at[-1].set(view), tx=jnp.zeros((H, A), jnp.int8))
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: SpectrumMAState, action: jax.Array, params: SpectrumMAParams
                 ) -> StepResult[SpectrumMAState]:
        C = self.num_channels
        a, invalid = dyn.radio_action(action, C, (self.num_agents,))
        t = state.t + 1
        prev_tx = jnp.any(jnp.arange(1, C + 1)[None, :] == state.tx[-1][:, None], axis=0)
        ent, frame, counts = dyn.advance(params.entities, state.ent, key, t, state.frame, prev_tx)
        view, radio_counts = self._view(frame, counts, a - 1)
        ch = jnp.maximum(a - 1, 0)
        alone = (counts[ch] == 0) & (radio_counts[ch] == 1)
        target_ch = jnp.where(params.target > 0, ent.chan[jnp.maximum(params.target - 1, 0)], -1)
        hit = jnp.where(params.reward_jam, target_ch == a - 1, alone)
        reward = jnp.where(a == 0, 0.0, jnp.where(hit, 1.0, -1.0))
        reward += dyn.switch_bonus(a, state.tx[-1], params.switch_penalty)
        state = SpectrumMAState(t=t, ent=ent, frame=frame,
                                waterfall=jnp.concatenate([state.waterfall[1:], view[None]]),
                                tx=jnp.concatenate([state.tx[1:], a.astype(jnp.int8)[None]]))
        info = {"invalid_action": invalid, "alive": jnp.ones(self.num_agents, bool)}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), jnp.bool_(False),
                t >= params.max_steps, info)

    def render(self, state: SpectrumMAState, params: SpectrumMAParams | None = None,
               *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the full waterfall (entities, radios alone on a channel, collisions) with
        each radio's transmissions outlined, a legend, and the step, last rewards and episode returns (one per
        radio) when given (``realax.envs.spectrum.render``)."""
        from realax.envs.spectrum import render

        params = self._params if params is None else params
        jam, target = np.asarray(params.reward_jam), np.asarray(params.target)
        rules = [render.reward_rule(bool(j), int(k)) for j, k in zip(jam, target, strict=True)]
        title = f"SpectrumMA-v0 - scenario {self.scenario.name!r}, {self.num_agents} radios, {self.num_channels} channels"
        return render.draw(np.asarray(state.waterfall), np.asarray(state.tx), int(state.t),
                           int(np.asarray(params.max_steps)), kinds=np.asarray(params.entities.kind).tolist(),
                           classify=True, num_radios=self.num_agents, radio_cells=True, rules=rules,
                           reward=reward, episode_return=episode_return, title=title)
