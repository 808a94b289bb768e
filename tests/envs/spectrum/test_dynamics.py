"""Spectrum logic against hand-computed values (RFRL Gym semantics, see realax/envs/spectrum)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np

import realax


def _env(tmp_path, entities, obs="classify", reward="dsa", target=None, history=1, channels=10, ma=None, **kw):
    env = {"num_channels": channels, "max_steps": 100}
    if ma:
        env["agents"] = ma
    else:
        env.update(observation_mode=obs, reward_mode=reward, target_entity=target)
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"environment": env, "entities": entities}))
    return realax.make("realax/SpectrumMA-v0" if ma else "realax/Spectrum-v0", scenario=str(p), history=history, **kw)


def _play(env, params, actions, seed=0):
    obs, state = jax.jit(env.reset)(jax.random.key(seed), params)  # jitted: eager ops compile one by one
    frames, rewards, states = [np.asarray(state.frame)], [], [state]
    step = jax.jit(env.step)
    for i, a in enumerate(actions):
        obs, state, r, *_ = step(jax.random.key(100 + i), state, jnp.asarray(a), params)
        frames.append(np.asarray(state.frame))
        rewards.append(np.asarray(r))
        states.append(state)
    return np.array(frames), np.array(rewards), states


def _chan(frames, code):
    return [int(np.flatnonzero(f == code)[0]) if (f == code).any() else -1 for f in frames]


def test_hopper_pattern_and_jam_reward(tmp_path):
    env, params = realax.make("realax/Spectrum-v0", scenario="hopper", history=1)
    # pattern ch4, ch4, ch5; action k transmits on channel k-1; jam +1 only on the target
    frames, rewards, _ = _play(env, params, [5, 5, 6, 0, 6, 1])
    assert _chan(frames, 1) == [4, 4, 5, 4, 4, 5, 4]
    np.testing.assert_array_equal(rewards, [1, -1, -1, 0, 1, -1])


def test_onoff_duty_cycle_and_start_stop(tmp_path):
    # [on, 2 steps on, 3 steps off]; active from step 1 to step 9 only
    env, params = _env(tmp_path, {"a": {"type": "ConstantFreq", "channels": [3], "onoff": [1, 2, 3], "start": 1, "stop": 9}})
    frames, _, _ = _play(env, params, [0] * 11)
    on = [int(f[3] == 1) for f in frames]
    # t=0 inactive; t=1,2 on; t=3,4,5 off; t=6,7 on; t=8,9 off; t>9 inactive
    assert on == [0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0]


def test_fixed_hop_dwells_for_its_on_period(tmp_path):
    # RFRL's FixedHopFreq advances at the first step of each on-period: onoff [1,2,0] dwells 2 steps
    env, params = _env(tmp_path, {"h": {"type": "FixedHopFreq", "channels": [7, 2, 5], "onoff": [1, 2, 0], "rand_hop": 0}})
    frames, _, _ = _play(env, params, [0] * 6)
    assert _chan(frames, 1) == [7, 7, 2, 2, 5, 5, 7]


def test_dsa_reward_detect_obs_and_collision_code(tmp_path):
    ents = {"a": {"type": "ConstantFreq", "channels": [2]}, "b": {"type": "ConstantFreq", "channels": [2]},
            "c": {"type": "ConstantFreq", "channels": [6]}}
    env, params = _env(tmp_path, ents, obs="classify")
    frames, rewards, _ = _play(env, params, [3, 7, 1, 0])
    assert frames[0][2] == 4 and frames[0][6] == 3  # collision code is E+1 = 4; entity c is 3
    np.testing.assert_array_equal(rewards, [-1, -1, 1, 0])
    env, params = _env(tmp_path, ents, obs="detect", history=3)
    obs, _ = jax.jit(env.reset)(jax.random.key(0), params)
    assert obs.shape == (3, 10) and obs[-1].tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0] and obs[:2].sum() == 0


def test_waterfall_keeps_history_in_order(tmp_path):
    env, params = realax.make("realax/Spectrum-v0", scenario="hopper", history=4)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    step = jax.jit(env.step)
    for i in range(3):
        obs, state, *_ = step(jax.random.key(i), state, jnp.int32(0), params)
    assert [int(np.flatnonzero(row)[0]) for row in np.asarray(obs)] == [4, 4, 5, 4]


def test_switch_penalty_dampening(tmp_path):
    env, params = realax.make("realax/Spectrum-v0", scenario="mixed")
    params = params.replace(switch_penalty=0.5)
    _, rewards, _ = _play(env, params, [0, 2, 2, 4, 0, 4])
    base = realax.make("realax/Spectrum-v0", scenario="mixed")
    _, raw, _ = _play(base[0], base[1], [0, 2, 2, 4, 0, 4])
    np.testing.assert_allclose(rewards - raw, [0, 0, 0.5, -0.5, 0, 0])


def test_agile_jumps_off_a_channel_the_radio_used(tmp_path):
    env, params = _env(tmp_path, {"ag": {"type": "AgileFreq", "channels": [3]}})
    frames, _, states = _play(env, params, [0, 4, 0, 0])
    start = _chan(frames, 1)
    assert start[0] == 3 and start[1] == 3 and start[2] == 3  # the radio transmits on ch3 at step 2
    assert start[3] != 3 and start[4] == start[3]  # one step later the agile has moved, then stays


def test_reactive_and_follow_jammers_chase_the_radio(tmp_path):
    env, params = _env(tmp_path, {"j": {"type": "SimpleJammer", "channels": list(range(10))}})
    frames, rewards, _ = _play(env, params, [8, 8, 0, 0])
    assert _chan(frames, 1) == [-1, -1, 7, 7, -1]  # off at t=0 and with nothing to jam; then follows ch7
    np.testing.assert_array_equal(rewards, [1, -1, 0, 0])
    env, params = _env(tmp_path, {"f": {"type": "FollowJammer", "channels": list(range(10))}})
    frames, _, _ = _play(env, params, [2, 5, 0, 9])
    assert _chan(frames, 1) == [-1, -1, 1, 4, -1]


def test_stochastic_entities_follow_their_probabilities(tmp_path):
    ents = {"s": {"type": "StochasticHopFreq", "channels": [1, 8], "channel_weights": [0.8, 0.2]},
            "p": {"type": "StochasticConstantFreq", "channels": [5], "percent_on": 0.3}}
    env, params = _env(tmp_path, ents)
    keys = jax.random.split(jax.random.key(0), 4000)
    _, states = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    ch = np.asarray(states.ent.chan)
    assert set(np.unique(ch[:, 0])) == {1, 8} and abs((ch[:, 0] == 1).mean() - 0.8) < 0.03
    assert abs((ch[:, 1] == 5).mean() - 0.3) < 0.03


def test_multi_agent_radios_collide_with_each_other(tmp_path):
    ma = {"r1": {"observation_mode": "classify", "reward_mode": "dsa"},
          "r2": {"observation_mode": "detect", "reward_mode": "dsa"},
          "r3": {"observation_mode": "classify", "reward_mode": "jam", "target_entity": "tv"}}
    env, params = _env(tmp_path, {"tv": {"type": "ConstantFreq", "channels": [0]}}, ma=ma, history=2)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    step = jax.jit(env.step)
    obs, state, r, *_ = step(jax.random.key(1), state, jnp.array([3, 3, 1]), params)
    np.testing.assert_array_equal(np.asarray(r), [-1, -1, 1])  # r1, r2 share ch2; r3 hits the target
    obs, state, r, *_ = step(jax.random.key(2), state, jnp.array([3, 4, 0]), params)
    np.testing.assert_array_equal(np.asarray(r), [1, 1, 0])
    view = np.asarray(obs)
    # classify view: tv=1, radios are E+1+j = 2, 3, 4; collision E+A+1 = 5
    assert view[0, -1].tolist()[:4] == [1, 0, 2, 3] and view[0, 0, 2] == 5
    assert view[1, -1].tolist()[:4] == [1, 0, 1, 1]  # detect radio sees occupancy only


def test_random_scenarios_vmap_over_params():
    env, params = realax.make("realax/Spectrum-v0", scenario="random")
    # jitted as training runs them (unjitted, every op of the vmapped functions compiles on its own)
    batch = jax.jit(jax.vmap(env.sample_params))(jax.random.split(jax.random.key(0), 16))
    obs, state = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.key(1), 16), batch)
    obs, state, r, *_ = jax.jit(jax.vmap(env.step))(jax.random.split(jax.random.key(2), 16), state,
                                                     jnp.ones(16, jnp.int32), batch)
    assert obs.shape == (16, 8, 10) and len({tuple(k) for k in np.asarray(batch.entities.kind)}) > 8


def test_own_transmissions_are_marked_when_asked():
    env, params = realax.make("realax/Spectrum-v0", scenario="constant", history=2, own_tx=True)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    step = jax.jit(env.step)
    obs, state, *_ = step(jax.random.key(1), state, jnp.int32(5), params)  # jam the tv on ch4
    obs, state, *_ = step(jax.random.key(2), state, jnp.int32(2), params)  # then ch1
    K = 1 + 2  # classify codes with one entity: free, tv, collision
    assert np.asarray(obs).tolist() == [[0, 0, 0, 0, 1 + K, 0, 0, 0, 0, 0], [0, K, 0, 0, 1, 0, 0, 0, 0, 0]]
    assert env.observation_space(params).high.max() == 2 * K - 1
    plain, p2 = realax.make("realax/Spectrum-v0", scenario="constant", history=2)
    assert plain.observation_space(p2).high.max() == K - 1
