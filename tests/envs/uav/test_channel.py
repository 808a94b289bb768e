"""The channel model against path losses worked out by hand (Al-Hourani et al. 2014; 3GPP TR 36.814), and the
pitfalls of the public code: radians fed to the degree formula, eta/20 instead of eta dB, 20 vs 10 log10."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from realax.envs.uav import channel

URBAN = jnp.asarray(channel.ENVIRONMENTS["urban"])
HIGH_RISE = jnp.asarray(channel.ENVIRONMENTS["high_rise"])


def test_free_space_loss_is_twenty_log10_of_4_pi_f_d_over_c():
    # 20 log10(100) + 20 log10(2e9) + 20 log10(4 pi / c) = 40 + 186.0206 - 147.5522
    assert float(channel.free_space_db(100.0, 2e9)) == pytest.approx(78.468, abs=1e-3)
    # doubling the distance adds 6.02 dB (20 log10 2), not 3.01 dB (10 log10 2)
    assert float(channel.free_space_db(200.0, 2e9) - channel.free_space_db(100.0, 2e9)) == pytest.approx(6.0206, abs=1e-3)


@pytest.mark.parametrize("horizontal, altitude, degrees", [(100.0, 100.0, 45.0), (0.0, 100.0, 90.0),
                                                           (1000.0, 100.0, 5.7106), (173.205, 100.0, 30.0)])
def test_elevation_is_in_degrees(horizontal, altitude, degrees):
    assert float(channel.elevation_deg(horizontal, altitude)) == pytest.approx(degrees, abs=1e-3)


def test_elevation_polynomial_is_within_its_stated_error_of_atan2():
    horizontal = np.concatenate([np.linspace(0.0, 5000.0, 20001), np.geomspace(1e-3, 1e5, 2001)])
    for altitude in (1.0, 30.0, 100.0, 500.0):
        got = np.asarray(channel.elevation_deg(jnp.asarray(horizontal, jnp.float32), jnp.float32(altitude)), np.float64)
        exact = np.degrees(np.arctan2(altitude, horizontal))
        assert np.abs(got - exact).max() < 1e-4  # the fit's 1.5e-5 degrees plus float32 rounding


def test_linear_received_powers_equal_the_db_path_losses():
    """The step's linear forms (no logarithm for free space, one for the ground model) against the dB losses."""
    h = jnp.asarray(np.geomspace(1.0, 3000.0, 200), jnp.float32)
    for env in channel.ENVIRONMENTS.values():
        rx = channel.air_to_ground_rx_mw(20.0, h * h, 120.0, 2e9, jnp.asarray(env))
        want = channel.dbm_to_mw(20.0 - channel.air_to_ground_db(h, 120.0, 2e9, jnp.asarray(env)))
        np.testing.assert_allclose(np.asarray(rx), np.asarray(want), rtol=1e-4)
    d = jnp.asarray(np.geomspace(1.0, 5000.0, 200), jnp.float32)  # below 35 m: the minimum distance
    np.testing.assert_allclose(np.asarray(channel.ground_rx_mw(46.0, d * d)),
                               np.asarray(channel.dbm_to_mw(46.0 - channel.ground_db(d))), rtol=1e-4)


def test_los_probability_takes_degrees_not_radians():
    # urban at 45 degrees: 1 / (1 + 9.61 exp(-0.16 (45 - 9.61))) = 0.96769
    p = float(channel.los_probability(channel.elevation_deg(100.0, 100.0), URBAN[0], URBAN[1]))
    assert p == pytest.approx(0.96769, abs=1e-4)
    # the uav_bs_ctrl pitfall: the same angle in radians (0.785) would give 0.0247
    assert abs(p - 1 / (1 + 9.61 * math.exp(-0.16 * (math.pi / 4 - 9.61))) ) > 0.9


@pytest.mark.parametrize("horizontal, altitude, env, expected", [
    (100.0, 100.0, "urban", 83.0925),  # 45 deg: FSPL(141.4 m) 81.4787 + 0.9677 * 1 + 0.0323 * 20
    (0.0, 100.0, "urban", 79.4689),  # straight up: FSPL(100 m) 78.4684 + ~1 dB (P_LoS ~ 1)
    (1000.0, 100.0, "urban", 117.5081),  # 5.71 deg: P_LoS 0.0528, FSPL(1005 m) 98.5116 + 18.9965
    (173.20508, 100.0, "high_rise", 117.0997),  # 30 deg: P_LoS 0.0438, eta 2.3 / 34 dB
])
def test_air_to_ground_mean_path_loss_by_hand(horizontal, altitude, env, expected):
    pl = float(channel.air_to_ground_db(jnp.float32(horizontal), jnp.float32(altitude), jnp.float32(2e9),
                                        jnp.asarray(channel.ENVIRONMENTS[env])))
    assert pl == pytest.approx(expected, abs=2e-3)


def test_excess_loss_is_eta_in_db_not_eta_over_twenty():
    """At 45 degrees the excess over free space is 0.9677 * 1 + 0.0323 * 20 = 1.614 dB (eta/20 would give 0.08)."""
    excess = channel.air_to_ground_db(100.0, 100.0, 2e9, URBAN) - channel.free_space_db(math.hypot(100, 100), 2e9)
    assert float(excess) == pytest.approx(1.6138, abs=1e-3)


def test_loss_grows_as_the_user_moves_away_and_presets_order_by_clutter():
    r = jnp.linspace(0.0, 2000.0, 50)
    pl = np.asarray(channel.air_to_ground_db(r, 100.0, 2e9, URBAN))
    assert np.all(np.diff(pl) > 0)
    at = {k: float(channel.air_to_ground_db(500.0, 100.0, 2e9, jnp.asarray(v))) for k, v in channel.ENVIRONMENTS.items()}
    assert at["suburban"] < at["urban"] < at["dense_urban"] < at["high_rise"]


def test_ground_path_loss_3gpp_macro_and_minimum_distance():
    assert float(channel.ground_db(1000.0)) == pytest.approx(128.1, abs=1e-4)
    assert float(channel.ground_db(100.0)) == pytest.approx(90.5, abs=1e-4)  # 128.1 - 37.6
    assert float(channel.ground_db(10.0)) == pytest.approx(float(channel.ground_db(35.0)), abs=1e-6)
    assert float(channel.ground_db(35.0)) == pytest.approx(73.357, abs=1e-3)


def test_noise_and_sinr():
    assert float(channel.noise_dbm(180e3, -174.0, 7.0)) == pytest.approx(-114.447, abs=1e-3)  # 10 log10(B)
    noise = jnp.float32(-200.0)  # negligible
    rx = jnp.array([[-60.0, -60.0, -70.0]])
    same = jnp.array([[True, True, False], [True, True, False], [False, False, True]])
    sinr = np.asarray(channel.sinr_db(rx, same, noise))[0]
    assert sinr[0] == pytest.approx(0.0, abs=1e-3) and sinr[1] == pytest.approx(0.0, abs=1e-3)  # equal co-band
    assert sinr[2] == pytest.approx(130.0, abs=1e-2)  # alone on its band: SNR = -70 - (-200)
    two = np.asarray(channel.sinr_db(jnp.array([[-60.0, -63.0]]), jnp.ones((2, 2), bool), noise))[0]
    assert two[0] == pytest.approx(3.0, abs=1e-3) and two[1] == pytest.approx(-3.0, abs=1e-3)
