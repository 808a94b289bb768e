"""Choice models against hand-computed probabilities (RecSim's ``choice_model.py`` formulas), the no-click mass,
sampling frequencies, monotone effects and bad probabilities."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from realax.envs.recsys import choice as ch
from realax.errors import RealaxError


def _probs(scores_and_no_click):
    return np.asarray(ch.normalize(*scores_and_no_click))


def test_proportional_masses_shift_by_min_normalizer_and_include_no_click():
    # masses 0.5 + 1 and -0.5 + 1, no click 1 + 1: of 4
    p = _probs(ch.proportional(jnp.array([0.5, -0.5]), 1.0, -1.0))
    np.testing.assert_allclose(p, [0.375, 0.125, 0.5], rtol=1e-6)
    # an affinity below min_normalizer would be a negative mass (RecSim asserts): clipped to 0
    np.testing.assert_allclose(_probs(ch.proportional(jnp.array([-2.0, 1.0]), 1.0, -1.0)), [0.0, 0.5, 0.5], atol=1e-7)


def test_logit_is_a_softmax_with_the_no_click_logit():
    p = _probs(ch.logit(jnp.array([0.0, np.log(2.0)]), 0.0))
    np.testing.assert_allclose(p, [0.25, 0.5, 0.25], rtol=1e-6)
    scores, none = ch.logit(jnp.array([0.0, 0.0]), np.log(2.0))  # already probabilities, as RecSim stores them
    np.testing.assert_allclose([*np.asarray(scores), float(none)], [0.25, 0.25, 0.5], rtol=1e-6)


def test_cascade_examines_positions_in_order():
    # same attention at each position (RecSim): 0.8 * 0.5 = 0.4 each
    p = _probs(ch.cascade(jnp.array([0.5, 0.5]), 0.8))
    np.testing.assert_allclose(p, [0.4, 0.6 * 0.4, 0.6 * 0.6], rtol=1e-6)
    # position bias: examination 1.0 then 0.5
    p = _probs(ch.cascade(jnp.array([0.2, 0.6]), jnp.array([1.0, 0.5])))
    np.testing.assert_allclose(p, [0.2, 0.8 * 0.3, 0.8 * 0.7], rtol=1e-6)


def test_recsim_cascades_with_its_interest_evolution_constants():
    # exponential: s = 0.05 * exp(0) = 0.05, clicked with 0.65 * 0.05 = 0.0325 at each position
    p = _probs(ch.exponential_cascade(jnp.zeros(2), 0.65, 0.05))
    np.testing.assert_allclose(p, [0.0325, 0.9675 * 0.0325, 0.9675**2], rtol=1e-5)
    # proportional: s = 0.05 * (1 + 1) = 0.1 and 0.05 * (-1 + 1) = 0
    p = _probs(ch.proportional_cascade(jnp.array([1.0, -1.0]), 0.65, 0.05, -1.0))
    np.testing.assert_allclose(p, [0.065, 0.0, 0.935], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model", ["proportional", "logit", "exponential_cascade", "proportional_cascade"])
def test_probabilities_sum_to_one_and_rise_with_affinity(model):
    fn = {"proportional": lambda a, m: ch.proportional(a, m, -1.0), "logit": ch.logit,
          "exponential_cascade": lambda a, m: ch.exponential_cascade(a + m - 1.0, 0.65, 0.05),
          "proportional_cascade": lambda a, m: ch.proportional_cascade(a + m - 1.0, 0.65, 0.05, -1.0)}[model]
    grid = jnp.linspace(-1.0, 1.0, 9)
    probs = np.asarray(jax.vmap(lambda a0: ch.normalize(*fn(jnp.array([a0, 0.2, -0.3]), 1.0)))(grid))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    assert np.all(probs >= 0)
    assert np.all(np.diff(probs[:, 0]) > 0)  # more interest in the first item: clicked more
    assert np.all(np.diff(probs[:, -1]) < 0)  # and the no-click mass falls
    if model in ("proportional", "logit"):  # a heavier no-click option is chosen more
        more = np.asarray(ch.normalize(*fn(jnp.array([0.1, 0.2, -0.3]), 1.5)))
        less = np.asarray(ch.normalize(*fn(jnp.array([0.1, 0.2, -0.3]), 1.0)))
        assert more[-1] > less[-1]


def test_all_zero_masses_mean_no_click():
    np.testing.assert_array_equal(_probs((jnp.zeros(2), jnp.float32(0.0))), [0.0, 0.0, 1.0])


def test_sample_choice_follows_the_cumulative_probabilities():
    probs = jnp.array([0.375, 0.125, 0.5])
    u = jnp.array([0.0, 0.374, 0.375, 0.49, 0.5, 0.999])
    np.testing.assert_array_equal(np.asarray(ch.sample_choice(u, jnp.broadcast_to(probs, (6, 3)))), [0, 0, 1, 1, 2, 2])
    draw = jax.jit(lambda key: ch.sample_choice(jax.random.uniform(key, (40_000,)), jnp.broadcast_to(probs, (40_000, 3))))
    draws = np.asarray(draw(jax.random.key(0)))
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / draws.size, probs, atol=0.01)
    # unnormalised probabilities are normalised first, as numpy.random.choice does
    assert int(ch.sample_choice(jnp.float32(0.6), probs * 2.0)) == 2


def test_bernoulli_signals_are_independent_thresholds():
    u = jnp.array([0.1, 0.5, 0.9, 0.99])
    np.testing.assert_array_equal(np.asarray(ch.bernoulli_signals(u, jnp.array([0.2, 0.5, 1.0, 1.5]))),
                                  [True, False, True, True])
    on = np.asarray(ch.bernoulli_signals(jax.random.uniform(jax.random.key(1), (20_000, 2)), jnp.array([0.1, 0.7])))
    np.testing.assert_allclose(on.mean(0), [0.1, 0.7], atol=0.015)


@pytest.mark.parametrize("bad, shown", [(-0.1, "-0.1"), (1.5, "1.5"), (float("nan"), "nan"), ([0.2, 2.0], "2.0")])
def test_probabilities_outside_0_1_name_the_field(bad, shown):
    with pytest.raises(RealaxError, match=rf"owner: attention_prob must be a probability in \[0, 1\], got {shown}"):
        ch.check_probability("attention_prob", bad, "owner")
    with pytest.raises(RealaxError, match="like_prob must be a probability"):
        ch.check_probability("like_prob", "often")
    np.testing.assert_array_equal(ch.check_probability("p", [0.0, 1.0]), [0.0, 1.0])
