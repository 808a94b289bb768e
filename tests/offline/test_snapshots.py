"""Teacher snapshots: states along teacher episodes with hand-computed return-to-go, best-episode selection,
save/load round trip, and the wrapped env they build."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from realax.offline import snapshots as S
from realax.wrappers.snapshot import SnapshotStarts

GAMMA = 0.9


def test_expert_snapshots_on_the_chain_carry_their_return_to_go(chain_id):
    # always right: positions 0,1,2,3 at steps 0..3, reward 1 on the 4th step (goal, terminated)
    snaps = S.collect(chain_id, "chain_env:go_right", episodes=3, every=1, gamma=GAMMA)
    pos, t = (np.asarray(x) for x in snaps.states)
    assert len(snaps) == 12
    np.testing.assert_array_equal(snaps.step, np.tile(np.arange(4), 3))
    np.testing.assert_array_equal(snaps.episode, np.repeat(np.arange(3), 4))
    np.testing.assert_array_equal(pos, snaps.step)
    np.testing.assert_array_equal(t, snaps.step)
    np.testing.assert_allclose(snaps.values, np.tile(GAMMA ** (3 - np.arange(4)), 3), rtol=1e-6)
    assert snaps.meta["teacher_returns"] == [1.0, 1.0, 1.0] and snaps.meta["env_id"] == chain_id
    every2 = S.collect(chain_id, "chain_env:go_right", episodes=2, every=2, gamma=GAMMA)
    np.testing.assert_array_equal(every2.step, [0, 2, 0, 2])
    np.testing.assert_allclose(every2.values, [GAMMA ** 3, GAMMA, GAMMA ** 3, GAMMA], rtol=1e-6)


def test_random_teacher_best_episodes_and_episode_ends(chain_id):
    snaps = S.collect(chain_id, "random", episodes=32, every=1, gamma=1.0, seed=3)
    returns = np.asarray(snaps.meta["teacher_returns"])
    assert 0 < returns.sum() < 32  # some random walks reach the goal within 8 steps, some do not
    for e in range(32):  # one state per step of each episode: 8 steps if truncated, fewer if the goal came first
        steps = snaps.step[snaps.episode == e]
        np.testing.assert_array_equal(steps, np.arange(steps.size))
        assert steps.size == 8 or returns[e] == 1.0
        np.testing.assert_allclose(snaps.values[snaps.episode == e], returns[e])  # gamma = 1: the episode's return
    best = S.collect(chain_id, "random", episodes=32, every=1, gamma=1.0, seed=3, best=4)
    assert set(best.episode.tolist()) <= set(np.flatnonzero(returns == returns.max()).tolist())
    assert len(set(best.episode.tolist())) == 4 and best.meta["teacher_return_mean"] == returns.max()


def test_return_to_go_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    rewards, lengths = rng.normal(size=(3, 7)), np.array([7, 3, 1])
    got = S.return_to_go(rewards, lengths, 0.8)
    for e in range(3):
        for t in range(7):
            want = sum(0.8 ** (k - t) * rewards[e, k] for k in range(t, lengths[e]))
            assert got[e, t] == pytest.approx(want)


def test_save_load_and_starts(chain_id, tmp_path):
    snaps = S.collect(chain_id, "chain_env:go_right", episodes=2, every=1, gamma=GAMMA)
    S.save(snaps, tmp_path / "snaps")
    back = S.load(tmp_path / "snaps")
    jax.tree.map(np.testing.assert_array_equal, snaps.states, back.states)
    np.testing.assert_array_equal(snaps.values, back.values)
    assert back.meta == snaps.meta
    env, params = S.starts(back, n_clusters=2, truncate_steps=3, snapshot_steps=10)
    assert isinstance(env, SnapshotStarts) and env.num_clusters == 2
    # values gamma^3, gamma^2 (low) and gamma, 1 (high) at steps 0,1 / 2,3: the low cluster is the early states
    members = np.asarray(params.members)[0][: int(params.sizes[0])]
    np.testing.assert_array_equal(np.sort(back.step[members]), [0, 0, 1, 1])
    _, state = env.reset(jax.random.key(0), params)
    assert int(state.snapshot) >= 0 and int(state.env_state[0]) == back.step[int(state.snapshot)]
    with pytest.raises(ValueError, match="no meta.json"):
        S.load(tmp_path)


def test_bad_collection_settings_are_refused(chain_id):
    for kw, msg in [({"episodes": 0}, "episodes"), ({"every": 0}, "every"), ({"gamma": 1.5}, "gamma"),
                    ({"best": 5, "episodes": 4}, "best")]:
        with pytest.raises(ValueError, match=msg):
            S.collect(chain_id, "random", **kw)
    with pytest.raises(ValueError, match="unknown policy"):
        S.collect(chain_id, "no_such_teacher")


def test_ppo_trains_on_snapshot_starts(chain_id):
    """The wrapped env drops into an agent unchanged: PPO's rollouts start from the snapshots during the phase."""
    from realax.agents import ppo

    snaps = S.collect(chain_id, "chain_env:go_right", episodes=2, every=1, gamma=GAMMA)
    env, params = S.starts(snaps, n_clusters=2, truncate_steps=2, snapshot_steps=8)
    config = ppo.PPOConfig(num_envs=4, num_steps=8, total_timesteps=64, num_minibatches=2, update_epochs=1,
                           hidden=8, updates_per_chunk=1)
    trainer = ppo.make_train(config, env, params)
    carry = jax.jit(trainer.init)(jax.random.key(0))
    assert (np.asarray(carry.env_state.snapshot) >= 0).all()  # every copy starts from a snapshot
    carry, metrics = jax.jit(trainer.step)(carry)
    assert np.isfinite(np.asarray(metrics["loss"])).all()
    np.testing.assert_array_equal(np.asarray(carry.env_state.steps), 8)  # the phase clock of each copy
