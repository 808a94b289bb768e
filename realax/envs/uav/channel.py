"""Radio channels of the UAV offloading family: air-to-ground (UAV -> user) and ground (base station -> user).

Air-to-ground: the probabilistic line-of-sight model of Al-Hourani, Kandeepan and Lardner, "Optimal LAP
Altitude for Maximum Coverage", IEEE Wireless Communications Letters 3(6), 2014 (Eq. 2-5): the chance of
line of sight at elevation angle ``theta`` **in degrees** is ``1 / (1 + a exp(-b (theta - a)))`` and the mean
path loss is the free-space loss plus ``eta_LoS`` or ``eta_NLoS`` dB weighted by that chance. The
environment presets ``(a, b, eta_LoS, eta_NLoS)`` are the paper's values at 2 GHz (also in
``zhangxiaochen95/uav_bs_ctrl``'s ``tasks/physics.py``, which feeds radians into the degree formula and adds
``eta / 20`` instead of ``eta`` dB; both pitfalls are tested here, research note ``rf-uav-agv.md`` §2.4).

Ground: 3GPP TR 36.814 (v9.0.0) Table A.2.1.1.2-3, macro-cell model at 2 GHz,
``PL = 128.1 + 37.6 log10(R / 1 km)`` dB with log-normal shadowing of 8 dB standard deviation, and a 35 m
minimum distance between a user and a base station (same table).

Everything is in dB/dBm except the linear powers summed for interference. Free-space loss is
``20 log10(4 pi f d / c)``: **20** log10 because it is a ratio of amplitudes squared (power falls with d**2).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

#: speed of light, m/s
C = 299_792_458.0

#: (a, b, eta_LoS dB, eta_NLoS dB) per environment: Al-Hourani et al. 2014, Table I (2 GHz)
ENVIRONMENTS: dict[str, tuple[float, float, float, float]] = {
    "suburban": (4.88, 0.43, 0.1, 21.0),
    "urban": (9.61, 0.16, 1.0, 20.0),
    "dense_urban": (12.08, 0.11, 1.6, 23.0),
    "high_rise": (27.23, 0.08, 2.3, 34.0),
}

#: 3GPP TR 36.814 macro-cell path loss at 2 GHz: intercept (dB at 1 km), slope (dB per decade of km)
GROUND_INTERCEPT_DB = 128.1
GROUND_SLOPE_DB = 37.6
#: TR 36.814's minimum user-to-base-station distance, m
GROUND_MIN_DISTANCE_M = 35.0


def free_space_db(distance_m: jax.Array, freq_hz: jax.Array) -> jax.Array:
    """Free-space path loss ``20 log10(4 pi f d / c)`` in dB (Friis); ``distance_m`` > 0."""
    return 20.0 * jnp.log10(distance_m) + 20.0 * jnp.log10(freq_hz) + 20.0 * math.log10(4 * math.pi / C)


def elevation_deg(horizontal_m: jax.Array, altitude_m: jax.Array) -> jax.Array:
    """The angle above the horizon at which a ground user sees the UAV, in **degrees** (90 straight up)."""
    return jnp.degrees(jnp.arctan2(altitude_m, horizontal_m))


def los_probability(elev_deg: jax.Array, a: jax.Array, b: jax.Array) -> jax.Array:
    """Al-Hourani et al. 2014, Eq. 5: ``1 / (1 + a exp(-b (theta - a)))`` with ``theta`` in degrees."""
    return 1.0 / (1.0 + a * jnp.exp(-b * (elev_deg - a)))


def air_to_ground_db(horizontal_m: jax.Array, altitude_m: jax.Array, freq_hz: jax.Array, env: jax.Array) -> jax.Array:
    """Mean air-to-ground path loss in dB: free space at the 3-D distance plus the LoS-weighted excess loss
    ``P_LoS eta_LoS + (1 - P_LoS) eta_NLoS`` (Al-Hourani et al. 2014, Eq. 2-4). ``env`` is ``[a, b,
    eta_LoS, eta_NLoS]`` (one row of ``ENVIRONMENTS``)."""
    a, b, eta_los, eta_nlos = env[0], env[1], env[2], env[3]
    distance = jnp.sqrt(horizontal_m**2 + altitude_m**2)
    p_los = los_probability(elevation_deg(horizontal_m, altitude_m), a, b)
    return free_space_db(distance, freq_hz) + p_los * eta_los + (1.0 - p_los) * eta_nlos


def ground_db(distance_m: jax.Array) -> jax.Array:
    """3GPP TR 36.814 macro path loss at 2 GHz in dB, without shadowing; distances below 35 m count as 35 m."""
    km = jnp.maximum(distance_m, GROUND_MIN_DISTANCE_M) / 1000.0
    return GROUND_INTERCEPT_DB + GROUND_SLOPE_DB * jnp.log10(km)


def noise_dbm(bandwidth_hz: jax.Array, density_dbm_hz: jax.Array, figure_db: jax.Array) -> jax.Array:
    """Thermal noise power over a bandwidth: ``density + 10 log10(B) + noise figure`` (10 log10: a power ratio)."""
    return density_dbm_hz + 10.0 * jnp.log10(bandwidth_hz) + figure_db


def dbm_to_mw(dbm: jax.Array) -> jax.Array:
    return 10.0 ** (dbm / 10.0)


def sinr_db(rx_dbm: jax.Array, same_band: jax.Array, noise: jax.Array) -> jax.Array:
    """SINR in dB of every (receiver, transmitter) pair: ``rx_dbm [U, T]`` received powers, ``same_band [T, T]``
    whether two transmitters share a band (the diagonal is ignored). Interference at user ``u`` from ``t`` is
    the sum of the other same-band transmitters' powers at ``u``, in mW."""
    rx_mw = dbm_to_mw(rx_dbm)
    others = same_band & ~jnp.eye(same_band.shape[0], dtype=bool)
    interference = rx_mw @ others.astype(rx_mw.dtype)  # [U, T]: sum over t' sharing t's band, t' != t
    return 10.0 * jnp.log10(rx_mw / (interference + dbm_to_mw(noise)))
