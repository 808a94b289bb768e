"""Poisson trip requests by inversion, fused into one elementwise pass (no per-draw loops).

RL4AMOD draws ``d_ij(t) ~ Poisson(lambda_ij(t))`` per origin-destination pair and step (``Scenario.
get_random_demand``; research notes ``amod-recsys.md`` §1.2). ``jax.random.poisson`` computes Knuth's and a
rejection sampler for every entry, each a loop drawing fresh random numbers until the slowest entry is
done; here one uniform per entry is compared with the running CDF for ``terms`` unrolled steps, exact up to
a tail of 1e-6 (the uniform is scaled by ``1 - 1e-6`` so float rounding of the CDF never runs past ``terms``).
The uniform of entry ``(i, j)`` is a hash of the key and the pair ``(i, j)`` (two rounds of MurmurHash3's
32-bit finaliser, Appleby, public domain; 24-bit resolution), not of its position in the array, so a city
padded to more regions draws the same requests.
Means above ``NORMAL_ABOVE`` (beyond every shipped city's, whose largest is 43 trips per step) use the
normal approximation; that branch is compiled only for cities that need it (``terms_for`` says so), since
normal draws cost more than the whole inversion.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from realax.envs.sampling import fmix32

NORMAL_ABOVE = 60.0


def terms_for(max_rate: float) -> int:
    """Unrolled CDF steps for means up to ``max_rate``: mean + 7 standard deviations + 8 (negative: the
    normal branch is needed too)."""
    lam = min(float(max_rate), NORMAL_ABOVE)
    terms = int(math.ceil(lam + 7 * math.sqrt(lam) + 8))
    return -terms if max_rate > NORMAL_ABOVE else terms


def pair_uniforms(key: jax.Array, n: int) -> jax.Array:
    """``float32 [n, n]`` uniforms in [0, 1); entry ``(i, j)`` depends only on the key, ``i`` and ``j``."""
    words = jax.random.key_data(key).reshape(-1).astype(jnp.uint32)
    r = jnp.arange(n, dtype=jnp.uint32)
    pair = (r[:, None] << 16) | r[None, :]
    h = fmix32(words[0] ^ fmix32(words[-1] + pair * jnp.uint32(0x9E3779B9) + jnp.uint32(0x632BE5AB)))
    return (h >> 8).astype(jnp.float32) * (1.0 / (1 << 24))


def poisson(key: jax.Array, lam: jax.Array, terms: int) -> jax.Array:
    """``int32 [n, n]`` Poisson draws with means ``lam [n, n]``; ``terms`` from ``terms_for``."""
    normal, terms = terms < 0, abs(terms)
    ku, kn = jax.random.split(key) if normal else (key, key)  # kn is drawn from only when normal
    u = pair_uniforms(ku, lam.shape[0]) * (1.0 - 1e-6)
    small = jnp.minimum(lam, NORMAL_ABOVE)
    p = jnp.exp(-small)
    c = p
    x = jnp.zeros(lam.shape, jnp.int32)
    for k in range(1, terms + 1):
        x = x + (u > c)
        p = p * small / k
        c = c + p
    if not normal:
        return x
    z = jax.random.normal(kn, lam.shape)
    big = jnp.maximum(jnp.round(lam + jnp.sqrt(lam) * z), 0).astype(jnp.int32)
    return jnp.where(lam > NORMAL_ABOVE, big, x)
