"""Who serves each user: UAVs first (offloading), ground base stations for the rest.

The rule (reconstruction of Mondal et al., TAES 2025, research note ``rf-uav-agv.md`` §2.3: a user is
offloaded to a UAV when its SINR meets the QoS threshold and the UAV has room; the base stations serve the
others):

1. **UAVs, in rounds** (as many rounds as UAVs). In each round every user not yet associated proposes to
   the UAV with its highest SINR among those it has not proposed to yet, if that SINR is at least the
   threshold. Each UAV accepts its proposers in order of decreasing SINR (equal SINR: lower user index
   first) while it has room (``capacity`` users); the others propose to their next UAV in the next round.
   An accepted user stays (no later proposer displaces it).
2. **Base stations**, once: every user left proposes to its strongest base station if that SINR is at
   least the base-station threshold, with the same acceptance order and the base station's capacity.

The result is ``serving [U]``: ``k`` for UAV ``k``, ``K + b`` for base station ``b``, ``-1`` for nobody.
Everything has static shapes (ranks by pairwise comparison, ``O(U^2)`` a round; rounds unrolled), so it jits
and vmaps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

UNSERVED = -1


def _accept(choice: jax.Array, sinr: jax.Array, room: jax.Array) -> jax.Array:
    """``bool [U]``: which proposals are accepted. ``choice [U]`` is the server each user proposes to (-1 for
    none), ``sinr [U]`` the SINR of that proposal, ``room [S]`` each server's free places. A proposal's rank
    at its server counts the proposals there with higher SINR, or equal SINR and a lower user index."""
    u = jnp.arange(choice.shape[0])
    same = (choice[:, None] == choice[None, :]) & (choice[None, :] >= 0)
    ahead = same & ((sinr[None, :] > sinr[:, None]) | ((sinr[None, :] == sinr[:, None]) & (u[None, :] < u[:, None])))
    rank = ahead.sum(axis=1)
    my_room = jnp.sum(jnp.where(choice[:, None] == jnp.arange(room.shape[0])[None, :], room[None, :], 0), axis=1)
    return (choice >= 0) & (rank < my_room)


def _place(serving: jax.Array, sinr: jax.Array, eligible: jax.Array, room: jax.Array, offset: int
           ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One round: unassigned users propose to their best still-eligible server (the first of equals);
    returns the updated ``serving``, ``eligible`` (a proposal is never repeated) and ``room``. Gathers,
    scatters and argmax are written as one-hot sums and min-reductions: under ``vmap`` on CPU those are
    several times faster."""
    S = sinr.shape[1]
    servers = jnp.arange(S)
    open_ = (serving == UNSERVED)[:, None] & eligible
    masked = jnp.where(open_, sinr, -jnp.inf)
    top = masked.max(axis=1)
    has = jnp.any(open_, axis=1)
    best = jnp.min(jnp.where(open_ & (masked == top[:, None]), servers[None, :], S), axis=1)
    accepted = _accept(jnp.where(has, best, -1), top, room)
    serving = jnp.where(accepted, best + offset, serving)
    proposed = has[:, None] & (servers[None, :] == best[:, None])
    return serving, eligible & ~proposed, room - (proposed & accepted[:, None]).sum(axis=0, dtype=room.dtype)


def associate(uav_sinr: jax.Array, bs_sinr: jax.Array, uav_threshold: jax.Array, bs_threshold: jax.Array,
              uav_capacity: jax.Array, bs_capacity: jax.Array) -> jax.Array:
    """``int32 [U]`` serving index (see the module docstring) from ``uav_sinr [U, K]`` and ``bs_sinr [U, B]``
    and thresholds on one scale, dB or linear (SINRs are only compared, and both scales order them alike);
    capacities in users (``[K]`` and ``[B]``, or scalars)."""
    num_users, num_uavs = uav_sinr.shape
    serving = jnp.full((num_users,), UNSERVED, jnp.int32)
    room = jnp.broadcast_to(jnp.asarray(uav_capacity, jnp.int32), (num_uavs,))
    eligible = uav_sinr >= uav_threshold

    for _ in range(num_uavs):  # unrolled: K is small and static, and XLA fuses the rounds
        serving, eligible, room = _place(serving, uav_sinr, eligible, room, 0)
    if bs_sinr.shape[1] == 0:
        return serving
    bs_room = jnp.broadcast_to(jnp.asarray(bs_capacity, jnp.int32), (bs_sinr.shape[1],))
    serving, _, _ = _place(serving, bs_sinr, bs_sinr >= bs_threshold, bs_room, offset=num_uavs)
    return serving
