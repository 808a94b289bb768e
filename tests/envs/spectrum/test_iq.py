"""SpectrumIQ-v0's signal path against hand-computed values, and its detector against the truth and theory.

Facts from RFRL Gym (``vtnsiSDD/rfrl-gym`` master, ``rfrl_gym/datagen``): symbol tables, the RRC closed form
(beta 0.35, span 10), the chirp phase, the channel centres ``linspace(-0.5, 0.5, C + 1) + 1 / (2C)``.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.envs.spectrum import iq
from realax.envs.spectrum import schema as sc
from realax.errors import RealaxError
from tests.envs.spectrum.test_scenarios import DATA, FILES, needs_data

S2 = math.sqrt(2.0)


def test_constellations_are_rfrl_gyms_tables_at_unit_power():
    np.testing.assert_allclose(iq.constellation("psk", 2), [1, -1], atol=1e-12)
    # QPSK: offset (log2 4 - 1) pi / 4 = pi / 4
    np.testing.assert_allclose(iq.constellation("psk", 4), np.array([1 + 1j, -1 + 1j, -1 - 1j, 1 - 1j]) / S2, atol=1e-12)
    np.testing.assert_allclose(iq.constellation("psk", 8)[:3], [1j, (-1 + 1j) / S2, -1], atol=1e-12)  # offset pi / 2
    # 16-QAM: x outer, y inner over -3, -1, 1, 3; mean |x + jy|^2 = 2 * (1 + 9) / 2 = 10
    q = iq.constellation("qam", 16)
    np.testing.assert_allclose(q[:5], np.array([-3 - 3j, -3 - 1j, -3 + 1j, -3 + 3j, -1 - 3j]) / math.sqrt(10))
    # 4-ASK: 0, 1, 2, 3 over sqrt((0 + 1 + 4 + 9) / 4) = sqrt(3.5)
    np.testing.assert_allclose(iq.constellation("ask", 4), np.array([0, 1, 2, 3]) / math.sqrt(3.5))
    for kind, order in (("psk", 8), ("qam", 64), ("ask", 8)):
        assert np.mean(np.abs(iq.constellation(kind, order)) ** 2) == pytest.approx(1.0)


def test_rrc_taps_match_the_closed_form():
    h = iq.rrc_taps(20)
    assert h.shape == (201,) and np.allclose(h, h[::-1])
    # x = 0: (1 - 0.35 + 4 * 0.35 / pi) / sqrt(20) = (0.65 + 0.4456338407) / 4.4721359550
    assert h[100] == pytest.approx(1.0956338407 / 4.4721359550, rel=1e-9)
    # x = sps (t = 1): (sin(0.65 pi) + 1.4 cos(1.35 pi)) / (pi (1 - 1.96)) / sqrt(20)
    assert h[120] == pytest.approx((0.8910065242 + 1.4 * -0.4539904997) / (math.pi * -0.96) / 4.4721359550, rel=1e-8)
    # sps = 7: x = sps / (4 beta) = 5 is the removable point of the closed form
    h7 = iq.rrc_taps(7)
    special = 0.35 / math.sqrt(14) * ((1 + 2 / math.pi) * math.sin(math.pi / 1.4) + (1 - 2 / math.pi) * math.cos(math.pi / 1.4))
    assert h7[35 + 5] == pytest.approx(special, rel=1e-12) and h7[35 - 5] == pytest.approx(special, rel=1e-12)
    # RRC * RRC is a Nyquist pulse: 1 at the centre, ~0 at the other multiples of sps; cutting the pulse at
    # +-5 symbols leaves at most 0.65 % intersymbol interference at beta 0.35 (0.00650, 5 symbols out)
    rc = np.convolve(h, h)
    centre = len(rc) // 2
    assert rc[centre] == pytest.approx(1.0, abs=5e-3)
    others = np.delete(rc[centre % 20::20], centre // 20)
    assert np.max(np.abs(others)) < 0.0066


def test_chirp_instantaneous_frequency():
    n, sps = 1000, 10  # bw = 1 / sps = 0.1 cycles/sample swept over the burst
    for kind, sign in (("p_fmcw", 1.0), ("n_fmcw", -1.0)):
        w = iq.tone_wave(kind, sps, n)
        f = np.diff(np.unwrap(np.angle(w))) / (2 * np.pi)
        expected = sign * 0.1 * (np.arange(n - 1) + 0.5 - n / 2) / n  # from -+0.05 to +-0.05
        np.testing.assert_allclose(f[150:-150], expected[150:-150], atol=1e-9)  # inside the 10 % ramps
        assert np.max(np.abs(w)) == pytest.approx(0.1)
    # the carrier puts it on channel k: phase steps of fc[k] + offset cycles/sample, exact over long steps
    car = np.asarray(jax.jit(lambda: iq.carrier(jnp.int32(9), jnp.float32(0.004), 10_000, 10))())
    f = np.diff(np.unwrap(np.angle(car.astype(np.complex128)))) / (2 * np.pi)
    np.testing.assert_allclose(f, 0.45 + 0.004, atol=2e-4)


def test_channel_centres_follow_rfrl_gyms_formula():
    np.testing.assert_allclose(iq.channel_centres(10), [-0.45, -0.35, -0.25, -0.15, -0.05, 0.05, 0.15, 0.25, 0.35, 0.45])
    np.testing.assert_allclose(iq.channel_centres(4), [-0.375, -0.125, 0.125, 0.375])
    np.testing.assert_allclose(iq.channel_centres(7), (np.linspace(-0.5, 0.5, 8) + 1 / 14)[:7])


def test_awgn_power_and_signal_power_at_a_set_snr():
    plan = iq.Plan([iq.ModemSpec("psk", 4, 20, 0.0, 0.0, 0.0, 1.0)], 10, 20_000, 80)

    @jax.jit
    def run(key, chan, snr, std):
        return iq.synthesize(key, chan, jnp.int32(0), snr, std, 0.0, False, False, plan)

    noise = np.asarray(run(jax.random.key(0), jnp.array([-1]), jnp.array([20.0]), 0.01))  # entity silent
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(1e-4, rel=0.03)  # sd of the estimate: 0.7 %
    assert np.mean(noise.real**2) == pytest.approx(5e-5, rel=0.04) and abs(np.mean(noise)) < 3e-4
    assert abs(np.mean(noise[1:] * np.conj(noise[:-1]))) < 4e-6  # white: lag-1 correlation ~ 1e-4 / sqrt(n)
    both = np.asarray(run(jax.random.key(0), jnp.array([3]), jnp.array([20.0]), 0.01))
    signal = both - noise  # same key: the same noise
    snr = 10 * np.log10(np.mean(np.abs(signal) ** 2) / (1e-4 / 10))  # over the noise power in one channel
    assert snr == pytest.approx(20.0, abs=0.3)
    e, _ = jax.jit(lambda x: iq.band_energy(x, plan))(jnp.asarray(both))
    # the channel's energy is the signal's power plus its share of the noise, 1e-3 + 1e-5; the others ~1e-5
    assert float(e[3]) == pytest.approx(1e-3 + 1e-5, rel=0.08)
    assert np.all(np.abs(np.delete(np.asarray(e), 3) - 1e-5) < 3e-6)


@pytest.fixture(scope="module")
def rollout():
    env, params = realax.make("realax/SpectrumIQ-v0", scenario="mixed")

    @jax.jit
    def run(key, params):
        _, s = env.reset(key, params)

        def body(s, k):
            _, s, _, _, _, info = env.step(k, s, jax.random.randint(k, (), 0, 11), params)
            on_air = (s.truth[-1] > 0) | ((jnp.arange(1, 11) == s.tx[-1]) & params.hear_own)
            return s, (s.waterfall[-1], on_air, info["detected"], info["occupied"], info["false_alarms"])

        return jax.lax.scan(body, s, jax.random.split(key, 99))[1]

    return env, params, run


def test_at_high_snr_the_detector_sees_the_truth(rollout):
    env, params, run = rollout
    hit, on_air, det, occ, fa = run(jax.random.key(1), params.replace(snr_db=jnp.full(3, 40.0)))
    np.testing.assert_array_equal(np.asarray(hit).astype(bool), np.asarray(on_air))
    assert int(occ.sum()) > 150 and int(det.sum()) == int(occ.sum()) and int(fa.sum()) == 0


def test_false_alarm_rate_matches_the_energy_detector_theory(rollout):
    from scipy.special import gammaincc, gammainccinv

    env, params, run = rollout
    N, sigma = env.samples_per_step, 0.01
    M = env.plan.chan_count  # FFT bins per channel: 102 or 103 at 1,024 samples
    thr = float(gammainccinv(np.mean(M), 0.05)) * sigma**2 / N  # about 5 % false alarms
    quiet = params.replace(snr_db=jnp.full(3, -100.0), hear_own=False, threshold=thr)
    hits = np.concatenate([np.asarray(run(jax.random.key(k), quiet)[0]) for k in (2, 3, 4)]).astype(bool)
    p = gammaincc(M, thr * N / sigma**2)  # exact: N E_k / sigma^2 ~ Gamma(M_k, 1)
    expected, sd = hits.shape[0] * p.sum(), math.sqrt(hits.shape[0] * np.sum(p * (1 - p)))
    assert 0.04 < p.mean() < 0.06
    assert abs(hits.sum() - expected) < 3.5 * sd, (hits.sum(), expected, sd)  # 2970 channel-steps, sd ~12
    # at the RFRL Gym threshold (0.001, 100x the noise in a channel) noise alone never trips it
    assert float(iq.false_alarm_probability(0.001, sigma, N, M.min())) < 1e-30


def test_cfar_false_alarms_do_not_depend_on_the_noise_level():
    rng = np.random.default_rng(0)
    energy = rng.gamma(102, 1.0, size=(500, 10)) * 1e-4 / 1024  # noise-only channel energies at sigma 0.01
    energy[:, 3] *= 30  # one occupied channel
    a = jax.vmap(lambda e: iq.detect(e, 1e-3, True, 1.3))(jnp.asarray(energy))
    b = jax.vmap(lambda e: iq.detect(e, 1e-3, True, 1.3))(jnp.asarray(energy * 1e4))  # sigma 1.0
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(a)[:, 3].all() and 0 < np.asarray(a).mean() < 0.2
    fixed = jax.vmap(lambda e: iq.detect(e, 1e-3, False, 1.3))
    assert np.asarray(fixed(jnp.asarray(energy * 1e4))).all() and not np.asarray(fixed(jnp.asarray(energy)))[:, 0].any()


def _scenario(tmp_path, modem, channels=(9,)):
    data = {"environment": {"num_channels": 10, "max_steps": 10, "observation_mode": "detect", "reward_mode": "dsa"},
            "entities": {"e": {"type": "ConstantFreq", "channels": list(channels), "modem_params": modem}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_bad_input_names_the_field(tmp_path):
    with pytest.raises(sc.ScenarioError, match=r"entities\.e\.modem_params\.type.*'fsk'.*psk"):
        realax.make("realax/SpectrumIQ-v0", scenario=_scenario(tmp_path, {**iq.DEFAULT_MODEM, "type": "fsk"}))
    with pytest.raises(RealaxError, match="snr_db"):
        realax.make("realax/SpectrumIQ-v0", snr_db=float("nan"))
    from realax.envs.spectrum import SpectrumIQ

    with pytest.raises(RealaxError, match="snr_db must be a finite number"):
        SpectrumIQ(snr_db=float("nan"))
    for bad in (0, -5):
        with pytest.raises(RealaxError, match="samples_per_step"):
            SpectrumIQ(samples_per_step=bad)
    chirp = {"type": "p_fmcw", "center_frequency": [0.0, 0.0], "bandwidth": 2.0, "start": 0.0, "duration": 1.0}
    with pytest.raises(sc.ScenarioError, match=r"modem_params\.bandwidth.*faster than the sample rate"):
        realax.make("realax/SpectrumIQ-v0", scenario=_scenario(tmp_path, chirp))
    realax.make("realax/SpectrumIQ-v0", scenario=_scenario(tmp_path, chirp, channels=(4,)))  # fits mid-band
    with pytest.raises(sc.ScenarioError, match=r"modem_params\.order"):
        realax.make("realax/SpectrumIQ-v0", scenario=_scenario(tmp_path, {**iq.DEFAULT_MODEM, "type": "qam", "order": 8}))
    with pytest.raises(RealaxError, match="obs_mode"):
        SpectrumIQ(obs_mode="waterfall")


@needs_data
def test_every_rfrl_gym_file_builds_in_iq_mode_and_uses_its_modems():
    for path in FILES:
        raw = json.loads(path.read_text())
        env, params = realax.make("realax/SpectrumIQ-v0", scenario=str(path), samples_per_step=10_000)
        assert not [u for u in env.scenario.unused if "modem_params" in u or "detector" in u], path.name
        kinds = sorted({g.spec.kind for g in env.plan.groups})
        assert kinds == sorted({v["modem_params"]["type"] for v in raw["entities"].values()}), path.name
        assert params.snr_db.shape == (len(raw["entities"]),) and np.all(np.isfinite(np.asarray(params.snr_db)))
        assert env.detector == "energy"


@needs_data
def test_rfrl_gyms_test_scenario_steps_at_its_10000_samples():
    # all four modem kinds (16-QAM, QPSK, 4-ASK, down-chirp) and an EnergyDetector, classify observed as detect
    env, params = realax.make("realax/SpectrumIQ-v0", scenario=str(DATA / "master__test_scenario.json"),
                              samples_per_step=10_000)
    assert "environment.observation_mode" in env.scenario.unused
    step = jax.jit(env.step)
    _, s = jax.jit(env.reset)(jax.random.key(0), params)
    seen = 0
    for i in range(4):
        _, s, _, _, _, info = step(jax.random.key(i), s, i + 1, params)
        assert int(info["detected"]) == int(info["occupied"]) and int(info["false_alarms"]) == 0
        seen += int(info["occupied"])
    assert seen >= 12


def test_band_sums_match_the_bins_of_each_band():
    # a reshape (B divides N), a 0/1 matrix (it does not), odd N; bands of equal width up to one bin
    for n, bins in ((1000, 80), (1024, 80), (999, 70)):
        plan = iq.Plan([iq.ModemSpec("psk", 4, 20, 0.0, 0.0, 0.0, 1.0)], 10, n, bins)
        p = np.random.default_rng(n).random(n).astype(np.float32)
        freqs = np.fft.fftfreq(n)
        want = [p[(freqs >= b / bins - 0.5 - 1e-12) & (freqs < (b + 1) / bins - 0.5 - 1e-12)].sum() for b in range(bins)]
        np.testing.assert_allclose(np.asarray(iq.band_sums(jnp.asarray(p), plan)), want, rtol=1e-5)
        assert np.ptp(plan.bin_count) <= 1 and plan.bin_count.sum() == n


def test_sense_is_band_energy_of_synthesize_with_the_noise_drawn_per_band():
    plan = iq.Plan([iq.ModemSpec("qam", 16, 20, -0.1, 0.1, 0.25, 0.5), iq.ModemSpec("n_fmcw", 0, 10, 0, 0, 0, 1)],
                   10, 400, 40)
    chan, snr = jnp.array([2, 7]), jnp.array([3.0, 0.0])
    args = (chan, jnp.int32(5), snr)

    @jax.jit
    @jax.vmap
    def both(key):
        time_domain = iq.band_energy(iq.synthesize(key, *args, 0.01, 0.0, True, False, plan), plan)
        return time_domain, iq.sense(key, *args, 0.01, 0.0, True, False, plan)

    clean = jax.jit(lambda k, f: f(k, *args, 0.0, 0.0, True, False, plan), static_argnums=1)
    e0, s0 = iq.band_energy(clean(jax.random.key(0), iq.synthesize), plan)
    e1, s1 = clean(jax.random.key(0), iq.sense)  # no noise: the same signal, the same energies
    np.testing.assert_allclose(np.asarray(e1), np.asarray(e0), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(np.asarray(s1), np.asarray(s0), rtol=1e-5, atol=1e-12)
    (et, st), (ef, sf) = jax.tree.map(np.asarray, both(jax.random.split(jax.random.key(1), 3000)))
    # same distribution: means within 3 sd of the difference, sd within 8 %
    for a, b in ((et, ef), (st, sf)):
        se = np.sqrt((a.var(0) + b.var(0)) / len(a))
        assert np.all(np.abs(a.mean(0) - b.mean(0)) < 4 * se)
        np.testing.assert_allclose(b.std(0) / a.std(0), 1.0, atol=0.08)
