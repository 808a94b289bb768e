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

from realax.envs import smallops as so


def fmix32(h: jax.Array) -> jax.Array:
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
    h = fmix32(words[0] ^ fmix32(words[-1] + i * jnp.uint32(0x9E3779B9) + jnp.uint32(salt)))
    return ((h >> 8).astype(jnp.float32) * (1.0 / (1 << 24))).reshape(shape)


def choice(mask: jax.Array, u: jax.Array) -> jax.Array:
    """Index of a uniformly random True entry along the last axis of ``mask [..., K]``, from uniforms
    ``u [...]``; an all-False row gives 0.

    Each entry gets a hashed priority from (``u``, its index) and the largest allowed one wins: no prefix
    sum, which (as a reduce-window or shifted adds under ``vmap``) cost more than the rest of a spectrum step.
    """
    bits = (u * (1 << 24)).astype(jnp.uint32)
    k = jnp.arange(mask.shape[-1], dtype=jnp.uint32)
    priority = (fmix32(bits[..., None] * jnp.uint32(0x9E3779B9) + k) >> 1).astype(jnp.int32)
    return so.argmax_last(jnp.where(mask, priority, -1))
