"""The heuristic enemy of SMAX as a pure JAX function, plus the cheap random numbers the env draws.

Behaviour (research/jax-env-anchors.md §2.7, from ``JaxMARL:jaxmarl/environments/smax/heuristic_enemy.py``
``create_heuristic_policy(attack_mode="closest")``), per living enemy unit, from what it can see (an opposing
unit within its sight range, both alive):

- if some seen unit is within its attack range it shoots: the unit it shot last step while that one stays
  shootable, else the closest shootable one; it remembers that target (or none when it cannot shoot);
- otherwise it moves in the cardinal direction whose unit vector has the largest dot product with the vector
  to a target: a seen opposing unit drawn uniformly at random, or, when it sees none, its start position
  rotated 180 degrees about the map centre (so units cross the middle).

Attack actions use the enemy team's numbering: action ``5 + k`` attacks ally ``n_allies - 1 - k`` (enemies
index allies in reverse order, §2.4).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: move directions of actions 0..3 (+y, +x, -y, -x; §2.4) and the stop action's index
MOVES = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]], np.float32)
STOP = 4


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser (Appleby, public domain): a cheap avalanche of a counter."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def uniforms(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """``float32`` uniforms in [0, 1) hashed from the key's bits and a counter (no Threefry block per draw)."""
    words = jax.random.key_data(key).reshape(-1).astype(jnp.uint32)
    i = jnp.arange(int(np.prod(shape)), dtype=jnp.uint32)
    h = _fmix32(words[0] ^ _fmix32(words[-1] + i * jnp.uint32(0x9E3779B9) + jnp.uint32(0x7F4A7C15)))
    return ((h >> 8).astype(jnp.float32) * (1.0 / (1 << 24))).reshape(shape)


def pick(weights: jax.Array, u: jax.Array) -> jax.Array:
    """Row-wise index drawn with probability proportional to non-negative ``weights [R, K]`` using
    ``u [R]``; a row of zeros gives 0. The prefix sum is a matmul with a triangular matrix (no gather)."""
    k = weights.shape[-1]
    cum = weights @ jnp.asarray(np.triu(np.ones((k, k), np.float32)))
    total = cum[:, -1:]
    return jnp.sum((cum <= u[:, None] * total) & (total > 0), axis=-1).clip(0, k - 1).astype(jnp.int32)


def heuristic_actions(dist_ea: jax.Array, pos_e: jax.Array, pos_a: jax.Array, alive_e: jax.Array,
                      alive_a: jax.Array, sight_e: jax.Array, range_e: jax.Array, default_target: jax.Array,
                      last_target: jax.Array, u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Enemy actions ``int32 [E]`` and the remembered targets ``int32 [E]`` (ally index, -1 = none).

    dist_ea ``[E, A]`` distances enemy to ally; pos_e ``[E, 2]``; pos_a ``[A, 2]``; alive ``bool``;
    sight_e/range_e ``[E]``; default_target ``[E, 2]``; last_target ``int32 [E]``; u ``[E]`` uniforms.
    Dead enemies stop.
    """
    n_a = pos_a.shape[0]
    seen = (dist_ea < sight_e[:, None]) & alive_e[:, None] & alive_a[None, :]
    shootable = seen & (dist_ea < range_e[:, None])
    can_shoot = jnp.any(shootable, axis=-1)
    last_oh = last_target[:, None] == jnp.arange(n_a)[None, :]
    keep = jnp.any(last_oh & shootable, axis=-1)
    closest = jnp.argmin(jnp.where(shootable, dist_ea, jnp.inf), axis=-1).astype(jnp.int32)
    target = jnp.where(keep, last_target, closest)
    new_last = jnp.where(can_shoot, target, -1).astype(jnp.int32)
    chosen = pick(seen.astype(jnp.float32), u)
    chosen_pos = (chosen[:, None] == jnp.arange(n_a)[None, :]).astype(jnp.float32) @ pos_a
    goal = jnp.where(jnp.any(seen, axis=-1)[:, None], chosen_pos, default_target)
    move = jnp.argmax((goal - pos_e) @ jnp.asarray(MOVES).T, axis=-1).astype(jnp.int32)
    action = jnp.where(can_shoot, STOP + 1 + (n_a - 1 - target), move)
    return jnp.where(alive_e, action, STOP).astype(jnp.int32), new_last
