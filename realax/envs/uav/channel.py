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

Losses are stated in dB (``air_to_ground_db``, ``ground_db``, tested against hand-computed values); the
environment's step works in linear power (``*_rx_mw``, ``sinr``: the same quantities, fewer logarithms, and
the association compares SINRs against ``dbm_to_mw`` of the thresholds, which orders them as dB does).
Free-space loss is ``20 log10(4 pi f d / c)``: **20** log10 because it is a ratio of amplitudes squared
(power falls with d**2).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from realax.envs import smallops as so

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


#: odd polynomial ``atan(t) ~ sum c_i t**(2i+1)`` on ``[0, 1]``: a least-squares fit on Chebyshev nodes (numpy), max
#: error 2.7e-7 rad (1.5e-5 degrees, tested). XLA:CPU (jaxlib 0.10) does not vectorise ``atan2``: 6 ns an element
#: against 0.2 for ``exp`` on this 2-core machine, and it was the largest single cost of a step.
ATAN_COEFFS = (0.9999966621398926, -0.33318302035331726, 0.19813214242458344, -0.13247522711753845,
               0.0798112079501152, -0.03372593969106674, 0.0068426248617470264)
#: ln(10) / 10: ``10 ** (x / 10) = exp(LN10_10 * x)``
LN10_10 = math.log(10.0) / 10.0


def elevation_deg(horizontal_m: jax.Array, altitude_m: jax.Array) -> jax.Array:
    """The angle above the horizon at which a ground user sees the UAV, in **degrees** (90 straight up):
    ``atan(altitude / horizontal)``, by ``ATAN_COEFFS`` on the ratio of the smaller to the larger side."""
    lo, hi = jnp.minimum(horizontal_m, altitude_m), jnp.maximum(horizontal_m, altitude_m)
    t = lo / jnp.maximum(hi, 1e-30)
    t2 = t * t
    poly = jnp.full_like(t, ATAN_COEFFS[-1])
    for c in ATAN_COEFFS[-2::-1]:
        poly = poly * t2 + c
    angle = t * poly
    return jnp.degrees(jnp.where(horizontal_m <= altitude_m, math.pi / 2 - angle, angle))


def los_probability(elev_deg: jax.Array, a: jax.Array, b: jax.Array) -> jax.Array:
    """Al-Hourani et al. 2014, Eq. 5: ``1 / (1 + a exp(-b (theta - a)))`` with ``theta`` in degrees."""
    return 1.0 / (1.0 + a * jnp.exp(-b * (elev_deg - a)))


def excess_db(elev_deg: jax.Array, env: jax.Array) -> jax.Array:
    """The LoS-weighted loss over free space, ``P_LoS eta_LoS + (1 - P_LoS) eta_NLoS`` dB (Al-Hourani et al.
    2014, Eq. 2-4); ``env`` is ``[a, b, eta_LoS, eta_NLoS]`` (one row of ``ENVIRONMENTS``)."""
    p_los = los_probability(elev_deg, env[0], env[1])
    return env[3] + p_los * (env[2] - env[3])


def air_to_ground_db(horizontal_m: jax.Array, altitude_m: jax.Array, freq_hz: jax.Array, env: jax.Array) -> jax.Array:
    """Mean air-to-ground path loss in dB: free space at the 3-D distance plus ``excess_db``."""
    distance = jnp.sqrt(horizontal_m**2 + altitude_m**2)
    return free_space_db(distance, freq_hz) + excess_db(elevation_deg(horizontal_m, altitude_m), env)


def air_to_ground_rx_mw(power_dbm: jax.Array, horizontal_sq: jax.Array, altitude_m: jax.Array, freq_hz: jax.Array,
                        env: jax.Array) -> jax.Array:
    """Received power in mW, ``dbm_to_mw(power_dbm - air_to_ground_db(...))``, from the *squared* horizontal
    distance, with no logarithm: free-space loss is ``(4 pi f / c)**2 d**2``, so only the dB terms that do
    not depend on distance go through one ``exp``."""
    elev = elevation_deg(jnp.sqrt(horizontal_sq), altitude_m)
    at_1m = power_dbm - free_space_db(jnp.float32(1.0), freq_hz) - excess_db(elev, env)
    return dbm_to_mw(at_1m) / (horizontal_sq + altitude_m**2)


def ground_db(distance_m: jax.Array) -> jax.Array:
    """3GPP TR 36.814 macro path loss at 2 GHz in dB, without shadowing; distances below 35 m count as 35 m."""
    km = jnp.maximum(distance_m, GROUND_MIN_DISTANCE_M) / 1000.0
    return GROUND_INTERCEPT_DB + GROUND_SLOPE_DB * jnp.log10(km)


def ground_rx_mw(power_dbm: jax.Array, distance_sq: jax.Array) -> jax.Array:
    """Received power in mW, ``dbm_to_mw(power_dbm - ground_db(sqrt(distance_sq)))``, in one ``log`` and one
    ``exp``: ``10**(-PL / 10) = 10**(-12.81) km**(-3.76)`` and ``km**(-3.76) = exp(-1.88 ln(km**2))``."""
    km_sq = jnp.maximum(distance_sq, GROUND_MIN_DISTANCE_M**2) * 1e-6
    return jnp.exp(LN10_10 * (power_dbm - GROUND_INTERCEPT_DB) - (GROUND_SLOPE_DB / 20.0) * jnp.log(km_sq))


def noise_dbm(bandwidth_hz: jax.Array, density_dbm_hz: jax.Array, figure_db: jax.Array) -> jax.Array:
    """Thermal noise power over a bandwidth: ``density + 10 log10(B) + noise figure`` (10 log10: a power ratio)."""
    return density_dbm_hz + 10.0 * jnp.log10(bandwidth_hz) + figure_db


def dbm_to_mw(dbm: jax.Array) -> jax.Array:
    return jnp.exp(LN10_10 * dbm)


def sinr(rx_mw: jax.Array, same_band: jax.Array | None, noise_mw: jax.Array) -> jax.Array:
    """Linear SINR of every (receiver, transmitter) pair: ``rx_mw [U, T]`` received powers, ``same_band [T, T]``
    whether two transmitters share a band (the diagonal is ignored; ``None``: all share one). Interference at
    user ``u`` from ``t`` is the sum of the other same-band transmitters' powers at ``u``, unrolled over the few
    transmitters (``smallops.sum_axis``), which under ``vmap`` fuses where a ``[U, T] @ [T, T]`` product would not."""
    if same_band is None:  # one band for all: everyone else interferes
        return rx_mw / (rx_mw.sum(axis=1, keepdims=True) - rx_mw + noise_mw)
    others = (same_band & ~jnp.eye(same_band.shape[0], dtype=bool)).astype(rx_mw.dtype)
    interference = so.sum_axis(rx_mw[:, :, None] * others[None, :, :], axis=1)  # [U, T]: over t' sharing t's band
    return rx_mw / (interference + noise_mw)


def sinr_db(rx_dbm: jax.Array, same_band: jax.Array, noise: jax.Array) -> jax.Array:
    """``sinr`` in dB, from received powers and noise in dBm."""
    return 10.0 * jnp.log10(sinr(dbm_to_mw(rx_dbm), same_band, dbm_to_mw(noise)))
