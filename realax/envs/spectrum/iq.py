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

The environment never needs the noisy samples themselves, only the energy in each spectrogram band of their
FFT, so ``sense`` generates the signal in time, transforms it, and draws the noise in the frequency domain:
the FFT of complex AWGN is white, and a band's energy given the signal is a scaled noncentral chi-square
(exact in distribution; ``N`` Gaussian draws fewer per step). ``synthesize`` gives the raw samples (same signal
for the same key) with time-domain noise from a keyed counter hash (two rounds of MurmurHash3's 32-bit
finaliser, keyed by threefry bits of the step's key) through the Box-Muller transform; the tests check both
against the exact false-alarm law of the energy detector. Spectrogram bands are assigned to FFT bins in
integers (``_band_of``): ``B`` equal bands, a bin on an edge going to the band above.
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


def _cycles(chan: jax.Array, offset: jax.Array, t: np.ndarray, num_channels: int) -> jax.Array:
    """The fractional part of ``(fc[chan] + offset) t`` (cycles), ``t`` an int array: ``fc[k] t = (2k + 1 - C) t /
    (2C)`` is reduced modulo 1 in integers, so the phase stays exact for long steps."""
    C2 = 2 * num_channels
    k = jnp.mod((2 * chan[..., None] + 1 - num_channels) * jnp.asarray(t, jnp.int32), C2)
    off = offset[..., None] * jnp.asarray(t, jnp.float32)
    return k.astype(jnp.float32) / C2 + (off - jnp.floor(off))


def _materialise(x: jax.Array) -> jax.Array:
    """``x``, computed into a buffer of its own. XLA fuses cheap producers into their consumers and then
    recomputes them for every element that reads them: the sines of a carrier factor ``rows * cols`` times
    instead of ``rows + cols``. A reduction is not fused into a consumer on CPU (``optimization_barrier`` is
    removed before fusion there), so ``x + 0`` written as a reduction over a stacked zero keeps ``x`` apart."""
    return jnp.sum(jnp.stack([x, jnp.zeros_like(x)]), axis=0)


def _expj(cyc: jax.Array) -> jax.Array:
    return jax.lax.complex(jnp.cos(2 * jnp.pi * cyc), jnp.sin(2 * jnp.pi * cyc))


def carrier_blocks(chan: jax.Array, offset: jax.Array, rows: int, cols: int, num_channels: int
                   ) -> tuple[jax.Array, jax.Array]:
    """The carrier ``exp(j 2 pi (fc[chan] + offset) t)`` factored over ``t = r cols + c``: ``(e_row [..., rows],
    e_col [..., cols])`` with ``carrier[r cols + c] = e_row[r] e_col[c]``; ``rows + cols`` sines and cosines
    instead of ``rows * cols``."""
    e_row = _expj(_cycles(chan, offset, np.arange(rows) * cols, num_channels))
    e_col = _expj(_cycles(chan, offset, np.arange(cols), num_channels))
    return _materialise(e_row), _materialise(e_col)  # else XLA computes rows * cols sines


def _block(n: int) -> int:
    """Columns of the ``[rows, cols]`` layout a tone burst of ``n`` samples is generated in."""
    return min(n, 128)


def carrier(chan: jax.Array, offset: jax.Array, n: int, num_channels: int) -> jax.Array:
    """``exp(j 2 pi (fc[chan] + offset) t)`` for ``t = 0..n-1``; ``chan [...]``, ``offset [...]`` in cycles/sample
    (``carrier_blocks``, multiplied out)."""
    cols = _block(n)
    rows = -(-n // cols)
    e_row, e_col = carrier_blocks(chan, offset, rows, cols, num_channels)
    c = e_row[..., :, None] * e_col[..., None, :]
    return c.reshape(*c.shape[:-2], rows * cols)[..., :n]


@dataclasses.dataclass(frozen=True)
class Group:
    """Entities sharing one modem shape (vmapped together)."""

    members: tuple[int, ...]
    spec: ModemSpec
    n0: int  # first sample of the burst
    n_len: int
    table: np.ndarray | None  # complex64 [order] (linear)
    bank: np.ndarray | None  # float32 [span + 1, sps] (linear)
    wave: np.ndarray | None  # complex64 [rows, cols] (tones): unit mean power, zero-padded past n_len
    scale: float  # 1 / sqrt(nominal power)


class Plan:
    """Everything static about one env's IQ path: sample count, channel and bin layout, modem groups."""

    def __init__(self, specs: list[ModemSpec], num_channels: int, samples: int, bins: int):
        self.N, self.C, self.B, self.E = samples, num_channels, bins, len(specs)
        if bins % num_channels or bins > samples:
            raise ValueError(f"spectrogram bins ({bins}) must be a multiple of num_channels ({num_channels}) and at "
                             f"most samples ({samples})")
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
                None if linear else _blocked(tone_wave(kind, sps, n_len) * scale), scale))
        self.cf_lo = np.array([s.cf_lo for s in specs], np.float32)
        self.cf_hi = np.array([s.cf_hi for s in specs], np.float32)
        own = own_chirp(num_channels, samples)
        self.own = _blocked(own / np.sqrt(np.mean(np.abs(own) ** 2)))
        self.chan_idx, self.chan_count = _bin_groups(samples, num_channels)
        self.bin_idx, self.bin_count = _bin_groups(samples, bins)
        # spectrogram bands in fftshift order: contiguous runs of FFT bins; channel k holds bands k B / C ..
        self.band_of = _band_of(samples, bins)
        self.onehot = None
        if samples % bins and samples * bins <= 2**22:
            self.onehot = (self.band_of[:, None] == np.arange(bins)[None, :]).astype(np.float32)


def _blocked(w: np.ndarray) -> np.ndarray:
    """``w [n]`` as ``complex64 [rows, cols]`` (``_block``), zero-padded."""
    n = len(w)
    cols = _block(n)
    rows = -(-n // cols)
    out = np.zeros(rows * cols, np.complex64)
    out[:n] = w
    return out.reshape(rows, cols)


def _band_of(n: int, k: int) -> np.ndarray:
    """Band of each FFT bin in fftshift order, of ``k`` equal bands ``[b / k - 1/2, (b + 1) / k - 1/2)`` (cycles/
    sample): non-decreasing. In integers, so a bin on a band edge goes to the band above it: position ``i`` has
    frequency ``i / n - 1/2`` (even ``n``) or ``(i + 1/2) / n - 1/2`` (odd ``n``)."""
    i = np.arange(n, dtype=np.int64)
    return (i * k) // n if n % 2 == 0 else ((2 * i + 1) * k) // (2 * n)


def _bin_groups(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """FFT bins (unshifted indices) in each of ``k`` equal bands of ``[-0.5, 0.5)`` (``_band_of``), padded with
    index ``n``."""
    band = np.fft.ifftshift(_band_of(n, k))
    members = [np.flatnonzero(band == b) for b in range(k)]
    width = max(len(m) for m in members)
    idx = np.full((k, width), n, np.int32)
    for b, m in enumerate(members):
        idx[b, : len(m)] = m
    return idx, np.array([len(m) for m in members], np.int32)


def band_sums(p: jax.Array, plan: Plan) -> jax.Array:
    """``[B]``: the sum of ``p [N]`` (per FFT bin, unshifted order) over each spectrogram band, lowest frequency
    first. The bands are contiguous in fftshift order: a reshape when ``B`` divides ``N``, else a 0/1 matrix
    product (or, for very long steps, a gather)."""
    n, b = plan.N, plan.B
    if n % b == 0:
        return jnp.fft.fftshift(p).reshape(b, n // b).sum(-1)
    if plan.onehot is not None:
        return jnp.dot(jnp.fft.fftshift(p), jnp.asarray(plan.onehot), precision=jax.lax.Precision.HIGHEST)
    return jnp.sum(jnp.concatenate([p, jnp.zeros(1, p.dtype)])[plan.bin_idx], axis=-1)


def _channel_sums(band: jax.Array, plan: Plan) -> jax.Array:
    """``[C]`` channel sums from the band sums: band ``b`` of ``B`` lies in channel ``b // (B / C)`` (the FFT bin
    in fftshift position ``i`` is in band ``floor(x B)`` and channel ``floor(x C)``, ``x = i / N`` (+ ``1 / 2N``
    for odd ``N``), and ``floor(floor(x B) / (B / C)) = floor(x C)``)."""
    return band.reshape(plan.C, plan.B // plan.C).sum(-1)


def _linear(g: Group, seed: jax.Array) -> jax.Array:
    """``[G, Q, sps]`` unit-power bursts of the group's linear modem from fresh random symbols, polyphase: output
    ``q sps + p`` is ``sum_j s[q + j] G[j, p]`` (``span + 1`` taps per sample; complex symbols, real taps)."""
    assert g.table is not None and g.bank is not None
    sps = g.spec.sps
    Q = -(-g.n_len // sps)
    idx = jnp.floor(hash_uniform(seed, (len(g.members), Q + SPAN)) * len(g.table)).astype(jnp.int32)
    sym = jnp.asarray(g.table * g.scale)[jnp.minimum(idx, len(g.table) - 1)]
    re, im = _materialise(sym.real), _materialise(sym.imag)  # else redrawn for every tap and sample
    tap = jnp.asarray(g.bank[0])[None, None, :]
    acc_re, acc_im = re[:, :Q, None] * tap, im[:, :Q, None] * tap
    for j in range(1, SPAN + 1):
        tap = jnp.asarray(g.bank[j])[None, None, :]
        acc_re, acc_im = acc_re + re[:, j: j + Q, None] * tap, acc_im + im[:, j: j + Q, None] * tap
    return jax.lax.complex(acc_re, acc_im)


def _keys(key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array, jax.Array]]:
    k_noise, k_sym, k_cf, k_fade = jax.random.split(key, 4)
    return k_noise, (k_sym, k_cf, k_fade)


def signal(keys: tuple[jax.Array, jax.Array, jax.Array], chan: jax.Array, action: jax.Array, snr_db: jax.Array, noise_std: Any,
           own_snr_db: Any, hear_own: Any, fading: Any, plan: Plan) -> jax.Array:
    """One step's ``complex64 [N]`` samples without the noise (``synthesize`` adds it). Each burst is generated
    in a ``[rows, cols]`` layout (a linear modem's ``[symbols, sps]`` polyphase output; a tone's blocks of
    ``_block`` samples) with its carrier as ``e_row[r] e_col[c]`` (``carrier_blocks``)."""
    N, C, E = plan.N, plan.C, plan.E
    k_sym, k_cf, k_fade = keys
    seeds = jax.random.bits(k_sym, (len(plan.groups), 2), jnp.uint32)
    noise_in_channel = noise_std**2 / C
    u = jax.random.uniform(k_cf, (E,))
    offset = (plan.cf_lo + u * (plan.cf_hi - plan.cf_lo)) / C
    g_fade = jax.random.normal(k_fade, (2, E)) / jnp.sqrt(2.0)
    gain = jnp.where(fading, jax.lax.complex(g_fade[0], g_fade[1]), jnp.complex64(1.0))
    amp = jnp.sqrt(10.0 ** (snr_db / 10.0) * noise_in_channel) * (chan >= 0)
    amp = amp.astype(jnp.complex64) * gain
    x = None
    for gi, g in enumerate(plan.groups):
        m = np.asarray(g.members)
        if g.table is not None:
            base = _linear(g, seeds[gi])  # [G, Q, sps]
        else:
            assert g.wave is not None
            base = jnp.asarray(g.wave)[None]  # [1, rows, cols]
        rows, cols = base.shape[1], base.shape[2]
        e_row, e_col = carrier_blocks(jnp.maximum(chan[m], 0), offset[m], rows, cols, C)
        burst = jnp.sum(base * (e_row * amp[m, None])[:, :, None] * e_col[:, None, :], axis=0)
        burst = jnp.pad(burst.reshape(rows * cols)[: g.n_len], (g.n0, N - g.n0 - g.n_len))
        x = burst if x is None else x + burst
    own_amp = jnp.sqrt(10.0 ** (own_snr_db / 10.0) * noise_in_channel) * ((action > 0) & hear_own)
    rows, cols = plan.own.shape
    e_row, e_col = carrier_blocks(jnp.maximum(action - 1, 0), jnp.float32(0.0), rows, cols, C)
    own = jnp.asarray(plan.own) * (e_row * own_amp)[:, None] * e_col[None, :]
    own = own.reshape(rows * cols)[:N]
    return own if x is None else x + own


def synthesize(key: jax.Array, chan: jax.Array, action: jax.Array, snr_db: jax.Array, noise_std: Any,
               own_snr_db: Any, hear_own: Any, fading: Any, plan: Plan) -> jax.Array:
    """One step's ``complex64 [N]`` samples: every transmitting entity (``chan [E] >= 0``) at ``snr_db [E]``,
    the radio's chirp on channel ``action - 1`` (``action > 0`` and ``hear_own``) at ``own_snr_db``, and AWGN
    of ``noise_std``. With ``fading`` each entity's amplitude is multiplied by a fresh CN(0, 1) gain (Rayleigh
    block fading, one draw per entity and step). ``sense`` reads the same signal (same key) with the noise
    drawn in the frequency domain."""
    k_noise, keys = _keys(key)
    x = signal(keys, chan, action, snr_db, noise_std, own_snr_db, hear_own, fading, plan)
    return x + awgn(jax.random.bits(k_noise, (2,), jnp.uint32), plan.N, noise_std)


def band_energy(x: jax.Array, plan: Plan) -> tuple[jax.Array, jax.Array]:
    """``(E [C], S [B])`` of samples ``x [N]``: each channel's energy ``sum |X_f|^2 / N^2`` over its FFT bins
    (RFRL Gym's detector statistic, noise mean ``M_k sigma^2 / N`` ~ ``sigma^2 / C``) and each spectrogram bin's
    mean ``|X_f|^2 / N`` (noise mean ``sigma^2``)."""
    X = jnp.fft.fft(x)
    p = X.real**2 + X.imag**2
    n = plan.N
    band = band_sums(p, plan)
    return _channel_sums(band, plan) / n**2, band / (n * jnp.asarray(plan.bin_count, jnp.float32))


def sense(key: jax.Array, chan: jax.Array, action: jax.Array, snr_db: jax.Array, noise_std: Any,
          own_snr_db: Any, hear_own: Any, fading: Any, plan: Plan) -> tuple[jax.Array, jax.Array]:
    """``band_energy(synthesize(key, ...))`` in distribution, the noise drawn in the frequency domain: the FFT of
    complex AWGN of variance ``sigma^2`` is i.i.d. ``CN(0, N sigma^2)`` per bin, so given the signal's energy
    ``A_b`` over the ``M_b`` FFT bins of spectrogram band ``b``, the band's energy with the noise is
    ``(sqrt(A_b) + sqrt(N sigma^2 / 2) z)^2 + N sigma^2 G`` with ``z ~ N(0, 1)`` and ``G ~ Gamma(M_b - 1/2)``
    (a noncentral chi-square with ``2 M_b`` degrees of freedom, scaled), independent across bands. Channel
    energies are the sums of their bands'. Exact, and it saves ``N`` Gaussian draws: only the signal is
    generated in time and transformed. The signal is ``synthesize``'s for the same key."""
    k_noise, keys = _keys(key)
    x = signal(keys, chan, action, snr_db, noise_std, own_snr_db, hear_own, fading, plan)
    X = jnp.fft.fft(x)
    p = X.real**2 + X.imag**2
    a = band_sums(p, plan)
    count = np.bincount(plan.band_of, minlength=plan.B)
    k_z, k_g = jax.random.split(k_noise)
    z = jax.random.normal(k_z, (plan.B,))
    g = jax.random.gamma(k_g, jnp.asarray(count - 0.5, jnp.float32))
    nv = plan.N * jnp.asarray(noise_std, jnp.float32) ** 2
    band = (jnp.sqrt(a) + jnp.sqrt(nv / 2) * z) ** 2 + nv * g
    n = plan.N
    return _channel_sums(band, plan) / n**2, band / (n * jnp.asarray(count, jnp.float32))


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
