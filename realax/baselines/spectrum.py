"""Spectrum baselines: sense-and-avoid (listen before talk) and a pattern predictor.

Sense-and-avoid transmits on a channel that was free in the last observed frame, chosen uniformly among
the free ones, and stays silent when none is free: the classical dynamic-spectrum-access heuristic that
RFRL Gym's dsa reward rewards whenever the band does not change between two steps. On ``realax/SpectrumIQ-v0``
it reads the detector: the detect observation as it is, or, with ``obs_mode="spectrogram"``, the env's energy
detector applied to the last spectrogram row (``SpectrumIQ.occupancy_from_spectrogram``).

The predictor (``predictive``) is ours: it looks for the shortest period ``p <= history / 2`` over which every
frame of the observed waterfall equals the frame ``p`` steps before it (a fixed hopper, a constant emitter) and
takes the frame ``p`` steps back as the next one. A ``jam`` radio transmits where it so expects its target
(RFRL Gym's jam reward: +1 iff the target occupies the channel; a detect view shows occupancy only, so any
occupied channel) and stays silent when the target's cells follow no such period; a ``dsa`` radio transmits
on a channel it expects free (the last frame's free ones when the occupancy has no period), chosen as
sense-and-avoid chooses, and stays silent when none is. It is the reference a learner should beat on
scripted, periodic scenarios: on ``hopper`` (the pattern ch4, ch4, ch5) it scores 93 of 100, silent for the
7 steps before its 8-frame waterfall holds the pattern and right on every step after.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.core import is_multi_agent
from realax.envs.sampling import choice


def _pick(key: jax.Array, allowed: jax.Array) -> jax.Array:
    """A channel drawn uniformly among the ``allowed`` ones (action = channel + 1); silent (0) when none is."""
    u = jax.random.uniform(key)
    return jnp.where(jnp.any(allowed), choice(allowed, u) + 1, 0).astype(jnp.int32)


def _one(key: jax.Array, obs: jax.Array, busy=None) -> jax.Array:
    return _pick(key, obs[-1] == 0 if busy is None else ~busy(obs[-1]))


def sense_and_avoid(env, params):
    if is_multi_agent(env):
        n = env.num_agents
        return lambda key, obs: jax.vmap(_one)(jax.random.split(key, n), obs)
    if getattr(env, "obs_mode", "detect") == "spectrogram":
        return lambda key, obs: _one(key, obs, lambda row: env.occupancy_from_spectrogram(row, params))
    return _one


def next_frame(frames: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(frame, found)``: the frame after ``frames [H, C]`` (oldest first), ``frames[H - p]`` for the shortest
    period ``p <= H // 2`` that every frame repeats (``frames[i] == frames[i - p]`` for all ``i >= p``), and
    whether one does; the last frame when none does."""
    h = frames.shape[0]
    if h < 2:
        return frames[-1], jnp.bool_(False)
    fits = jnp.stack([jnp.all(frames[p:] == frames[:-p]) for p in range(1, h // 2 + 1)])
    return jnp.where(fits.any(), frames[h - 1 - jnp.argmax(fits)], frames[-1]), fits.any()


def _predict(key: jax.Array, frames: jax.Array, jam: jax.Array, target: jax.Array, classify: jax.Array) -> jax.Array:
    # jam: where the target was (a detect view: any occupied cell), repeated if periodic, else no guess;
    # dsa: the occupancy, repeated if periodic, else the last frame's (sense-and-avoid)
    hits, found = next_frame(jnp.where(classify, frames == target, frames > 0) & (target > 0))
    busy, _ = next_frame(frames > 0)
    return _pick(key, jnp.where(jam, hits & found, ~busy))


def predictive(env, params):
    if is_multi_agent(env):  # SpectrumMA: each radio its own view, reward mode and target
        n = env.num_agents

        def multi(key, obs):
            return jax.vmap(_predict)(jax.random.split(key, n), obs, params.reward_jam, params.target, params.classify)

        return multi
    if getattr(env, "obs_mode", "detect") == "spectrogram":  # SpectrumIQ: the detector on every row
        def from_spectrogram(key, obs):
            frames = jax.vmap(lambda row: env.occupancy_from_spectrogram(row, params))(obs).astype(jnp.int32)
            return _predict(key, frames, params.reward_jam, params.target, False)

        return from_spectrogram
    classify = bool(getattr(env, "classify", False))
    # with own_tx the radio's own transmissions add the number of codes K to a cell: the high is 2 K - 1
    codes = int(env.observation_space(params).high.max()) + 1
    codes = codes // 2 if getattr(env, "own_tx", False) else codes
    return lambda key, obs: _predict(key, obs.astype(jnp.int32) % codes, params.reward_jam, params.target, classify)


#: the baselines ``realax.register(..., baselines="realax.baselines.spectrum")`` declares
BASELINES = {"sense_and_avoid": sense_and_avoid, "predictive": predictive}
