"""UAV baselines: the greedy heuristic and PSO placement beat random flight; our JAX PSO matches pyswarms'
global-best PSO (same coefficients, particles and iterations) on the same objectives."""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.agents.evaluate import evaluate
from realax.baselines import get, names
from realax.baselines.pso import C1, C2, W, minimize
from realax.baselines.uav import placement_score
from tests.tuned import jit_tuned


def _rastrigin(x):
    return 10 * x.shape[-1] + (x**2 - 10 * jnp.cos(2 * jnp.pi * x)).sum(-1)


def _pyswarms(cost_batch, dim, low, high, iters, seeds):
    ps = pytest.importorskip("pyswarms")
    logging.getLogger("pyswarms").setLevel(logging.ERROR)
    out = []
    for s in seeds:
        np.random.seed(s)
        opt = ps.single.GlobalBestPSO(32, dim, options={"c1": C1, "c2": C2, "w": W},
                                      bounds=(np.full(dim, low, float), np.full(dim, high, float)))
        best, _ = opt.optimize(lambda x: np.asarray(cost_batch(jnp.asarray(x, jnp.float32))), iters, verbose=False)
        out.append(float(best))
    return np.array(out)


def test_jax_pso_matches_pyswarms_on_rastrigin_and_on_uav_placement():
    seeds = range(6)
    keys = jax.vmap(jax.random.key)(jnp.arange(len(seeds)))  # = jax.random.key(s) for each seed
    # the seeds' runs vmapped in one program (each eager ``minimize`` call traced and compiled its scan anew)
    ours = np.asarray(jit_tuned(jax.vmap(lambda k: minimize(_rastrigin, k, jnp.full(4, -5.12), jnp.full(4, 5.12), 32,
                                                            100).best_cost))(keys))
    theirs = _pyswarms(jax.jit(jax.vmap(_rastrigin)), 4, -5.12, 5.12, 100, seeds)  # jitted: op by op, each op compiles alone
    assert ours.mean() <= theirs.mean() + 0.5, (ours, theirs)
    assert ours.min() < 1.0  # the global minimum is 0; some runs reach its basin

    env, params = realax.make("realax/UAVOffload-v0")
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    K = env.num_agents
    one = lambda x: -placement_score(env, x.reshape(K, 2), state, params)  # noqa: E731
    cost = jax.jit(jax.vmap(one))
    ours = np.asarray(jit_tuned(jax.vmap(lambda k: minimize(one, k, jnp.zeros(2 * K), jnp.full(2 * K, env.area), 32, 40)
                                         .best_cost))(keys[:3]))
    theirs = _pyswarms(cost, 2 * K, 0.0, env.area, 40, range(3))
    assert ours.mean() <= theirs.mean() + 1.0, (ours, theirs)  # at least as many users offloaded, +-1
    start = -float(jax.jit(lambda u: placement_score(env, u, state, params))(state.uav))
    assert ours.max() < start - 50  # from the start cluster (no user offloaded) to most users on UAVs


def test_greedy_and_pso_beat_random_flight():
    env, params = realax.make("realax/UAVOffload-v0")
    params = params.replace(max_steps=12)  # the hotspots are 2-3 cells from the start: 12 steps tell them apart
    assert names(env) == ["random", "greedy", "pso"]
    key = jax.random.key(0)
    score = {n: float(np.asarray(jit_tuned(lambda k, n=n: evaluate(env, params, get(n, env, params), k, 2))(key)).mean())
             for n in ("random", "greedy", "pso")}
    assert score["greedy"] > 2 * score["random"] and score["pso"] > 2 * score["random"], score


def test_greedy_targets_spread_over_the_hotspots():
    from realax.baselines.uav import greedy_targets

    env, params = realax.make("realax/UAVOffload-v0")
    _, state = jax.jit(env.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone
    targets = np.asarray(jax.jit(lambda s: greedy_targets(env, s))(state))
    centres = np.asarray(params.hotspots[:, :2])
    nearest = np.argmin(np.linalg.norm(targets[:, None] - centres[None], axis=-1), axis=1)
    assert sorted(nearest.tolist()) == [0, 1, 2, 3]  # one UAV per hotspot
    assert np.all(np.min(np.linalg.norm(targets[:, None] - centres[None], axis=-1), axis=1) <= 150)
