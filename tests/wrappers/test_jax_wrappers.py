"""JAX-side wrappers: episode statistics and observation flattening."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.wrappers import EpisodeStats, FlattenObservation


def test_episode_stats_report_return_and_length_at_the_end():
    env, params = realax.make("realax/Spectrum-v0", scenario="constant", history=1)
    env = EpisodeStats(env)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone

    def body(state, k):
        obs, state, r, te, tr, info = env.step(k, state, jnp.int32(5), params)  # always jam the tv: +1
        return state, (r, info)

    _, (r, info) = jax.lax.scan(body, state, jax.random.split(jax.random.key(1), 250))
    ends = np.flatnonzero(np.asarray(info["returned_episode"]))
    assert ends.tolist() == [99, 199]
    np.testing.assert_allclose(np.asarray(info["episode_return"])[ends], [100.0, 100.0])
    np.testing.assert_array_equal(np.asarray(info["episode_length"])[ends], [100, 100])
    assert np.asarray(info["episode_return"])[:99].sum() == 0


def test_episode_stats_keep_one_return_per_agent():
    env, params = realax.make("realax/SpectrumMA-v0")
    env = EpisodeStats(env)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    assert state.episode_return.shape == (env.num_agents,)
    obs, state, r, *_ = jax.jit(env.step)(jax.random.key(1), state, jnp.ones(env.num_agents, jnp.int32), params)
    np.testing.assert_allclose(np.asarray(state.episode_return), np.asarray(r))


def test_flatten_observation_matches_space_and_values():
    base, params = realax.make("realax/Spectrum-v0", scenario="mixed", history=3)
    env = FlattenObservation(base)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    raw, _ = jax.jit(base.reset)(jax.random.key(0), params)
    space = env.observation_space(params)
    assert obs.shape == space.shape == (30,) and obs.dtype == jnp.float32 and space.contains(np.asarray(obs))
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(raw).reshape(-1))
    obs, *_ = jax.jit(env.step)(jax.random.key(1), state, jnp.int32(2), params)
    assert obs.shape == (30,)
    ma, mp = realax.make("realax/SpectrumMA-v0")
    o, _ = jax.jit(FlattenObservation(ma).reset)(jax.random.key(0), mp)
    assert o.shape == (ma.num_agents, 80)
