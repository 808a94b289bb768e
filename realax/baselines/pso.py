"""Global-best particle swarm optimisation in JAX, vmapped over particles (and over swarms by the caller).

Algorithm: Kennedy and Eberhart, "Particle swarm optimization", ICNN 1995, with the inertia weight of Shi and
Eberhart, "A modified particle swarm optimizer", 1998: each particle keeps its best position; velocities
``v <- w v + c1 r1 (personal best - x) + c2 r2 (global best - x)`` with fresh uniform ``r1, r2`` per
dimension; positions are clipped to the bounds (and the velocity component that hit a bound is zeroed).
Defaults ``w = 0.7298, c1 = c2 = 1.49618`` are Clerc and Kennedy's constriction values (IEEE TEC 2002).
``pyswarms.single.GlobalBestPSO`` implements the same update; a test runs both on the same objectives.
Random numbers are drawn flat and reshaped: a multi-dimensional ``jax.random`` draw compiles several times
slower on CPU under JAX's default partitionable Threefry.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

W, C1, C2 = 0.7298, 1.49618, 1.49618


class PSOResult(NamedTuple):
    best: jax.Array  # [dim]
    best_cost: jax.Array  # []
    history: jax.Array  # [iters]: global best cost after each iteration


def _flat(key: jax.Array, *shape: int) -> jax.Array:
    return jax.random.uniform(key, (math.prod(shape),)).reshape(shape)


def minimize(cost: Callable[[jax.Array], jax.Array], key: jax.Array, low: jax.Array, high: jax.Array,
             particles: int = 32, iters: int = 50, w: float = W, c1: float = C1, c2: float = C2) -> PSOResult:
    """Minimise ``cost(x [dim]) -> []`` over the box ``[low, high]`` (arrays ``[dim]``); particles start
    uniform in the box with velocities uniform in ``+-(high - low)/2`` ... ``0.1`` of that range."""
    low, high = jnp.asarray(low, jnp.float32), jnp.asarray(high, jnp.float32)
    k_x, k_v, k_run = jax.random.split(key, 3)
    dim = low.shape[0]
    x = low + (high - low) * _flat(k_x, 1, particles, dim)[0]
    span = 0.1 * (high - low)
    v = span * (2.0 * _flat(k_v, 1, particles, dim)[0] - 1.0)
    f = jax.vmap(cost)(x)
    g = jnp.argmin(f)

    def step(carry, k):
        x, v, pbest, pcost, gbest, gcost = carry
        r1, r2 = _flat(k, 2, particles, dim)
        v = w * v + c1 * r1 * (pbest - x) + c2 * r2 * (gbest[None] - x)
        moved = x + v
        x = jnp.clip(moved, low, high)
        v = jnp.where(moved == x, v, 0.0)
        f = jax.vmap(cost)(x)
        better = f < pcost
        pbest = jnp.where(better[:, None], x, pbest)
        pcost = jnp.where(better, f, pcost)
        i = jnp.argmin(pcost)
        gbest = jnp.where(pcost[i] < gcost, pbest[i], gbest)
        gcost = jnp.minimum(pcost[i], gcost)
        return (x, v, pbest, pcost, gbest, gcost), gcost

    carry = (x, v, x, f, x[g], f[g])
    (_, _, _, _, gbest, gcost), history = jax.lax.scan(step, carry, jax.random.split(k_run, iters))
    return PSOResult(gbest, gcost, history)
