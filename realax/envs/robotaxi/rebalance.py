"""Rebalancing inside ``jit``: from the idle vehicles to integer targets at least cost.

RL4AMOD's rebalancing problem (``src/cplex_mod/minRebDistRebOnly.mod``, ``solveRebFlow`` in
``src/algos/reb_flow_solver.py``; research notes ``amod-recsys.md`` §1.3) is the integer program: minimise
``sum_ij r_ij f_ij`` subject to ``sum_j (f_ji - f_ij) >= desired_i - idle_i`` and ``sum_{j != i} f_ij <= idle_i``.
Targets never exceed the fleet (they are floored), so regions above their target only need to send and
regions below only to receive: a transportation problem from surpluses to deficits (§1.11). We solve that
problem exactly with successive shortest paths (Dijkstra on reduced costs over the 2N region nodes, as many
vehicles as the path allows per augmentation), capped at ``max_paths`` augmentations, after which any deficit
left is filled by the least-cost greedy rule. RL4AMOD's program may also route through a third region when
travel times break the triangle inequality; the direct plan's cost is compared with HiGHS's optimum of the
full program on every shipped city in ``tests/envs/robotaxi`` (within 2%).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_A3 = tuple[jax.Array, jax.Array, jax.Array]  # loop carries
_A4 = tuple[jax.Array, jax.Array, jax.Array, jax.Array]
_A6 = tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]

_INF = 1e30


def targets(dist: jax.Array, idle: jax.Array) -> jax.Array:
    """Integer targets ``floor(dist_i * total idle)`` (RL4AMOD's ``int(a_i * dictsum(acc, t+1))``); a margin
    of 1e-3 absorbs float rounding, so ``dist = d / total`` gives back the counts ``d`` (for N < 1000)."""
    total = idle.sum().astype(jnp.float32)
    return jnp.floor(dist * total + 1e-3).astype(idle.dtype)


def least_cost(surplus: jax.Array, deficit: jax.Array, cost: jax.Array) -> jax.Array:
    """Integer flows ``f [N, N]``, row sums <= ``surplus``, column sums == ``deficit`` when
    ``sum(deficit) <= sum(surplus)``: repeatedly fill the cheapest open (surplus, deficit) pair."""
    n = surplus.shape[0]
    cost = cost.astype(jnp.float32)

    def body(_: jax.Array, carry: _A3) -> _A3:
        s, e, f = carry
        c = jnp.where((s > 0)[:, None] & (e > 0)[None, :], cost, _INF)
        k = jnp.argmin(c)
        i, j = k // n, k % n
        m = jnp.where(c.reshape(-1)[k] < _INF, jnp.minimum(s[i], e[j]), 0)
        return s.at[i].add(-m), e.at[j].add(-m), f.at[i, j].add(m)

    _, _, f = jax.lax.fori_loop(0, n, body, (surplus, deficit, jnp.zeros((n, n), surplus.dtype)))
    return f


def _dijkstra(s: jax.Array, f: jax.Array, cost: jax.Array, pi_s: jax.Array, pi_t: jax.Array, sink: jax.Array) -> _A4:
    """Reduced-cost distances from the regions with supply left: sources ``ds``, sinks ``dt`` (only the
    regions in ``sink``) and the predecessors (``pred_t[j]`` the source before sink j; ``pred_s[i]`` the sink
    before source i, -1 at a start). Sources are regions with supply or outgoing flow, sinks regions with a
    deficit; no region is both, so N pops reach every node."""
    n = s.shape[0]
    ds = jnp.where(s > 0, 0.0, _INF)
    dt = jnp.full((n,), _INF)
    pred_s = jnp.full((n,), -1, jnp.int32)
    pred_t = jnp.full((n,), -1, jnp.int32)
    done_s = jnp.zeros((n,), bool)
    done_t = jnp.zeros((n,), bool)

    def step(_: jax.Array, st: _A6) -> _A6:
        ds, dt, pred_s, pred_t, done_s, done_t = st
        ms, mt = jnp.where(done_s, _INF, ds), jnp.where(done_t, _INF, dt)
        i, j = jnp.argmin(ms), jnp.argmin(mt)
        src = ms[i] <= mt[j]
        live = jnp.minimum(ms[i], mt[j]) < _INF
        cand_t = ds[i] + cost[i] + pi_s[i] - pi_t
        up_t = live & src & sink & (cand_t < dt)
        cand_s = dt[j] - cost[:, j] + pi_t[j] - pi_s
        up_s = live & ~src & (f[:, j] > 0) & (cand_s < ds)
        return (jnp.where(up_s, cand_s, ds), jnp.where(up_t, cand_t, dt), jnp.where(up_s, j, pred_s),
                jnp.where(up_t, i, pred_t), done_s.at[i].set(done_s[i] | (src & live)),
                done_t.at[j].set(done_t[j] | (~src & live)))

    # unrolled (N is static): each iteration's handful of small ops fuse with the next instead of paying the
    # loop's per-iteration cost, which dominates these [N] vectors (Brooklyn, N = 1024: 1,084 -> 1,286 episodes/s)
    ds, dt, pred_s, pred_t, _, _ = jax.lax.fori_loop(0, n, step, (ds, dt, pred_s, pred_t, done_s, done_t),
                                                     unroll=True)
    return ds, dt, pred_s, pred_t


def transport(surplus: jax.Array, deficit: jax.Array, cost: jax.Array, max_paths: int) -> jax.Array:
    """Least-cost integer flows ``f [N, N]`` meeting every deficit from the surpluses (successive shortest
    paths; exact unless ``max_paths`` augmentations do not suffice, then completed greedily). A region with
    both supply and demand first meets its own demand."""
    n = surplus.shape[0]
    cost = cost.astype(jnp.float32)
    own = jnp.minimum(surplus, deficit)
    surplus, deficit = surplus - own, deficit - own
    sink = deficit > 0

    def augment(carry: _A6) -> _A6:
        k, s, e, f, pi_s, pi_t = carry
        ds, dt, pred_s, pred_t = _dijkstra(s, f, cost, pi_s, pi_t, sink)
        true = jnp.where((e > 0) & (dt < _INF), dt + pi_t, _INF)
        jstar = jnp.argmin(true)
        dsink = true[jstar]
        ok = dsink < _INF

        def walk(st: _A3) -> _A3:  # from the target sink back to the start source: the bottleneck
            j, m, alive = st
            i = pred_t[j]
            start = pred_s[i] < 0
            m = jnp.minimum(m, jnp.where(start, s[i], f[i, pred_s[i]]))
            return jnp.where(start, j, pred_s[i]), m, ~start

        _, m, _ = jax.lax.while_loop(lambda st: st[2], walk, (jstar, e[jstar], ok))
        m = jnp.where(ok, m, 0)

        def push(st: _A4) -> _A4:  # add m on forward arcs, remove it from reverse arcs and from the start's supply
            j, s, f, _ = st
            i = pred_t[j]
            start = pred_s[i] < 0
            f = f.at[i, j].add(m)
            f = f.at[i, jnp.maximum(pred_s[i], 0)].add(jnp.where(start, 0, -m))
            s = s.at[i].add(jnp.where(start, -m, 0))
            return jnp.where(start, j, pred_s[i]), s, f, ~start

        _, s, f, _ = jax.lax.while_loop(lambda st: st[3], push, (jstar, s, f, ok))
        e = e.at[jstar].add(-m)
        pi_s = jnp.where(ok, pi_s + jnp.minimum(ds, dsink), pi_s)
        pi_t = jnp.where(ok, pi_t + jnp.minimum(dt, dsink), pi_t)
        return k + jnp.where(ok, 1, max_paths), s, e, f, pi_s, pi_t

    init = (jnp.int32(0), surplus, deficit, jnp.zeros((n, n), surplus.dtype), jnp.zeros((n,)), jnp.zeros((n,)))
    _, s, e, f, _, _ = jax.lax.while_loop(lambda c: (c[0] < max_paths) & (c[2].sum() > 0), augment, init)
    return f + least_cost(s, e, cost)


def rebalance(idle: jax.Array, desired: jax.Array, cost: jax.Array, max_paths: int | None = None) -> jax.Array:
    """Integer rebalancing flows ``f [N, N]`` (zero diagonal) taking ``idle`` to at least ``desired``
    (``sum(desired) <= sum(idle)``); ``cost [N, N]`` per vehicle (RL4AMOD: rebalancing time in steps);
    ``max_paths`` defaults to ``2 N``."""
    n = idle.shape[0]
    surplus = jnp.maximum(idle - desired, 0)
    deficit = jnp.maximum(desired - idle, 0)
    return transport(surplus, deficit, cost, 2 * n if max_paths is None else max_paths)
