"""RoboTaxi dynamics with hand-computed timings, invariants, bad actions, the Gymnasium adapter's refusals,
padding, the 13-city vmapped batch, and RL4AMOD's Brooklyn numbers (±10%)."""

from __future__ import annotations

import json

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax import baselines
from realax.agents.evaluate import evaluate
from realax.baselines import robotaxi as rb
from realax.envs.robotaxi import RoboTaxi
from tests.envs.robotaxi.conftest import BROOKLYN, FILES, needs_data


def _two_regions(tmp_path, rate=50.0, trip_min=8, reb_min=4):
    """Region 0 -> 1 requests only (``rate`` per 4-minute step, $20, ``trip_min`` minutes), fleet 3 + 3."""
    demand = [{"time_stamp": 600 + m, "origin": 0, "destination": 1, "demand": rate / 4, "travel_time": trip_min,
               "price": 20.0} for m in range(160)]
    reb = [{"time_stamp": 10, "origin": i, "destination": j, "reb_time": reb_min} for i in range(2) for j in range(2)]
    path = tmp_path / "scenario_two.json"
    path.write_text(json.dumps({"nlat": 2, "nlon": 1, "demand": demand, "rebTime": reb,
                                "totalAcc": [{"hour": 11, "acc": 6}], "topology_graph": []}))
    return RoboTaxi(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5, step_minutes=4)


def _run(env, params, actions, key=0):
    step = jax.jit(env.step_env)
    _, s = env.reset_env(jax.random.key(key), params)
    out = []
    for a in actions:
        _, s, r, te, tr, info = step(jax.random.key(1), s, jnp.asarray(a, jnp.float32), params)
        out.append((s, float(r), info))
    return out


def test_trip_and_rebalancing_timing_by_hand(tmp_path):
    env = _two_regions(tmp_path)  # trips of 8 min = 2 steps, rebalancing 4 min = 1 step, beta = 2 $/step
    p = env.default_params
    assert p.fleet.tolist() == [3, 3] and float(p.beta) == 2.0
    keep = lambda s: s.idle.astype(jnp.float32) + 1e-6  # noqa: E731  (no rebalancing)
    _, s = env.reset_env(jax.random.key(0), p)
    step = jax.jit(env.step_env)
    # step 0: no rebalancing; the 3 vehicles at 0 serve (Poisson(50) >> 3): profit 3 * (20 - 2 * 2) = 48
    _, s, r, _, _, info = step(jax.random.key(0), s, keep(s), p)
    assert s.idle.tolist() == [0, 3] and float(info["served"]) == 3 and r == pytest.approx(48.0)
    # observation (x 0.01) per region: idle now, idle + arrivals in steps t..t+5, forecast revenue 50 * $20
    obs = np.asarray(env.get_obs(s, p)).reshape(2, 13) * 100
    np.testing.assert_allclose(obs[0], [0] * 7 + [1000] * 6, rtol=1e-5)
    np.testing.assert_allclose(obs[1], [3, 3, 3, 6, 3, 3, 3] + [0] * 6, rtol=1e-5)  # back at step 0 + 2 + 1
    # they are idle again at step 0 + 2 + 1 = 3 (RL4AMOD's order: arrivals join after the next rebalancing)
    for t in (1, 2):
        _, s, r, _, _, info = step(jax.random.key(0), s, keep(s), p)
        assert s.idle.tolist() == [0, 3] and float(info["served"]) == 0 and r == 0.0, t
    _, s, r, _, _, info = step(jax.random.key(0), s, keep(s), p)
    assert float(info["served"]) == 0 and s.idle.tolist() == [0, 6]
    # step 4: move everything to region 0 (1 step): cost 6 * 1 * 2 = 12, they serve from step 5 on
    _, s, r, _, _, info = step(jax.random.key(0), s, jnp.array([1.0, 0.0]), p)
    assert float(info["rebalanced"]) == 6 and float(info["rebalancing_cost"]) == 12 and r == pytest.approx(-12.0)
    assert s.idle.tolist() == [0, 0]
    img = env.render(s, p)  # the 6 rebalancing vehicles show as an orange arrow (the legend has one too)
    still = env.render(s.replace(flows=jnp.zeros_like(s.flows)), p)
    orange = lambda im: ((im[..., 0] > 200) & (im[..., 1] > 100) & (im[..., 1] < 200) & (im[..., 2] < 120)).sum()  # noqa: E731
    assert img.shape == still.shape and img.shape[1] >= 640 and orange(img) > orange(still) + 50
    _, s, r, _, _, info = step(jax.random.key(0), s, keep(s), p)
    assert float(info["served"]) == 6 and r == pytest.approx(6 * 16.0) and s.idle.tolist() == [0, 0]


@pytest.mark.parametrize("city", ["grid", pytest.param(str(BROOKLYN), marks=needs_data)])
def test_invariants_over_random_episodes(city):
    env, params = realax.make("realax/RoboTaxi-v0", city=city)
    fleet = int(params.fleet.sum())

    def run(key):
        _, s = env.reset_env(key, params)

        def body(s, k):
            ka, kd = jax.random.split(k)
            a = jax.random.dirichlet(ka, jnp.ones(env.n))
            d = env.demand(s, params, s.t)
            _, s2, r, _, _, info = env.step_env(k, s, a, params)
            return s2, (s2.idle.sum() + s2.arrivals.sum(), r, info, d.sum())

        return jax.lax.scan(body, s, jax.random.split(key, 20))[1]

    total, r, info, dsum = jax.jit(run)(jax.random.key(3))
    assert (np.asarray(total) == fleet).all()  # no vehicle is created or lost
    assert (info["served"] <= info["demand"]).all() and (info["demand"] == dsum).all()  # demand() is what steps use
    np.testing.assert_allclose(r, info["profit"] - info["rebalancing_cost"], rtol=1e-5, atol=1e-3)
    assert (info["invalid_action"] == 0).all() and info["served"].sum() > 0


def test_bad_actions_inside_jit_are_normalised_and_counted():
    env, p = realax.make("realax/RoboTaxi-v0")
    _, s = env.reset(jax.random.key(0), p)
    step = jax.jit(env.step_env)
    equal = step(jax.random.key(1), s, jnp.ones(env.n), p)
    for bad in (jnp.full(env.n, jnp.nan), -jnp.ones(env.n), jnp.zeros(env.n), jnp.full(env.n, jnp.inf)):
        out = step(jax.random.key(1), s, bad, p)
        assert int(out[5]["invalid_action"]) == 1
        np.testing.assert_array_equal(out[1].idle, equal[1].idle)  # replaced by equal weights
    partial = jnp.ones(env.n).at[0].set(-3.0).at[1].set(jnp.nan)
    out = step(jax.random.key(1), s, partial, p)
    fixed = step(jax.random.key(1), s, jnp.ones(env.n).at[0].set(0.0).at[1].set(0.0), p)
    assert int(out[5]["invalid_action"]) == 1 and int(fixed[5]["invalid_action"]) == 0
    np.testing.assert_array_equal(out[1].flows, fixed[1].flows)  # bad entries dropped, the rest normalised
    scaled = step(jax.random.key(1), s, 7.0 * jnp.ones(env.n), p)  # weights are scale-free
    np.testing.assert_array_equal(scaled[1].flows, equal[1].flows)


def test_gymnasium_adapters_refuse_non_distributions():
    env = gymnasium.make("realax/RoboTaxi-v0")
    env.reset(seed=0)
    n = env.action_space.shape[0]
    ok = np.full(n, 1.0 / n, np.float32)
    env.step(ok)
    for bad, msg in ((np.r_[-0.5, ok[1:]], "outside the action space"), (np.r_[np.nan, ok[1:]], "NaN"),
                     (ok[:-1], "shape"), (np.zeros(n, np.float32), "no weight on any region")):
        with pytest.raises(ValueError, match=msg):
            env.step(bad)
    venv = gymnasium.make_vec("realax/RoboTaxi-v0", num_envs=3, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    batch = np.tile(ok, (3, 1))
    venv.step(batch)
    batch[1] = 0.0
    with pytest.raises(ValueError, match="no weight on any region"):
        venv.step(batch)


def test_baselines_are_distributions_and_registered():
    env, p = realax.make("realax/RoboTaxi-v0")
    assert {"random", "no_rebalancing", "equal_distribution"} <= set(baselines.names(env))
    obs, s = env.reset(jax.random.key(0), p)
    a = jax.vmap(lambda k: baselines.get("random", env, p)(k, obs))(jax.random.split(jax.random.key(1), 500))
    np.testing.assert_allclose(a.sum(1), 1.0, rtol=1e-5)  # Dirichlet: on the simplex, unlike a box sample
    assert (a >= 0).all() and abs(float(a[:, 0].mean()) - 1 / env.n) < 0.01
    out = jax.jit(env.step_env)(jax.random.key(2), s, baselines.get("no_rebalancing", env, p)(None, obs), p)
    assert int(out[1].flows.sum()) == 0 and int(out[5]["invalid_action"]) == 0


def test_padding_changes_nothing():
    small = RoboTaxi("grid", rows=2, cols=3)
    padded = RoboTaxi("grid", rows=2, cols=3, n_regions=9, max_travel_steps=8)
    acts = np.random.default_rng(0).dirichlet(np.ones(6), 20)
    a = _run(small, small.default_params, acts)
    b = _run(padded, padded.default_params, np.pad(acts, [(0, 0), (0, 3)]))
    for (sa, ra, ia), (sb, rb_, ib) in zip(a, b, strict=True):
        assert ra == pytest.approx(rb_, abs=1e-3) and sa.idle.tolist() == sb.idle[:6].tolist()
        assert sb.idle[6:].sum() == 0 and float(ia["served"]) == float(ib["served"])


@needs_data
def test_all_13_cities_in_one_vmapped_call():
    env, params = RoboTaxi.batch([str(f) for f in FILES])
    assert params.mask.shape == (13, 23) and env.n == 23
    n_real = np.asarray(params.mask).sum(1)
    assert sorted(n_real.tolist()) == sorted(json.loads(f.read_text())["nlat"] * json.loads(f.read_text())["nlon"]
                                             for f in FILES)

    def episode(key, p):
        obs, s = env.reset(key, p)

        def body(c, k):
            obs, s = c
            obs, s, r, te, tr, info = env.step(k, s, jnp.ones(env.n), p)
            return (obs, s), (r, info["served"], s.idle.sum() + s.arrivals.sum())

        return jax.lax.scan(body, (obs, s), jax.random.split(key, 19))[1]

    r, served, fleet = jax.jit(jax.vmap(episode))(jax.random.split(jax.random.key(0), 13), params)
    assert r.shape == (13, 19) and np.isfinite(r).all() and (served.sum(1) > 0).all()
    np.testing.assert_array_equal(fleet, np.asarray(params.fleet.sum(1))[:, None].repeat(19, 1))
    one = RoboTaxi(str(FILES[0]), n_regions=23, max_travel_steps=env.buffer - 2, max_rate=200)
    r0 = jax.jit(episode)(jax.random.split(jax.random.key(0), 13)[0], one.default_params)[0]
    np.testing.assert_allclose(r[0], r0, rtol=1e-5)  # the batch runs each city as it runs alone


@needs_data
def test_brooklyn_reproduces_rl4amod_tutorial_within_10_percent():
    """RL4AMOD tutorial (nyc_brooklyn, demand ratio 9, 19:00, beta 0.5, 4-min steps, 20 steps, PuLP):
    no rebalancing 27.6 k, random 25.1 k, equal distribution 49.2 k profit per episode."""
    env, p = realax.make("realax/RoboTaxi-v0", city=str(BROOKLYN))
    for name, target in (("no_rebalancing", 27.6e3), ("random", 25.1e3), ("equal_distribution", 49.2e3)):
        out = rb.episode_totals(env, p, baselines.get(name, env, p), jax.random.key(0), 40)
        mean = float(out["reward"].mean())
        assert 0.9 * target <= mean <= 1.1 * target, (name, mean, target)


@needs_data
def test_mpc_oracle_beats_equal_distribution_on_brooklyn():
    env, p = realax.make("realax/RoboTaxi-v0", city=str(BROOKLYN), max_steps=8)
    key = jax.random.key(5)
    oracle = rb.mpc_episodes(env, p, key, 1, lookahead=4)
    ed = rb.episode_totals(env, p, baselines.get("equal_distribution", env, p), key, 1)
    assert oracle["demand"][0] == pytest.approx(float(ed["demand"][0]))  # same true demand
    assert oracle["reward"][0] > float(ed["reward"][0])
    # the same oracle as a policy of the state (HiGHS through pure_callback inside jit), as `realax eval` runs it
    in_jit = evaluate(env, p, rb.mpc_oracle(env, p, lookahead=4), key, 1)
    assert float(in_jit[0]) == pytest.approx(float(oracle["reward"][0]), rel=1e-5)


def test_matching_value_and_reward_clip_options(tmp_path):
    """RL4AMOD's code matches on fares and clips the step's matching profit at 0; its paper matches on
    fare - operating cost. Trips here earn $20 and cost 2 steps * 12 $/step."""
    env = _two_regions(tmp_path)
    p = env.default_params.replace(beta=jnp.float32(12.0))
    keep = jnp.array([1.0, 1.0])
    _, s = env.reset_env(jax.random.key(0), p)
    step = jax.jit(env.step_env)
    _, _, r, _, _, info = step(jax.random.key(0), s, keep, p)
    assert float(info["served"]) == 3 and float(r) == 0.0  # served at a loss, clipped
    _, _, r, _, _, info = step(jax.random.key(0), s, keep, p.replace(clip_matching_reward=jnp.bool_(False)))
    assert float(info["served"]) == 3 and float(r) == pytest.approx(3 * (20 - 24))
    _, _, r, _, _, info = step(jax.random.key(0), s, keep, p.replace(match_on_profit=jnp.bool_(True)))
    assert float(info["served"]) == 0 and float(r) == 0.0


def test_plus_one_targets_by_hand():
    """RL4AMOD plus_one.py on 4 regions in a line (rebalancing time = distance): origin 0 served 3 destinations,
    origin 2 served 1. Origin 0 takes 2 from region 1 (nearest, 2 idle), then 1 from region 2 (next nearest;
    tie 1 step away is only region 1). Region 2 gave one vehicle, so it owes itself one fewer: 1 - 1 = 0."""
    idle = jnp.array([0, 2, 5, 4])
    reb = jnp.abs(jnp.arange(4)[:, None] - jnp.arange(4)[None, :])
    mask = jnp.ones(4, bool)
    got = rb.plus_one_targets(idle, jnp.array([3, 0, 1, 0]), reb, mask)
    np.testing.assert_array_equal(got, [3, 0, 4, 4])
    # origin 3 owed 2: takes from region 2 (1 step); ties (regions 0 and 2 for origin 1) go to the lower index
    np.testing.assert_array_equal(rb.plus_one_targets(jnp.array([1, 0, 1, 0]), jnp.array([0, 1, 0, 0]), reb, mask),
                                  [0, 1, 1, 0])
    np.testing.assert_array_equal(rb.plus_one_targets(idle, jnp.array([0, 0, 0, 2]), reb, mask), [0, 2, 3, 6])
    # a masked (padding) region never gives, even with vehicles on it; the total is kept
    got = rb.plus_one_targets(jnp.array([0, 9, 5, 4]), jnp.array([2, 0, 0, 0]), reb, jnp.array([True, False, True, True]))
    np.testing.assert_array_equal(got, [2, 9, 3, 4])


def test_last_matching_is_recomputed_exactly_and_plus_one_runs_in_jit():
    env, p = realax.make("realax/RoboTaxi-v0", city="grid")
    step = jax.jit(env.step_env)
    _, s = env.reset_env(jax.random.key(3), p)
    assert int(rb.last_matching(env, s, p).sum()) == 0  # nothing matched before the first step
    fn = jax.jit(baselines.get("plus_one", env, p))
    for t in range(6):
        a = jax.random.dirichlet(jax.random.key(t), jnp.ones(env.n)) if t < 3 else fn(None, None, s)
        _, s, _, _, _, info = step(jax.random.key(10 + t), s, a, p)
        x = rb.last_matching(env, s, p)
        assert int(x.sum()) == int(info["served"]) and int(x.min()) >= 0
        assert int(info["invalid_action"]) == 0
    out = rb.episode_totals(env, p, baselines.get("plus_one", env, p), jax.random.key(0), 4)  # state-taking policy
    assert np.isfinite(out["reward"]).all() and float(out["rebalancing_cost"].sum()) > 0  # it does move vehicles
    assert {"plus_one", "mpc_forecast"} <= set(baselines.names(env))


def test_mpc_forecast_plans_on_the_poisson_means():
    env, p = realax.make("realax/RoboTaxi-v0", city="grid", max_steps=5)
    _, s = env.reset_env(jax.random.key(0), p)
    f = rb.expected_demand(env, s, p, 3)
    np.testing.assert_allclose(f, np.asarray(p.rate)[:3])
    late = s.replace(t=jnp.int32(env.periods - 1))
    assert float(rb.expected_demand(env, late, p, 3)[1:].sum()) == 0.0  # past the city's last period: none
    out = rb.mpc_episodes(env, p, jax.random.key(1), 1, lookahead=3, kind="forecast")
    ed = rb.episode_totals(env, p, baselines.get("equal_distribution", env, p), jax.random.key(1), 1)
    assert out["demand"][0] == pytest.approx(float(ed["demand"][0]))  # same requests, planned without them
    assert np.isfinite(out["reward"][0])
