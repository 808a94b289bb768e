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

from realax.envs import smallops as so
from realax.envs.sampling import choice

#: move directions of actions 0..3 (+y, +x, -y, -x; §2.4) and the stop action's index
MOVES = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]], np.float32)
STOP = 4


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
    can_shoot = so.any_axis(shootable)
    last_oh = last_target[:, None] == jnp.arange(n_a)[None, :]
    keep = so.any_axis(last_oh & shootable)
    closest = so.argmin_last(jnp.where(shootable, dist_ea, jnp.inf))
    target = jnp.where(keep, last_target, closest)
    new_last = jnp.where(can_shoot, target, -1).astype(jnp.int32)
    chosen_oh = choice(seen, u)[:, None] == jnp.arange(n_a)[None, :]
    any_seen = so.any_axis(seen)
    goal_x = jnp.where(any_seen, so.sum_axis(jnp.where(chosen_oh, pos_a[None, :, 0], 0.0)), default_target[:, 0])
    goal_y = jnp.where(any_seen, so.sum_axis(jnp.where(chosen_oh, pos_a[None, :, 1], 0.0)), default_target[:, 1])
    gx, gy = goal_x - pos_e[:, 0], goal_y - pos_e[:, 1]
    move = so.argmax_last(jnp.stack([gy, gx, -gy, -gx], axis=-1))  # dot products with MOVES' rows
    action = jnp.where(can_shoot, STOP + 1 + (n_a - 1 - target), move)
    return jnp.where(alive_e, action, STOP).astype(jnp.int32), new_last
