"""Realism wrappers: delays delay by exactly k, the cost budget, the AR(1) disturbance, conservative mode."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "offline"))  # the tabular test envs
from chain_env import Echo  # noqa: E402

from realax.wrappers import realism
from realax.wrappers.realism import RealismConfig


def _run(env, params, actions, key=0):
    """Step ``env`` (with autoreset) through ``actions``; returns stacked (obs, reward, terminated, info)."""
    obs, state = env.reset(jax.random.key(key), params)

    def body(state, xs):
        k, a = xs
        obs, state, r, te, tr, info = env.step(k, state, a, params)
        return state, (obs, r, te, info)

    keys = jax.random.split(jax.random.key(key + 1), len(actions))
    _, out = jax.lax.scan(body, state, (keys, jnp.asarray(actions)))
    return jax.tree.map(np.asarray, out)


ACTIONS = np.array([1, 2, 3, 1, 2, 3, 3, 2, 1], np.int32)


def _lagged(k):
    return np.concatenate([np.zeros(k, np.int32), ACTIONS[:len(ACTIONS) - k]])


@pytest.mark.parametrize("k", [1, 3])
def test_action_delay_applies_the_action_of_k_steps_before(k):
    env, params = RealismConfig(action_delay=k).apply(Echo())
    obs, reward, _, info = _run(env, params, ACTIONS)
    np.testing.assert_array_equal(reward, _lagged(k))  # Echo's reward is the action applied now
    np.testing.assert_array_equal(info["applied_action"], _lagged(k))
    np.testing.assert_array_equal(obs, _lagged(k))


@pytest.mark.parametrize("k", [1, 2])
def test_observation_delay_shows_the_observation_of_k_steps_before(k):
    env, params = RealismConfig(obs_delay=k).apply(Echo())
    obs, reward, _, _ = _run(env, params, ACTIONS)
    np.testing.assert_array_equal(reward, ACTIONS)  # actions act at once
    np.testing.assert_array_equal(obs, _lagged(k))  # ...but are seen k steps late
    assert env.reset(jax.random.key(0), params)[0] == 0


def test_delays_compose_and_reset_at_episode_end():
    env, params = RealismConfig(action_delay=2, obs_delay=1).apply(Echo(max_steps=5))
    obs, reward, _, _ = _run(env, params, ACTIONS)
    # episode 1 = steps 0..4, episode 2 starts afresh: queues refilled with the no-op / first observation
    want_r = np.concatenate([_lagged(2)[:5], [0, 0], ACTIONS[5:7]])
    np.testing.assert_array_equal(reward, want_r)
    # the observation returned at an episode's last step is the reset one (same-step autoreset)
    assert obs[4] == 0 and obs[8] == want_r[7]


def test_safety_cost_counts_against_the_episode_budget():
    actions = np.array([0, 0, 0, 1, 1, 0], np.int32)
    env, params = RealismConfig(cost_budget=2.0, cost_threshold=0.5).apply(Echo())
    _, _, te, info = _run(env, params, actions)
    assert info["cost"].shape == (6, 1)
    np.testing.assert_array_equal(info["cost"][:, 0], [1, 1, 1, 0, 0, 1])  # reward (= action) below 0.5
    np.testing.assert_array_equal(info["episode_cost"], [1, 2, 3, 3, 3, 4])
    np.testing.assert_array_equal(info["over_budget"], [0, 0, 1, 1, 1, 1])
    assert not te.any()
    assert params.budget == 2.0 and params.max_steps == 10  # own field, and the env's through params
    # budget 1 through params, and terminate on exceeding it: the episode ends at the second costly step, the
    # count restarts, and the next episode ends at its second costly step (step 5)
    env, params = RealismConfig(cost_budget=2.0, cost_threshold=0.5, cost_terminate=True).apply(Echo())
    _, _, te, info = _run(env, params.replace(budget=1.0), actions)
    np.testing.assert_array_equal(te, [0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(info["episode_cost"], [1, 2, 1, 1, 1, 2])


def test_disturbance_is_an_ar1_process_set_through_params():
    env, params = RealismConfig(disturbance="action", disturbance_rho=0.9,
                                disturbance_sigma=0.5).apply(Echo(n=4, max_steps=10**6))
    chosen = np.tile(np.array([0, 1, 2, 3], np.int32), 5000)
    _, reward, _, info = _run(env, params, chosen)
    w = info["disturbance"]
    assert abs(w.std() - 0.5) < 0.06 and abs(np.corrcoef(w[:-1], w[1:])[0, 1] - 0.9) < 0.03
    # a discrete action is replaced by a uniform one with probability min(|w|, 1); 3 of 4 replacements differ
    changed = reward != chosen
    assert abs(changed.mean() - 0.75 * np.minimum(np.abs(w), 1).mean()) < 0.02
    # sigma 0 in params (no new wrapper): no disturbance at all
    _, reward0, _, info0 = _run(env, params.replace(sigma=0.0), chosen[:200])
    np.testing.assert_array_equal(reward0, chosen[:200])
    assert (info0["disturbance"] == 0).all()
    # and a batch of params vmaps
    batch = jax.tree.map(lambda *x: jnp.stack(x), params.replace(sigma=0.0), params)
    first = lambda p: env.step(jax.random.key(0), env.reset(jax.random.key(1), p)[1], 1, p)[5]["disturbance"]
    ws = jax.jit(jax.vmap(first))(batch)
    assert ws[0] == 0 and ws[1] != 0


def test_disturbance_of_an_env_param_changes_the_dynamics():
    base, base_params = realax.make("realax/Spectrum-v0", scenario="constant", history=1)
    env, params = RealismConfig(disturbance="param:switch_penalty", disturbance_sigma=0.0).apply(base, base_params)
    ones = np.ones(20, np.int32)  # always transmit on channel 1: every step after the first "stays"
    _, r0, _, _ = _run(env, params, ones)
    _, r1, _, _ = _run(env, params.replace(mean=0.25), ones)
    np.testing.assert_allclose(r1 - r0, np.r_[0.0, np.full(19, 0.25)], atol=1e-6)
    with pytest.raises(ValueError, match="no field 'nope'"):
        RealismConfig(disturbance="param:nope").apply(base, base_params)
    with pytest.raises(ValueError, match="'action' or 'param:<field>'"):
        RealismConfig(disturbance="wind").apply(base, base_params)


def test_conservative_mode_is_a_narrow_distribution_around_the_controller():
    space = Echo(n=5).action_space()
    controller = lambda key, obs, state: jnp.int32(2)  # noqa: E731
    keys = jax.random.split(jax.random.key(0), 20000)
    a = np.asarray(jax.vmap(lambda k: realism.conservative(controller, space, 0.3)(k, 0, None))(keys))
    moved = a != 2
    assert abs(moved.mean() - 0.3) < 0.015 and set(np.unique(a[moved])) == {1, 3}
    a0 = np.asarray(jax.vmap(lambda k: realism.conservative(controller, space, 0.0)(k, 0, None))(keys[:100]))
    assert (a0 == 2).all()
    with pytest.raises(ValueError, match="width"):
        realism.conservative(controller, space, 1.5)


def test_bad_delays_are_refused():
    with pytest.raises(ValueError, match="action delay"):
        RealismConfig(action_delay=-1).apply(Echo())
    with pytest.raises(ValueError, match="observation delay"):
        realism.ObservationDelay(Echo(), 0)
