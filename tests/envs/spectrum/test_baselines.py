"""Spectrum baselines: the pattern predictor (``predictive``) against hand-made waterfalls, its score on the
scripted scenarios beside sense-and-avoid and random, and that it runs on the multi-agent and IQ envs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.agents.evaluate import evaluate
from realax.baselines import get, names
from realax.baselines.spectrum import next_frame


def _waterfall(channels, num_channels=6):
    """``int8 [H, C]``: one emitter (code 1) on ``channels[i]`` in row i, -1 for an empty row."""
    f = np.zeros((len(channels), num_channels), np.int8)
    for i, c in enumerate(channels):
        if c >= 0:
            f[i, c] = 1
    return jnp.asarray(f)


def test_next_frame_repeats_the_shortest_period_that_fits_every_frame():
    frame, found = next_frame(_waterfall([4, 4, 5, 4, 4, 5, 4, 4]))  # period 3: next is the 5
    assert bool(found) and int(jnp.argmax(frame)) == 5
    frame, found = next_frame(_waterfall([2] * 8))  # period 1
    assert bool(found) and int(jnp.argmax(frame)) == 2
    frame, found = next_frame(_waterfall([0, 1, 2, 3, 0, 1, 2, 3]))  # period 4 = H / 2, the longest looked for
    assert bool(found) and int(jnp.argmax(frame)) == 0
    last = _waterfall([0, 1, 2, 3, 4, 5, 0, 1])  # period 6 > H / 2: not trusted, the last frame
    frame, found = next_frame(last)
    assert not bool(found) and np.array_equal(frame, last[-1])
    frame, found = next_frame(_waterfall([-1, -1, -1, -1, -1, 4, 4, 5]))  # start of an episode: no period yet
    assert not bool(found)
    frame, found = next_frame(_waterfall([3]))  # a one-frame history
    assert not bool(found) and int(jnp.argmax(frame)) == 3


def test_a_dsa_radio_avoids_the_channel_the_pattern_will_occupy():
    env, params = realax.make("realax/Spectrum-v0", scenario="mixed")  # dsa, detect
    policy = get("predictive", env, params)
    obs = _waterfall([0, 1] * 4, env.num_channels)  # alternating: channel 0 is next, 1 will be free
    actions = np.asarray(jax.jit(jax.vmap(policy, in_axes=(0, None)))(jax.random.split(jax.random.key(0), 256), obs))
    assert np.all(actions >= 1) and not np.any(actions == 1)  # never silent, never on channel 0 (action 1)
    assert np.any(actions == 2)  # channel 1, busy in the last frame, is free next: sense-and-avoid never takes it
    jam_env, jam_params = realax.make("realax/Spectrum-v0", scenario="hopper")  # jam, classify, target 1
    jam = jax.jit(get("predictive", jam_env, jam_params))
    pattern = _waterfall([4, 4, 5, 4, 4, 5, 4, 4], jam_env.num_channels)
    assert int(jam(jax.random.key(0), pattern)) == 6  # channel 5
    assert int(jam(jax.random.key(0), _waterfall([1, 2, 3, 4, 5, 6, 7, 8], jam_env.num_channels))) == 0  # no guess


@pytest.mark.parametrize(("scenario", "want"), [("hopper", 93.0), ("constant", 93.0)])
def test_predictive_jams_the_scripted_emitters_that_sense_and_avoid_avoids(scenario, want):
    env, params = realax.make("realax/Spectrum-v0", scenario=scenario)
    assert names(env) == ["random", "sense_and_avoid", "predictive"]
    run = jax.jit(lambda k: jnp.stack([evaluate(env, params, get(n, env, params), k, 8).mean() for n in names(env)]))
    rand, avoid, pred = np.asarray(run(jax.random.key(1)))
    # right on every step once the 8-frame waterfall holds the pattern: 7 silent steps, then 93 hits
    assert pred == want and pred > rand and pred > avoid, (rand, avoid, pred)


def test_predictive_runs_on_the_multi_agent_and_iq_envs():
    for env_id, kwargs in (("realax/SpectrumMA-v0", {}), ("realax/SpectrumIQ-v0", {"obs_mode": "spectrogram"})):
        env, params = realax.make(env_id, **kwargs)
        returns = np.asarray(jax.jit(lambda k, e=env, p=params: evaluate(e, p, get("predictive", e, p), k, 2))(
            jax.random.key(0)))
        assert np.all(np.isfinite(returns)), env_id
