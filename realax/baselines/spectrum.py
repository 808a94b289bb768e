"""Spectrum baselines: sense-and-avoid (listen before talk).

Sense-and-avoid transmits on a channel that was free in the last observed frame, chosen uniformly among
the free ones, and stays silent when none is free: the classical dynamic-spectrum-access heuristic that
RFRL Gym's dsa reward rewards whenever the band does not change between two steps. On ``realax/SpectrumIQ-v0``
it reads the detector: the detect observation as it is, or, with ``obs_mode="spectrogram"``, the env's energy
detector applied to the last spectrogram row (``SpectrumIQ.occupancy_from_spectrogram``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.core import is_multi_agent
from realax.envs.sampling import choice


def _one(key: jax.Array, obs: jax.Array, busy=None) -> jax.Array:
    free = obs[-1] == 0 if busy is None else ~busy(obs[-1])
    u = jax.random.uniform(key)
    return jnp.where(jnp.any(free), choice(free, u) + 1, 0).astype(jnp.int32)


def sense_and_avoid(env, params):
    if is_multi_agent(env):
        n = env.num_agents
        return lambda key, obs: jax.vmap(_one)(jax.random.split(key, n), obs)
    if getattr(env, "obs_mode", "detect") == "spectrogram":
        return lambda key, obs: _one(key, obs, lambda row: env.occupancy_from_spectrogram(row, params))
    return _one


#: the baselines ``realax.register(..., baselines="realax.baselines.spectrum")`` declares
BASELINES = {"sense_and_avoid": sense_and_avoid}
