"""The association rule on small layouts built by hand: the QoS threshold, UAV capacity, ties, rounds and the
base-station fallback (``realax.envs.uav.association``)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from realax.envs.uav.association import associate

NO_BS = jnp.zeros((0, 0), jnp.float32)


def _run(uav, bs=None, thr=10.0, bs_thr=0.0, cap=10, bs_cap=10):
    uav = jnp.asarray(uav, jnp.float32)
    bs = jnp.zeros((uav.shape[0], 0), jnp.float32) if bs is None else jnp.asarray(bs, jnp.float32)
    return np.asarray(associate(uav, bs, thr, bs_thr, cap, bs_cap)).tolist()


def test_threshold_is_inclusive():
    assert _run([[10.0], [9.99], [25.0]]) == [0, -1, 0]


def test_capacity_keeps_the_strongest_and_ties_go_to_the_lower_index():
    # three users want UAV 0 (room 2): the strongest two get it; equal SINR -> lower user index first
    assert _run([[20.0, -5.0], [30.0, -5.0], [15.0, -5.0]], cap=2) == [0, 0, -1]
    assert _run([[20.0], [20.0], [20.0]], cap=2) == [0, 0, -1]


def test_tie_order_is_exact():
    assert _run([[20.0], [21.0], [20.0]], cap=2) == [0, 0, -1]  # user 1 strongest, then user 0 before user 2


def test_a_rejected_user_tries_its_next_uav_in_the_next_round():
    # UAV 0 (room 1) takes user 1; user 0 then goes to UAV 1, which it also clears
    assert _run([[20.0, 12.0], [25.0, -3.0]], cap=1) == [1, 0]
    # ... unless its second UAV is below the threshold
    assert _run([[20.0, 9.0], [25.0, -3.0]], cap=1) == [-1, 0]


def test_an_accepted_user_is_never_displaced():
    # round 1: user 0 -> UAV 0 (accepted, room 1). user 1 prefers UAV 1 (full after user 2)...
    out = _run([[30.0, 11.0], [25.0, 26.0], [-5.0, 40.0]], cap=1)
    assert out == [0, -1, 1]  # user 1 lost UAV 1 to user 2 and finds UAV 0 full: nobody displaces user 0


def test_base_stations_take_the_rest_with_their_own_threshold_and_capacity():
    uav = [[20.0], [5.0], [5.0], [5.0]]
    bs = [[0.0, 10.0], [3.0, 1.0], [-1.0, -2.0], [8.0, 2.0]]
    # user 0 on the UAV; users 1 and 3 prefer base station 0 (index K + 0 = 1); user 2 is below 0 dB everywhere
    assert _run(uav, bs, cap=1) == [0, 1, -1, 1]
    # base station 0 has room for one: user 3 (8 dB) beats user 1 (3 dB), who does not try base station 1
    assert _run(uav, bs, cap=1, bs_cap=1) == [0, -1, -1, 1]


def test_counts_never_exceed_capacity_on_random_layouts():
    rng = np.random.default_rng(0)
    for _ in range(5):
        uav = rng.normal(8.0, 8.0, (60, 4))
        bs = rng.normal(0.0, 5.0, (60, 2))
        out = np.array(_run(uav, bs, cap=7, bs_cap=11))
        for k in range(4):
            assert (out == k).sum() <= 7
            assert np.all(uav[out == k, k] >= 10.0)
        for b in range(2):
            assert (out == 4 + b).sum() <= 11
        # nobody is left out while a UAV with room would take them
        for u in np.nonzero(out < 4)[0]:
            for k in range(4):
                assert not (uav[u, k] >= 10.0 and (out == k).sum() < 7)
