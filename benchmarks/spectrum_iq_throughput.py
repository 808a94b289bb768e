"""SpectrumIQ-v0 throughput beside a NumPy/SciPy version of RFRL Gym's per-step IQ generation, same run.

    python benchmarks/spectrum_iq_throughput.py            # writes benchmarks/results/spectrum_iq_throughput.md

Setting (issue 14): RFRL Gym's test scenario (10 channels; 16-QAM and QPSK constants, a down-chirp and a 4-ASK
hopper, the ``modem_params`` of its ``scenarios/sb3_test_scenario.json``), the radio's chirp, AWGN sigma 0.01, at
1,024 and 10,000 complex samples per step. realax: ``jit(scan(vmap(step)))`` over N = 1024 envs, random valid
actions, autoreset on, compile time apart (``realax.bench.measure``); a step is the entities, the IQ samples,
the FFT energy detector and the observation. The peer is RFRL Gym's ``datagen/iq_gen.py`` approach written
again in NumPy/SciPy, one step at a time as it runs: a loop over channels x entities; per transmitting entity
``LDAPM``'s symbol draw (``np.random.choice``), its upsampling loop and ``np.convolve`` with the 201..401 RRC
taps, or ``Tone``'s ramped chirp, then the carrier and the slice into the step; the player's chirp; complex
AWGN. "+ sensing" adds RFRL Gym's energy detector as its PyQt renderer computes it (for each channel: mix
down, ``scipy.signal.sosfilt`` with a 100th-order Butterworth, decimate by C, mean power), which is the only
way RFRL Gym senses. One departure: RFRL Gym's ``LDAPM.gen_samps`` returns an empty burst (and the step then
fails) when a burst is shorter than the filter, as 16-QAM's 256 samples are at 1,024 per step; the peer draws
enough symbols instead (``ceil(n / sps) + span`` and keeps the middle ``n``), as realax does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from realax import _xla

_xla.configure()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402
from scipy import signal  # noqa: E402

import realax  # noqa: E402
from realax.bench import device_name, measure  # noqa: E402

#: RFRL Gym's sb3_test_scenario: the jam_hopper entities (built in) with the modem_params of its file
MODEMS = {
    "tv_low": {"type": "qam", "order": 16, "filter": "RRC", "center_frequency": [-0.1, 0.1], "bandwidth": 0.25,
               "start": 0.25, "duration": 0.25},
    "tv_high": {"type": "psk", "order": 4, "filter": "RRC", "center_frequency": [-0.1, 0.1], "bandwidth": 0.5,
                "start": 0.5, "duration": 0.25},
    "hopper": {"type": "n_fmcw", "center_frequency": [0.0, 0.0], "bandwidth": 1.0, "start": 0.0, "duration": 1.0},
    "hopper_2": {"type": "ask", "order": 4, "filter": "RRC", "center_frequency": [0.0, 0.0], "bandwidth": 0.5,
                 "start": 0.0, "duration": 1.0},
}
C = 10


def scenario_file() -> str:
    from realax.envs.spectrum.scenarios import BUILTIN

    data = json.loads(json.dumps(BUILTIN["jam_hopper"]))
    for label, modem in MODEMS.items():
        data["entities"][label]["modem_params"] = modem
    path = os.path.join(tempfile.mkdtemp(), "rfrl_sb3_test_scenario.json")
    with open(path, "w") as f:
        json.dump(data, f)
    return path


# ---- the peer: RFRL Gym's per-step IQ generation, in NumPy/SciPy ------------------------------------------


def _rrc(sps: int, beta: float = 0.35, span: int = 10) -> np.ndarray:
    taps = []
    for x in range(-int(span * sps / 2), int(span * sps / 2) + 1):  # the closed form, tap by tap, as filters.py
        if x == 0:
            taps.append((1 / np.sqrt(sps)) * ((1 - beta) + 4 * beta / np.pi))
        elif abs(x) == sps / (4 * beta):
            taps.append((beta / np.sqrt(2 * sps)) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * beta))
                                                     + (1 - 2 / np.pi) * np.cos(np.pi / (4 * beta))))
        else:
            t = x / sps
            taps.append((1 / np.sqrt(sps)) * (np.sin(np.pi * t * (1 - beta)) + 4 * beta * t * np.cos(np.pi * t * (1 + beta)))
                        / (np.pi * t * (1 - (4 * beta * t) ** 2)))
    return np.array(taps)


class NumpyLDAPM:
    def __init__(self, kind: str, order: int, sps: int):
        from realax.envs.spectrum.iq import constellation  # the same tables (they are RFRL Gym's)

        self.table, self.sps, self.taps = constellation(kind, order), sps, _rrc(sps)

    def gen_samps(self, n: int) -> np.ndarray:
        symbs = np.random.choice(self.table, int(np.ceil(n / self.sps)) + 10)
        up = np.zeros(self.sps * len(symbs)).astype(np.csingle)
        for x in range(len(symbs)):  # LDAPM's upsampling loop
            up[x * self.sps] = symbs[x]
        samps = np.convolve(up, self.taps, "full")
        diff = len(samps) - n
        return samps[diff // 2: diff // 2 + n]


class NumpyTone:
    def __init__(self, kind: str, sps: int):
        self.kind, self.sps = kind, sps

    def gen_samps(self, n: int) -> np.ndarray:
        up, down = np.linspace(0, 1, int(0.1 * n)), np.linspace(1, 0, int(0.1 * n))
        samps = np.concatenate((up, np.ones(n - len(up) - len(down)), down))
        t = np.linspace(0, n, n)
        sign = 1 if self.kind == "p_fmcw" else -1
        return (1 / 10) * samps * np.exp(sign * 1j * 2 * np.pi * (1 / self.sps) / 2 * ((t - n / 2) ** 2) / n)


class NumpyIQGen:
    """RFRL Gym's ``IQ_Gen.gen_iq`` for one step: ``actions[0]`` the player's channel, ``actions[1:]`` the entities'."""

    def __init__(self, samples: int):
        self.N, self.rng = samples, np.random.default_rng(0)
        self.fc = np.linspace(-0.5, 0.5, C + 1) + 1 / C / 2
        self.modems = []
        for m in MODEMS.values():
            sps = int(C / m["bandwidth"])
            self.modems.append((NumpyLDAPM(m["type"], m["order"], sps) if "order" in m else NumpyTone(m["type"], sps), m))
        self.sos = signal.butter(100, 1 / C, output="sos")
        self.t = np.linspace(0, samples, samples)

    def gen_iq(self, actions: np.ndarray) -> np.ndarray:
        N = self.N
        x = self.rng.normal(0.0, 0.01 / np.sqrt(2.0), N) + 1j * self.rng.normal(0.0, 0.01 / np.sqrt(2.0), N)
        for k in range(C):
            for kk in range(len(actions)):
                if actions[kk] != k:
                    continue
                if kk != 0:
                    modem, p = self.modems[kk - 1]
                    cf = self.rng.uniform(*p["center_frequency"])
                    n = int(p["duration"] * N)
                    data = modem.gen_samps(n) * np.exp(1j * 2 * np.pi * (self.fc[k] + cf / C) * np.linspace(0, n, n))
                    x[int(p["start"] * N): int(p["start"] * N) + n] += data
                else:
                    data = (1 / 10) * np.exp(1j * 2 * np.pi * (1 / C) / 2 * ((self.t - N / 2) ** 2) / N)
                    data = data * np.exp(1j * 2 * np.pi * self.fc[k] * self.t)
                    r = min(100, N // 4)
                    data[:r] = np.linspace(0, 1, r) * data[:r]
                    data[-r:] = np.linspace(1, 0, r) * data[-r:]
                    x += data
        return x

    def sense(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(C)
        for k in range(C):  # the PyQt renderer's __get_sensing_image
            y = signal.sosfilt(self.sos, x * np.exp(-1j * 2 * np.pi * self.fc[k] * self.t))[::C]
            out[k] = np.sum(np.abs(y) ** 2) / (self.N / C)
        return out > 0.001


def time_numpy(samples: int, steps: int, sensing: bool, repeats: int = 3) -> float:
    """Steps/s of the NumPy peer, best of ``repeats`` runs of ``steps`` steps (the realax side is best of 2)."""
    gen = NumpyIQGen(samples)
    rng = np.random.default_rng(1)
    acts = [np.concatenate([[rng.integers(-1, C)], [0, 9], rng.integers(0, C, 2)]) for _ in range(steps)]
    gen.gen_iq(acts[0])
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a in acts:
            x = gen.gen_iq(a)
            if sensing:
                gen.sense(x)
        best = min(best, time.perf_counter() - t0)
    return steps / best


def fft_bound(num_envs: int, samples: int, steps: int = 10, repeats: int = 3) -> float:
    """Steps/s of the least a sensing step does: write its ``samples`` complex64 values once (a ramp that depends on
    the loop's carry, so nothing is hoisted out of the loop) and transform them with ``jnp.fft.fft``, for
    ``num_envs`` envs in a jitted scan of ``steps`` steps, sharded over the local devices as ``measure`` shards
    the envs, best of ``repeats``. A realax step generates its samples (modems, filters, carriers: more than one
    write) and transforms them the same way, so no step is faster than this. (The FFT timed alone in its own
    program, once, was 1.2-1.5x slower than in the loop: it is not the bound.)"""
    devices = jax.devices()
    c = jnp.linspace(0.0, 1.0, num_envs, dtype=jnp.float32)
    if len(devices) > 1 and num_envs % len(devices) == 0:
        c = jax.device_put(c, NamedSharding(Mesh(np.array(devices), ("envs",)), PartitionSpec("envs")))
    t = jnp.arange(samples, dtype=jnp.float32)

    def body(c, _):
        x = jax.lax.complex(c[:, None] + t, 2.0 * c[:, None] + 0.0 * t)
        return c + jnp.fft.fft(x)[:, 1].real * 1e-9, None

    run = jax.jit(lambda c: jax.lax.scan(body, c, None, steps)[0])
    run(c).block_until_ready()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(c).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return num_envs * steps / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, default=1024)
    ap.add_argument("--samples", type=int, nargs="+", default=[1024, 10_000])
    ap.add_argument("--before", help="a results file of an earlier commit, run in the same session: its table is "
                                     "kept beside this one")
    ap.add_argument("--before-label", default="the previous commit")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "spectrum_iq_throughput.md"))
    args = ap.parse_args()
    path = scenario_file()
    rows = []
    print(f"device: {device_name()}")
    for n in args.samples:
        env, params = realax.make("realax/SpectrumIQ-v0", scenario=path, samples_per_step=n)
        steps = 20 if n <= 2048 else 10
        jx = measure(env, params, args.num_envs, steps, repeats=2)
        np_steps = 40 if n <= 2048 else 15
        gen = time_numpy(n, np_steps, sensing=False)
        both = time_numpy(n, max(4, np_steps // 4), sensing=True)
        bound = fft_bound(args.num_envs, n)
        rows.append((n, jx.steps_per_second, jx.compile_seconds, gen, both, bound))
        print(f"samples/step {n}: realax {jx.steps_per_second:,.0f} steps/s (compile {jx.compile_seconds:.1f} s); "
              f"NumPy generation {gen:,.1f} steps/s (x{jx.steps_per_second / gen:,.0f}); "
              f"+ sensing {both:,.1f} steps/s (x{jx.steps_per_second / both:,.0f}); "
              f"writing the samples + the FFT alone {bound:,.0f} steps/s (x{bound / gen:,.0f} at most)", flush=True)
    cmd = ("XLA_FLAGS=--xla_force_host_platform_device_count=2 " if "device_count" in os.environ.get("XLA_FLAGS", "") else "") + \
        "python benchmarks/spectrum_iq_throughput.py"
    lines = ["# SpectrumIQ-v0 throughput beside RFRL Gym's IQ generation in NumPy/SciPy", "",
             f"Command: `{cmd}` (one run; both sides timed in it). Hardware: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPU cores, JAX device `{device_name()}`. Scenario: RFRL Gym's test scenario with its "
             "modems (16-QAM, QPSK, down-chirp, 4-ASK), the radio's chirp, AWGN sigma 0.01.", "",
             f"realax: N = {args.num_envs} envs, `jit(scan(vmap(step)))`, random actions, autoreset on, compile "
             "apart; a step includes the entity dynamics, the IQ samples, the FFT energy detector and the observation. "
             "NumPy: one step at a time, RFRL Gym's `datagen/iq_gen.py` approach (see the script's docstring); "
             "'+ sensing' adds RFRL Gym's energy detector (per channel: mix, 100th-order Butterworth `sosfilt`, "
             "decimate, mean power), the only way RFRL Gym senses. 'Write + FFT': the least a sensing step does, "
             "timed in the same run (`fft_bound`: N envs write their samples once and transform them with `jnp.fft.fft`, "
             "in a scan of steps): no realax step is faster, so its ratio bounds realax's over the NumPy generation.", "",
             f"| samples / step | realax steps/s (N = {args.num_envs}) | compile (s) | NumPy IQ generation steps/s | ratio | "
             "NumPy generation + sensing steps/s | ratio | write + FFT steps/s | its ratio (bound) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, jx, comp, gen, both, bound in rows:
        lines.append(f"| {n:,} | {jx:,.0f} | {comp:.1f} | {gen:,.1f} | {jx / gen:,.1f}x | {both:,.1f} | {jx / both:,.0f}x "
                     f"| {bound:,.0f} | {bound / gen:,.1f}x |")
    if args.before:
        with open(args.before) as f:
            old = [ln for ln in f.read().splitlines() if ln.startswith("|")]
        lines += ["", f"Before ({args.before_label}), same command, same session:", "", *old]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
