"""Baseband IQ for the spectrum family, in JAX: modems, channel layout, complex AWGN and the energy detector.

Facts carried over from RFRL Gym's IQ environment (``vtnsiSDD/rfrl-gym``, branch ``master``:
``rfrl_gym/datagen/iq_gen.py``, ``datagen/modems.py``, ``datagen/filters.py``, ``renderers/pyqt_renderer.py``,
``detectors/energy_detector.py``); the code here is our own:

- a step is ``N`` complex samples (RFRL Gym: 10,000) at a normalised sample rate of 1; channel ``k`` of ``C`` is
  centred at ``fc[k] = linspace(-0.5, 0.5, C + 1)[k] + 1 / (2C)`` cycles/sample (``channel_centres``);
- complex AWGN of standard deviation ``sigma`` (RFRL Gym: 0.01), ``sigma / sqrt(2)`` per component;
- an entity's ``modem_params``: ``type`` psk / qam / ask (``LDAPM``: unit-power symbol table, upsampled by
  ``sps = int(C / bandwidth)`` and shaped by a root-raised-cosine filter with beta 0.35 and a span of 10
  symbols) or constant / p_fmcw / n_fmcw (``Tone``: a 10 % linear ramp up and down; the chirps have amplitude
  0.1 and phase ``+-2 pi (bw / 2) (t - T / 2)^2 / T`` with ``bw = 1 / sps``); the burst fills the fraction
  ``[start, start + duration)`` of the step and sits at ``fc[k] + u / C``, ``u`` uniform in
  ``center_frequency`` (a fraction of the channel), drawn each step;
- the player transmits a chirp of amplitude 0.1 sweeping one channel width over the whole step, with
  100-sample ramps (1 % of RFRL Gym's 10,000; here ``int(0.01 N)``);
- RFRL Gym's energy detector mixes each channel down, low-passes it (Butterworth, order 100, cut-off at the
  channel's half-width), decimates by ``C`` and compares the mean power with 0.001. Here the same statistic is
  read off one FFT: the energy of the FFT bins inside the channel, ``E_k = sum |X_f|^2 / N^2`` (Parseval: the
  mean power of the ideally band-limited channel signal). For noise alone ``N E_k / sigma^2`` is Gamma(M_k, 1)
  distributed (``M_k`` FFT bins in the channel), so the false-alarm rate of a threshold is exact
  (``false_alarm_probability``).

Departures, each deliberate: RFRL Gym's modem emits an empty burst when ``duration * N`` is shorter than the
filter (e.g. 256 samples at ``sps = 40``) and then fails; here every burst is a steady-state stretch of a
longer symbol stream, so any sample count works. RFRL Gym's time axis ``linspace(0, n, n)`` is the sample index
``0..n-1`` here. Amplitudes are set by a signal-to-noise ratio (``snr_db``: mean burst power over the noise power
inside one channel, ``sigma^2 / C``); the defaults reproduce RFRL Gym's amplitudes at ``sigma = 0.01``
(``rfrl_snr_db``).

The noise samples come from a keyed counter hash (two rounds of MurmurHash3's 32-bit finaliser, keyed by
threefry bits of the step's key) through the Box-Muller transform: about 3x faster on CPU than
``jax.random.normal`` for the 10^4-10^7 samples a batch of steps needs, reproducible from the key, and checked
by the tests against the exact false-alarm law of the energy detector.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs.sampling import fmix32
from realax.envs.spectrum import schema as sc

#: RFRL Gym's modem types; the first three are linear (LDAPM), the others ``Tone``
MODEM_TYPES = ("psk", "qam", "ask", "constant", "p_fmcw", "n_fmcw")
LINEAR = ("psk", "qam", "ask")
#: RFRL Gym's root-raised-cosine roll-off and span (symbols)
BETA, SPAN = 0.35, 10
#: RFRL Gym's noise standard deviation and energy-detector threshold
RFRL_NOISE_STD, RFRL_THRESHOLD = 0.01, 0.001
#: amplitude of RFRL Gym's chirps (the player's and ``p_fmcw`` / ``n_fmcw``); ``constant`` tones have 1
CHIRP_AMPLITUDE = 0.1
#: the modem of an entity without ``modem_params`` (the built-in scenarios): QPSK filling the step
DEFAULT_MODEM: dict[str, Any] = {"type": "psk", "order": 4, "filter": "RRC", "center_frequency": [0.0, 0.0], "bandwidth": 0.5,
                 "start": 0.0, "duration": 1.0}
_MODEM_FIELDS = {"type", "order", "filter", "center_frequency", "bandwidth", "start", "duration"}
#: detector types a scenario's ``environment.detector`` may name (RFRL Gym has ``EnergyDetector`` only)
DETECTOR_TYPES = {"EnergyDetector": "energy", "CFARDetector": "cfar"}


def channel_centres(num_channels: int) -> np.ndarray:
    """``fc[k]`` in cycles/sample: RFRL Gym's ``linspace(-0.5, 0.5, C + 1) + 1 / C / 2`` (its last entry unused)."""
    return (np.linspace(-0.5, 0.5, num_channels + 1) + 1.0 / num_channels / 2)[:num_channels]


def constellation(kind: str, order: int) -> np.ndarray:
    """RFRL Gym's ``LDAPM`` symbol table, scaled to unit mean power: ASK ``0..M-1``; PSK ``exp(j(2 pi x / M +
    (log2 M - 1) pi / 4))``; square QAM ``x + jy`` with ``x`` outer, ``y`` inner over ``-m, -m+2, .., m``,
    ``m = sqrt(M) - 1``."""
    if kind == "ask":
        pts = np.arange(order, dtype=np.complex128)
    elif kind == "psk":
        x = np.arange(order)
        pts = np.exp(1j * (2 * np.pi * x / order + (np.log2(order) - 1) * np.pi / 4))
    elif kind == "qam":
        m = int(round(math.sqrt(order))) - 1
        axis = np.arange(-m, m + 1, 2)
        pts = np.array([x + 1j * y for x in axis for y in axis])
    else:
        raise ValueError(f"no constellation for modem type {kind!r}")
    return pts / np.sqrt(np.mean(np.abs(pts) ** 2))


def rrc_taps(sps: int, beta: float = BETA, span: int = SPAN) -> np.ndarray:
    """Root-raised-cosine taps at ``x = -span sps / 2 .. span sps / 2`` samples, RFRL Gym's closed form (with
    its ``1 / sqrt(sps)`` scale): ``h(0) = (1 - beta + 4 beta / pi) / sqrt(sps)``, ``h(+-sps / (4 beta)) =
    beta / sqrt(2 sps) ((1 + 2 / pi) sin(pi / (4 beta)) + (1 - 2 / pi) cos(pi / (4 beta)))``, else
    ``(sin(pi x (1 - beta) / sps) + 4 beta x / sps cos(pi x (1 + beta) / sps)) / (pi x / sps (1 - (4 beta x /
    sps)^2)) / sqrt(sps)``."""
    half = span * sps // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    t = x / sps
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (np.sin(np.pi * t * (1 - beta)) + 4 * beta * t * np.cos(np.pi * t * (1 + beta))) / (
            np.pi * t * (1 - (4 * beta * t) ** 2))
    special = np.isclose(np.abs(x), sps / (4 * beta))
    h[special] = beta / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * beta))
                                      + (1 - 2 / np.pi) * np.cos(np.pi / (4 * beta)))
    h[x == 0] = 1 - beta + 4 * beta / np.pi
    return h / np.sqrt(sps)


def tone_wave(kind: str, sps: int, n: int) -> np.ndarray:
    """RFRL Gym's ``Tone`` of ``n`` samples (complex128): a ``0.1 n`` ramp up and down; ``constant`` is the
    real envelope, ``p_fmcw`` / ``n_fmcw`` are ``0.1 env exp(+-j pi bw (t - n / 2)^2 / n)`` with ``bw = 1 / sps``:
    instantaneous frequency ``+-bw (t + 1/2 - n / 2) / n`` cycles/sample between samples ``t`` and ``t + 1``."""
    ramp = int(0.1 * n)
    env = np.concatenate([np.linspace(0, 1, ramp), np.ones(n - 2 * ramp), np.linspace(1, 0, ramp)])
    if kind == "constant":
        return env.astype(np.complex128)
    sign = 1.0 if kind == "p_fmcw" else -1.0
    t = np.arange(n, dtype=np.float64)
    return CHIRP_AMPLITUDE * env * np.exp(sign * 1j * np.pi / sps * (t - n / 2) ** 2 / n)


def own_chirp(num_channels: int, n: int) -> np.ndarray:
    """The player's waveform before mixing: RFRL Gym's ``0.1 exp(j pi / C (t - n / 2)^2 / n)`` (one channel
    width swept over the step) with linear ramps over the first and last ``int(0.01 n)`` samples."""
    t = np.arange(n, dtype=np.float64)
    w = CHIRP_AMPLITUDE * np.exp(1j * np.pi / num_channels * (t - n / 2) ** 2 / n)
    ramp = int(0.01 * n)
    if ramp:
        w[:ramp] *= np.linspace(0, 1, ramp)
        w[-ramp:] *= np.linspace(1, 0, ramp)
    return w


@dataclasses.dataclass(frozen=True)
class ModemSpec:
    kind: str
    order: int  # constellation size (linear modems), 0 for tones
    sps: int  # samples per symbol, int(C / bandwidth); a chirp sweeps 1 / sps cycles/sample
    cf_lo: float  # carrier offset range, fraction of a channel
    cf_hi: float
    start: float  # fractions of the step
    duration: float


def _fail(path: str, msg: str) -> Any:
    raise sc.ScenarioError(f"scenario field {path}: {msg}")


def _number(d: dict, key: str, path: str, lo: float, hi: float) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        _fail(f"{path}.{key}", f"expected a number in [{lo}, {hi}], got {sc._short(v)}")
    return float(v)


def modem_spec(entity: sc.Entity, num_channels: int) -> ModemSpec:
    """The entity's ``modem_params`` checked (a ``ScenarioError`` names the field): an unknown type, a bad
    order, a filter other than RRC, a band or burst outside the step, and a chirp whose sweep would pass the
    Nyquist frequency (faster than the sample rate allows) on any channel the entity can use."""
    path = f"entities.{entity.label}.modem_params"
    d: dict[str, Any] = {**DEFAULT_MODEM, **dict(entity.modem)} if entity.modem else dict(DEFAULT_MODEM)
    for k in d:
        if k not in _MODEM_FIELDS:
            _fail(f"{path}.{k}", f"unknown field; allowed fields: {sorted(_MODEM_FIELDS)}")
    kind = d["type"]
    if kind not in MODEM_TYPES:
        _fail(f"{path}.type", f"unknown modem type {sc._short(kind)}; one of {list(MODEM_TYPES)}")
    order: Any = 0
    if kind in LINEAR:
        order = d.get("order")
        ok = isinstance(order, int) and not isinstance(order, bool) and 2 <= order <= 1024
        ok = ok and (kind == "ask" or (order & (order - 1)) == 0)
        ok = ok and (kind != "qam" or (round(math.sqrt(order)) ** 2 == order and order >= 4))
        if not ok:
            need = {"psk": "a power of 2 in 2..1024", "qam": "a square power of 2 in 4..1024 (4, 16, 64, ...)",
                    "ask": "an integer in 2..1024"}[kind]
            _fail(f"{path}.order", f"{kind} needs {need}, got {sc._short(order)}")
        if d.get("filter") not in ("RRC", "rrc"):
            _fail(f"{path}.filter", f"only the root-raised-cosine filter 'RRC' is modelled, got {sc._short(d.get('filter'))}")
    bandwidth = _number(d, "bandwidth", path, 0.0, float(num_channels))
    if bandwidth <= 0:
        _fail(f"{path}.bandwidth", "must be positive (a fraction of one channel)")
    sps = int(num_channels / bandwidth)
    if kind in LINEAR and sps < 2:
        _fail(f"{path}.bandwidth", f"{bandwidth} gives {sps} samples per symbol (int(num_channels / bandwidth)); "
                                   f"at most {num_channels / 2} (2 samples per symbol)")
    cf = d["center_frequency"]
    if not isinstance(cf, (list, tuple)) or len(cf) != 2:
        _fail(f"{path}.center_frequency", f"expected [low, high] (fractions of a channel), got {sc._short(cf)}")
    lo = _number({"c": cf[0]}, "c", f"{path}.center_frequency[0]", -0.5, 0.5)
    hi = _number({"c": cf[1]}, "c", f"{path}.center_frequency[1]", -0.5, 0.5)
    if lo > hi:
        _fail(f"{path}.center_frequency", f"low {lo} is above high {hi}")
    start = _number(d, "start", path, 0.0, 1.0)
    duration = _number(d, "duration", path, 0.0, 1.0)
    if duration <= 0 or start + duration > 1 + 1e-9:
        _fail(f"{path}.duration", f"the burst [start, start + duration) = [{start}, {start + duration}) must be a "
                                  "non-empty part of the step [0, 1]")
    if kind in ("p_fmcw", "n_fmcw"):
        anywhere = entity.kind in (sc.AGILE, sc.REACTIVE_JAMMER, sc.FOLLOW_JAMMER)
        chans = range(num_channels) if anywhere else sorted(set(entity.channels))
        fc = channel_centres(num_channels)
        sweep = 0.5 / sps
        top = max(max(abs(fc[k] + lo / num_channels), abs(fc[k] + hi / num_channels)) + sweep for k in chans)
        if top > 0.5 + 1e-9:
            _fail(f"{path}.bandwidth", f"the {kind} chirp sweeps {1 / sps:g} cycles/sample (bandwidth {bandwidth} / "
                                       f"{num_channels} channels) and would reach {top:.4g} cycles/sample, faster than "
                                       "the sample rate allows (Nyquist: 0.5)")
    return ModemSpec(kind, order, sps, lo, hi, start, duration)


def detector_type(scenario: sc.Scenario) -> str | None:
    """``"energy"``/``"cfar"`` from the file's ``environment.detector`` (``{"name": {"type": ...}}``), or None."""
    if not scenario.detector:
        return None
    d = dict(scenario.detector)
    if len(d) != 1:
        _fail("environment.detector", f"expected one detector, got {sorted(d)}")
    (name, body), = d.items()
    fields: dict[str, Any] = dict(body) if isinstance(body, tuple) else {}
    kind = fields.get("type")
    if not isinstance(kind, str) or kind not in DETECTOR_TYPES:
        _fail(f"environment.detector.{name}.type", f"unknown detector {sc._short(kind)}; one of {sorted(DETECTOR_TYPES)}")
    return DETECTOR_TYPES[str(kind)]


def nominal_power(spec: ModemSpec, n: int) -> float:
    """Mean ``|s|^2`` of the unscaled burst: tones exactly; linear modems in expectation over random symbols
    (``Var(s) sum h^2 + |E s|^2 |polyphase sums|^2``, averaged over the symbol phase)."""
    if spec.kind not in LINEAR:
        return float(np.mean(np.abs(tone_wave(spec.kind, spec.sps, n)) ** 2))
    bank = filter_bank(spec.sps)
    pts = constellation(spec.kind, spec.order)
    mean = np.mean(pts)
    var = np.mean(np.abs(pts - mean) ** 2)
    return float(np.mean(var * np.sum(bank**2, axis=0) + np.abs(mean) ** 2 * np.sum(bank, axis=0) ** 2))


def filter_bank(sps: int) -> np.ndarray:
    """Polyphase RRC bank ``G [span + 1, sps]``: output ``q sps + p`` of a symbol stream ``s`` is
    ``sum_j s[q + j] G[j, p]`` (symbol ``m`` at sample ``(m - span / 2) sps``)."""
    h = np.zeros((SPAN + 1) * sps)
    h[: SPAN * sps + 1] = rrc_taps(sps)
    return h.reshape(SPAN + 1, sps)[::-1]


def rfrl_snr_db(spec: ModemSpec, n: int, num_channels: int) -> float:
    """The in-channel SNR (dB) of RFRL Gym's own amplitudes at its noise sigma 0.01: linear modems unscaled
    (unit-power symbols, ``1 / sqrt(sps)`` taps), constant tones 1, chirps 0.1."""
    return float(10 * np.log10(nominal_power(spec, n) / (RFRL_NOISE_STD**2 / num_channels)))


def own_snr_db(num_channels: int, n: int) -> float:
    """The in-channel SNR (dB) of RFRL Gym's player chirp at sigma 0.01 (30 dB with 10 channels)."""
    return float(10 * np.log10(np.mean(np.abs(own_chirp(num_channels, n)) ** 2) / (RFRL_NOISE_STD**2 / num_channels)))


# ---- inside jit --------------------------------------------------------------------------------------------


def hash_uniform(seed: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Uniform ``float32`` in ``[0, 1)`` (24-bit) from a counter hash keyed by ``seed`` (``uint32 [2]``)."""
    c = jnp.arange(math.prod(shape), dtype=jnp.uint32)
    h = fmix32(fmix32(c * jnp.uint32(0x9E3779B9) + seed[0]) ^ seed[1])
    return ((h >> 8).astype(jnp.float32) * (1.0 / 2**24)).reshape(shape)


def awgn(seed: jax.Array, n: int, std: jax.Array) -> jax.Array:
    """``n`` samples of circular complex Gaussian noise with ``E|z|^2 = std^2`` (Box-Muller)."""
    u = hash_uniform(seed, (2, n))
    r = std * jnp.sqrt(-jnp.log1p(-u[0]))
    return jax.lax.complex(r * jnp.cos(2 * jnp.pi * u[1]), r * jnp.sin(2 * jnp.pi * u[1]))


def carrier(chan: jax.Array, offset: jax.Array, n: int, num_channels: int) -> jax.Array:
    """``exp(j 2 pi (fc[chan] + offset) t)`` for ``t = 0..n-1``; ``chan [...]``, ``offset [...]`` in cycles/sample.
    ``fc[k] t = (2k + 1 - C) t / (2C)`` is reduced modulo 1 in integers, so the phase stays exact for long steps."""
    t = jnp.arange(n, dtype=jnp.int32)
    C2 = 2 * num_channels
    k = (2 * chan[..., None] + 1 - num_channels) * t
    cyc = jnp.mod(k, C2).astype(jnp.float32) / C2
    off = offset[..., None] * t.astype(jnp.float32)
    cyc = cyc + (off - jnp.floor(off))
    return jax.lax.complex(jnp.cos(2 * jnp.pi * cyc), jnp.sin(2 * jnp.pi * cyc))


@dataclasses.dataclass(frozen=True)
class Group:
    """Entities sharing one modem shape (vmapped together)."""

    members: tuple[int, ...]
    spec: ModemSpec
    n0: int  # first sample of the burst
    n_len: int
    table: np.ndarray | None  # complex64 [order] (linear)
    bank: np.ndarray | None  # float32 [span + 1, sps] (linear)
    wave: np.ndarray | None  # complex64 [n_len] (tones), unit mean power
    scale: float  # 1 / sqrt(nominal power)


class Plan:
    """Everything static about one env's IQ path: sample count, channel and bin layout, modem groups."""

    def __init__(self, specs: list[ModemSpec], num_channels: int, samples: int, bins: int):
        self.N, self.C, self.B, self.E = samples, num_channels, bins, len(specs)
        groups: dict[tuple, list[int]] = {}
        for i, s in enumerate(specs):
            n0 = int(s.start * samples)
            n_len = min(samples, int((s.start + s.duration) * samples)) - n0
            if n_len < 1:
                raise sc.ScenarioError(f"modem duration {s.duration} is shorter than one sample at "
                                       f"samples_per_step={samples}")
            groups.setdefault((s.kind, s.order, s.sps, n0, n_len), []).append(i)
        self.groups = []
        for (kind, order, sps, n0, n_len), members in groups.items():
            spec = specs[members[0]]
            scale = 1.0 / math.sqrt(nominal_power(spec, n_len))
            linear = kind in LINEAR
            self.groups.append(Group(
                tuple(members), spec, n0, n_len,
                constellation(kind, order).astype(np.complex64) if linear else None,
                filter_bank(sps).astype(np.float32) if linear else None,
                None if linear else (tone_wave(kind, sps, n_len) * scale).astype(np.complex64), scale))
        self.cf_lo = np.array([s.cf_lo for s in specs], np.float32)
        self.cf_hi = np.array([s.cf_hi for s in specs], np.float32)
        own = own_chirp(num_channels, samples)
        self.own = (own / np.sqrt(np.mean(np.abs(own) ** 2))).astype(np.complex64)
        self.chan_idx, self.chan_count = _bin_groups(samples, num_channels)
        self.bin_idx, self.bin_count = _bin_groups(samples, bins)


def _bin_groups(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """FFT bins (unshifted indices) in each of ``k`` equal bands of ``[-0.5, 0.5)``, padded with index ``n``."""
    freqs = np.fft.fftfreq(n)
    band = np.minimum(np.floor((freqs + 0.5) * k).astype(int), k - 1)
    members = [np.flatnonzero(band == b) for b in range(k)]
    width = max(len(m) for m in members)
    idx = np.full((k, width), n, np.int32)
    for b, m in enumerate(members):
        idx[b, : len(m)] = m
    return idx, np.array([len(m) for m in members], np.int32)


def _linear(g: Group, seed: jax.Array) -> jax.Array:
    """``[G, n_len]`` unit-power bursts of the group's linear modem from fresh random symbols."""
    assert g.table is not None and g.bank is not None
    sps = g.spec.sps
    Q = -(-g.n_len // sps)
    idx = jnp.floor(hash_uniform(seed, (len(g.members), Q + SPAN)) * len(g.table)).astype(jnp.int32)
    sym = jnp.asarray(g.table)[jnp.minimum(idx, len(g.table) - 1)]
    win = jnp.stack([sym[:, j: j + Q] for j in range(SPAN + 1)], axis=-1)  # [G, Q, span + 1]
    bank = jnp.asarray(g.bank)
    y = jax.lax.complex(win.real @ bank, win.imag @ bank)  # [G, Q, sps]
    return y.reshape(len(g.members), Q * sps)[:, : g.n_len] * g.scale


def synthesize(key: jax.Array, chan: jax.Array, action: jax.Array, snr_db: jax.Array, noise_std: Any,
               own_snr_db: Any, hear_own: Any, fading: Any, plan: Plan) -> jax.Array:
    """One step's ``complex64 [N]`` samples: every transmitting entity (``chan [E] >= 0``) at ``snr_db [E]``,
    the radio's chirp on channel ``action - 1`` (``action > 0`` and ``hear_own``) at ``own_snr_db``, and AWGN
    of ``noise_std``. With ``fading`` each entity's amplitude is multiplied by a fresh CN(0, 1) gain (Rayleigh
    block fading, one draw per entity and step)."""
    N, C, E = plan.N, plan.C, plan.E
    k_noise, k_sym, k_cf, k_fade = jax.random.split(key, 4)
    seeds = jax.random.bits(k_sym, (len(plan.groups), 2), jnp.uint32)
    x = awgn(jax.random.bits(k_noise, (2,), jnp.uint32), N, noise_std)
    noise_in_channel = noise_std**2 / C
    u = jax.random.uniform(k_cf, (E,))
    offset = (plan.cf_lo + u * (plan.cf_hi - plan.cf_lo)) / C
    g_fade = jax.random.normal(k_fade, (2, E)) / jnp.sqrt(2.0)
    gain = jnp.where(fading, jax.lax.complex(g_fade[0], g_fade[1]), jnp.complex64(1.0))
    amp = jnp.sqrt(10.0 ** (snr_db / 10.0) * noise_in_channel) * (chan >= 0)
    amp = amp.astype(jnp.complex64) * gain
    for gi, g in enumerate(plan.groups):
        m = np.asarray(g.members)
        base = _linear(g, seeds[gi]) if g.table is not None else jnp.asarray(g.wave)[None]
        burst = base * carrier(jnp.maximum(chan[m], 0), offset[m], g.n_len, C) * amp[m, None]
        x = x.at[g.n0: g.n0 + g.n_len].add(jnp.sum(burst, axis=0))
    own_amp = jnp.sqrt(10.0 ** (own_snr_db / 10.0) * noise_in_channel) * ((action > 0) & hear_own)
    own = jnp.asarray(plan.own) * carrier(jnp.maximum(action - 1, 0), jnp.float32(0.0), N, C)
    return x + own * own_amp


def band_energy(x: jax.Array, plan: Plan) -> tuple[jax.Array, jax.Array]:
    """``(E [C], S [B])``: each channel's energy ``sum |X_f|^2 / N^2`` over its FFT bins (RFRL Gym's detector
    statistic, noise mean ``M_k sigma^2 / N`` ~ ``sigma^2 / C``) and each spectrogram bin's mean
    ``|X_f|^2 / N`` (noise mean ``sigma^2``)."""
    X = jnp.fft.fft(x)
    p = jnp.concatenate([X.real**2 + X.imag**2, jnp.zeros(1, jnp.float32)])
    n = plan.N
    energy = jnp.sum(p[plan.chan_idx], axis=-1) / n**2
    spec = jnp.sum(p[plan.bin_idx], axis=-1) / (n * plan.bin_count)
    return energy, spec


def detect(energy: jax.Array, threshold: Any, cfar: bool, cfar_scale: Any) -> jax.Array:
    """Detector decisions ``bool [C]``: ``energy > threshold`` (RFRL Gym's energy detector) or, with ``cfar``,
    an ordered-statistic CFAR over the channels (Rohling 1983): ``energy > cfar_scale * reference``, the
    reference being the lower median of the channel energies. Scaling the noise scales the reference too, so
    the CFAR's false-alarm rate does not depend on the noise level."""
    if not cfar:
        return energy > threshold
    ref = jnp.sort(energy)[(energy.shape[0] - 1) // 2]
    return energy > cfar_scale * ref


def false_alarm_probability(threshold: float, noise_std: float, samples: int, bins_in_channel: Any) -> Any:
    """The energy detector's exact false-alarm probability on a noise-only channel of ``bins_in_channel`` FFT
    bins: ``N E_k / sigma^2 ~ Gamma(M_k, 1)``, so ``P_fa = Q(M_k, threshold N / sigma^2)`` (regularised upper
    incomplete gamma)."""
    return jax.scipy.special.gammaincc(jnp.asarray(bins_in_channel, jnp.float32),
                                       jnp.float32(threshold * samples / noise_std**2))
