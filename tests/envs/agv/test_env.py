"""AGV-v0 and MultiAGV-v0 semantics by hand: sparse and dense rewards, termination on goal or collision,
truncation at the time limit, moving obstacles, disjoint train/test layout splits, AGV-AGV collisions,
parked AGVs and counted deliveries, bad options."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.envs.agv import AGV, MultiAGV
from realax.envs.agv.env import advance_phase, obstacles_at, split_table
from realax.envs.agv.scenarios import PRESETS, build
from realax.errors import RealaxError

# an open 10 x 4 m floor: start (1.5, 1.5), goal (6.5, 1.5), one obstacle that walks towards the start along y = 1.5
OPEN = build({"name": "open", "lidar_range_m": 12.0, "min_goal_distance_m": 1.0, "layout": {
    "width_m": 10.0, "height_m": 4.0, "shelves": [], "depots": [[1, 1]], "pick_stations": [[6, 1]]}})
MOVER = build({"name": "mover", "lidar_range_m": 12.0, "lidar_resolution_m": 0.0, "min_goal_distance_m": 1.0, "layout": {
    "width_m": 14.0, "height_m": 4.0, "shelves": [], "depots": [[1, 1]], "pick_stations": [[1, 3]]},
    "obstacles": [[12.0, 1.5, 1.0, 1.5, 1.0, 0.45]]})
DUO = build({"name": "duo", "min_goal_distance_m": 1.0, "layout": {
    "width_m": 10.0, "height_m": 4.0, "shelves": [], "depots": [[1, 1], [6, 1]], "pick_stations": [[1, 3], [8, 3]]}})
FWD, STOP = jnp.array([1.0, 0.0]), jnp.array([0.0, 0.0])


def _run(env, params, state, actions):
    """Step with each action in turn (one jitted step per env); ``(states, rewards, terms, truncs, infos)``."""
    step = _step(env)
    out = []
    for a in actions:
        _, state, r, te, tr, info = step(jax.random.key(0), state, a, params)
        out.append((state, float(r) if np.ndim(r) == 0 else np.asarray(r), bool(te), bool(tr), info))
        if te or tr:
            break
    return out


_STEPS: dict[int, object] = {}


def _step(env):
    return _STEPS.setdefault(id(env), jax.jit(env.step_env))


@pytest.fixture(scope="module", params=["sparse", "dense"])
def straight(request):
    env = AGV(OPEN, reward_mode=request.param)
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    return env, params, env.sync(state.replace(theta=jnp.float32(0.0)), params)


def test_driving_to_the_goal_is_success_and_terminates(straight):
    env, params, state = straight
    out = _run(env, params, state, [FWD] * 100)
    last_state, r_last, te, tr, info = out[-1]
    assert te and not tr and bool(info["success"]) and not bool(info["collision"])
    assert int(info["time_to_goal"]) == len(out) and int(out[-2][4]["time_to_goal"]) == -1
    # 5 m to go, 0.3 m goal radius; v ramps 0.1 m/s per step to 1 m/s: 0.55 m in 10 steps, then 0.1 m a step
    assert len(out) == 10 + int(np.ceil((4.7 - 0.55) / 0.1))
    rewards = np.array([o[1] for o in out])
    if env.reward_mode == "sparse":
        np.testing.assert_array_equal(rewards, [0.0] * (len(out) - 1) + [1.0])
    else:  # 0.25 per metre of progress, -0.01 a step, +4 at the goal (no obstacle within 0.1 m on this floor)
        assert rewards[-1] == pytest.approx(4.0 - 0.01, abs=1e-5)
        assert rewards[20] == pytest.approx(0.25 * 0.1 - 0.01, abs=1e-4)
        assert rewards[:-1].sum() == pytest.approx(0.25 * (5.0 - float(out[-2][4]["distance_to_goal"])) - 0.01 * (len(out) - 1),
                                                   abs=1e-3)


def test_driving_into_the_wall_is_a_terminal_collision(straight):
    env, params, state = straight
    out = _run(env, params, env.sync(state.replace(theta=jnp.float32(np.pi)), params), [FWD] * 100)
    last_state, r, te, tr, info = out[-1]
    assert te and not tr and bool(info["collision"]) and not bool(info["success"])
    assert float(info["cost"][0]) == 1.0 and int(info["time_to_goal"]) == -1
    assert float(last_state.pos[0]) == pytest.approx(0.3, abs=2e-3)  # stopped at the wall, not in it
    assert float(last_state.vel[0]) == 0.0
    if env.reward_mode == "sparse":
        assert r == -1.0 and all(o[1] == 0.0 for o in out[:-1])
    else:
        moved = float(info["distance_to_goal"]) - float(out[-2][4]["distance_to_goal"])
        assert r == pytest.approx(-5.0 - 0.01 - 0.1 - 0.25 * moved, abs=1e-4)


def test_standing_still_is_truncated_at_the_time_limit_only(straight):
    env, params, state = straight
    out = _run(env, params.replace(max_steps=12), state, [STOP] * 20)
    assert len(out) == 12 and out[-1][3] and not out[-1][2] and not any(o[3] for o in out[:-1])


def test_a_moving_obstacle_moves_and_the_lidar_sees_it():
    env = AGV(MOVER, num_beams=8, split="all")
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone
    state = jax.jit(env.sync)(state.replace(theta=jnp.float32(0.0), phase=jnp.zeros(1, jnp.float32)), params)
    assert float(env.lidar_ranges(state)[4]) == pytest.approx(12.0 - 0.45 - 1.5, abs=1e-4)  # beam 4: ahead
    out = _run(env, params, state, [STOP] * 10)
    moved = out[-1][0]
    np.testing.assert_allclose(np.asarray(obstacles_at(moved.phase, params))[0], [11.0, 1.5, 0.45], atol=1e-4)
    assert float(env.lidar_ranges(moved)[4]) == pytest.approx(9.05, abs=1e-4)
    # standing in its lane, the AGV turns it back: its field (radii 0.75 + its step 0.1 + yield_m 0.5) ends
    # 1.35 m ahead, so it walks to x = 2.8 (the AGV at 1.5), turns, and never runs into the AGV
    held = _run(env, params, moved, [STOP] * 200)
    assert len(held) == 200 and not any(bool(o[4]["collision"]) for o in held)
    xs = np.asarray(jax.vmap(obstacles_at, in_axes=(0, None))(jnp.stack([o[0].phase for o in held]), params))[:, 0, 0]
    assert xs.min() == pytest.approx(2.8, abs=1e-4)
    turn = int(np.argmin(xs))
    np.testing.assert_allclose(xs[turn - 2:turn + 3], [3.0, 2.9, 2.8, 2.9, 3.0], atol=1e-4)


def test_a_mover_turns_back_for_an_agv_ahead_and_waits_between_two():
    """``advance_phase``: an AGV in the lane ahead turns the mover back (the same point, the other way); AGVs
    ahead and behind make it wait; an AGV beside the lane (more than the radii + 5 cm across) changes nothing."""
    params = AGV(MOVER).default_params  # the mover walks from x = 12 towards x = 1 along y = 1.5 at 1 m/s
    phase = jnp.array([1.0 / 11.0])  # at x = 11, heading -x
    at = lambda ph: np.asarray(obstacles_at(ph, params))[0, :2]  # noqa: E731
    np.testing.assert_allclose(at(advance_phase(phase, params, jnp.array([[5.0, 1.5]]))), [10.9, 1.5], atol=1e-5)
    np.testing.assert_allclose(at(advance_phase(phase, params, jnp.array([[9.7, 1.5]]))), [11.1, 1.5], atol=1e-5)
    np.testing.assert_allclose(at(advance_phase(phase, params, jnp.array([[9.7, 2.35]]))), [10.9, 1.5], atol=1e-5)
    both = jnp.array([[9.7, 1.6], [12.3, 1.4]])
    np.testing.assert_allclose(at(advance_phase(phase, params, both)), [11.0, 1.5], atol=1e-5)
    # at the end of its path (x = 12) it cannot turn back without turning again towards the AGV: it waits
    np.testing.assert_allclose(at(advance_phase(jnp.zeros(1), params, jnp.array([[10.7, 1.5]]))), [12.0, 1.5], atol=1e-5)


def test_presets_dynamic_obstacles_move():
    """The presets' obstacles walk their paths at their speeds (the env's step advances them with
    ``advance_phase``; ``test_a_moving_obstacle_moves_and_the_lidar_sees_it`` steps the env itself)."""
    params = AGV("complex_dynamic").default_params
    phase0 = jnp.array([0.1, 0.3, 0.5, 0.7])
    phase = phase0
    for _ in range(5):
        phase = advance_phase(phase, params, jnp.full((1, 2), -100.0))  # no AGV near: nothing to wait for
    gap = np.linalg.norm(np.asarray(obstacles_at(phase, params) - obstacles_at(phase0, params))[:, :2], axis=1)
    np.testing.assert_allclose(gap, 5 * 0.1 * np.asarray(params.obstacle_speed), atol=1e-4)


def test_train_and_test_layouts_are_disjoint_and_fixed_by_the_seed():
    s = PRESETS["complex_static"]
    train, test, every = (split_table(s, k, 0) for k in ("train", "test", "all"))
    assert not (train & test).any() and ((train | test) == every).all() and test.any() and train.sum() > test.sum()
    np.testing.assert_array_equal(split_table(s, "test", 0), test)
    assert not np.array_equal(split_table(s, "test", 1), test)
    for split, table in (("train", train), ("test", test)):  # every episode's pair comes from its split
        env = AGV("complex_static", split=split)
        p = env.default_params
        _, st = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(5), 256), p)
        si = np.argmin(np.linalg.norm(np.asarray(st.pos)[:, None] - np.asarray(p.starts)[None], axis=-1), axis=1)
        gi = np.argmin(np.linalg.norm(np.asarray(st.goal)[:, None] - np.asarray(p.goals)[None], axis=-1), axis=1)
        assert table[si, gi].all() and len(set(zip(si, gi, strict=True))) > 10
        assert 0.05 < 1.0 - np.asarray(st.shelf_on).mean() < 0.3  # about 15 % of shelves left out


def test_routes_keep_k_pairs_of_the_split_and_one_is_a_fixed_route():
    s = PRESETS["complex_static"]
    train = split_table(s, "train", 0)
    three = split_table(s, "train", 0, routes=3)
    assert three.sum() == 3 and not (three & ~train).any()
    assert (split_table(s, "train", 0, routes=1) & three).sum() == 1  # the first of a fixed order
    assert not np.array_equal(split_table(s, "train", 1, routes=3), three)  # another seed, other routes
    env = AGV("complex_static", routes=1)
    _, st = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(2), 64), env.default_params)
    assert len({tuple(x) for x in np.asarray(st.pos)}) == 1 and len({tuple(x) for x in np.asarray(st.goal)}) == 1
    with pytest.raises(RealaxError, match=rf"routes={train.sum() + 1}, but .* holds only {train.sum()} .*allowed"):
        AGV("complex_static", routes=int(train.sum()) + 1)
    with pytest.raises(RealaxError, match="routes"):
        AGV("complex_static", routes=-1)


def test_agv_agv_collision_parks_both_and_ends_the_episode():
    env = MultiAGV(DUO, num_agvs=2)
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    state = jax.jit(env.sync)(state.replace(pos=jnp.array([[1.5, 1.5], [6.5, 1.5]]), theta=jnp.array([0.0, np.pi])), params)
    out = _run(env, params, state, [jnp.array([10, 10])] * 100)  # DISCRETE[10] = full speed ahead
    last, r, te, tr, info = out[-1]
    assert te and np.asarray(info["agv_collision"]).all() and not np.asarray(info["alive"]).any()
    np.testing.assert_array_equal(r, [-1.0, -1.0])
    gap = float(np.linalg.norm(np.asarray(last.pos[0] - last.pos[1])))
    assert 0.6 <= gap <= 0.6 + 3e-3  # touching (each stopped 1 mm short), not overlapping


def test_a_parked_agv_is_masked_to_stop_and_earns_nothing():
    env = MultiAGV(DUO, num_agvs=2)
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    state = state.replace(alive=jnp.array([False, True]))
    mask = np.asarray(env.action_mask(state, params))
    assert mask[0].tolist() == [True] + [False] * 14 and mask[1].all()
    _, s1, r, te, _, info = _step(env)(jax.random.key(1), state, jnp.array([12, 0]), params)
    np.testing.assert_array_equal(np.asarray(s1.pos[0]), np.asarray(state.pos[0]))
    assert float(r[0]) == 0.0 and not bool(te) and not bool(info["alive"][0])


def test_pick_then_deliver_is_counted():
    env = MultiAGV(OPEN, num_agvs=1, task="deliver", action_mode="continuous")
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    np.testing.assert_allclose(np.asarray(state.goal[0]), [6.5, 1.5])  # the only pick station
    state = jax.jit(env.sync)(state.replace(theta=jnp.array([0.0])), params)
    go = [FWD[None]] * 100
    out = _run(env, params, state, go)
    picked = next(i for i, o in enumerate(out) if bool(o[0].carrying[0]))
    s, r, *_ , info = out[picked]
    assert int(info["deliveries"]) == 0 and int(info["delivered"][0]) == 0
    np.testing.assert_allclose(np.asarray(s.goal[0]), [1.5, 1.5])  # now back to its depot
    assert float(r[0]) == 0.0  # sparse: a pick-up earns nothing, a delivery +1 (RWARE)
    back = jax.jit(env.sync)(s.replace(theta=jnp.array([np.pi]), vel=jnp.zeros((1, 2))), params)
    out2 = _run(env, params, back, go)
    done = next(i for i, o in enumerate(out2) if int(o[4]["delivered"][0]))
    s2, r2, te, tr, info2 = out2[done]
    assert int(s2.deliveries) == 1 and bool(info2["success"][0]) and not bool(s2.carrying[0]) and not te
    np.testing.assert_allclose(np.asarray(s2.goal[0]), [6.5, 1.5])  # the next request
    assert float(r2[0]) == 1.0 and all(float(o[1][0]) == 0.0 for o in out2[:done])


def test_bad_options_name_the_field():
    with pytest.raises(RealaxError, match=r"num_beams must be in 1\.\.1024, got 0"):
        AGV(num_beams=0)
    with pytest.raises(RealaxError, match=r"action_mode must be one of \['continuous', 'discrete'\]"):
        realax.make("realax/AGV-v0", action_mode="grid")
    with pytest.raises(RealaxError, match=r"num_agvs must be in 1\.\.4 for scenario simple_static"):
        MultiAGV(num_agvs=5)
    with pytest.raises(RealaxError, match=r"task must be one of"):
        MultiAGV(task="fetch")
    with pytest.raises(RealaxError, match=r"unknown AGV scenario 'maze'"):
        AGV("maze")
    with pytest.raises(RealaxError, match=r"split must be one of \['train', 'test', 'all'\]"):
        AGV(split="val")
