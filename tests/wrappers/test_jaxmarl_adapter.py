"""JaxMARL's dict-per-agent interface over realax multi-agent envs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.errors import RealaxError
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
    with pytest.raises(RealaxError, match="single-agent"):
        JaxMARLEnv("realax/Spectrum-v0")


def test_bad_action_dicts_are_refused_naming_the_agent_and_the_space():
    """Issue 9: outside jit every bad action is a RealaxError (was a KeyError, a TypeError or a silent cast)."""
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    _, state = env.reset(jax.random.key(0))
    key, first = jax.random.key(1), env.agents[0]
    ok = {a: 0 for a in env.agents}
    for bad, message in (("x", "must be a dict"), (None, "must be a dict"), ({first: 0}, "missing"),
                         ({**ok, "ghost": 1}, "unknown"), ({**ok, first: "a"}, f"action of agent '{first}' 'a' is not a number"),
                         ({**ok, first: 2.5}, "not a whole number"), ({**ok, first: float("nan")}, "NaN"),
                         ({**ok, first: 11}, r"outside the action space Discrete\(11\)"), ({**ok, first: [1, 2]}, "shape")):
        with pytest.raises(RealaxError, match=message):
            env.step(key, state, bad)


def test_inside_jit_values_become_the_noop_and_shapes_are_refused():
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    _, state = env.reset(jax.random.key(0))
    step = jax.jit(env.step)
    values = dict(zip(env.agents, [jnp.float32(2.5), jnp.float32(jnp.nan), jnp.float32(3.0), jnp.int32(99)], strict=True))
    *_, infos = step(jax.random.key(1), state, values)
    np.testing.assert_array_equal(np.asarray(infos["invalid_action"]), [1, 1, 0, 1])
    with pytest.raises(RealaxError, match=r"shape \(2,\)"):
        step(jax.random.key(1), state, {a: jnp.zeros(2, jnp.int32) for a in env.agents})
