"""Fuzzing actions (issue 9).

In the adapters (Gymnasium single and vector, PettingZoo, JaxMARL's dicts) any value -- text, None, objects,
lists of the wrong length, arrays of any dtype, NaN, fractions, huge numbers -- either is a valid action of the
space, and then the step runs with exactly that action (nothing truncated), or it is refused with a
``RealaxError`` that names it; never another exception.

Inside ``jit`` nothing can raise, so every discrete family follows one rule (``realax.core.discrete_action``):
a value that is not a whole number in range becomes the env's no-op and is counted in
``info["invalid_action"]``; the step equals the step with those entries replaced by the no-op.
"""

from __future__ import annotations

import functools

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fuzz_support import FUZZ, GARBAGE, time_limit
from hypothesis import given
from hypothesis import strategies as st

import realax
from realax.errors import RealaxError
from realax.wrappers.jaxmarl import JaxMARLEnv

ODD = [object(), b"3", 1 + 2j, "3", np.array(["a"]), np.array([1.5]), np.float32(3), np.float32(2.5), np.int64(2),
       np.uint8(3), np.array(3), np.bool_(True), np.array([[1]]), np.array([], np.int32), np.float64("nan"), 10**30,
       -(2**63), 2**64, [3], (3,), {"a": 1}, {3}, np.array([1, 2, 3], object), slice(1), float("inf")]
ACTIONS = st.one_of(st.integers(-3, 20), st.floats(-3, 20), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(ODD), GARBAGE,
                    st.lists(st.one_of(st.integers(-1, 12), st.floats(0, 1), st.just(float("nan"))), max_size=18))


def _same_number(given, used) -> bool:
    """``used`` (what the step ran with) is ``given`` in the space's dtype: integers exactly (no truncation or
    wrap-around), floats up to the rounding to the space's float type."""
    try:
        g = np.asarray(given, np.float64)
    except (TypeError, ValueError):
        return False
    used = np.asarray(used)
    exact = np.issubdtype(used.dtype, np.floating) or bool(np.all(g == used))
    return exact and bool(np.all(g.astype(used.dtype) == used))


# Each adapter is built and stepped once before the examples, so that compiling its step (seconds on a loaded
# machine) is not counted against the per-example time limit.
@functools.cache
def _gym(env_id):
    env = gymnasium.make(env_id).unwrapped
    env.reset(seed=0)
    env.step(env.action_space.sample())
    return env


@FUZZ
@given(ACTIONS)
def test_gymnasium_actions_work_or_raise_realax_error(action):
    env = _gym("realax/Spectrum-v0")
    with time_limit():
        try:
            env.step(action)
        except RealaxError as e:
            assert str(e).strip()
            return
    used = env.env.validate_action(action, env.params)  # what the step ran with
    assert env.action_space.contains(used) and _same_number(action, used)


@FUZZ
@given(ACTIONS | st.lists(st.floats(0, 1), min_size=16, max_size=16))
def test_robotaxi_validate_action_works_or_raises_realax_error(action):
    """The continuous family's check, which both Gymnasium adapters call before stepping (not stepped here:
    compiling the robo-taxi step costs more than the rest of this file)."""
    env, params = _robotaxi()
    with time_limit():
        try:
            used = env.validate_action(action, params)
        except RealaxError as e:
            assert str(e).strip()
            return
    assert env.action_space(params).contains(used) and _same_number(action, used) and used.sum() > 0


@functools.cache
def _robotaxi():
    return realax.make("realax/RoboTaxi-v0")


@functools.cache
def _vec():
    venv = gymnasium.make_vec("realax/Spectrum-v0", num_envs=3, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    venv.step(venv.action_space.sample())
    return venv


@FUZZ
@given(st.one_of(ACTIONS, st.lists(st.one_of(st.integers(-1, 12), st.floats(-1, 12)), min_size=3, max_size=3)))
def test_gymnasium_vector_actions_work_or_raise_realax_error(actions):
    venv = _vec()
    with time_limit():
        try:
            venv.step(actions)
        except RealaxError as e:
            assert str(e).strip()
            return
    assert venv.action_space.contains(np.asarray(actions).astype(np.int64)) and _same_number(
        actions, np.asarray(actions).astype(np.int64))


@functools.cache
def _pz(env_id):
    env = realax.parallel_env(env_id, strict_masks=False)
    env.reset(seed=0)
    env.step({a: env.env.noop_action for a in env.agents})
    return env


@FUZZ
@given(st.data())
def test_pettingzoo_actions_work_or_raise_realax_error(data):
    env = _pz("realax/SpectrumMA-v0")
    if not env.agents:
        env.reset(seed=0)
    if data.draw(st.booleans()):
        actions = data.draw(GARBAGE | st.sampled_from(ODD))
    else:
        actions = {a: data.draw(ACTIONS | st.integers(0, 5)) for a in env.agents}
    with time_limit():
        try:
            env.step(actions)
        except RealaxError as e:
            assert str(e).strip()
            return
    n = env.action_space(env.possible_agents[0]).n
    assert all(np.asarray(v).shape == () and _same_number(v, int(v)) and 0 <= int(v) < n for v in actions.values())


@functools.cache
def _marl():
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    # the adapter's checks run on concrete values before it calls the env: jit the env's step underneath so an
    # example costs the checks and one compiled step, not an op-by-op step
    env.env.step = jax.jit(env.env.step)
    state = env.reset(jax.random.key(0))[1]
    env.step(jax.random.key(1), state, {a: 0 for a in env.agents})
    return env, state


@FUZZ
@given(st.data())
def test_jaxmarl_dict_actions_work_or_raise_realax_error(data):
    env, state = _marl()
    if data.draw(st.booleans()):
        actions = data.draw(GARBAGE | st.sampled_from(ODD))
    else:
        actions = {a: data.draw(ACTIONS | st.integers(0, 10)) for a in env.agents}
    with time_limit():
        try:
            env.step(jax.random.key(1), state, actions)
        except RealaxError as e:
            assert str(e).strip()
            return
    n = env.action_space(env.agents[0]).n
    assert all(np.asarray(v).shape == () and _same_number(v, int(v)) and 0 <= int(v) < n for v in actions.values())


# -- inside jit -------------------------------------------------------------------------------------------------
@functools.cache
def _jitted(env_id):
    env, params = realax.make(env_id)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    step = jax.jit(lambda a: env.step_env(jax.random.key(1), state, a, params))
    mask = np.asarray(env.action_mask(state, params)) if hasattr(env, "action_mask") else None
    lead = (env.num_agents,) if mask is not None else ()
    step(jnp.zeros(lead, jnp.float32))  # compiled once, outside the per-example time limit
    return env, params, step, mask


_VALUES = st.one_of(st.integers(-5, 20), st.floats(-5, 20), st.sampled_from([float("nan"), float("inf"), -float("inf"),
                                                                              1e30, -1e30, 2.0**31, 0.5, 4.0]))


@pytest.mark.parametrize("env_id", ["realax/Spectrum-v0", "realax/SpectrumMA-v0", "realax/SMAX-v0"])  # one compile each
@FUZZ
@given(st.data())
def test_discrete_actions_inside_jit_become_the_noop_and_are_counted(env_id, data):
    env, params, step, mask = _jitted(env_id)
    lead = (env.num_agents,) if mask is not None else ()
    values = np.asarray(data.draw(st.lists(_VALUES, min_size=max(lead, default=1), max_size=max(lead, default=1))),
                        np.float32).astype(np.float64).reshape(lead)  # the values the jitted step sees
    n = env.action_space(params).n
    whole = np.isfinite(values) & (values == np.floor(values)) & (values >= 0) & (values < n)
    ok = whole.copy()
    if mask is not None:  # SMAX also counts masked actions (the same no-op); spectrum masks nothing
        idx = np.where(whole, values, 0).astype(int)
        ok &= mask[np.arange(len(idx)), idx]
    sane = np.where(ok, values, env.noop_action).astype(np.float32)  # whole floats: valid, and one compile
    with time_limit():
        got = step(jnp.asarray(values, jnp.float32))
        ref = step(jnp.asarray(sane, jnp.float32))
    np.testing.assert_array_equal(np.asarray(got[5]["invalid_action"]), (~ok).astype(np.int32))
    jax.tree.map(np.testing.assert_array_equal, got[:5], ref[:5])
