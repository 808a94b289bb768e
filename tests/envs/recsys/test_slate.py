"""SlateRec-v0: slate repair inside jit, a hand-computed step, leaving, truncation, latent state kept out of the
observation, a vmapped family of users, and bad input (constructor, params, adapters) naming the field."""

from __future__ import annotations

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.envs.recsys import SlateRec
from realax.envs.recsys.slate import repair_slate
from realax.envs.sampling import uniforms
from realax.errors import RealaxError

ALPHA = 0.9 / 3.4


@pytest.fixture(scope="module")
def made():
    env, params = realax.make("realax/SlateRec-v0")
    return env, params, jax.jit(env.step_env), jax.jit(env.reset)


def _state(env, params, reset, **fields):
    _, state = reset(jax.random.key(0), params)
    return state.replace(**{k: jnp.asarray(v, getattr(state, k).dtype) for k, v in fields.items()})


@pytest.mark.parametrize("action, slate, invalid", [
    ([3, 5], [3, 5], [0, 0]),
    ([3, 3], [3, 0], [0, 1]),  # a repeat takes the lowest free index
    ([12, 0], [1, 0], [1, 0]),  # out of range: 0 is held by the valid second entry
    ([-1, -1], [0, 1], [1, 1]),  # all invalid: the no-op slate
    ([np.nan, 2.5], [0, 1], [1, 1]),
    ([4.0, 1.0], [4, 1], [0, 0]),  # whole floats are valid
])
def test_repair_slate(action, slate, invalid):
    got, bad = repair_slate(jnp.asarray(action), 10, 2)
    np.testing.assert_array_equal(np.asarray(got), slate)
    np.testing.assert_array_equal(np.asarray(bad), invalid)


def test_repair_slate_longer_slates_and_bad_shapes():
    got, bad = repair_slate(jnp.array([2, -1, 2, 0]), 6, 4)
    np.testing.assert_array_equal(np.asarray(got), [2, 1, 3, 0])
    np.testing.assert_array_equal(np.asarray(bad), [0, 1, 1, 0])
    with pytest.raises(RealaxError, match=r"shape \(3,\); expected a slate of shape \(2,\)"):
        repair_slate(jnp.array([1, 2, 3]), 10, 2)
    with pytest.raises(RealaxError, match="not an array of numbers"):
        repair_slate("ab", 10, 2)


def test_a_repaired_slate_steps_as_the_valid_one_and_is_counted(made):
    env, params, step, reset = made
    _, state = reset(jax.random.key(2), params)
    ok = step(jax.random.key(5), state, jnp.array([3, 0]), params)
    bad = step(jax.random.key(5), state, jnp.array([3, 3]), params)
    np.testing.assert_array_equal(np.asarray(bad[5]["invalid_action"]), [0, 1])
    np.testing.assert_array_equal(np.asarray(ok[5]["invalid_action"]), [0, 0])
    jax.tree.map(np.testing.assert_array_equal, bad[1], ok[1])


def test_hand_computed_step_certain_click(made):
    """No-click mass 0 (``no_click_mass = min_normalizer``) and a first item of affinity -1 (mass 0): the user
    clicks position 1 -- topic 1, interest 0.5, quality 2.0 -- for sure."""
    env, params, step, reset = made
    params = params.replace(no_click_mass=jnp.float32(-1.0))
    interests = np.zeros(20, np.float32)
    interests[0], interests[1] = -1.0, 0.5
    state = _state(env, params, reset, interests=interests, doc_topic=np.arange(10) % 20,
                   doc_quality=np.linspace(-3.0, 2.0, 10), doc_length=np.full(10, 4.0), time_budget=200.0)
    state = state.replace(doc_quality=state.doc_quality.at[1].set(2.0))
    key = jax.random.key(9)
    obs, new, reward, term, trunc, info = step(key, state, jnp.array([0, 1]), params)
    np.testing.assert_allclose(np.asarray(info["click_probs"]), [0.0, 1.0, 0.0], atol=1e-7)
    assert int(info["choice"]) == 1 and bool(info["clicked"]) and not bool(term) and not bool(trunc)
    assert float(reward) == 4.0 == float(info["watch_time"])
    np.testing.assert_allclose(float(new.time_budget), 200.0 - 4.0 + ALPHA * 4.0 * 2.0, rtol=1e-6)
    # alpha 0.15, update 0.075; towards when the step's second uniform is below (0.5 + 1) / 2
    u = float(uniforms(key, (2 + 3 * 10,))[1])
    expected = 0.575 if u < 0.75 else 0.425
    np.testing.assert_allclose(float(new.interests[1]), expected, rtol=1e-6)
    np.testing.assert_array_equal(np.delete(np.asarray(new.interests), 1), np.delete(interests, 1))
    # the observation's last-slate block: position 0 (topic 0, not clicked), position 1 (clicked, 4 min, 2.0)
    C, T = 10, 20
    slot = np.asarray(obs[C * T: C * T + 2 * (3 + T)]).reshape(2, 3 + T)
    np.testing.assert_allclose(slot[:, :3], [[0.0, 0.0, -3.0], [1.0, 4.0, 2.0]], rtol=1e-6)
    assert slot[0, 3 + 0] == 1.0 and slot[1, 3 + 1] == 1.0 and slot[:, 3:].sum() == 2.0
    history = np.asarray(obs[-2 * T:]).reshape(2, T)
    assert history[0, 0] == history[0, 1] == 1.0 and history[0].sum() == 2.0  # impressions
    assert history[1, 1] == 1.0 and history[1].sum() == 1.0  # clicks


def test_the_user_leaves_when_the_budget_runs_out(made):
    env, params, step, reset = made
    certain = params.replace(no_click_mass=jnp.float32(-1.0))
    interests = np.zeros(20, np.float32)
    interests[0], interests[1] = -1.0, 0.5
    base = dict(interests=interests, doc_topic=np.arange(10), doc_length=np.full(10, 4.0))
    # 3 minutes left: watched 3 of 4 (partial), quality -3 gives back a negative refund: gone
    state = _state(env, certain, reset, time_budget=3.0, doc_quality=np.full(10, -3.0), **base)
    _, new, reward, term, trunc, _ = step(jax.random.key(1), state, jnp.array([0, 1]), certain)
    assert float(reward) == 3.0 and bool(term) and not bool(trunc)
    np.testing.assert_allclose(float(new.time_budget), ALPHA * 3.0 * -3.0, rtol=1e-6)
    # quality 2 refunds more than nothing: 3 - 3 + 0.265 * 3 * 2 > 0, the user stays
    state = _state(env, certain, reset, time_budget=3.0, doc_quality=np.full(10, 2.0), **base)
    assert not bool(step(jax.random.key(1), state, jnp.array([0, 1]), certain)[3])
    # no click possible (no-click mass only): 0.5 minutes per step; at exactly 0 the session is over
    never = params.replace(no_click_mass=jnp.float32(1e6))
    for budget, over in ((0.5, True), (0.6, False)):
        state = _state(env, never, reset, time_budget=budget)
        _, new, reward, term, *_ = step(jax.random.key(1), state, jnp.array([0, 1]), never)
        assert bool(term) == over and float(reward) == 0.0
        np.testing.assert_allclose(float(new.time_budget), budget - 0.5, atol=1e-6)


def test_truncation_at_max_steps_is_never_termination(made):
    env, params, step, reset = made
    short = params.replace(max_steps=3)
    _, state = reset(jax.random.key(0), short)
    for t in range(3):
        _, state, _, term, trunc, _ = step(jax.random.key(t), state, jnp.array([0, 1]), short)
    assert bool(trunc) and not bool(term)
    late = _state(env, short, reset, t=2, time_budget=0.1)
    never = short.replace(no_click_mass=jnp.float32(1e6))
    _, _, _, term, trunc, _ = step(jax.random.key(0), late, jnp.array([0, 1]), never)
    assert bool(term) and not bool(trunc)  # the budget ran out on the last step: terminated only


def test_latent_state_is_not_in_the_observation(made):
    env, params, step, reset = made
    _, state = reset(jax.random.key(4), params)
    other = state.replace(interests=-state.interests, time_budget=jnp.float32(1.0), doc_quality=state.doc_quality + 1)
    np.testing.assert_array_equal(np.asarray(env.get_obs(state, params)), np.asarray(env.get_obs(other, params)))


def test_a_family_of_users_is_one_vmap(made):
    """Three users with their own budgets and no-click masses, stepped by one vmapped call."""
    env, params, _, reset = made
    budgets, masses = jnp.array([0.3, 200.0, 200.0]), jnp.array([1e6, 1e6, -1.0])
    family = jax.tree.map(lambda x: jnp.broadcast_to(x, (3, *jnp.shape(x))), params)
    family = family.replace(time_budget=budgets, no_click_mass=masses)
    keys = jax.random.split(jax.random.key(0), 3)
    _, state = jax.jit(jax.vmap(env.reset))(keys, family)
    np.testing.assert_array_equal(np.asarray(state.time_budget), np.asarray(budgets))
    state = state.replace(interests=state.interests.at[:, :].set(0.5))  # every document clickable for user 2
    out = jax.jit(jax.vmap(env.step_env))(keys, state, jnp.tile(jnp.arange(2), (3, 1)), family)
    _, new, reward, term, _, info = out
    np.testing.assert_array_equal(np.asarray(term), [True, False, False])  # 0.3 - 0.5 <= 0
    np.testing.assert_array_equal(np.asarray(info["clicked"]), [False, False, True])
    np.testing.assert_allclose(np.asarray(new.time_budget)[:2], [-0.2, 199.5], atol=1e-6)
    assert float(reward[2]) == 4.0


def test_action_mask_refuses_items_chosen_elsewhere(made):
    env, params, _, reset = made
    _, state = reset(jax.random.key(0), params)
    assert np.asarray(env.action_mask(state, params)).all()
    mask = np.asarray(env.action_mask(state, params, chosen=jnp.array([2, -1])))
    assert mask.shape == (2, 10) and mask[0, 2] and not mask[1, 2] and mask[1].sum() == 9 and mask[0].all()


@pytest.mark.parametrize("overrides, message", [
    ({"attention_prob": 1.5}, r"attention_prob must be a probability in \[0, 1\], got 1.5"),
    ({"attention_prob": -0.1}, r"attention_prob must be a probability in \[0, 1\]"),
    ({"time_budget": 0.0}, r"time_budget must be > 0"),
    ({"video_length": 200.0}, r"video_length must be in \(0, 100\]"),
    ({"quality_std": -1.0}, "quality_std must be >= 0"),
    ({"min_normalizer": 0.5}, "min_normalizer must be <= 0"),
    ({"interest_low": 0.5, "interest_high": 0.2}, "interest_low must be in"),
    ({"no_click_mass": -2.0}, "no_click_mass must be >= min_normalizer"),
    ({"step_penalty": float("nan")}, "step_penalty must be finite"),
    ({"topic_quality_mean": [1.0, 2.0]}, r"topic_quality_mean must be 20 finite numbers"),
    ({"max_steps": 0}, r"max_steps must be in 1\.\."),
    ({"patience": 3}, r"unknown parameter\(s\) \['patience'\]"),
])
def test_bad_params_name_the_field(made, overrides, message):
    env = made[0]
    with pytest.raises(RealaxError, match=message):
        env.make_params(**overrides)


def test_constructor_options():
    for kwargs, message in (({"num_candidates": 0}, "num_candidates must be in 1..1024"),
                            ({"slate_size": 11}, r"slate_size must be in 1\.\.10"),
                            ({"choice": "softmax"}, "choice must be one of"),
                            ({"time_budget": -5.0}, "time_budget must be > 0")):
        with pytest.raises(RealaxError, match=message):
            SlateRec(**kwargs)
    env = SlateRec(num_candidates=5, slate_size=3, num_topics=4, choice="logit", time_budget=50.0)
    assert env.default_params.time_budget == 50.0 and env.obs_size == 5 * 4 + 3 * 7 + 8
    np.testing.assert_array_equal(env.noop_action, [0, 1, 2])


def test_adapters_refuse_repeated_and_unknown_items_naming_them():
    env = gymnasium.make("realax/SlateRec-v0")
    env.reset(seed=0)
    with pytest.raises(RealaxError, match=r"action \[3, 3\] repeats item 3 at slate positions \[0, 1\]"):
        env.step([3, 3])
    with pytest.raises(RealaxError, match=r"outside the action space Slate\(2 of 10\)"):
        env.step([0, 10])
    assert all(len(set(env.action_space.sample().tolist())) == 2 for _ in range(50))
    venv = gymnasium.make_vec("realax/SlateRec-v0", num_envs=3, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    with pytest.raises(RealaxError, match=r"\(row \(1,\)\) repeats item 4"):
        venv.step(np.array([[0, 1], [4, 4], [2, 3]]))
    batch = venv.action_space.sample()
    assert batch.shape == (3, 2) and all(len(set(row)) == 2 for row in batch.tolist())


@pytest.mark.parametrize("n, k", [(4, 2), (10, 2), (32, 5), (33, 3), (6, 6)])
def test_slate_space_samples_the_top_k_of_its_uniforms_uniformly(n, k):
    """``Slate.sample`` (ranks by comparison for up to 32 items, ``top_k`` above) gives exactly the ``k`` largest
    of the key's ``n`` uniforms in descending order, and every ordered k-subset about equally often."""
    from realax.spaces import Slate

    space = Slate(n, k)
    keys = jax.random.split(jax.random.key(7), 12_000)
    got = np.asarray(jax.jit(jax.vmap(space.sample))(keys))
    want = np.asarray(jax.vmap(lambda q: jax.lax.top_k(jax.random.uniform(q, (n,)), k)[1])(keys))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int32 and all(len(set(row)) == k for row in got.tolist())
    if (n, k) == (4, 2):  # 12 ordered pairs, 1,000 draws each expected: within 4 standard deviations
        _, counts = np.unique(got[:, 0] * n + got[:, 1], return_counts=True)
        assert len(counts) == 12 and np.all(np.abs(counts - 1000) < 4 * np.sqrt(1000 * 11 / 12))
