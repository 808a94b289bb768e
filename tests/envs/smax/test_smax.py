"""SMAX logic with hand-computed values (stats of research/jax-env-anchors.md §2.2), scenarios, bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.envs.smax import SCENARIOS, SMAX, custom
from realax.envs.smax.heuristic import heuristic_actions
from realax.errors import RealaxError

STOP = 4


def duel(ax=10.0, ex=13.0, ally="marine", enemy="marine", self_play=True):
    """One unit per side at y = 16; with self_play the enemy is an agent too (it stops unless told)."""
    env = SMAX(custom({ally: 1}, {enemy: 1}, [(ax, 16.0)], [(ex, 16.0)]), self_play=self_play)
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)  # one program: eager ops compile one by one
    return env, params, state


def step(env, params, state, actions, key=1):
    return jax.jit(env.step_env)(jax.random.key(key), state, jnp.asarray(actions, jnp.int32), params)


def test_start_positions_and_stats():
    env, params, state = duel()
    np.testing.assert_allclose(np.asarray(state.pos), [[10, 16], [13, 16]])
    np.testing.assert_allclose(np.asarray(state.health), [45, 45])
    assert env.action_space(params).n == 6 and env.agents == ("ally_0", "enemy_0")
    env3 = SMAX("3m")
    assert env3.action_space(params).n == 8 and env3.obs_size == 75 and env3.agents == ("ally_0", "ally_1", "ally_2")
    assert SMAX("2s3z").obs_size == 127 and SMAX("27m_vs_30m").obs_size == 738  # §2.5
    _, s = jax.jit(env3.reset)(jax.random.key(3), params)  # default starts: (8, 16) and (24, 16), each +- 2
    p = np.asarray(s.pos)
    assert np.all(np.abs(p[:3] - [8, 16]) <= 2.5) and np.all(np.abs(p[3:] - [24, 16]) <= 2.5)


def test_attack_in_range_removes_exactly_one_shot_and_pays_the_fraction():
    env, params, state = duel()
    _obs, s, r, term, trunc, info = step(env, params, state, [5, STOP])
    # tick 0 fires (cooldown 0); the new cooldown >= 0.61 - 1/16 outlasts the other 7 ticks (7/16 s)
    np.testing.assert_allclose(np.asarray(s.health), [45, 36])
    np.testing.assert_allclose(np.asarray(r), [9 / 45, 0.0], rtol=1e-6)
    cd = float(s.cooldown[0])
    assert 0.61 - 1 / 16 - 7 / 16 - 1e-6 <= cd <= 0.61 + 2 / 16 - 7 / 16 + 1e-6
    assert not term and not trunc and int(info["invalid_action"].sum()) == 0
    # after the cooldown runs out it fires again: at most 2 more shots in the next 8 ticks (0.5 s)
    _, s2, _r2, *_ = step(env, params, s, [5, STOP], key=2)
    assert float(s2.health[1]) in (27.0, 18.0)
    assert int(s2.prev_attack[0]) == 5


def test_movement_is_speed_times_time_and_directions():
    env, params, state = duel(10.0, 25.0)
    for a, d in [(0, (0, 1)), (1, (1, 0)), (2, (0, -1)), (3, (-1, 0))]:
        _, s, *_ = step(env, params, state, [a, STOP])
        np.testing.assert_allclose(np.asarray(s.pos[0]), np.array([10, 16]) + 3.15 * 0.5 * np.array(d), atol=1e-5)
        np.testing.assert_allclose(np.asarray(s.prev_move[0]), d)
        np.testing.assert_allclose(np.asarray(s.pos[1]), [25, 16])
    env_z, params_z, state_z = duel(10.0, 25.0, ally="zergling")
    _, s, *_ = step(env_z, params_z, state_z, [1, STOP])
    np.testing.assert_allclose(float(s.pos[0, 0]), 10 + 4.13 * 0.5, atol=1e-5)


def test_out_of_range_attack_is_masked_and_replaced_by_stop():
    env, params, state = duel(10.0, 18.0)  # 8 apart, marine range 5
    mask = np.asarray(env.action_mask(state, params))
    np.testing.assert_array_equal(mask[0], [True] * 5 + [False])
    bad = step(env, params, state, [5, STOP])
    ok = step(env, params, state, [STOP, STOP])
    np.testing.assert_array_equal(np.asarray(bad[5]["invalid_action"]), [1, 0])
    np.testing.assert_allclose(np.asarray(bad[1].health), [45, 45])
    np.testing.assert_array_equal(np.asarray(bad[0]), np.asarray(ok[0]))
    assert int(bad[1].prev_attack[0]) == 0
    # in range (3 apart) the attack is allowed; a zealot (range 2) may not shoot at 3
    env2, p2, s2 = duel()
    assert bool(env2.action_mask(s2, p2)[0, 5])
    env3, p3, s3 = duel(ally="zealot")
    assert not bool(env3.action_mask(s3, p3)[0, 5])


def test_dead_units_cannot_act_and_leave_the_alive_mask():
    env, params, state = SMAX("3m"), SMAX("3m").default_params, None
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    state = state.replace(health=state.health.at[1].set(0.0), alive=state.alive.at[1].set(False))
    mask = np.asarray(env.action_mask(state, params))
    np.testing.assert_array_equal(mask[1], [False] * 4 + [True] + [False] * 3)
    obs, s, _r, _term, _trunc, info = step(env, params, state, [STOP, 1, STOP])
    np.testing.assert_array_equal(np.asarray(info["alive"]), [True, False, True])
    np.testing.assert_array_equal(np.asarray(info["invalid_action"]), [0, 1, 0])
    np.testing.assert_array_equal(np.asarray(s.pos[1]), np.asarray(state.pos[1]))
    assert np.all(np.asarray(obs[1]) == 0)  # a dead unit sees nothing
    assert np.all(np.asarray(obs[0, 0:13]) == 0)  # and is not seen


def test_win_bonus_loss_and_draw_terminate():
    env, params, state = duel()
    low = state.replace(health=state.health.at[1].set(9.0))
    _, s, r, term, trunc, info = step(env, params, low, [5, STOP])
    np.testing.assert_allclose(np.asarray(r), [9 / 45 + 1.0, 0.0], rtol=1e-6)
    assert bool(term) and not bool(trunc) and bool(info["won"]) and not bool(s.alive[1])
    low = state.replace(health=state.health.at[0].set(9.0))
    _, s, r, term, _, info = step(env, params, low, [STOP, 5])  # enemy's 5 = ally n_a - 1 - 0
    np.testing.assert_allclose(np.asarray(r), [0.0, 9 / 45 + 1.0], rtol=1e-6)
    assert bool(term) and not bool(info["won"])
    both = state.replace(health=jnp.array([9.0, 9.0]))
    _, s, r, term, *_ = step(env, params, both, [5, 5])  # simultaneous fire: a draw, no bonus
    np.testing.assert_allclose(np.asarray(r), [0.2, 0.2], rtol=1e-6)
    assert bool(term) and not np.any(np.asarray(s.alive))
    scaled = params.replace(reward_scale=10.0)
    np.testing.assert_allclose(np.asarray(step(env, scaled, state, [5, STOP])[2]), [2.0, 0.0], rtol=1e-6)


def test_walls_kill_and_count_as_damage():
    env, params, state = duel(0.5, 25.0)
    _, s, r, term, *_ = step(env, params, state, [3, STOP])
    assert not bool(s.alive[0]) and bool(term) and float(s.pos[0, 0]) == 0.0
    np.testing.assert_allclose(np.asarray(r), [0.0, 1.0 + 1.0])
    _, s, *_ = step(env, params.replace(walls_cause_death=False), state, [3, STOP])
    assert bool(s.alive[0]) and float(s.pos[0, 0]) == 0.0


def test_time_limit_truncates_at_100_steps():
    env = SMAX("3m", self_play=True)
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)

    def body(s, k):
        _, s, _r, term, trunc, _ = env.step_env(k, s, jnp.full((6,), STOP, jnp.int32), params)
        return s, (term, trunc)

    _, (term, trunc) = jax.jit(lambda s: jax.lax.scan(body, s, jax.random.split(jax.random.key(1), 100)))(state)
    assert not np.asarray(term).any() and np.asarray(trunc)[-1] and not np.asarray(trunc)[:-1].any()


def test_heuristic_shoots_closest_keeps_target_and_walks_to_default():
    dist = jnp.array([[4.0, 3.0, 20.0]])
    pos_e, pos_a = jnp.array([[20.0, 16.0]]), jnp.array([[16.0, 16.0], [17.0, 16.0], [0.0, 0.0]])
    alive_a, alive_e = jnp.ones(3, bool), jnp.ones(1, bool)
    args = (pos_e, pos_a, alive_e, alive_a, jnp.array([9.0]), jnp.array([5.0]), jnp.array([[12.0, 16.0]]))
    heuristic = jax.jit(heuristic_actions)  # one program for the four calls
    act, last = heuristic(dist, *args, jnp.array([-1]), jnp.array([0.3]))
    assert int(last[0]) == 1 and int(act[0]) == 5 + (3 - 1 - 1)  # closest ally 1; enemies count allies backwards
    act, last = heuristic(dist, *args, jnp.array([0]), jnp.array([0.3]))
    assert int(last[0]) == 0 and int(act[0]) == 5 + 2  # keeps shooting its last target
    far = jnp.full((1, 3), 30.0)
    act, last = heuristic(far, *args, jnp.array([0]), jnp.array([0.3]))
    assert int(act[0]) == 3 and int(last[0]) == -1  # default target (12, 16) lies in -x
    seen = jnp.array([[7.0, 30.0, 30.0]])  # sees ally 0 (16, 16) but cannot shoot: walks -x toward it
    act, _ = heuristic(seen, *args, jnp.array([-1]), jnp.array([0.9]))
    assert int(act[0]) == 3


def test_heuristic_enemy_attacks_in_the_env():
    env = SMAX(custom({"marine": 1}, {"marine": 1}, [(10.0, 16.0)], [(13.0, 16.0)]))
    params = env.default_params
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    _, s, r, *_ = step(env, params, state, [STOP])
    np.testing.assert_allclose(np.asarray(s.health), [36, 45])
    assert int(s.enemy_last[0]) == 0 and np.asarray(r).shape == (1,)


def test_self_play_scenarios_step_under_jit_and_vmap():
    # (every scenario against the heuristic: test_every_scenario_passes_the_conformance_and_pettingzoo_checks)
    for name in ["3s5z_vs_3s6z", "smacv2_5_units"]:
        env = SMAX(name, self_play=True)
        params = env.default_params

        def run(key, env=env, params=params):
            obs, s = env.reset(key, params)

            def body(c, k):
                obs, s = c
                ka, ks = jax.random.split(k)
                a = jax.random.randint(ka, (env.num_agents,), 0, env.n_actions)
                obs, s, r, _term, _trunc, _info = env.step(ks, s, a, params)
                return (obs, s), (obs, r, env.global_state(s, params))

            return jax.lax.scan(body, (obs, s), jax.random.split(key, 4))[1]

        obs, r, gs = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(0), 3))
        assert obs.shape == (3, 4, env.num_agents, env.obs_size) and r.shape == (3, 4, env.num_agents)
        assert np.all(np.abs(np.asarray(obs)) <= 1) and np.all(np.isfinite(np.asarray(r)))
        space = env.global_state_space(params)
        assert all(space.contains(g) for g in np.asarray(gs).reshape(-1, *space.shape))


def test_smacv2_draws_types_and_positions():
    env = SMAX("smacv2_10_units")
    params = env.default_params
    _, states = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(0), 64), params)
    types = np.asarray(states.types)
    np.testing.assert_array_equal(types[:, :10], types[:, 10:])  # enemies copy the allies' types
    assert set(np.unique(types)) == set(range(6))
    pos = np.asarray(states.pos)
    reflect = np.all(pos[:, :10, 0] <= 16.5, axis=1)  # both layouts appear
    assert 5 < reflect.sum() < 59


def test_self_play_enemy_observes_its_own_team_first():
    env = SMAX(custom({"marine": 1}, {"stalker": 1, "zealot": 1}, [(10.0, 16.0)], [(13.0, 16.0), (13.0, 19.0)]),
               self_play=True)
    params = env.default_params
    obs, _ = jax.jit(env.reset)(jax.random.key(0), params)
    obs = np.asarray(obs)  # agents: ally_0, enemy_0 (stalker), enemy_1 (zealot)
    type_of = lambda block: int(np.argmax(block[7:13]))
    assert [type_of(obs[0, 0:13]), type_of(obs[0, 13:26])] == [2, 3]
    assert [type_of(obs[1, 0:13]), type_of(obs[1, 13:26])] == [3, 0]  # enemy_0 sees enemy_1, then the ally
    np.testing.assert_allclose(obs[1, 1:3], [0.0, 3 / 10], atol=1e-6)  # zealot 3 up, stalker sight 10


def test_bad_input_errors():
    with pytest.raises(ValueError, match="valid scenarios: 3m, 8m"):
        SMAX("4m")
    with pytest.raises(ValueError, match="valid unit types: marine, marauder"):
        custom({"ultralisk": 1}, {"marine": 1})
    with pytest.raises(RealaxError, match="a team has at most 128"):  # checked before the room rule
        custom({"marine": 1000}, {"marine": 1})
    with pytest.raises(RealaxError, match="fewer units"):  # 128 units fit half of 32 x 32; a small map does not
        custom({"hydralisk": 30}, {"marine": 1}, width=8.0, height=8.0)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        custom({"marine": 2}, {"marine": 1}, ally_positions=[(1.0, 1.0)])
    with pytest.raises(ValueError, match="strictly inside"):
        custom({"marine": 1}, {"marine": 1}, ally_positions=[(0.0, 5.0)])
    with pytest.raises(ValueError, match="at least one unit"):
        custom({}, {"marine": 1})
    with pytest.raises(ValueError, match="ticks_per_step"):
        SMAX("3m", ticks_per_step=0)


def test_registered_render_and_determinism():
    env, params = realax.make("realax/SMAX-v0", scenario="2s3z")
    _, state = jax.jit(env.reset)(jax.random.key(0), params)
    img = env.render(state, params)  # its speed is benchmarks/render_speed.py's, not a timed test's
    assert img.shape[1] >= 640 and img.dtype == np.uint8
    # both team colours (render.ALLY #3c6eff, render.ENEMY #eb3c32) on the map, left of the side panel
    board = img[:, : img.shape[1] // 2].astype(int)
    ally = (np.abs(board - [60, 110, 255]).sum(-1) < 30).sum()
    enemy = (np.abs(board - [235, 60, 50]).sum(-1) < 30).sum()
    assert ally > 100 and enemy > 100
    step = jax.jit(env.step)  # one compile, run twice
    a = step(jax.random.key(5), state, jnp.zeros(5, jnp.int32), params)
    b = step(jax.random.key(5), state, jnp.zeros(5, jnp.int32), params)
    jax.tree.map(np.testing.assert_array_equal, a, b)


# the PettingZoo API test compiles the wrapper's own reset/step/mask per scenario (~15-30 s each on 2 cores), so it
# runs on a representative subset: homogeneous, uneven heterogeneous teams, random smacv2 types and positions
PETTINGZOO = ("3m", "3s5z_vs_3s6z", "smacv2_5_units")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_passes_the_conformance_and_pettingzoo_checks(scenario):
    """Issue 3: every named scenario, not only the registered default (which gets the whole conformance
    suite), through its scenario-dependent checks (shapes, observations in the space, termination vs
    truncation over two episodes, the world state of every state in its space) under one jit, and PettingZoo's
    API test on ``PETTINGZOO``."""
    from pettingzoo.test import parallel_api_test

    from tests import test_conformance as conf

    env, params = realax.make("realax/SMAX-v0", scenario=scenario)

    def run(k):
        obs0, outs, _ = conf._rollout(env, params, k, 2 * params.max_steps + 5)
        return obs0, outs, jax.vmap(lambda s: env.global_state(s, params))(outs[1])

    obs0, outs, gs = jax.jit(run)(jax.random.key(0))
    conf.check_shapes_dtypes_and_episodes(env, params, obs0, outs)
    # the world state of every state of a random-valid-action rollout (dead units, walls, cooldowns) in its space
    space = env.global_state_space(params)
    assert all(space.contains(g) for g in np.asarray(gs))
    if scenario in PETTINGZOO:
        parallel_api_test(realax.parallel_env("realax/SMAX-v0", scenario=scenario), num_cycles=50)
