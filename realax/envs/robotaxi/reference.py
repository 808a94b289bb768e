"""The exact linear programs with SciPy's HiGHS (``scipy.optimize.linprog(method="highs")``): references for
the in-``jit`` matching and rebalancing, and the planner of the MPC oracle. Host-side NumPy, not jittable.

Formulations follow RL4AMOD (``src/cplex_mod/matching.mod``, ``minRebDistRebOnly.mod``, ``MPC.mod``;
research notes ``amod-recsys.md`` §1.3); the code is ours.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def _solve(c: np.ndarray, a_ub: Any, b_ub: np.ndarray, a_eq: Any = None, b_eq: np.ndarray | None = None,
           bounds: Any = None, integral: bool = False) -> np.ndarray:
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs",
                  integrality=np.ones(len(c)) if integral else None)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    return res.x


def match_lp(idle: np.ndarray, demand: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, float]:
    """RL4AMOD's matching LP: max ``sum v x``, ``0 <= x <= demand``, ``sum_j x_ij <= idle_i``.
    Returns ``(x [N, N], optimum)``."""
    idle, demand, value = (np.asarray(a, np.float64) for a in (idle, demand, value))
    n = idle.shape[0]
    i, j = np.nonzero(demand > 0)
    x = np.zeros((n, n))
    if i.size == 0:
        return x, 0.0
    a_ub = sp.csr_matrix((np.ones(i.size), (i, np.arange(i.size))), shape=(n, i.size))
    sol = _solve(-value[i, j], a_ub, idle, bounds=list(zip(np.zeros(i.size), demand[i, j], strict=True)))
    x[i, j] = sol
    return x, float(value[i, j] @ sol)


def rebalance_lp(idle: np.ndarray, desired: np.ndarray, cost: np.ndarray, integral: bool = True) -> tuple[np.ndarray, float]:
    """RL4AMOD's rebalancing program: min ``sum c f`` over ``f_ij >= 0`` (``i != j``) with
    ``sum_j (f_ji - f_ij) >= desired_i - idle_i`` and ``sum_j f_ij <= idle_i`` (integer flows, as PuLP's
    ``cat='Integer'``, unless ``integral=False``). Returns ``(f [N, N], optimum)``."""
    idle, desired, cost = (np.asarray(a, np.float64) for a in (idle, desired, cost))
    n = idle.shape[0]
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    e = np.arange(i.size)
    # -(inflow - outflow) <= idle - desired ;  outflow <= idle
    net = sp.csr_matrix((np.r_[np.ones(i.size), -np.ones(i.size)], (np.r_[i, j], np.r_[e, e])), shape=(n, i.size))
    out = sp.csr_matrix((np.ones(i.size), (i, e)), shape=(n, i.size))
    sol = _solve(cost[i, j], sp.vstack([net, out]), np.r_[idle - desired, idle], bounds=(0, None), integral=integral)
    f = np.zeros((n, n))
    f[i, j] = np.round(sol) if integral else sol
    return f, float(cost[i, j] @ f[i, j])


def mpc_plan(idle: np.ndarray, arrivals: np.ndarray, demand: np.ndarray, price: np.ndarray, trip_steps: np.ndarray,
             reb_steps: np.ndarray, beta: float) -> np.ndarray:
    """The MPC oracle's plan (after RL4AMOD's ``MPC.mod``, multi-period with known demand): over the
    ``H = len(demand)`` coming steps, choose rebalancing flows ``f[t]`` and served trips ``x[t] <= demand[t]``
    maximising ``sum x (price - beta * trip_steps) - beta * sum reb_steps * f``, in the env's step order
    (rebalance, arrivals join, match; a trip started at step t with duration tau is idle again at
    t + tau + 1, a rebalancing trip at t + r). ``idle [N]``; ``arrivals [>=H, N]`` already under way
    (row h joins at step h); ``demand, price, trip_steps [H, N, N]``; ``reb_steps [N, N]``.
    Returns the region counts right after the first step's rebalancing, ``float [N]``."""
    demand, price = np.asarray(demand, np.float64), np.asarray(price, np.float64)
    trip_steps, reb_steps = np.asarray(trip_steps, np.int64), np.asarray(reb_steps, np.int64)
    idle = np.asarray(idle, np.float64)
    h, n = demand.shape[0], idle.shape[0]
    nn = n * n
    fo, xo, ao = 0, h * nn, 2 * h * nn  # variable offsets: f[t,i,j], x[t,i,j], a[t,i] (t = 0..h)
    nvar = ao + (h + 1) * n
    fidx = lambda t, i, j: fo + t * nn + i * n + j  # noqa: E731
    xidx = lambda t, i, j: xo + t * nn + i * n + j  # noqa: E731
    aidx = lambda t, i: ao + t * n + i  # noqa: E731
    rows, cols, vals = [], [], []
    ub_rows, ub_cols, ub_vals = [], [], []
    b_eq = np.zeros(h * n)
    ii, jj = np.divmod(np.arange(nn), n)
    for t in range(h):
        for i in range(n):
            r = t * n + i
            # out[t, i]: sum_j f - a <= 0
            ub_rows += [r] * (n + 1)
            ub_cols += [fidx(t, i, j) for j in range(n)] + [aidx(t, i)]
            ub_vals += [1.0] * n + [-1.0]
            # balance: a[t+1] - a[t] + out_f + out_x - arriving = known arrivals
            rows += [r] * (2 + 2 * n)
            cols += [aidx(t + 1, i), aidx(t, i)] + [fidx(t, i, j) for j in range(n)] + [xidx(t, i, j) for j in range(n)]
            vals += [1.0, -1.0] + [1.0] * (2 * n)
            b_eq[r] = arrivals[t, i] if t < len(arrivals) else 0.0
        # flows started at t arrive at t + r (rebalancing) and t + tau + 1 (trips)
        for k in range(nn):
            i, j = ii[k], jj[k]
            tr = t + reb_steps[i, j]
            if i != j and tr < h:
                rows.append(tr * n + j)
                cols.append(fidx(t, i, j))
                vals.append(-1.0)
            tx = t + trip_steps[t, i, j] + 1
            if demand[t, i, j] > 0 and tx < h:
                rows.append(tx * n + j)
                cols.append(xidx(t, i, j))
                vals.append(-1.0)
    a_eq = sp.csr_matrix((vals, (rows, cols)), shape=(h * n, nvar))
    a_ub = sp.csr_matrix((ub_vals, (ub_rows, ub_cols)), shape=(h * n, nvar))
    c = np.zeros(nvar)
    for t in range(h):
        c[fidx(t, 0, 0):fidx(t, 0, 0) + nn] = beta * reb_steps.reshape(-1)
        c[xidx(t, 0, 0):xidx(t, 0, 0) + nn] = -(price[t] - beta * trip_steps[t]).reshape(-1)
    bounds = np.zeros((nvar, 2))
    bounds[:, 1] = np.inf
    diag = np.arange(n) * (n + 1)
    for t in range(h):
        bounds[fidx(t, 0, 0) + diag, 1] = 0.0
        bounds[xidx(t, 0, 0):xidx(t, 0, 0) + nn, 1] = demand[t].reshape(-1)
    bounds[ao:ao + n] = np.stack([idle, idle], 1)
    sol = _solve(c, a_ub, np.zeros(h * n), a_eq, b_eq, bounds=bounds)
    f0 = sol[:nn].reshape(n, n)
    return idle - f0.sum(1) + f0.sum(0)
