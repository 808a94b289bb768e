"""UAVOffload dynamics, scenarios and bad input: moves, boundary and collision penalties, velocity mode,
rewards and info, user drops batched by vmap, random waypoints, presets and JSON files."""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.envs.uav import UAVOffload, UAVOffloadCentral
from realax.envs.uav.scenarios import PRESETS, ScenarioError, build
from realax.errors import RealaxError

HOVER, NORTH, EAST, SOUTH, WEST = range(5)


def small(**fields):
    """A 5 x 5 grid of 100 m cells, 2 UAVs, 6 fixed users, one base station."""
    base = dict(name="small", area_m=500.0, v_max_mps=10.0, slot_s=10.0, num_uavs=2,
                uav_start=[[50.0, 50.0], [450.0, 450.0]], users=[[50, 50], [60, 40], [450, 450], [250, 250],
                                                                  [440, 460], [100, 400]],
                base_stations=[[250.0, 250.0]], bs_capacity=2, uav_capacity=2, max_steps=10)
    base.update(fields)
    return build(base)


def reset(env, key=0):
    return jax.jit(env.reset)(jax.random.key(key), env.default_params)


@functools.cache
def stepper(env):
    """``step_env`` jitted once per env (eager mode would compile every primitive on its own)."""
    return jax.jit(env.step_env)


def test_grid_moves_one_cell_and_hover_stays():
    env = UAVOffload(small())
    _, s = reset(env)
    np.testing.assert_allclose(np.asarray(s.uav), [[50, 50], [450, 450]])
    for action, delta in [(HOVER, (0, 0)), (NORTH, (0, 100)), (EAST, (100, 0))]:
        _, s2, *_ = stepper(env)(jax.random.key(1), s, jnp.array([action, HOVER]), env.default_params)
        np.testing.assert_allclose(np.asarray(s2.uav[0]), np.array([50.0, 50.0]) + delta)
    _, s2, *_ = stepper(env)(jax.random.key(1), s, jnp.array([HOVER, SOUTH]), env.default_params)
    np.testing.assert_allclose(np.asarray(s2.uav[1]), [450, 350])
    assert np.asarray(env.get_obs(s2, env.default_params)).tolist() == [0, 3 * 5 + 4]  # row * G + col


def test_leaving_the_area_is_refused_and_penalised():
    env = UAVOffload(small(boundary_penalty=0.25, team_reward=False))
    p = env.default_params
    _, s = reset(env)
    _, s_hover, r_hover, *_ = stepper(env)(jax.random.key(1), s, jnp.array([HOVER, HOVER]), p)
    _, s_out, r_out, _, _, info = stepper(env)(jax.random.key(1), s, jnp.array([WEST, EAST]), p)
    np.testing.assert_allclose(np.asarray(s_out.uav), np.asarray(s.uav))
    assert np.asarray(info["out_of_area"]).tolist() == [True, True]
    np.testing.assert_allclose(np.asarray(r_out), np.asarray(r_hover) - 0.25)


def test_collisions_cost_both_uavs():
    env = UAVOffload(small(uav_start=[[150.0, 50.0], [50.0, 50.0]], collision_penalty=0.5, team_reward=False))
    p = env.default_params
    _, s = reset(env)
    _, _, r_apart, _, _, info_apart = stepper(env)(jax.random.key(1), s, jnp.array([HOVER, HOVER]), p)
    _, s2, r_hit, _, _, info = stepper(env)(jax.random.key(1), s, jnp.array([WEST, HOVER]), p)
    assert np.asarray(info["collision"]).tolist() == [True, True]
    assert not np.asarray(info_apart["collision"]).any()
    assert np.asarray(s2.uav[0]).tolist() == np.asarray(s2.uav[1]).tolist()
    assert np.all(np.asarray(r_hit) <= np.asarray(r_apart).max() - 0.5 + 1e-6)


def test_team_and_credit_rewards_and_info_add_up():
    for team in (True, False):
        env = UAVOffload(small(team_reward=team, collision_penalty=0.0, boundary_penalty=0.0))
        _, s = reset(env)
        _, s, r, _, _, info = stepper(env)(jax.random.key(1), s, jnp.array([HOVER, HOVER]), env.default_params)
        users = np.asarray(info["uav_users"])
        U = env.num_users
        assert float(info["association_rate"]) == pytest.approx(users.sum() / U)
        assert users.sum() + int(info["bs_served"]) + int(info["unserved"]) == U
        expected = np.full(2, users.sum() / U) if team else users / U
        np.testing.assert_allclose(np.asarray(r), expected, rtol=1e-6)
    # the hand-built layout: UAV 0 over users 0, 1 and UAV 1 over users 2, 4 (capacity 2 each)
    assert users.tolist() == [2, 2]
    assert np.asarray(s.serving)[[0, 1, 2, 4]].tolist() == [0, 0, 1, 1]


def test_velocity_mode_moves_up_to_one_cell_and_counts_nan():
    env = UAVOffload(small(), mode="velocity", obs="vector")
    p = env.default_params
    _, s = reset(env)
    _, s2, _, _, _, info = stepper(env)(jax.random.key(1), s, jnp.array([[0.5, -0.25], [2.0, 0.0]]), p)
    np.testing.assert_allclose(np.asarray(s2.uav), [[100.0, 25.0], [500.0, 450.0]], atol=1e-4)  # clipped to [-1,1]
    assert np.asarray(info["out_of_area"]).tolist() == [False, True]
    _, s3, _, _, _, info = stepper(env)(jax.random.key(1), s, jnp.array([[jnp.nan, 0.0], [0.0, 0.0]]), p)
    assert np.asarray(info["invalid_action"]).tolist() == [1, 0]
    np.testing.assert_allclose(np.asarray(s3.uav), np.asarray(s.uav))
    with pytest.raises(RealaxError, match=r"shape \(2,\); expected \(2, 2\)"):
        stepper(env)(jax.random.key(1), s, jnp.array([0.0, 0.0]), p)


def test_vector_observation_layout():
    env = UAVOffload(small(), obs="vector", map_size=2)
    obs, s = reset(env)
    obs = np.asarray(obs)
    assert obs.shape == (2, 2 + 2 + 1 + 8) and env.observation_space().shape == (13,)
    np.testing.assert_allclose(obs[0, :2], [0.1, 0.1])
    np.testing.assert_allclose(obs[0, 2:4], [0.8, 0.8])  # the other UAV, relative
    np.testing.assert_allclose(obs[1, 2:4], [-0.8, -0.8])
    density = obs[0, 5:9]
    assert density.sum() == pytest.approx(1.0) and density[0] == pytest.approx(2 / 6)  # users 0, 1 bottom-left
    assert np.asarray(env.global_state(s, env.default_params)).shape == env.global_state_space().shape


def test_a_batch_of_user_drops_is_one_vmap():
    env, params = realax.make("realax/UAVOffload-v0")
    drops = jax.random.uniform(jax.random.key(3), (8, env.num_users, 2), maxval=env.area)
    batch = jax.vmap(lambda xy: params.replace(user_xy=xy, fixed_users=jnp.bool_(True)))(drops)
    _, states = jax.jit(jax.vmap(env.reset, in_axes=(None, 0)))(jax.random.key(0), batch)
    np.testing.assert_allclose(np.asarray(states.user), np.asarray(drops))
    # and a batch of user densities (hotspot spreads) likewise
    spreads = jnp.array([10.0, 50.0, 200.0])
    batch = jax.vmap(lambda sd: params.replace(hotspots=params.hotspots.at[:, 2].set(sd), uniform_fraction=0.0))(spreads)
    _, states = jax.jit(jax.vmap(env.reset, in_axes=(None, 0)))(jax.random.key(0), batch)
    centres = np.asarray(params.hotspots[:, :2])
    near = [np.min(np.linalg.norm(np.asarray(u)[:, None] - centres[None], axis=-1), axis=1).mean() for u in states.user]
    assert near[0] < near[1] < near[2]


def test_random_waypoint_users_walk_at_their_speed():
    env = UAVOffload(small(users=None, num_users=20, hotspots=[], uniform_fraction=1.0, user_speed_mps=3.0))
    p = env.default_params
    _, s = reset(env)
    _, s2, *_ = stepper(env)(jax.random.key(1), s, jnp.zeros(2, jnp.int32), p)
    step = np.linalg.norm(np.asarray(s2.user) - np.asarray(s.user), axis=1)
    arrived = np.linalg.norm(np.asarray(s.waypoint) - np.asarray(s.user), axis=1) <= 30.0
    np.testing.assert_allclose(step[~arrived], 30.0, rtol=1e-4)  # 3 m/s x 10 s
    static = UAVOffload(small())
    _, s = reset(static)
    _, s2, *_ = stepper(static)(jax.random.key(1), s, jnp.zeros(2, jnp.int32), static.default_params)
    np.testing.assert_array_equal(np.asarray(s2.user), np.asarray(s.user))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_runs_and_episodes_truncate(preset):
    env, params = realax.make("realax/UAVOffload-v0", scenario=preset)
    assert env.scenario.name == preset
    obs, s = jax.jit(env.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone
    step = jax.jit(env.step)
    for _ in range(int(params.max_steps)):
        obs, s, r, term, trunc, info = step(jax.random.key(1), s, jnp.zeros(env.num_agents, jnp.int32), params)
        assert not bool(term)
    assert bool(trunc) and int(s.t) == 0


def test_json_scenario_round_trip(tmp_path):
    f = tmp_path / "two_cells.json"
    f.write_text(json.dumps({"area_m": 200, "v_max_mps": 10, "slot_s": 10, "num_uavs": 2, "users": [[10, 10], [190, 190]],
                             "base_stations": [], "environment": "suburban", "sinr_threshold_db": 3}))
    env, params = realax.make("realax/UAVOffload-v0", scenario=str(f))
    assert env.scenario.name == "two_cells" and env.grid == 2 and env.num_users == 2
    _, s = jax.jit(env.reset)(jax.random.key(0), params)
    assert np.asarray(s.user).tolist() == [[10, 10], [190, 190]]


@pytest.mark.parametrize("fields, message", [
    ({"altitude_m": 0}, r"altitude_m must be > 0, got 0"),
    ({"altitude_m": -50}, r"altitude_m must be > 0"),
    ({"sinr_threshold_db": float("nan")}, r"sinr_threshold_db must be a finite number, got nan"),
    ({"sinr_threshold_db": -3}, r"sinr_threshold_db must be >= 0, got -3"),
    ({"num_uavs": 5, "area_m": 200}, r"num_uavs = 5 is more than the 2x2 = 4 grid cells"),
    ({"users": [[10, 10], [1200, 40]]}, r"users\[1\] = \[1200.0, 40.0\] is outside the area \[0, 1000\] m"),
    ({"area_m": 1050}, r"must be a whole number of cells"),
    ({"altitude": 100}, r"unknown field\(s\) \['altitude'\]; allowed: "),
    ({"environment": "jungle"}, r"environment 'jungle' is unknown; one of \['dense_urban', 'high_rise'"),
    ({"num_uavs": 2, "uav_start": [[0, 0]]}, r"uav_start lists 1 positions for num_uavs = 2"),
    ({"num_users": 3.5}, r"num_users must be a whole number"),
])
def test_bad_scenarios_name_the_field(tmp_path, fields, message):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(fields))
    with pytest.raises(ScenarioError, match=message):
        realax.make("realax/UAVOffload-v0", scenario=str(f))


def test_bad_options_and_files_name_what_is_allowed(tmp_path):
    with pytest.raises(ScenarioError, match=r"unknown UAV scenario 'mondal'; presets: \['mondal2025', 'tn_ntn'"):
        realax.make("realax/UAVOffload-v0", scenario="mondal")
    with pytest.raises(RealaxError, match=r"mode must be one of \['grid', 'velocity'\]"):
        realax.make("realax/UAVOffload-v0", mode="fly")
    with pytest.raises(RealaxError, match=r"obs must be one of \['cell', 'vector'\]"):
        realax.make("realax/UAVOffload-v0", obs="image")
    f = tmp_path / "broken.json"
    f.write_text("{not json")
    with pytest.raises(ScenarioError, match="is not valid JSON"):
        realax.make("realax/UAVOffload-v0", scenario=str(f))


def test_adapters_refuse_actions_outside_the_space():
    pz = realax.parallel_env("realax/UAVOffload-v0")
    pz.reset(seed=0)
    with pytest.raises(RealaxError, match="Discrete\\(5\\)"):
        pz.step({a: (7 if a == "uav_1" else 0) for a in pz.agents})
    import gymnasium

    g = gymnasium.make("realax/UAVOffloadCentral-v0")
    g.reset(seed=0)
    with pytest.raises(RealaxError, match="outside the action space"):
        g.step(np.array([0, 5, 0, 0]))
    g.step(np.array([0, 4, 0, 0]))


def test_central_view_flies_every_uav_and_averages_rewards():
    central, cp = realax.make("realax/UAVOffloadCentral-v0")
    multi = UAVOffload(obs="vector")
    obs, s = jax.jit(central.reset)(jax.random.key(0), cp)
    _, ms = jax.jit(multi.reset)(jax.random.key(0), multi.default_params)
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(jax.jit(multi.global_state)(ms, multi.default_params)))
    a = jnp.array([1, 2, 3, 4])
    out_c = jax.jit(central.step_env)(jax.random.key(1), s, a, cp)
    out_m = jax.jit(multi.step_env)(jax.random.key(1), ms, a, multi.default_params)
    assert float(out_c[2]) == pytest.approx(float(np.asarray(out_m[2]).mean()))
    assert isinstance(central, UAVOffloadCentral) and central.action_space().nvec.tolist() == [5, 5, 5, 5]


def test_render_draws_the_area():
    env, params = realax.make("realax/UAVOffload-v0")
    _, s = env.reset(jax.random.key(0), params)
    img = env.render(s, params, reward=jnp.ones(4), episode_return=jnp.ones(4) * 3)
    assert img.shape == (540, 960, 3) and img.dtype == np.uint8 and img.std() > 10


def test_dataset_spaces_stack_the_agent_axis_of_a_discrete_observation():
    """``realax data generate`` stores one step's spaces with the agent axis first; the cell observation is
    ``Discrete`` per UAV, so the stored observation space is ``MultiDiscrete([G*G] * K)``."""
    import gymnasium

    from realax.offline.minari_io import gym_spaces

    env, params = realax.make("realax/UAVOffload-v0")
    obs, act = gym_spaces(env, params, multi_agent=True)
    assert obs == gymnasium.spaces.MultiDiscrete([100] * 4) and act == gymnasium.spaces.MultiDiscrete([5] * 4)
    obs, act = gym_spaces(*realax.make("realax/UAVOffload-v0", obs="vector", mode="velocity"), multi_agent=True)
    assert obs.shape == (4, 59) and act.shape == (4, 2)


def test_jaxmarl_dict_interface_steps_the_uav_env():
    from realax.wrappers.jaxmarl import JaxMARLEnv

    env = JaxMARLEnv("realax/UAVOffload-v0")
    obs, state = jax.jit(env.reset)(jax.random.key(0))
    assert sorted(obs) == [*(f"uav_{k}" for k in range(4)), "world_state"]
    actions = {a: jnp.int32(2) for a in env.agents}
    obs, state, rewards, dones, infos = jax.jit(env.step)(jax.random.key(1), state, actions)
    assert set(rewards) == set(env.agents) and not bool(dones["__all__"])
    assert float(infos["association_rate"][0]) >= 0.0  # episode-level entries repeated per agent, as JaxMARL's
    assert all(v.shape == (4,) for v in infos.values())
