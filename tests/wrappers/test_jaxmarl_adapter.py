"""JaxMARL's dict-per-agent interface over realax multi-agent envs."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.errors import RealaxError
from realax.wrappers.jaxmarl import HeuristicEnemySMAX, JaxMARLEnv, map_name_to_scenario


def test_smax_through_jaxmarls_interface_matches_the_stacked_env():
    env = JaxMARLEnv("realax/SMAX-v0", scenario="3m")
    base, params = realax.make("realax/SMAX-v0", scenario="3m")
    obs, state = jax.jit(env.reset)(jax.random.key(0))
    obs_b, state_b = jax.jit(base.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone
    assert list(obs) == [*env.agents, "world_state"] and env.agents == list(base.agents)
    np.testing.assert_array_equal(np.asarray(obs["world_state"]), np.asarray(jax.jit(base.global_state)(state_b, params)))
    np.testing.assert_array_equal(np.asarray(obs[env.agents[1]]), np.asarray(obs_b[1]))

    avail = jax.jit(env.get_avail_actions)(state)
    actions = {a: jnp.argmax(avail[a]).astype(jnp.int32) for a in env.agents}  # first valid action each

    @jax.jit
    def rollout(key, state):
        def body(carry, k):
            state = carry
            avail = env.get_avail_actions(state)
            acts = {a: jnp.argmax(avail[a]).astype(jnp.int32) for a in env.agents}
            obs, state, rew, dones, infos = env.step(k, state, acts)
            return state, (rew, dones["__all__"], infos["terminated"][0], infos["truncated"][0])

        return jax.lax.scan(body, state, jax.random.split(key, 120))

    _, (rew, done_all, term, trunc) = rollout(jax.random.key(1), state)
    assert set(rew) == set(env.agents) and np.asarray(done_all).any()
    np.testing.assert_array_equal(np.asarray(done_all), np.asarray(term | trunc))
    o, s, r, d, i = jax.jit(env.step)(jax.random.key(2), state, actions)
    o_b, s_b, r_b, te, tr, i_b = jax.jit(base.step)(jax.random.key(2), state_b, jnp.stack([actions[a] for a in env.agents]),
                                                    params)
    np.testing.assert_allclose(np.asarray(r[env.agents[0]]), np.asarray(r_b[0]))
    assert env.get_world_state(s).shape == base.global_state_space(params).shape


def test_single_agent_ids_are_refused():
    with pytest.raises(RealaxError, match="single-agent"):
        JaxMARLEnv("realax/Spectrum-v0")


def test_bad_action_dicts_are_refused_naming_the_agent_and_the_space():
    """Issue 9: outside jit every bad action is a RealaxError (was a KeyError, a TypeError or a silent cast)."""
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    _, state = env.reset(jax.random.key(0))
    key, first = jax.random.key(1), env.agents[0]
    ok = {a: 0 for a in env.agents}
    for bad, message in (("x", "must be a dict"), (None, "must be a dict"), ({first: 0}, "missing"),
                         ({**ok, "ghost": 1}, "unknown"), ({**ok, first: "a"}, f"action of agent '{first}' 'a' is not a number"),
                         ({**ok, first: 2.5}, "not a whole number"), ({**ok, first: float("nan")}, "NaN"),
                         ({**ok, first: 11}, r"outside the action space Discrete\(11\)"), ({**ok, first: [1, 2]}, "shape")):
        with pytest.raises(RealaxError, match=message):
            env.step(key, state, bad)


def test_inside_jit_values_become_the_noop_and_shapes_are_refused():
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    _, state = env.reset(jax.random.key(0))
    step = jax.jit(env.step)
    values = dict(zip(env.agents, [jnp.float32(2.5), jnp.float32(jnp.nan), jnp.float32(3.0), jnp.int32(99)], strict=True))
    *_, infos = step(jax.random.key(1), state, values)
    np.testing.assert_array_equal(np.asarray(infos["invalid_action"]), [1, 1, 0, 1])
    with pytest.raises(RealaxError, match=r"shape \(2,\)"):
        step(jax.random.key(1), state, {a: jnp.zeros(2, jnp.int32) for a in env.agents})


def test_smax_attributes_are_jaxmarls():
    env = HeuristicEnemySMAX(scenario=map_name_to_scenario("3m"), max_steps=2)
    assert (env.num_agents, env.num_allies, env.num_enemies, env.max_steps, env.name) == (3, 3, 3, 2, "SMAX")
    assert env.state_size == (10 + 2) * 6  # JaxMARL: (len(own_features) + 2) * units


def test_infos_hold_per_agent_arrays_and_step_full_the_rest():
    """Issue 17: JaxMARL's IPPO reshapes every info entry to [num_envs * num_agents]; final_obs is in step_full,
    which also resets into a given reset_state as JaxMARL's step does."""
    env = JaxMARLEnv("realax/SpectrumMA-v0", max_steps=1)  # every step ends the episode
    A = env.num_agents
    _, state = jax.jit(env.reset)(jax.random.key(0))
    _, start = jax.jit(env.reset)(jax.random.key(5))
    noop = {a: jnp.int32(0) for a in env.agents}
    obs, _, _, dones, infos = jax.jit(env.step)(jax.random.key(1), state, noop)
    assert {k: v.shape for k, v in infos.items()} == {k: (A,) for k in ("alive", "invalid_action", "terminated",
                                                                        "truncated")}
    assert bool(infos["truncated"].all()) and bool(dones["__all__"]) and all(bool(dones[a]) for a in env.agents)
    assert obs["world_state"].shape == (env.state_size,)
    obs, after, _, _, full = jax.jit(env.step_full)(jax.random.key(1), state, noop, start)
    assert full["final_obs"].shape == (A, *env.observation_space(env.agents[0]).shape)
    assert full["truncated"].shape == () and bool(full["truncated"])
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(jax.tree.leaves(after),
                                                                           jax.tree.leaves(start), strict=True))
    np.testing.assert_array_equal(np.asarray(obs[env.agents[0]]), np.asarray(env.get_obs(start)[env.agents[0]]))


def test_jaxmarl_smax_keywords_become_realax_options_and_params():
    env = HeuristicEnemySMAX(num_allies=2, num_enemies=4, world_steps_per_env_step=4, time_per_step=0.05,
                             walls_cause_death=False, see_enemy_actions=False, won_battle_bonus=2.0,
                             unit_type_health=[50, 125, 160, 150, 35, 80], map_width=40, max_steps=7,
                             observation_type="unit_list", action_type="discrete", enemy_shoots=True,
                             attack_mode="closest", use_self_play_reward=False)
    p = env.params
    assert (env.num_allies, env.num_enemies, env.env.ticks, env.max_steps) == (2, 4, 4, 7)
    assert (p.time_per_tick, p.walls_cause_death, p.see_enemy_actions, p.won_battle_bonus, p.map_width) == \
        (0.05, False, False, 2.0, 40.0)
    np.testing.assert_allclose(np.asarray(p.health), [50, 125, 160, 150, 35, 80])
    assert HeuristicEnemySMAX().env.scenario.ally_types == (0,) * 5  # JaxMARL's default: 5 x 5 marines


@dataclasses.dataclass
class _JaxMARLScenario:  # the fields of JaxMARL's smax_env.Scenario
    unit_types: np.ndarray
    num_allies: int
    num_enemies: int
    smacv2_position_generation: bool
    smacv2_unit_type_generation: bool


def test_jaxmarl_scenario_objects_are_read():
    two_s_three_z = _JaxMARLScenario(np.array([2, 2, 3, 3, 3] * 2, np.uint8), 5, 5, False, False)
    assert HeuristicEnemySMAX(scenario=two_s_three_z).env.scenario.name == "2s3z"
    odd = _JaxMARLScenario(np.array([0, 5, 3], np.uint8), 2, 1, False, False)
    s = HeuristicEnemySMAX(scenario=odd).env.scenario
    assert (s.ally_types, s.enemy_types) == ((0, 5), (3,))
    with pytest.raises(RealaxError, match="unit_types has 3 entries"):
        HeuristicEnemySMAX(scenario=_JaxMARLScenario(np.zeros(3, np.uint8), 2, 2, False, False))


@pytest.mark.parametrize("kwargs, message", [
    ({"attack_mode": "random"}, "shoots the closest unit"),
    ({"enemy_shoots": False}, "always shoots"),
    ({"observation_type": "conic"}, "'unit_list' observation only"),
    ({"action_type": "continuous"}, "discrete actions only"),
    ({"use_self_play_reward": True}, "self_play=True"),
    ({"unit_type_names": ["a"]}, "six unit types"),
    ({"bogus": 1}, "no keyword argument 'bogus'; JaxMARL's: .*realax's: scenario"),
    ({"unit_type_health": [1.0, 2.0]}, r"shape \(6,\)"),
    ({"unit_type_health": [0, 1, 1, 1, 1, 1]}, "finite and > 0"),
    ({"time_per_step": float("nan")}, r"time_per_step must be a number in \(0, 10000\]"),
    ({"walls_cause_death": "yes"}, "true or false"),
    ({"num_allies": 0}, "1..128"),
    ({"scenario": "3m", "num_allies": 4}, "disagrees with scenario '3m'"),
    ({"scenario": "nope"}, "unknown SMAX scenario 'nope'; valid scenarios: 3m"),
    ({"world_steps_per_env_step": 4, "ticks_per_step": 4}, "not both"),
    ({"self_play": True}, "JaxMARLEnv"),
])
def test_jaxmarl_keywords_realax_lacks_are_refused_saying_what_it_has(kwargs, message):
    with pytest.raises(RealaxError, match=message):
        HeuristicEnemySMAX(**kwargs)


def test_smax_attributes_are_refused_clearly_on_other_envs():
    env = JaxMARLEnv("realax/SpectrumMA-v0")
    assert env.state_size == env.env.global_state_space(env.params).shape[0]
    with pytest.raises(AttributeError, match="no 'num_allies'"):
        env.num_allies  # noqa: B018
    with pytest.raises(RealaxError, match="unknown SMAX scenario"):
        map_name_to_scenario("4m")
