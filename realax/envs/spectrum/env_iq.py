"""``realax/SpectrumIQ-v0``: the Spectrum task sensed through synthetic IQ samples and an energy detector.

Anchor: RFRL Gym's second environment, ``rfrl-gym-iq-v0`` (Rosen et al., ICMLA 2023; ``vtnsiSDD/rfrl-gym``
``rfrl_gym/envs/rfrl_gym_iq_env.py`` and ``datagen/iq_gen.py``). Scenarios, entities, actions and rewards are
``realax/Spectrum-v0``'s (``realax.envs.spectrum.env``); what the radio *observes* changes: every step the
transmitting entities' bursts (their ``modem_params``), the radio's own chirp and complex AWGN are generated as
``samples_per_step`` complex samples, and the radio sees the energy detector's decisions or the power
spectrum (``realax.envs.spectrum.iq`` has the signal path and its sources). As in RFRL Gym the reward is
computed on the ground truth, not on what the detector reported. RFRL Gym computes the detector inside its
PyQt renderer, so its sensing works only with a window open; here it is part of the jitted step.

- observation: ``obs_mode="detect"``: ``int8 [history, C]`` 0/1 detector decisions, oldest first (the shape of
  ``Spectrum-v0``'s detect view; a ``classify`` scenario is observed through the detector too, since energy
  does not tell who sent it). ``obs_mode="spectrogram"``: ``float32 [history, C * bins_per_channel]``, each row
  one step's power spectrum from -0.5 to 0.5 cycles/sample in dB over the noise floor ``noise_std^2``, clipped
  to ``[-20, 80]``; channel ``k`` is columns ``k * bins_per_channel ..``.
- action, reward, episode: as ``Spectrum-v0`` (``Discrete(1 + C)``, 0 = silent; dsa/jam on the true occupancy).
- info: ``invalid_action``; the detector against what is on the air this step (entities, and the radio's own
  chirp when ``hear_own``): ``occupied``/``detected`` (true occupied channels, and those the detector flagged),
  ``vacant``/``false_alarms``, and ``detection_rate = detected / max(occupied, 1)``,
  ``false_alarm_rate = false_alarms / max(vacant, 1)`` (sum the counts to aggregate over steps).
- params (vmappable): ``noise_std`` (RFRL Gym: 0.01), ``snr_db [E]`` per entity (mean burst power over the
  noise power in one channel, ``noise_std^2 / C``; defaults: RFRL Gym's amplitudes), ``own_snr_db`` and
  ``hear_own`` (the radio's chirp is in the samples, as in RFRL Gym), ``fading`` (Rayleigh block fading per
  entity and step), ``threshold`` (RFRL Gym: 0.001), ``cfar_scale``.

Speed (``benchmarks/spectrum_iq_throughput.py``): the default 1,024 samples per step is the cheaper setting;
RFRL Gym's 10,000 costs about 6x more per step (see ``benchmarks/results/spectrum_iq_throughput.md``). The
noise is drawn in the frequency domain (``iq.sense``), and the autoreset's reset runs only when an episode in
the batch ends (``step_with_final_state``).

>>> env, params = realax.make("realax/SpectrumIQ-v0", scenario="mixed", obs_mode="spectrogram")
>>> obs, state = jax.jit(env.reset)(jax.random.key(0), params)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, StepResult, check_int
from realax.envs.spectrum import dynamics as dyn
from realax.envs.spectrum import iq, scenarios
from realax.envs.spectrum.env import Spectrum, SpectrumParams
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

OBS_MODES = ("detect", "spectrogram")
DETECTORS = ("energy", "cfar")
#: the spectrogram observation's range, dB over the noise floor
SPEC_DB = (-20.0, 80.0)
#: the most samples one step may hold
MAX_SAMPLES = 2**20


@struct.dataclass(kw_only=True)
class SpectrumIQParams(SpectrumParams):
    snr_db: jax.Array  # float32 [E]; each entity's in-channel SNR (dB)
    noise_std: float = iq.RFRL_NOISE_STD
    own_snr_db: float = 30.0  # the radio's chirp (RFRL Gym's amplitude 0.1 at sigma 0.01 over 10 channels)
    hear_own: bool = True  # the radio's chirp is in the samples its detector reads (RFRL Gym)
    fading: bool = False  # Rayleigh block fading per entity and step
    threshold: float = iq.RFRL_THRESHOLD  # energy detector: channel energy above this is "occupied"
    cfar_scale: float = 4.0  # CFAR detector: occupied above this multiple of the median channel energy


@struct.dataclass
class SpectrumIQState:
    t: jax.Array  # int32 []
    ent: dyn.EntityState
    frame: jax.Array  # int8 [C]; true entity occupancy codes at t
    waterfall: jax.Array  # int8 [H, C]; detector decisions, oldest first
    truth: jax.Array  # int8 [H, C]; true entity occupancy codes of those steps
    spec: jax.Array  # float32 [H, B]; power spectrum (dB over the noise floor) of those steps
    tx: jax.Array  # int8 [H]; the radio's channel + 1 (0 silent)


class SpectrumIQ(Environment[SpectrumIQState, SpectrumIQParams]):
    description = "Spectrum-v0 sensed through synthetic IQ (RFRL Gym modems, AWGN) and an energy detector"
    lazy_reset = True  # a reset's IQ samples cost as much as a step's

    def __init__(self, scenario: str = "mixed", history: int = 8, seed: int = 0, max_steps: int | None = None,
                 samples_per_step: int = 1024, obs_mode: str = "detect", detector: str | None = None,
                 snr_db: float | None = None, bins_per_channel: int = 8):
        """``scenario``, ``history``, ``seed``, ``max_steps``: as ``Spectrum-v0``. ``samples_per_step``: complex
        samples generated per step (RFRL Gym: 10,000; default 1,024, about 10x cheaper); ``obs_mode``: ``detect``
        or ``spectrogram``; ``detector``: ``energy`` (fixed threshold) or ``cfar``; None takes the scenario's
        ``detector`` field (RFRL Gym's ``EnergyDetector``), else energy; ``snr_db``: one in-channel SNR for every
        entity (None: RFRL Gym's amplitudes, per entity); ``bins_per_channel``: spectrogram columns per channel.
        Bad values are a ``RealaxError`` naming the field."""
        base_env = Spectrum(scenario=scenario, history=history, seed=seed, max_steps=max_steps)
        self.history, self.scenario, self.num_channels = base_env.history, base_env.scenario, base_env.num_channels
        self.num_entities = base_env.num_entities
        owner = "SpectrumIQ"
        C = self.num_channels
        self.bins_per_channel = check_int("bins_per_channel", bins_per_channel, 1, 64, owner)
        self.num_bins = C * self.bins_per_channel
        self.samples_per_step = check_int("samples_per_step", samples_per_step, 1, MAX_SAMPLES, owner)
        if self.samples_per_step < self.num_bins:
            raise RealaxError(f"{owner}: samples_per_step must be at least the {self.num_bins} spectrogram bins "
                              f"({C} channels x bins_per_channel {self.bins_per_channel}), got {samples_per_step}")
        if obs_mode not in OBS_MODES:
            raise RealaxError(f"{owner}: obs_mode must be one of {list(OBS_MODES)}, got {obs_mode!r}")
        self.obs_mode = obs_mode
        from_file = iq.detector_type(self.scenario)
        if detector is not None and detector not in DETECTORS:
            raise RealaxError(f"{owner}: detector must be one of {list(DETECTORS)} or None (the scenario's), got "
                              f"{detector!r}")
        self.detector = detector or from_file or "energy"
        if snr_db is not None and (isinstance(snr_db, bool) or not isinstance(snr_db, (int, float))
                                   or not math.isfinite(snr_db) or not -100 <= snr_db <= 150):
            raise RealaxError(f"{owner}: snr_db must be a finite number of dB in [-100, 150] or None, got {snr_db!r}")
        ents = self.scenario.entities
        specs = [iq.modem_spec(e, C) for e in ents]
        E = self.num_entities  # padded table (>= 1 slot)
        pad = iq.ModemSpec("psk", 4, max(2, 2 * C), 0.0, 0.0, 0.0, 1.0)  # an empty entity slot (never on)
        specs += [pad] * (E - len(specs))
        self.plan = iq.Plan(specs, C, self.samples_per_step, self.num_bins)
        snr = [iq.rfrl_snr_db(s, self._burst_len(s), C) for s in specs]
        if snr_db is not None:
            snr = [float(snr_db)] * E
        keep = ("modem_params", "environment.detector")
        unused = tuple(u for u in self.scenario.unused if not u.endswith(keep))
        if self.scenario.agents[0].observation_mode == "classify":
            unused += ("environment.observation_mode",)
        self.scenario = dataclasses.replace(self.scenario, unused=unused)
        base = base_env.default_params
        self._params = SpectrumIQParams(
            max_steps=base.max_steps, entities=base.entities, reward_jam=base.reward_jam, target=base.target,
            snr_db=jnp.asarray(snr, jnp.float32), own_snr_db=iq.own_snr_db(C, self.samples_per_step))

    def _burst_len(self, s: iq.ModemSpec) -> int:
        n0 = int(s.start * self.samples_per_step)
        return min(self.samples_per_step, int((s.start + s.duration) * self.samples_per_step)) - n0

    @property
    def default_params(self) -> SpectrumIQParams:
        return self._params

    def sample_params(self, key: jax.Array, params: SpectrumIQParams | None = None) -> SpectrumIQParams:
        """Same settings with a random entity table (vmap over keys for a batch of scenarios); the modems and
        SNRs stay with their entity slots."""
        params = self._params if params is None else params
        return params.replace(entities=scenarios.sample_entities(key, params.entities, self._params.max_steps),
                              reward_jam=jnp.asarray(False), target=jnp.asarray(0, jnp.int32))

    def action_space(self, params: Any = None) -> Discrete:
        return Discrete(1 + self.num_channels)

    def observation_space(self, params: Any = None) -> Box:
        if self.obs_mode == "detect":
            return Box(0, 1, (self.history, self.num_channels), jnp.int8)
        return Box(SPEC_DB[0], SPEC_DB[1], (self.history, self.num_bins), jnp.float32)

    def get_obs(self, state: SpectrumIQState, params: Any) -> jax.Array:
        return state.waterfall if self.obs_mode == "detect" else state.spec

    def sense(self, key: jax.Array, chan: jax.Array, action: jax.Array, params: SpectrumIQParams
              ) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(decisions bool [C], channel energy [C], spectrum dB [B])`` of one step's samples."""
        energy, spec = iq.sense(key, chan, action, params.snr_db, params.noise_std, params.own_snr_db, params.hear_own,
                                params.fading, self.plan)
        hit = iq.detect(energy, params.threshold, self.detector == "cfar", params.cfar_scale)
        db = 10.0 * jnp.log10(spec / jnp.asarray(params.noise_std) ** 2 + 1e-12)
        return hit, energy, jnp.clip(db, *SPEC_DB).astype(jnp.float32)

    def reset_env(self, key: jax.Array, params: SpectrumIQParams) -> tuple[jax.Array, SpectrumIQState]:
        k_ent, k_iq = jax.random.split(key)
        ent, frame, _ = dyn.start(params.entities, k_ent, self.num_channels)
        hit, _, spec = self.sense(k_iq, ent.chan, jnp.int32(0), params)
        H, C = self.history, self.num_channels
        state = SpectrumIQState(
            t=jnp.int32(0), ent=ent, frame=frame,
            waterfall=jnp.zeros((H, C), jnp.int8).at[-1].set(hit.astype(jnp.int8)),
            truth=jnp.zeros((H, C), jnp.int8).at[-1].set(frame),
            spec=jnp.full((H, self.num_bins), SPEC_DB[0], jnp.float32).at[-1].set(spec),
            tx=jnp.zeros(H, jnp.int8))
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: SpectrumIQState, action: jax.Array, params: SpectrumIQParams
                 ) -> StepResult[SpectrumIQState]:
        C = self.num_channels
        k_ent, k_iq = jax.random.split(key)
        a, invalid, t, ent, frame, reward = dyn.radio_turn(params, state.ent, state.frame, state.tx, state.t, action,
                                                           k_ent, C)
        hit, _, spec = self.sense(k_iq, ent.chan, a, params)
        on_air = (frame > 0) | ((jnp.arange(1, C + 1) == a) & params.hear_own)
        roll = lambda old, new: jnp.concatenate([old[1:], new[None]])  # noqa: E731
        state = SpectrumIQState(t=t, ent=ent, frame=frame, waterfall=roll(state.waterfall, hit.astype(jnp.int8)),
                                truth=roll(state.truth, frame), spec=roll(state.spec, spec),
                                tx=roll(state.tx, a.astype(jnp.int8)))
        occupied, vacant = jnp.sum(on_air, dtype=jnp.int32), jnp.sum(~on_air, dtype=jnp.int32)
        detected, false_alarms = jnp.sum(hit & on_air, dtype=jnp.int32), jnp.sum(hit & ~on_air, dtype=jnp.int32)
        info = {"invalid_action": invalid, "occupied": occupied, "detected": detected, "vacant": vacant,
                "false_alarms": false_alarms,
                "detection_rate": detected / jnp.maximum(occupied, 1).astype(jnp.float32),
                "false_alarm_rate": false_alarms / jnp.maximum(vacant, 1).astype(jnp.float32)}
        return (self.get_obs(state, params), state, reward.astype(jnp.float32), jnp.bool_(False),
                t >= params.max_steps, info)

    def occupancy_from_spectrogram(self, row: jax.Array, params: SpectrumIQParams) -> jax.Array:
        """The energy detector applied to one spectrogram row (``bool [C]``): a channel's energy is the mean of
        its bins' linear power over ``C`` (exact up to the dB clipping and unequal FFT bins per channel)."""
        lin = 10.0 ** (row / 10.0) * jnp.asarray(params.noise_std) ** 2
        energy = lin.reshape(self.num_channels, self.bins_per_channel).mean(-1) / self.num_channels
        return iq.detect(energy, params.threshold, self.detector == "cfar", params.cfar_scale)

    def render(self, state: SpectrumIQState, params: SpectrumIQParams | None = None,
               *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the power spectrogram of the last ``history`` steps with the detector's
        decisions and the true occupancy overlaid (``realax.envs.spectrum.render.draw_iq``)."""
        from realax.envs.spectrum import render

        params = self._params if params is None else params
        assert params is not None
        jam, target = bool(np.asarray(params.reward_jam)), int(np.asarray(params.target))
        name = self.scenario.name if len(self.scenario.name) <= 28 else self.scenario.name[:25] + "..."
        title = f"SpectrumIQ-v0 - {name!r}, {self.samples_per_step} samples/step"
        return render.draw_iq(np.asarray(state.spec), np.asarray(state.waterfall), np.asarray(state.truth),
                              np.asarray(state.tx), int(state.t), int(np.asarray(params.max_steps)),
                              num_channels=self.num_channels, hear_own=bool(np.asarray(params.hear_own)),
                              rule=render.reward_rule(jam, target), detector=self.detector, reward=reward,
                              episode_return=episode_return, title=title)
