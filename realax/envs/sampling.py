"""Cheap, jittable randomness for environment steps, shared by every family.

A step needs a handful of random numbers. ``jax.random.uniform`` runs a Threefry block per pair of numbers,
which made it the dominant cost of a spectrum step; here they are derived from the key's bits and a counter
with two rounds of MurmurHash3's 32-bit finaliser (Appleby, public domain), a few integer ops each. The keys
reaching ``step`` come from ``jax.random.split``, so their bits are already well mixed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser: a bijection on uint32 with full avalanche."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def uniforms(key: jax.Array, shape: tuple[int, ...], salt: int = 0x632BE5AB) -> jax.Array:
    """``float32`` uniforms in [0, 1) (24-bit resolution) drawn from ``key``; ``salt`` gives an independent stream."""
    words = jax.random.key_data(key).reshape(-1).astype(jnp.uint32)
    i = jnp.arange(int(np.prod(shape)), dtype=jnp.uint32)
    h = _fmix32(words[0] ^ _fmix32(words[-1] + i * jnp.uint32(0x9E3779B9) + jnp.uint32(salt)))
    return ((h >> 8).astype(jnp.float32) * (1.0 / (1 << 24))).reshape(shape)


def cumsum(x: jax.Array) -> jax.Array:
    """Inclusive prefix sum along the last axis by log2(n) shifted adds (Hillis and Steele, 1986).

    ``jnp.cumsum`` lowers to a reduce-window that XLA's CPU simplifier aborted on when its input was a
    compile-time constant under ``vmap`` (jax 0.10); shifted adds also fuse with their neighbours.
    """
    n, shift = x.shape[-1], 1
    while shift < n:
        x = x + jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(shift, 0)])[..., :n]
        shift *= 2
    return x


def choice(weights: jax.Array, u: jax.Array) -> jax.Array:
    """Index drawn along the last axis of non-negative ``weights [..., K]`` (a bool mask draws uniformly
    among its True entries) from uniforms ``u [...]``; an all-zero row gives K - 1."""
    w = weights.astype(jnp.float32) if weights.dtype == bool else weights
    cum = cumsum(w)
    return jnp.minimum(jnp.sum(cum <= (u * cum[..., -1])[..., None], axis=-1), w.shape[-1] - 1).astype(jnp.int32)
