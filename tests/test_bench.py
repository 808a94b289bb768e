"""``realax.bench``'s null env: the harness's ceiling has the measured env's spaces and reads every draw."""

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.bench import NullEnv, measure_floor
from realax.envs.sampling import uniforms


def test_null_env_mirrors_the_spaces_and_its_observation_depends_on_the_action():
    env, params = realax.make("realax/SlateRec-v0")
    null = NullEnv(env, params)
    obs, state = env.reset(jax.random.key(0), params)
    null_obs, null_state = null.reset(jax.random.key(0), params)
    assert null_obs.shape == obs.shape and null_obs.dtype == obs.dtype
    k = jax.random.key(2)
    assert np.array_equal(null.action_space(params).sample(k), env.action_space(params).sample(k))
    action = jnp.asarray([3, 7])
    out, null_state, reward, terminated, truncated, info = null.step(jax.random.key(1), null_state, action, params)
    assert out.shape == obs.shape and np.all(np.asarray(out) == 10.0)
    assert int(null_state) == 1 and not bool(terminated) and not bool(truncated) and info == {}


def test_measure_floor_runs_the_harness_on_the_null_env():
    env, params = realax.make("realax/SlateRec-v0")
    r = measure_floor(env, params, num_envs=8, num_steps=2, repeats=1)
    assert r.num_envs == 8 and np.isfinite(r.steps_per_second) and r.steps_per_second > 0


def test_null_env_draws_fold_the_step_keys_uniforms_into_the_observation():
    env, params = realax.make("realax/SlateRec-v0")
    null = NullEnv(env, params, draws=22)
    _, state = null.reset(jax.random.key(0), params)
    key = jax.random.key(5)
    out = null.step(key, state, jnp.asarray([0, 1]), params)[0]
    expected = 1.0 + float(jnp.sum(uniforms(key, (22,))))
    assert np.allclose(np.asarray(out), expected)
    other = null.step(jax.random.key(6), state, jnp.asarray([0, 1]), params)[0]
    assert not np.allclose(np.asarray(other), expected)  # another key, other draws
