"""The shared step randomness (realax/envs/sampling.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs import sampling


def test_uniforms_are_uniform_and_key_dependent():
    u = sampling.uniforms(jax.random.key(0), (20000,))
    assert 0 <= float(u.min()) and float(u.max()) < 1 and abs(float(u.mean()) - 0.5) < 0.01
    assert np.histogram(np.asarray(u), bins=10, range=(0, 1))[0].min() > 1800
    a = np.asarray(jax.vmap(lambda k: sampling.uniforms(k, (2,)))(jax.random.split(jax.random.key(1), 5000)))
    assert abs(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) < 0.05
    b = np.asarray(jax.vmap(lambda k: sampling.uniforms(k, (2,), salt=7))(jax.random.split(jax.random.key(1), 5000)))
    assert abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1]) < 0.05  # another salt, another stream


def test_choice_draws_uniformly_among_a_mask_and_by_weight():
    mask = jnp.array([[0, 1, 0, 1, 1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]], bool)
    u = jax.random.uniform(jax.random.key(0), (40000, 1))
    picks = np.asarray(jax.vmap(lambda x: sampling.choice(mask, jnp.repeat(x, 2)))(u))
    counts = np.bincount(picks[:, 0], minlength=10) / len(picks)
    np.testing.assert_allclose(counts[[1, 3, 4, 9]], 0.25, atol=0.01)
    assert counts[[0, 2, 5, 6, 7, 8]].sum() == 0 and set(picks[:, 1]) == {0}
    w = jnp.array([0.5, 0.0, 1.5])
    picks = np.asarray(jax.vmap(lambda x: sampling.choice(w, x))(u[:, 0]))
    np.testing.assert_allclose(np.bincount(picks, minlength=3) / len(picks), [0.25, 0.0, 0.75], atol=0.01)


def test_cumsum_matches_numpy():
    x = jax.random.bernoulli(jax.random.key(1), 0.4, (64, 10)).astype(jnp.int32)
    np.testing.assert_array_equal(np.asarray(sampling.cumsum(x)), np.cumsum(np.asarray(x), -1))
    y = jax.random.uniform(jax.random.key(2), (3, 17))
    np.testing.assert_allclose(np.asarray(sampling.cumsum(y)), np.cumsum(np.asarray(y), -1), rtol=1e-5)
