"""TQ and SACo (Schweighofer et al. 2022) on the tabular chain, against hand counts."""

from __future__ import annotations

import numpy as np
import pytest

from realax.offline import measures
from realax.offline.generate import DataSpec, behaviour_of, build, collect, generate

EXPERT = "chain_env:go_right"


def _dataset(chain_id, policy, level=1.0, episodes=200, seed=0):
    spec = DataSpec(chain_id, policy=policy, episodes=episodes, seed=seed, level=level, expert=EXPERT)
    eps, _ = generate(spec, progress=False, references=False)
    return spec, eps


def test_unique_pairs_hand_counts():
    obs = np.array([0, 0, 1, 1, 2, 0], np.int32)
    act = np.array([1, 1, 0, 1, 1, 1], np.int32)
    assert measures.unique_pairs(obs, act) == 4  # (0,1) (1,0) (1,1) (2,1)
    # continuous states: np.digitize over np.linspace(low, high, 3) -> edges 0, 0.5, 1
    x = np.array([[0.1], [0.2], [0.6], [0.9], [1.0]], np.float32)
    a = np.zeros(5, np.int32)
    binning = measures.fit_binning(x, a, edges=3)
    assert binning["low"][0] == pytest.approx(0.1) and binning["high"][0] == 1.0 and binning["exact"] == [False, True]
    # edges 0.1, 0.55, 1.0: 0.1 and 0.2 -> bin 1, 0.6 and 0.9 -> bin 2, 1.0 -> bin 3
    assert measures.unique_pairs(x, a, binning) == 3


def test_expert_pairs_and_returns_by_hand(chain_id):
    _, eps = _dataset(chain_id, EXPERT, episodes=50)
    assert eps.lengths.tolist() == [4] * 50 and eps.returns().tolist() == [1.0] * 50
    assert eps.terminations.sum() == 50 and not eps.truncations.any()
    pairs = {(int(o), int(a)) for o, a in zip(eps.observations, eps.actions, strict=True)}
    assert pairs == {(0, 1), (1, 1), (2, 1), (3, 1)}
    assert measures.unique_pairs(eps.observations, eps.actions) == 4


def test_tq_is_0_for_random_1_for_expert_and_between_for_levels(chain_id):
    spec, _ = _dataset(chain_id, EXPERT, episodes=200)
    refs = measures.references(spec, EXPERT)
    # hand: the expert always reaches the goal (return 1); the random walk does within 8 steps only sometimes
    assert refs["expert"].returns().mean() == 1.0
    r_rand = refs["random"].returns()
    assert 0 < r_rand.mean() < 1
    np.testing.assert_array_equal(r_rand, np.add.reduceat(refs["random"].terminations, refs["random"].starts))
    tqs = {}
    for level in (0.0, 0.5, 0.8, 1.0):
        _, eps = _dataset(chain_id, EXPERT, level=level)
        tqs[level] = measures.measure_episodes(eps, refs)["tq"]
        hand = (eps.returns().mean() - r_rand.mean()) / (1.0 - r_rand.mean())
        assert tqs[level] == pytest.approx(hand, abs=1e-12)
    _, rand = _dataset(chain_id, "random")
    assert measures.measure_episodes(rand, refs)["tq"] == 0.0  # same policy and seed as the reference
    assert tqs[1.0] == 1.0
    assert tqs[0.0] < 0.5 and 0 < tqs[0.5] < tqs[0.8] < 1.0  # level 0 is random draws of another key


def test_saco_hand_counts_and_growth_with_noise(chain_id):
    spec, _ = _dataset(chain_id, EXPERT, episodes=200)
    refs = measures.references(spec, EXPERT)
    # the replay proxy sees every pair of states 0..3 with both actions (state 4 ends the episode)
    assert measures.unique_pairs(refs["replay"].observations, refs["replay"].actions) == 8
    assert measures.measure_episodes(refs["expert"], refs)["saco"] == 4 / 8
    assert measures.measure_episodes(refs["random"], refs)["saco"] == 8 / 8
    # few episodes, so coverage has not saturated: more noise (lower level), more pairs -- on average over
    # datasets drawn with different seeds (one 4-episode draw is too noisy to order 0.6 against 0.3)
    levels, seeds = (1.0, 0.9, 0.6, 0.3), range(6)
    small = [[measures.measure_episodes(_dataset(chain_id, EXPERT, level=lv, episodes=4, seed=s)[1], refs)
              for s in seeds] for lv in levels]
    counts = np.array([[m["unique_pairs"] for m in row] for row in small])
    assert (counts[0] == 4).all(), counts  # the expert alone: its 4 pairs, whatever the seed
    mean = counts.mean(1)
    assert (np.diff(mean) >= 0).all() and mean[-1] > mean[1] > mean[0], mean
    assert all(m["saco"] == m["unique_pairs"] / 8 for row in small for m in row)


def test_replay_proxy_levels_rise_over_streams(chain_id):
    spec = DataSpec(chain_id, policy=EXPERT, episodes=64)
    setup = build(spec)
    import jax

    eps = collect(setup.env, setup.params, behaviour_of(setup, spec), jax.random.key(0), 64, level=(0.0, 1.0),
                  max_envs=64, progress=False)
    ret = eps.returns()  # stream i has level i/63: the last streams are (nearly) the expert
    assert ret[-8:].mean() > ret[:8].mean() and ret[-1] == 1.0


def test_measures_stored_at_generation_match_a_later_measure(chain_id, tmp_path):
    from realax.offline import minari_io
    from realax.offline.dataset import generate_dataset

    spec = DataSpec(chain_id, policy=EXPERT, episodes=100, level=0.7)
    path, _ = generate_dataset(spec, tmp_path / "chain-v0", progress=False, measure=True)
    stored = minari_io.metadata(path)["measures"]
    res = measures.measure(path)
    assert res["tq"] == stored["tq"] and res["saco"] == stored["saco"] and res["expert_policy"] == EXPERT
    assert 0 < res["tq"] < 1 and res["reference_unique_pairs"] == 8
    assert stored["binning"]["exact"] == [True, True]  # integer states and discrete actions: no bins
    assert minari_io.verify(path) == []
