"""RecSim's interest-evolution user and document models against hand computations (``interest_evolution.py``
of the recsim package): topic means, interest step size and drift, watch time, budget and leaving."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs.recsys import interest_evolution as ie

ALPHA = 0.9 / 3.4  # RecSim's user_update_alpha


def test_topic_quality_means_are_recsims_trashy_and_nutritious_clusters():
    m = ie.topic_quality_means(20)
    assert m.shape == (20,) and m.dtype == np.float32
    np.testing.assert_allclose(m[:14], np.linspace(-3.0, 0.0, 14), rtol=1e-6)
    np.testing.assert_allclose(m[14:], np.linspace(0.0, 3.0, 6), rtol=1e-6)
    assert m[0] == -3.0 and m[13] == 0.0 and m[14] == 0.0 and m[-1] == 3.0
    assert ie.topic_quality_means(15).shape == (15,)  # every topic has a mean for any count


def test_step_size_is_largest_at_indifference_and_zero_at_the_extremes():
    np.testing.assert_allclose(np.asarray(ie.step_size(jnp.array([0.0, 0.5, -1.0, 1.0]), 1.0, 0.3)),
                               [0.3, 0.15, 0.0, 0.0], atol=1e-7)


def test_interest_moves_towards_or_away_from_the_consumed_topic():
    interests = jnp.array([0.2, 0.5, -0.9])
    f = jnp.array([0.0, 1.0, 0.0])
    # alpha = 0.3 - 0.3 * 0.5 = 0.15; update = 0.15 * (1 - 0.5) = 0.075; towards with probability (0.5 + 1) / 2
    towards = np.asarray(ie.update_interests(interests, f, jnp.float32(0.0), 1.0, 0.3))
    away = np.asarray(ie.update_interests(interests, f, jnp.float32(0.8), 1.0, 0.3))
    np.testing.assert_allclose(towards, [0.2, 0.575, -0.9], rtol=1e-6)
    np.testing.assert_allclose(away, [0.2, 0.425, -0.9], rtol=1e-6)
    assert float(ie.update_interests(interests, f, jnp.float32(0.7499), 1.0, 0.3)[1]) > 0.5
    assert float(ie.update_interests(interests, f, jnp.float32(0.75), 1.0, 0.3)[1]) < 0.5
    # a disliked topic (-0.9): alpha 0.03, update 0.03 * 1.9 = 0.057, towards only with probability 0.05
    g = jnp.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(float(ie.update_interests(interests, g, jnp.float32(0.5), 1.0, 0.3)[2]), -0.957, rtol=1e-5)
    np.testing.assert_allclose(float(ie.update_interests(interests, g, jnp.float32(0.01), 1.0, 0.3)[2]), -0.843, rtol=1e-5)
    # clipped to [-1, 1]: alpha = 3 - 0.3 * 0.9 = 2.73, 0.9 + 2.73 * 0.1 > 1
    assert float(ie.update_interests(jnp.array([0.9]), jnp.array([1.0]), jnp.float32(0.0), 10.0, 3.0)[0]) == 1.0


def test_expected_drift_is_the_update_times_the_direction_bias():
    u = jax.random.uniform(jax.random.key(0), (40_000,))
    new = jax.vmap(lambda x: ie.update_interests(jnp.array([0.5]), jnp.array([1.0]), x, 1.0, 0.3))(u)
    # E[change] = 0.075 * (0.75 - 0.25)
    np.testing.assert_allclose(float(new.mean()) - 0.5, 0.075 * 0.5, atol=0.002)


def test_watch_time_budget_and_leaving():
    assert float(ie.watch_time(jnp.float32(2.5), jnp.float32(4.0))) == 2.5
    assert float(ie.watch_time(jnp.float32(200.0), jnp.float32(4.0))) == 4.0
    args = dict(step_penalty=0.5, user_update_alpha=ALPHA, user_quality_factor=0.0, document_quality_factor=1.0)
    click = float(ie.update_budget(jnp.float32(200.0), True, 4.0, 2.0, 9.0, **args))
    np.testing.assert_allclose(click, 200.0 - 4.0 + ALPHA * 4.0 * 2.0, rtol=1e-6)
    assert float(ie.update_budget(jnp.float32(200.0), False, 0.0, 2.0, 9.0, **args)) == 199.5
    # the expected utility counts with user_quality_factor (0 in RecSim's interest evolution)
    mixed = float(ie.update_budget(jnp.float32(200.0), True, 4.0, 2.0, 1.5, 0.5, ALPHA, 1.0, 0.0))
    np.testing.assert_allclose(mixed, 200.0 - 4.0 + ALPHA * 4.0 * 1.5, rtol=1e-6)
    # monotone: better quality, more budget left
    budgets = [float(ie.update_budget(jnp.float32(50.0), True, 4.0, q, 0.0, **args)) for q in (-3.0, 0.0, 3.0)]
    assert budgets[0] < budgets[1] < budgets[2] < 50.0
    np.testing.assert_array_equal(np.asarray(ie.session_over(jnp.array([0.0, 1e-6, -1.0]))), [True, False, True])


def test_normals_are_standard_normal():
    z = np.asarray(jax.jit(lambda u: ie.normals(u, 40_001))(jax.random.uniform(jax.random.key(5), (40_002,))))
    assert z.shape == (40_001,)
    np.testing.assert_allclose([z.mean(), z.std(), np.mean(np.abs(z) < 1.0), np.mean(z > 1.96)],
                               [0.0, 1.0, 0.6827, 0.025], atol=0.012)


def test_documents_topics_quality_and_length():
    means = jnp.asarray(ie.topic_quality_means(20))
    u = jax.random.uniform(jax.random.key(3), (ie.document_uniforms(60_000),))
    topic, quality, length = jax.jit(ie.sample_documents)(u, means, 0.1, 4.0, 0.0)
    topic, quality = np.asarray(topic), np.asarray(quality)
    counts = np.bincount(topic, minlength=20)
    assert counts.min() > 2700 and counts.max() < 3300  # uniform: 3000 each
    np.testing.assert_allclose([quality[topic == t].mean() for t in (0, 13, 19)], [-3.0, 0.0, 3.0], atol=0.01)
    np.testing.assert_allclose(quality[topic == 5].std(), 0.1, rtol=0.05)  # 0.1 is the standard deviation
    assert np.all(np.asarray(length) == 4.0)
    _, _, length = jax.jit(ie.sample_documents)(u, means, 0.1, 4.3, 1.0)  # RecSim's IEvVideoSampler lengths
    length = np.asarray(length)
    np.testing.assert_allclose([length.mean(), length.std()], [4.3, 1.0], atol=0.02)
    assert length.min() >= 0.0 and length.max() <= ie.MAX_VIDEO_LENGTH
