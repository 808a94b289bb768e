"""The in-jit matching equals HiGHS's optimum (property test on random instances); the in-jit rebalancing
is the exact transportation optimum, and within 2% of HiGHS's optimum of RL4AMOD's rebalancing program on
every shipped city."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from realax.envs.robotaxi.city import load_city
from realax.envs.robotaxi.matching import match
from realax.envs.robotaxi.rebalance import least_cost, rebalance, targets, transport
from realax.envs.robotaxi.reference import match_lp, rebalance_lp
from tests.envs.robotaxi.conftest import FILES, needs_data

_match = jax.jit(match)
_rebalance = jax.jit(rebalance)
#: the region counts of the property tests: the smallest city (2), the largest (23) and sizes between; each
#: size is one compilation of the solver, so the random instances share a few sizes rather than one each
SIZES = (2, 3, 5, 8, 13, 23)


def _matching_instance(rng, n):
    idle = rng.integers(0, 12, n)
    demand = rng.poisson(rng.gamma(0.6, 3.0, (n, n)))
    value = np.round(rng.uniform(-5, 40, (n, n)), 2)  # negative values: the paper's fare - cost may be < 0
    return idle, demand, value


def test_matching_equals_highs_on_random_instances():
    rng = np.random.default_rng(0)
    for trial in range(60):
        n = int(rng.choice(SIZES))
        idle, demand, value = _matching_instance(rng, n)
        x = np.asarray(_match(jnp.asarray(idle, jnp.int32), jnp.asarray(demand, jnp.int32), jnp.asarray(value, jnp.float32)))
        _, best = match_lp(idle, demand, value)
        assert (x >= 0).all() and (x <= demand).all() and (x.sum(1) <= idle).all(), trial
        np.testing.assert_allclose((x * value).sum(), best, rtol=1e-5, atol=1e-3, err_msg=f"trial {trial}")


def test_matching_hand_example():
    # 3 vehicles at origin 0: 1 request to region 0 worth $-1 (never served), 2 to region 1 worth $5
    x = np.asarray(match(jnp.array([3, 0]), jnp.array([[1, 2], [0, 0]]), jnp.array([[-1.0, 5.0], [0, 0]])))
    assert x.tolist() == [[0, 2], [0, 0]]
    # origin 0 (3 vehicles) fills $9 trips before $5 ones; origin 1 (1 vehicle) takes its $4 trip
    x = np.asarray(match(jnp.array([3, 1, 0]), jnp.array([[0, 2, 2], [1, 0, 3], [0, 0, 0]]),
                         jnp.array([[1.0, 5.0, 9.0], [2.0, 0.0, 4.0], [0, 0, 0]])))
    assert x.tolist() == [[0, 1, 2], [0, 0, 1], [0, 0, 0]]


def _transport_lp(s, e, c):
    from scipy.optimize import linprog

    n = len(s)
    a = np.zeros((2 * n, n * n))
    for i in range(n):
        a[i, i * n:(i + 1) * n] = 1
        a[n + i, i::n] = -1
    return linprog(c.reshape(-1).astype(float), A_ub=a, b_ub=np.r_[s, -e], bounds=(0, None), method="highs").fun


def test_transport_is_exact_and_feasible():
    rng = np.random.default_rng(1)
    solve, greedy = jax.jit(transport, static_argnums=3), jax.jit(least_cost)
    for trial in range(40):
        n = int(rng.choice(SIZES))
        cost = rng.integers(1, 25, (n, n))
        idle = rng.multinomial(int(rng.integers(0, 400)), rng.dirichlet(np.ones(n) * 0.5))
        desired = np.asarray(targets(jnp.asarray(rng.dirichlet(np.ones(n)), jnp.float32), jnp.asarray(idle, jnp.int32)))
        s, e = np.maximum(idle - desired, 0), np.maximum(desired - idle, 0)
        f = np.asarray(solve(jnp.asarray(s), jnp.asarray(e), jnp.asarray(cost), 2 * n))
        assert (f >= 0).all() and (f.sum(1) <= s).all() and (f.sum(0) == e).all(), trial
        assert (f * cost).sum() == pytest.approx(_transport_lp(s, e, cost), abs=1e-6), trial
        g = np.asarray(greedy(jnp.asarray(s), jnp.asarray(e), jnp.asarray(cost)))
        assert (g.sum(0) == e).all() and (f * cost).sum() <= (g * cost).sum()  # never worse than greedy


def test_targets_never_exceed_the_fleet_and_give_back_exact_counts():
    idle = jnp.array([5, 0, 7, 3], jnp.int32)
    assert targets(jnp.array([0.25, 0.25, 0.25, 0.25]), idle).tolist() == [3, 3, 3, 3]  # floor(15/4)
    counts = jnp.array([1, 9, 0, 5])
    assert targets(counts / 15.0, idle).tolist() == [1, 9, 0, 5]
    f = np.asarray(_rebalance(idle, targets(jnp.ones(4) / 4, idle), jnp.ones((4, 4), jnp.int32)))
    assert f.sum() == 3 and f[:, 1].sum() == 3 and np.diag(f).sum() == 0  # region 1 filled, nothing else moves


@needs_data
@pytest.mark.parametrize("path", FILES, ids=[p.stem.removeprefix("scenario_") for p in FILES])
def test_rebalancing_within_2_percent_of_highs_on_every_city(path):
    """States as the env meets them: a random share of the fleet idle over regions, Dirichlet targets
    (the random policy) and equal targets; summed over instances, the in-jit plan costs <= 1.02 x the
    optimum of RL4AMOD's integer program (which may also route through third regions)."""
    c = load_city(str(path))
    rng = np.random.default_rng(2)
    ours = best = 0.0
    for _ in range(12):
        idle = rng.multinomial(int(c.fleet.sum() * rng.uniform(0.2, 1.0)), rng.dirichlet(np.ones(c.n) * 0.5))
        for dist in (rng.dirichlet(np.ones(c.n)), np.ones(c.n) / c.n):
            desired = np.asarray(targets(jnp.asarray(dist, jnp.float32), jnp.asarray(idle, jnp.int32)))
            f = np.asarray(_rebalance(jnp.asarray(idle, jnp.int32), jnp.asarray(desired), jnp.asarray(c.reb_steps)))
            after = idle - f.sum(1) + f.sum(0)
            assert (f >= 0).all() and (f.sum(1) <= idle).all() and (after >= desired).all()
            ours += (f * c.reb_steps).sum()
            best += rebalance_lp(idle, desired, c.reb_steps)[1]
    assert best > 0 and ours <= 1.02 * best, f"{c.name}: {ours} vs HiGHS {best} ({(ours / best - 1) * 100:.2f}%)"
    print(f"{c.name}: in-jit {ours:.0f} vs HiGHS {best:.0f}: gap {(ours / best - 1) * 100:.2f}%")
