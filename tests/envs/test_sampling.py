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


def test_choice_draws_uniformly_among_a_mask():
    mask = jnp.array([[0, 1, 0, 1, 1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0] * 10], bool)
    u = jax.random.uniform(jax.random.key(0), (40000, 1))
    picks = np.asarray(jax.vmap(lambda x: sampling.choice(mask, jnp.repeat(x, 3)))(u))
    counts = np.bincount(picks[:, 0], minlength=10) / len(picks)
    np.testing.assert_allclose(counts[[1, 3, 4, 9]], 0.25, atol=0.01)
    assert counts[[0, 2, 5, 6, 7, 8]].sum() == 0 and set(picks[:, 1]) == {0} and set(picks[:, 2]) == {0}
    # two draws from independent uniforms are independent: the pair is uniform over the 4 x 4 choices

    def two(k):
        u = sampling.uniforms(k, (2,))
        return sampling.choice(mask[0], u[0]) * 10 + sampling.choice(mask[0], u[1])

    pairs = np.asarray(jax.vmap(two)(jax.random.split(jax.random.key(3), 32000)))
    assert len(np.unique(pairs)) == 16 and np.bincount(pairs).max() / len(pairs) < 1 / 16 + 0.01
