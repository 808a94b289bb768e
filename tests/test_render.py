"""Pictures that explain themselves (issue 10 item 8): every registered id renders a readable frame -- at
least 640 pixels wide, not blank -- with the step, the last reward and the episode return when given, and the
adapters pass their running return."""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest

import realax
from realax.bench import few_steps
from realax.envs import plotting
from realax.wrappers.jax_wrappers import EpisodeStats


@functools.lru_cache(maxsize=None)
def _rollout(env_id, steps=4):
    """A few steps of legal actions (compiled once per id for both tests)."""
    return few_steps(env_id, steps)


@functools.lru_cache(maxsize=None)
def _frame(env_id):
    """The frame of ``_rollout``'s last state with its reward and return printed (drawn once for both tests)."""
    env, params, state, reward, ret = _rollout(env_id)
    return env.render(state, params, reward=reward, episode_return=ret)


# both tests of an id in one worker under ``--dist loadgroup``, so ``_rollout`` compiles once per id and
# ``_frame`` draws once
IDS = [pytest.param(i, marks=pytest.mark.xdist_group(f"render {i}")) for i in realax.list_envs()]


@pytest.mark.parametrize("env_id", IDS)
def test_every_id_renders_a_readable_frame(env_id):
    env, params, state, *_ = _rollout(env_id)
    plain = env.render(state, params)  # the two-argument call stays valid
    img = _frame(env_id)
    for frame in (plain, img):
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape[1] >= 640 and frame.shape[0] >= 360
        colours = np.unique(frame.reshape(-1, 3), axis=0)
        assert len(colours) > 20 and frame.std() > 10  # axes, legend, text and data: far from blank
    assert plain.shape == img.shape  # frames of one env stack into a video
    # the overlay prints the numbers: passing them changes the picture (in the status box only)
    assert not np.array_equal(plain, img)


@pytest.mark.parametrize("env_id", IDS)
def test_the_overlay_changes_with_the_return(env_id):
    env, params, state, reward, ret = _rollout(env_id)
    a = _frame(env_id)
    b = env.render(state, params, reward=reward, episode_return=np.asarray(ret) + 7.0)
    diff = np.any(a != b, axis=2)
    assert diff.any()
    cols = np.flatnonzero(diff.any(axis=0))
    assert cols.min() > 0.55 * a.shape[1]  # only the side panel's text moved, not the picture


def test_status_lines_print_scalars_and_per_agent_tables():
    lines = plotting.status_lines(3, 100, 1.0, -2.5)
    assert lines == ["step 3 / 100", "last reward:    +1.00", "episode return: -2.50"]
    assert plotting.status_lines(0, 5, None, 0.0)[1].endswith("-")  # no reward yet after a reset
    table = plotting.status_lines(4, 10, np.array([1.0, -1.0]), np.array([3.0, 2.0]), ["radio 0", "radio 1"])
    assert table[2].split() == ["radio", "0", "+1.00", "+3.00"] and table[3].split() == ["radio", "1", "-1.00", "+2.00"]
    assert plotting.number(np.arange(10.0)).endswith(", ...]")


def test_episode_stats_render_passes_its_running_return():
    env, params = realax.make("realax/Spectrum-v0")
    wrapped = EpisodeStats(env)
    _, s = wrapped.reset(jax.random.key(1), params)
    for i in range(3):
        _, s, *_ = wrapped.step(jax.random.key(i), s, 1, params)
    expected = env.render(s.env_state, params, episode_return=s.episode_return)
    np.testing.assert_array_equal(wrapped.render(s, params), expected)
    assert not np.array_equal(expected, env.render(s.env_state, params))


def test_pettingzoo_render_shows_each_agents_return():
    penv = realax.parallel_env("realax/SpectrumMA-v0", render_mode="rgb_array")
    penv.reset(seed=0)
    first = penv.render()
    for _ in range(2):
        penv.step({a: 1 for a in penv.agents})
    assert penv._return.shape == (penv.num_agents,) and penv._reward is not None
    frame = penv.render()
    assert frame.shape == first.shape and frame.shape[1] >= 640 and not np.array_equal(frame, first)
