"""Gymnasium conventions (issue 10 item 4): horizons in the spec, ``max_episode_steps`` for make and make_vec,
``RecordVideo`` on ``render_mode="rgb_array"``, and ``env.spec`` round-tripping through ``gymnasium.make``."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import realax
from realax.errors import RealaxError

SINGLE = realax.list_envs(multi_agent=False)
#: the horizon of each id under default options, as registered in realax/__init__.py
HORIZONS = {"realax/Spectrum-v0": 100, "realax/SpectrumMA-v0": 100, "realax/SpectrumIQ-v0": 100,
            "realax/SMAX-v0": 100, "realax/RoboTaxi-v0": 20, "realax/UAVOffload-v0": 50,
            "realax/UAVOffloadCentral-v0": 50, "realax/AGV-v0": 400, "realax/MultiAGV-v0": 400, "realax/SlateRec-v0": 1000,
            "realax/Sim2Rec-v0": 140, "realax/ShortVideo-v0": 200}
#: options under which some play reaches the horizon, for ids whose every episode otherwise ends earlier
#: (a SlateRec user always spends the time budget long before step 1000)
REACH_HORIZON = {"realax/SlateRec-v0": {"time_budget": 1e9}}


@pytest.mark.parametrize("env_id", realax.list_envs())
def test_registered_horizon_is_the_default_params_horizon(env_id):
    _, params = realax.make(env_id)
    assert realax.spec(env_id).max_episode_steps == int(params.max_steps) == HORIZONS[env_id]


@pytest.mark.parametrize("env_id", SINGLE)
def test_make_spec_reports_the_horizon_and_the_env_truncates_there_once(env_id):
    env = gymnasium.make(env_id, **REACH_HORIZON.get(env_id, {}))
    assert env.spec.max_episode_steps == HORIZONS[env_id]
    assert gymnasium.spec(env_id).max_episode_steps is None  # no TimeLimit of a default horizon (see __init__)
    steps = _episode_length(env, seed=0)
    assert steps == HORIZONS[env_id]


def _episode_length(env, seed, limit=10_000):
    """Steps until the episode ends, which must be by truncation. Random play that may end an episode early
    (an AGV crashing) is replaced by the no-op, which never does in the default scene (standing still)."""
    noop = None
    for attempt in range(2):
        env.reset(seed=seed)
        env.action_space.seed(seed)
        for t in range(1, limit + 1):
            a = _action(env) if noop is None else noop
            _, _, term, trunc, _ = env.step(a)
            if term:
                assert attempt == 0 and not trunc and t < env.spec.max_episode_steps
                inner = env.unwrapped.env
                noop = np.full(env.action_space.shape, inner.noop_action, env.action_space.dtype)
                break
            if trunc:
                return t
    raise AssertionError("no truncation")


def _action(env):
    a = env.action_space.sample()
    if isinstance(env.action_space, gymnasium.spaces.Box):  # RoboTaxi weights: keep a positive sum
        a = np.clip(a, 0.05, 1.0)
    return a


def test_options_that_change_the_horizon_change_the_spec_and_are_not_cut_short():
    env = gymnasium.make("realax/Spectrum-v0", max_steps=130)
    assert env.spec.max_episode_steps == 130 and _episode_length(env, seed=1) == 130
    env = gymnasium.make("realax/RoboTaxi-v0", max_steps=7)
    assert env.spec.max_episode_steps == 7 and _episode_length(env, seed=1) == 7


@pytest.mark.parametrize("k, expected", [(5, 5), (300, 100)])
def test_make_max_episode_steps_truncates_on_top_of_the_horizon(k, expected):
    env = gymnasium.make("realax/Spectrum-v0", max_episode_steps=k)
    assert env.spec.max_episode_steps == k
    assert _episode_length(env, seed=2) == expected
    assert _episode_length(env, seed=3) == expected  # the TimeLimit counter restarts with the episode


def test_make_vec_max_episode_steps_truncates_with_same_step_autoreset():
    n, k = 3, 4
    venv = gymnasium.make_vec("realax/Spectrum-v0", num_envs=n, vectorization_mode="vector_entry_point",
                              max_episode_steps=k)
    assert venv.spec.max_episode_steps == k and venv.max_episode_steps == k
    obs, _ = venv.reset(seed=0)
    venv.action_space.seed(0)
    ends = []
    for t in range(1, 2 * k + 1):
        obs, _, term, trunc, infos = venv.step(venv.action_space.sample())
        assert not term.any()
        if trunc.any():
            assert trunc.all() and infos["_final_obs"].all()
            ends.append(t)
            # same-step autoreset: the returned obs is a fresh episode's, the last one is in final_obs
            assert not np.array_equal(infos["final_obs"], obs)
            assert (np.asarray(obs)[:, :-1] == 0).all()  # reset waterfall: only the newest frame is filled
            assert not (np.asarray(infos["final_obs"])[:, :-1] == 0).all()  # k steps of history (a hopper is on)
        else:
            assert not infos["_final_obs"].any()
    assert ends == [k, 2 * k]


def test_make_vec_without_max_episode_steps_keeps_the_env_horizon():
    venv = gymnasium.make_vec("realax/RoboTaxi-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert venv.spec.max_episode_steps == 20 and venv.max_episode_steps is None
    venv.reset(seed=0)
    ends = [t for t in range(1, 41) if venv.step(np.ones((2, venv.single_action_space.shape[0]), np.float32))[3].all()]
    assert ends == [20, 40]
    # a horizon option reaches the vector env too, and k > horizon truncates at the horizon
    venv = gymnasium.make_vec("realax/RoboTaxi-v0", num_envs=2, vectorization_mode="vector_entry_point",
                              max_steps=3, max_episode_steps=50)
    venv.reset(seed=0)
    ends = [t for t in range(1, 7) if venv.step(np.ones((2, venv.single_action_space.shape[0]), np.float32))[3].all()]
    assert ends == [3, 6]


@pytest.mark.parametrize("bad", [0, 2.5, "ten", True])
def test_make_vec_refuses_a_bad_max_episode_steps(bad):
    with pytest.raises(RealaxError, match="max_episode_steps"):
        gymnasium.make_vec("realax/Spectrum-v0", num_envs=2, vectorization_mode="vector_entry_point",
                           max_episode_steps=bad)


def test_record_video_writes_a_video(tmp_path):
    from gymnasium.wrappers import RecordVideo  # needs moviepy (the [dev] extra)

    folder = tmp_path / "videos"
    env = RecordVideo(gymnasium.make("realax/Spectrum-v0", render_mode="rgb_array", max_steps=6),
                      str(folder), episode_trigger=lambda e: True, disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        done = term or trunc
    env.close()
    videos = list(folder.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_render_passes_the_running_reward_and_return():
    env = gymnasium.make("realax/Spectrum-v0", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    total = 0.0
    for _ in range(3):
        total += env.step(1)[1]
    inner = env.unwrapped
    assert inner._return == pytest.approx(total)
    again = inner.env.render(inner._state, inner.params, reward=inner._reward, episode_return=total)
    np.testing.assert_array_equal(env.render(), again)
    assert first.shape == again.shape and not np.array_equal(first, again)


def test_spec_kwargs_round_trip_through_make():
    env = gymnasium.make("realax/Spectrum-v0", scenario="jammer_reactive", history=3, own_tx=True, max_steps=9)
    again = gymnasium.make(env.spec)
    assert again.spec.kwargs == env.spec.kwargs and again.spec.max_episode_steps == 9
    assert again.observation_space == env.observation_space
    trajectories = []
    for e in (env, again):
        obs, _ = e.reset(seed=5)
        e.action_space.seed(5)
        rows = [obs]
        for _ in range(12):
            obs, r, term, trunc, _ = e.step(e.action_space.sample())
            rows.append((obs, r, term, trunc))
            if term or trunc:
                break
        trajectories.append(rows)
    assert len(trajectories[0]) == 10  # truncated at the 9 steps asked for
    for a, b in zip(*trajectories, strict=True):
        for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True):
            np.testing.assert_array_equal(x, y)


def test_reset_keys_are_the_keys_seeded_resets_use():
    """``reset_keys`` (what dataset collection starts episodes from) equals the key ``reset(seed=s)`` gives
    ``reset_env``; and that key is the one of earlier versions (a 63-bit draw as the seed: JAX keeps its low
    32 bits without x64)."""
    import jax
    from gymnasium.utils import seeding

    from realax.wrappers.gymnasium import reset_keys

    seeds = [0, 7, 2**40 + 3]
    for s, key in zip(seeds, reset_keys(seeds), strict=True):
        draw = int(seeding.np_random(s)[0].integers(0, 2**63 - 1))
        before = jax.random.split(jax.random.key(draw))[1]
        np.testing.assert_array_equal(jax.random.key_data(key), jax.random.key_data(before))
    env = gymnasium.make("realax/Sim2Rec-v0")  # starts differ from key to key
    obs, _ = env.reset(seed=7)
    inner = env.unwrapped
    np.testing.assert_array_equal(obs, np.asarray(inner.env.reset_env(reset_keys([7])[0], inner.params)[0]))
