"""Passenger matching inside ``jit``, exactly.

RL4AMOD's matching LP (``src/cplex_mod/matching.mod``, ``matching_pulp`` in ``src/envs/sim/macro_env.py``;
research notes ``amod-recsys.md`` §1.3) is: maximise ``sum_ij v_ij x_ij`` subject to
``0 <= x_ij <= d_ij`` and ``sum_j x_ij <= idle_i``. No constraint couples two origins, so it splits into one
fractional knapsack per origin with unit weights, whose optimum fills destinations in decreasing order of
value: sort, take a cumulative sum, clip (§1.11). With integer demand and idle counts the optimum is integral.
Destinations whose value is not positive are never served (they cannot raise the objective).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _one_origin(idle: jax.Array, demand: jax.Array, value: jax.Array) -> jax.Array:
    order = jnp.argsort(-value)
    d = jnp.where(value[order] > 0, demand[order], 0)
    before = jnp.cumsum(d) - d  # trips of better destinations
    x_sorted = jnp.clip(idle - before, 0, d)
    return jnp.zeros_like(demand).at[order].set(x_sorted)


def match(idle: jax.Array, demand: jax.Array, value: jax.Array) -> jax.Array:
    """Trips served ``x [N, N]`` (dtype of ``demand``) maximising ``sum v x`` with ``x <= demand`` and
    ``sum_j x_ij <= idle_i``; ``idle [N]``, ``demand [N, N]``, ``value [N, N]`` ($ per trip)."""
    idle = idle.astype(demand.dtype)
    return jax.vmap(_one_origin)(idle, demand, value)
