"""Poisson trip requests by inversion, fused into one elementwise pass (no per-draw loops).

RL4AMOD draws ``d_ij(t) ~ Poisson(lambda_ij(t))`` per origin-destination pair and step (``Scenario.
get_random_demand``; research notes ``amod-recsys.md`` §1.2). ``jax.random.poisson`` computes Knuth's and a
rejection sampler for every entry, each a loop drawing fresh random numbers until the slowest entry is
done; here one uniform per entry is compared with the running CDF for ``terms`` unrolled steps, exact up to
a tail of 1e-6 (the uniform is scaled by ``1 - 1e-6`` so float rounding of the CDF never runs past ``terms``).
Means above ``NORMAL_ABOVE`` (beyond every shipped city's, whose largest is 43 trips per step) use the
normal approximation; that branch is compiled only for cities that need it (``terms_for`` says so), since
normal draws cost more than the whole inversion.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

NORMAL_ABOVE = 60.0


def terms_for(max_rate: float) -> int:
    """Unrolled CDF steps for means up to ``max_rate``: mean + 7 standard deviations + 8 (negative: the
    normal branch is needed too)."""
    lam = min(float(max_rate), NORMAL_ABOVE)
    terms = int(math.ceil(lam + 7 * math.sqrt(lam) + 8))
    return -terms if max_rate > NORMAL_ABOVE else terms


def poisson(key: jax.Array, lam: jax.Array, terms: int) -> jax.Array:
    """``int32`` Poisson draws with means ``lam`` (any shape); ``terms`` from ``terms_for``."""
    normal, terms = terms < 0, abs(terms)
    ku, kn = jax.random.split(key) if normal else (key, None)
    u = jax.random.uniform(ku, lam.shape) * (1.0 - 1e-6)
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
