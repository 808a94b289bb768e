"""The conformance suite (DESIGN §8): every registered id, existing and future, gets these checks."""

from __future__ import annotations

import functools
import re

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import realax
from realax.core import MultiAgentEnv
from realax.errors import RealaxError
from realax.wrappers.programs import programs

ALL = realax.list_envs()
SINGLE = realax.list_envs(multi_agent=False)
MULTI = realax.list_envs(multi_agent=True)


def _random_actions(env, params, key, state=None):
    """Uniform over the action space; for multi-agent envs, uniform over each agent's valid actions."""
    space = env.action_space(params)
    if isinstance(env, MultiAgentEnv):
        if state is None:
            return jax.vmap(space.sample)(jax.random.split(key, env.num_agents))
        mask = env.action_mask(state, params)
        return jax.random.categorical(key, jnp.where(mask, 0.0, -jnp.inf), axis=-1).astype(jnp.int32)
    return space.sample(key)


def _rollout(env, params, key, steps):
    """``(obs0, outs, seen)``: the reset's observation, ``env.step``'s outputs over ``steps`` random actions and
    ``get_obs`` of the reset state and of each state ``step_env`` reached (before any autoreset)."""
    def body(carry, k):
        obs, state = carry
        ka, ks = jax.random.split(k)
        *out, reached = env.step_with_final_state(ks, state, _random_actions(env, params, ka, state), params)
        return (out[0], out[1]), (tuple(out), env.get_obs(reached, params))

    obs, state = env.reset(key, params)
    _, (outs, seen) = jax.lax.scan(body, (obs, state), jax.random.split(key, steps))
    return obs, outs, (env.get_obs(state, params), seen)


def _episode_lengths(term, trunc):
    """``(length, terminated, truncated)`` of each finished episode, from the per-step flags."""
    ends, n = [], 0
    for te, tr in zip(np.asarray(term), np.asarray(trunc), strict=True):
        n += 1
        if te or tr:
            ends.append((n, bool(te), bool(tr)))
            n = 0
    return ends


class Compiled:
    """One id's env and the jitted functions its tests share. Compilation is most of this suite's time, and
    un-jitted calls run op by op (each op compiled on first use), so every check goes through these few
    programs; the tests of one id run in one worker (``xdist_group``) and reuse them. ``reset`` and ``step`` are
    the adapters' own (``reset_env``/``step_env``, ``realax.wrappers.programs``), so ``gymnasium.make`` and
    ``realax.parallel_env`` of the id compile nothing more for them."""

    def __init__(self, env_id: str):
        shared = programs(env_id, {})
        self.env, self.params = env, params = shared.env, shared.params
        self.reset, self.step = shared.reset, shared.step
        self.reset_to = jax.jit(env.reset_to)
        self.rollout = jax.jit(lambda k: _rollout(env, params, k, 2 * params.max_steps + 5))

    @functools.cached_property
    def long_rollout(self):
        """A rollout of ``2 * max_steps + 5`` random steps from key 0: it holds at least two episode ends."""
        return self.rollout(jax.random.key(0))


@functools.cache
def compiled(env_id: str) -> Compiled:
    return Compiled(env_id)


def by_id(ids):
    """Parameters that keep each id's tests in one worker under ``--dist loadgroup`` (pyproject's addopts)."""
    return [pytest.param(i, marks=pytest.mark.xdist_group(i)) for i in ids]


@pytest.fixture(params=by_id(ALL))
def made(request):
    return compiled(request.param)


def test_ids_are_versioned_and_unknown_ids_list_the_valid_ones():
    assert ALL and all(i.startswith("realax/") and i.rsplit("-v", 1)[1].isdigit() for i in ALL)
    with pytest.raises(ValueError, match="registered ids: .*realax/Spectrum-v0"):
        realax.make("realax/Nope-v0")


def test_shapes_dtypes_and_observations_in_space(made):
    check_shapes_dtypes_and_episodes(made.env, made.params, *made.long_rollout[:2])


def check_shapes_dtypes_and_episodes(env, params, obs0, outs):
    """The checks of a ``_rollout`` of ``2 * max_steps + 5`` steps (shared with the SMAX every-scenario test)."""
    obs_space = env.observation_space(params)
    obs, _, reward, term, trunc, info = outs
    obs, reward = np.asarray(obs), np.asarray(reward)
    lead = (env.num_agents,) if isinstance(env, MultiAgentEnv) else ()
    assert obs.shape[1:] == lead + obs_space.shape and obs.dtype == np.dtype(obs_space.dtype)
    assert reward.dtype == np.float32 and reward.shape[1:] == lead
    assert np.asarray(term).dtype == bool and np.asarray(trunc).dtype == bool and np.asarray(trunc).shape[1:] == ()
    for o in [np.asarray(obs0)] + list(obs):
        for one in (o if lead else [o]):
            assert obs_space.contains(one)
    assert np.all(np.isfinite(reward))
    ends = _episode_lengths(term, trunc)
    assert ends, "no episode ended within twice the time limit"
    for length, te, tr in ends:
        assert not (te and tr) and length <= params.max_steps
        assert tr == (length == params.max_steps and not te)  # the time limit, and only it, is truncation
    if not np.asarray(term).any():
        assert len(ends) == 2


def test_autoreset_returns_reset_obs_and_keeps_the_final_one(made):
    params = made.params
    _, (obs, state, _, term, trunc, info), _ = made.long_rollout
    done = np.asarray(term | trunc)
    assert done[:params.max_steps].any(), "an episode must end within the time limit"
    d = int(np.flatnonzero(done)[0])
    assert int(state.t[d]) == 0 and (d == 0 or int(state.t[d - 1]) == d)  # counted up, then a fresh episode
    # before the end, final_obs is the observation itself; at the end it is the old episode's last one
    np.testing.assert_array_equal(np.asarray(info["final_obs"][:d]), np.asarray(obs[:d]))
    last = jax.tree.map(lambda x: x[d], state)
    fresh, _ = made.reset_to(last, params)
    np.testing.assert_array_equal(np.asarray(fresh), np.asarray(obs[d]))


def test_observation_is_a_function_of_the_state(made):
    """``reset_env`` and ``step_env`` return ``get_obs(state)`` (``step`` relies on it to observe once, core.py):
    the reset's observation, and ``step_env``'s at every step of the long rollout (its ``final_obs``, the
    episode ends included), against ``get_obs`` of the state each reached."""
    obs0, (*_, info), (seen0, seen) = made.long_rollout
    np.testing.assert_allclose(np.asarray(obs0, np.float64), np.asarray(seen0, np.float64), atol=1e-6)
    np.testing.assert_allclose(np.asarray(info["final_obs"], np.float64), np.asarray(seen, np.float64), atol=1e-6)


def test_jit_compiles_once_vmaps_and_is_deterministic(made):
    """The jitted step compiles once for one set of shapes; a rollout is a function of its key; reset vmaps
    over keys (single-agent ids: the Gymnasium vector env's test vmaps reset and step already)."""
    env, params = made.env, made.params
    obs, state = made.reset(jax.random.key(0), params)
    before = made.step._cache_size()  # other tests of this id may have compiled the shared step already
    for i in range(5):
        k = jax.random.key(i)
        obs, state, *_ = made.step(k, state, _random_actions(env, params, k), params)
    assert made.step._cache_size() - before <= 1, "the jitted step was compiled again for the same shapes"
    a, b = made.rollout(jax.random.key(7)), made.rollout(jax.random.key(7))
    jax.tree.map(np.testing.assert_array_equal, a, b)
    if isinstance(env, MultiAgentEnv):
        obs_b, _ = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(0), 8), params)
        assert obs_b.shape[0] == 8


def test_reset_to_restarts_from_a_state(made):
    env, params = made.env, made.params
    _, state = made.reset(jax.random.key(3), params)
    obs, state, *_ = made.step(jax.random.key(4), state, _random_actions(env, params, jax.random.key(5)), params)
    obs2, state2 = made.reset_to(state, params)
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(obs2))
    a = made.step(jax.random.key(9), state, _random_actions(env, params, jax.random.key(8)), params)
    b = made.step(jax.random.key(9), state2, _random_actions(env, params, jax.random.key(8)), params)
    jax.tree.map(np.testing.assert_array_equal, a, b)


def test_out_of_range_actions_inside_jit_are_replaced_and_counted(made):
    """Issue 9 case 9: inside jit every discrete family maps a fraction, NaN, infinity or an out-of-range value
    to its no-op and counts it (``realax.core.discrete_action``); continuous actions count NaN."""
    env, params = made.env, made.params
    _, state = made.reset(jax.random.key(0), params)
    space = env.action_space(params)
    lead = (env.num_agents,) if isinstance(env, MultiAgentEnv) else ()
    discrete = hasattr(space, "n") or hasattr(space, "nvec")  # Discrete, or MultiDiscrete (a choice per entry)
    if discrete:
        n = space.n if hasattr(space, "n") else int(np.max(space.nvec))
        lead = lead + (() if hasattr(space, "n") else tuple(space.shape))
        bads = [jnp.full(lead, n + 3, jnp.int32), jnp.full(lead, -1, jnp.int32)]
        bads += [jnp.full(lead, v, jnp.float32) for v in (1.5, jnp.nan, jnp.inf, -jnp.inf, float(n), 2.0**40)]
    else:  # continuous actions: NaN everywhere
        bads = [jnp.full(lead + space.shape, jnp.nan, space.dtype)]
    noop = jnp.full(bads[0].shape, env.noop_action, bads[0].dtype)
    step = made.step
    out_ok = step(jax.random.key(1), state, noop, params)
    assert np.all(np.asarray(out_ok[5]["invalid_action"]) == 0)
    for bad in bads:
        out_bad = step(jax.random.key(1), state, bad, params)
        assert np.all(np.asarray(out_bad[5]["invalid_action"]) == 1), f"{bad} was not counted"
        np.testing.assert_array_equal(np.asarray(out_bad[0]), np.asarray(out_ok[0]))
        jax.tree.map(np.testing.assert_array_equal, out_bad[1], out_ok[1])
    if discrete:  # a whole float is a valid action, the same as the integer
        as_float = step(jax.random.key(1), state, noop.astype(jnp.float32), params)
        assert np.all(np.asarray(as_float[5]["invalid_action"]) == 0)
        jax.tree.map(np.testing.assert_array_equal, as_float[1], out_ok[1])


def test_validate_action_refuses_bad_actions_naming_the_space(made):
    """``env.validate_action`` checks numbers, shape, NaN, integrality and range itself (the adapters call it)."""
    env, params = made.env, made.params
    space = env.action_space(params)
    lead = (env.num_agents,) if isinstance(env, MultiAgentEnv) else ()
    good = np.asarray(_random_actions(env, params, jax.random.key(0), made.reset(jax.random.key(0), params)[1]))
    out = env.validate_action(good, params)
    assert out.shape == lead + space.shape and out.dtype == np.dtype(space.dtype)
    np.testing.assert_array_equal(out, good)
    bads = {"a": "not a number", None: "not a number", object(): "not a number", "[]": "not a number",
            (): "shape"}
    for bad, why in bads.items():
        with pytest.raises(RealaxError, match=why) as e:
            env.validate_action(bad, params)
        assert repr(space) in str(e.value)
    with pytest.raises(RealaxError, match="shape"):
        env.validate_action(np.concatenate([good.reshape(-1), good.reshape(-1)]), params)
    nan = np.full(good.shape, np.nan)
    with pytest.raises(RealaxError, match="NaN"):
        env.validate_action(nan, params)
    high = np.max(space.bounds()[1])
    with pytest.raises(RealaxError, match=f"outside the action space {re.escape(repr(space))}"):
        env.validate_action(np.full(good.shape, high + 1, good.dtype), params)
    if hasattr(space, "n"):
        with pytest.raises(RealaxError, match="not a whole number"):
            env.validate_action(np.full(good.shape, 0.5), params)
    batch = env.validate_action(np.stack([good, good]), params, batch_shape=(2,))
    assert batch.shape == (2,) + lead + space.shape


def test_render_returns_an_rgb_image(made):
    _, state = made.reset(jax.random.key(0), made.params)
    img = made.env.render(state, made.params)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.shape[0] > 8 and img.std() > 0


@pytest.mark.parametrize("env_id", by_id(SINGLE))
def test_gymnasium_check_env(env_id):
    env = gymnasium.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    space = env.action_space
    discrete = isinstance(space, gymnasium.spaces.Discrete)
    beyond = {gymnasium.spaces.Discrete: lambda: space.n + 1, gymnasium.spaces.MultiDiscrete: lambda: space.nvec,
              gymnasium.spaces.Box: lambda: space.low - 1}
    outside = next(f for kind, f in beyond.items() if isinstance(space, kind))()  # subclasses too (a slate)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step(outside)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.ones(space.shape + (2,)))  # one axis too many, whatever the space's shape
    with pytest.raises(ValueError, match="NaN"):
        env.step(float("nan") if discrete else np.full(space.shape, np.nan, np.float32))
    for bad in ("a", None, object(), [0] * 3):  # issue 9 case 7: a string action was a raw numpy TypeError
        space_repr = re.escape(repr(env.unwrapped.env.action_space(env.unwrapped.params)))
        with pytest.raises(RealaxError, match=f"action .*{space_repr}"):
            env.step(bad)


@pytest.mark.parametrize("env_id", by_id(SINGLE))
def test_gymnasium_vector_env_same_step_autoreset(env_id):
    from gymnasium.vector import AutoresetMode

    venv = gymnasium.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point")
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, _ = venv.reset(seed=0)
    horizon = venv.env.default_params.max_steps
    terminated = np.zeros(4, bool)  # envs whose episode ended by termination (random play may crash an AGV)
    for _t in range(horizon):
        obs, r, term, trunc, infos = venv.step(venv.action_space.sample())
        assert obs.shape == venv.observation_space.shape and r.shape == (4,)
        assert not (term & trunc).any() and not (trunc & terminated).any()
        np.testing.assert_array_equal(infos["_final_obs"], term | trunc)  # every end hands back its last obs
        terminated |= term
    # an env that never terminated is truncated exactly at the horizon, the others (restarted) not
    np.testing.assert_array_equal(trunc, ~terminated)
    assert infos["final_obs"].shape == obs.shape
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros(3, np.int64))
    for bad in ("a", None, [None] * 4):
        with pytest.raises(RealaxError, match="not a number"):
            venv.step(bad)


@pytest.mark.parametrize("env_id", by_id(MULTI))
def test_pettingzoo_api_seed_and_state(env_id):
    from pettingzoo.test import parallel_api_test, parallel_seed_test, state_test
    from pettingzoo.utils.conversions import parallel_to_aec

    parallel_api_test(realax.parallel_env(env_id), num_cycles=250)
    lenient = lambda: realax.parallel_env(env_id, strict_masks=False)  # noqa: E731 (PettingZoo ignores masks)
    parallel_seed_test(lenient)
    state_test(parallel_to_aec(lenient()), lenient(), num_cycles=50)
    env = realax.parallel_env(env_id)
    env.reset(seed=0)
    agent = env.agents[0]
    masked = np.flatnonzero(~np.asarray(env._mask(env._state, env.params))[0])
    if masked.size:  # a currently invalid action of the first agent is refused, naming the valid ones
        with pytest.raises(ValueError, match="masked"):
            env.step({a: (int(masked[0]) if a == agent else env.env.noop_action) for a in env.agents})
    with pytest.raises(ValueError, match="outside"):
        env.step({a: (99 if a == agent else 0) for a in env.agents})
    for bad in ("x", None, 1.5, float("nan"), [1, 2]):  # a string was a raw numpy error
        with pytest.raises(RealaxError, match=f"action of agent '{agent}'"):
            env.step({a: (bad if a == agent else env.env.noop_action) for a in env.agents})
    with pytest.raises(RealaxError, match="must be a dict"):
        env.step("x")
