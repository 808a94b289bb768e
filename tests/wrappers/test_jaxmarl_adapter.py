"""JaxMARL's dict-per-agent interface over realax multi-agent envs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.wrappers.jaxmarl import JaxMARLEnv


def test_smax_through_jaxmarls_interface_matches_the_stacked_env():
    env = JaxMARLEnv("realax/SMAX-v0", scenario="3m")
    base, params = realax.make("realax/SMAX-v0", scenario="3m")
    obs, state = jax.jit(env.reset)(jax.random.key(0))
    obs_b, state_b = base.reset(jax.random.key(0), params)
    assert list(obs) == env.agents == list(base.agents)
    np.testing.assert_array_equal(np.asarray(obs[env.agents[1]]), np.asarray(obs_b[1]))

    avail = env.get_avail_actions(state)
    actions = {a: jnp.argmax(avail[a]).astype(jnp.int32) for a in env.agents}  # first valid action each

    @jax.jit
    def rollout(key, state):
        def body(carry, k):
            state = carry
            avail = env.get_avail_actions(state)
            acts = {a: jnp.argmax(avail[a]).astype(jnp.int32) for a in env.agents}
            obs, state, rew, dones, infos = env.step(k, state, acts)
            return state, (rew, dones["__all__"], infos["terminated"], infos["truncated"])

        return jax.lax.scan(body, state, jax.random.split(key, 120))

    _, (rew, done_all, term, trunc) = rollout(jax.random.key(1), state)
    assert set(rew) == set(env.agents) and np.asarray(done_all).any()
    np.testing.assert_array_equal(np.asarray(done_all), np.asarray(term | trunc))
    o, s, r, d, i = env.step(jax.random.key(2), state, actions)
    o_b, s_b, r_b, te, tr, i_b = base.step(jax.random.key(2), state_b, jnp.stack([actions[a] for a in env.agents]), params)
    np.testing.assert_allclose(np.asarray(r[env.agents[0]]), np.asarray(r_b[0]))
    assert env.get_world_state(s).shape == base.global_state_space(params).shape


def test_single_agent_ids_are_refused():
    with pytest.raises(ValueError, match="single-agent"):
        JaxMARLEnv("realax/Spectrum-v0")
