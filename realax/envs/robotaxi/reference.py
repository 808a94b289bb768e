"""The exact linear programs with SciPy's HiGHS (``scipy.optimize.linprog(method="highs")``): references for
the in-``jit`` matching and rebalancing, and the planner of the MPC oracle. Host-side NumPy, not jittable.

Formulations follow RL4AMOD (``src/cplex_mod/matching.mod``, ``minRebDistRebOnly.mod``, ``MPC.mod``;
research notes ``amod-recsys.md`` §1.3); the code is ours.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def _solve(c, a_ub, b_ub, a_eq=None, b_eq=None, bounds=None, integral=False):
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs",
                  integrality=np.ones(len(c)) if integral else None)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    return res.x


def match_lp(idle, demand, value) -> tuple[np.ndarray, float]:
    """RL4AMOD's matching LP: max ``sum v x``, ``0 <= x <= demand``, ``sum_j x_ij <= idle_i``.
    Returns ``(x [N, N], optimum)``."""
    idle, demand, value = (np.asarray(a, np.float64) for a in (idle, demand, value))
    n = idle.shape[0]
    i, j = np.nonzero(demand > 0)
    x = np.zeros((n, n))
    if i.size == 0:
        return x, 0.0
    a_ub = sp.csr_matrix((np.ones(i.size), (i, np.arange(i.size))), shape=(n, i.size))
    sol = _solve(-value[i, j], a_ub, idle, bounds=list(zip(np.zeros(i.size), demand[i, j])))
    x[i, j] = sol
    return x, float(value[i, j] @ sol)


def rebalance_lp(idle, desired, cost, integral: bool = True) -> tuple[np.ndarray, float]:
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
