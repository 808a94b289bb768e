"""Snapshot starts (S3RL): resets into exactly the pooled states, the cluster-then-state draw, truncation after
K steps, the initial phase only, jit/vmap, and the conformance checks every env passes."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "offline"))  # the tabular test envs
from chain_env import Chain, Echo  # noqa: E402

from realax.wrappers.snapshot import FOREVER, SnapshotStarts, cluster_values  # noqa: E402


def _echo_pool(ts, actions=None):
    """Echo states ``(last action, t)`` stacked: a pool of ``len(ts)`` snapshots."""
    ts = np.asarray(ts, np.int32)
    a = np.arange(len(ts), dtype=np.int32) % 4 if actions is None else np.asarray(actions, np.int32)
    return (jnp.asarray(a), jnp.asarray(ts))


def _run(env, params, actions, key=0):
    """Step ``env`` with autoreset through ``actions``: stacked ``(obs, state, reward, term, trunc, info)``."""
    obs, state = env.reset(jax.random.key(key), params)

    def body(state, xs):
        k, a = xs
        out = env.step(k, state, a, params)
        return out[1], out

    keys = jax.random.split(jax.random.key(key + 1), len(actions))
    _, out = jax.lax.scan(body, state, (keys, jnp.asarray(actions)))
    return state, jax.tree.map(np.asarray, out)


@pytest.fixture(scope="module")
def spectrum_pool():
    """16 Spectrum states from random rollouts, at different steps."""
    env, params = realax.make("realax/Spectrum-v0", scenario="jammer_sweep", own_tx=True)

    def roll(key):
        _, state = env.reset(key, params)

        def body(s, k):
            s = env.step(k, s, env.action_space(params).sample(k), params)[1]
            return s, s

        return jax.lax.scan(body, state, jax.random.split(key, 40))[1]

    traj = jax.jit(jax.vmap(roll))(jax.random.split(jax.random.key(0), 4))  # [4, 40, ...]
    pick = lambda x: x[:, 5::10].reshape(16, *x.shape[2:])  # steps 6, 16, 26, 36 of each rollout
    return env, params, jax.tree.map(pick, traj)


def test_resets_into_exactly_the_given_states(spectrum_pool):
    env, params, pool = spectrum_pool
    wenv, wparams = SnapshotStarts(env, pool).wrap(params)
    obs, state = jax.jit(jax.vmap(wenv.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(1), 64), wparams)
    idx = np.asarray(state.snapshot)
    assert idx.min() >= 0 and len(set(idx.tolist())) > 8
    want = jax.tree.map(lambda x: np.asarray(x)[idx], pool)
    jax.tree.map(np.testing.assert_array_equal, jax.tree.map(np.asarray, state.env_state), want)
    want_obs = jax.jit(jax.vmap(lambda s: env.reset_to(s, params)[0]))(want)
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(want_obs))
    assert np.asarray(state.env_state.t).min() > 0  # mid-episode states, not the env's own resets
    # the step after a snapshot start is the env's own step from that state
    one = jax.tree.map(lambda x: x[0], state)
    a = jnp.int32(3)
    got = jax.jit(wenv.step)(jax.random.key(5), one, a, wparams)
    ref = jax.jit(env.step)(jax.random.key(5), env.reset_to(jax.tree.map(lambda x: x[0], want), params)[1], a, params)
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(ref[0]))
    assert float(got[2]) == float(ref[2])


def test_cluster_then_state_draw():
    labels = np.array([0, 1, 1, 2, 2, 2, 2, 2, 2, 2], np.int32)  # clusters of 1, 2 and 7 snapshots
    env = Echo()
    wenv, wparams = SnapshotStarts(env, _echo_pool(np.zeros(10)), labels).wrap()
    n = 6000
    draw = jax.jit(jax.vmap(wenv.draw, in_axes=(0, None)))
    idx, c = map(np.asarray, draw(jax.random.split(jax.random.key(2), n), wparams))
    np.testing.assert_array_equal(labels[idx], c)  # the drawn snapshot belongs to the drawn cluster
    np.testing.assert_allclose(np.bincount(c, minlength=3) / n, [1 / 3] * 3, atol=0.03)  # clusters uniformly
    per = np.bincount(idx, minlength=10) / n
    np.testing.assert_allclose(per, [1 / 3, 1 / 6, 1 / 6] + [1 / 21] * 7, atol=0.02)  # then members uniformly
    # without labels: one cluster, uniform over the snapshots (plain SnapshotRL)
    uenv, uparams = SnapshotStarts(env, _echo_pool(np.zeros(10))).wrap()
    idx_u = np.asarray(jax.vmap(uenv.draw, in_axes=(0, None))(jax.random.split(jax.random.key(3), n), uparams)[0])
    np.testing.assert_allclose(np.bincount(idx_u, minlength=10) / n, [0.1] * 10, atol=0.02)


def test_snapshot_episodes_are_truncated_after_k_steps():
    # Echo truncates at t = 10; snapshots at t = 0 and t = 8; K = 3
    env = Echo(max_steps=10)
    wenv, wparams = SnapshotStarts(env, _echo_pool([0, 8], [1, 2]), truncate_steps=3).wrap()
    s0, (obs, state, r, te, tr, info) = _run(wenv, wparams, np.ones(60, np.int32))
    assert not te.any()
    ends = np.flatnonzero(tr)
    lengths = np.diff(np.concatenate([[-1], ends]))
    t0 = np.concatenate([[int(s0.env_state[1])], state.env_state[1][ends[:-1]]])  # start t of each episode
    assert set(t0.tolist()) == {0, 8} and len(ends) > 10
    np.testing.assert_array_equal(lengths, np.where(t0 == 8, 2, 3))  # K steps, or the env's own limit first
    assert info["from_snapshot"].all()
    # K = 0: no truncation, the env's own time limit only
    wenv0, wparams0 = SnapshotStarts(env, _echo_pool([0, 8], [1, 2]), truncate_steps=0).wrap()
    _, (_, _, _, _, tr0, _) = _run(wenv0, wparams0, np.ones(30, np.int32), key=7)
    assert set(np.diff(np.concatenate([[-1], np.flatnonzero(tr0)])).tolist()) <= {2, 10}


def test_a_goal_reached_from_a_snapshot_is_termination_not_truncation():
    env = Chain(n=5, max_steps=8)
    pool = (jnp.array([3], jnp.int32), jnp.array([2], jnp.int32))  # one step from the goal
    wenv, wparams = SnapshotStarts(env, pool, truncate_steps=1).wrap()
    _, state = wenv.reset(jax.random.key(0), wparams)
    _, _, r, te, tr, info = wenv.step(jax.random.key(1), state, jnp.int32(1), wparams)
    assert bool(te) and not bool(tr) and float(r) == 1.0 and int(info["final_obs"]) == 4
    _, _, r, te, tr, _ = wenv.step(jax.random.key(1), state, jnp.int32(0), wparams)  # step back: cut by K = 1
    assert not bool(te) and bool(tr)


def test_snapshot_resets_only_in_the_initial_phase():
    env = Echo(max_steps=10)
    wenv, wparams = SnapshotStarts(env, _echo_pool([5], [3]), truncate_steps=2, snapshot_steps=7).wrap()
    s0, (obs, state, r, te, tr, info) = _run(wenv, wparams, np.ones(40, np.int32))
    assert int(s0.snapshot) == 0 and int(s0.env_state[1]) == 5
    np.testing.assert_array_equal(state.steps, np.arange(1, 41))  # the phase clock counts this copy's steps
    ends = np.flatnonzero(tr)
    # snapshot episodes of 2 steps start at clock 0, 2, 4, 6 (< 7); the next reset (clock 8) is the env's own
    np.testing.assert_array_equal(ends[:4], [1, 3, 5, 7])
    assert (state.snapshot[:7] == 0).all() and (state.snapshot[7:] == -1).all()
    np.testing.assert_array_equal(ends[4:], [17, 27, 37])  # then episodes of the env's 10 steps
    np.testing.assert_array_equal(info["from_snapshot"], np.arange(40) < 8)
    np.testing.assert_array_equal(state.env_state[1][7], 0)  # a fresh episode: t = 0
    # snapshot_steps=0: never; None: always
    w0, p0 = SnapshotStarts(env, _echo_pool([5]), snapshot_steps=0).wrap()
    assert int(w0.reset(jax.random.key(0), p0)[1].snapshot) == -1
    assert int(SnapshotStarts(env, _echo_pool([5])).default_params.snapshot_steps) == FOREVER


def test_jit_compiles_once_and_vmaps_over_envs_and_params():
    env = Echo(max_steps=10)
    wenv, wparams = SnapshotStarts(env, _echo_pool([0, 4, 6]), truncate_steps=3, snapshot_steps=100).wrap()
    traces = []

    def rollout(params, key):
        traces.append(1)
        keys = jax.random.split(key, 8)
        _, state = jax.vmap(wenv.reset, in_axes=(0, None))(keys, params)

        def body(s, k):
            out = jax.vmap(wenv.step, in_axes=(0, 0, None, None))(jax.random.split(k, 8), s, jnp.int32(1), params)
            return out[1], out[4]

        return jax.lax.scan(body, state, jax.random.split(key, 30))[1]

    run = jax.jit(rollout)
    tr3 = np.asarray(run(wparams, jax.random.key(0)))
    tr5 = np.asarray(run(wparams.replace(truncate_steps=jnp.int32(5)), jax.random.key(0)))
    assert len(traces) == 1  # K lives in params: no retrace
    assert tr3.shape == (30, 8) and tr3.sum() > tr5.sum()
    np.testing.assert_array_equal(tr3, np.asarray(run(wparams, jax.random.key(0))))  # deterministic
    # a batch of params (K = 2, 3, 4) vmapped: shorter K, more truncations
    batch = jax.tree.map(lambda *x: jnp.stack(x), *[wparams.replace(truncate_steps=jnp.int32(k)) for k in (2, 3, 4)])
    many = np.asarray(jax.jit(jax.vmap(rollout, in_axes=(0, None)))(batch, jax.random.key(0)))
    assert many.shape == (3, 30, 8) and many[0].sum() > many[1].sum() > many[2].sum()
    np.testing.assert_array_equal(many[1], tr3)


def test_conformance_checks_on_a_wrapped_spectrum(spectrum_pool):
    """What tests/test_conformance.py asks of every env: shapes, obs in space, autoreset with final_obs,
    observation a function of the state, reset_to, params read through (max_steps)."""
    env, params, pool = spectrum_pool
    wenv, wparams = SnapshotStarts(env, pool, cluster_values(np.asarray(pool.t, float), 2), truncate_steps=7,
                                   snapshot_steps=25).wrap(params)
    assert wparams.max_steps == params.max_steps and wenv.num_clusters == 2
    space = wenv.observation_space(wparams)
    actions = jax.random.randint(jax.random.key(3), (60,), 0, wenv.action_space(wparams).n)
    _, (obs, state, r, te, tr, info) = _run(wenv, wparams, actions)
    assert obs.shape[1:] == space.shape and obs.dtype == np.dtype(space.dtype) and r.dtype == np.float32
    assert te.dtype == bool and tr.dtype == bool and not (te & tr).any()
    assert all(space.contains(o) for o in obs)
    done = np.flatnonzero(te | tr)
    assert len(done) >= 3
    d = done[0]
    np.testing.assert_array_equal(info["final_obs"][:d], obs[:d])
    assert not np.array_equal(info["final_obs"][d], obs[d])
    last = jax.tree.map(lambda x: x[d], state)
    np.testing.assert_array_equal(np.asarray(wenv.get_obs(last, wparams)), obs[d])
    np.testing.assert_array_equal(np.asarray(env.reset_to(last.env_state, params)[0]), obs[d])
    o2, s2 = wenv.reset_to(last.env_state, wparams)
    np.testing.assert_array_equal(np.asarray(o2), obs[d])
    assert int(s2.snapshot) == -1 and int(s2.steps) == 0
    img = wenv.render(last, wparams)
    assert img.dtype == np.uint8 and img.ndim == 3


def test_cluster_values_kmeans_and_quantiles():
    v = np.array([0.0, 0.1, 0.2, 5.0, 5.1, 9.9, 10.0, 10.2])
    np.testing.assert_array_equal(cluster_values(v, 3), [0, 0, 0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(cluster_values(v[::-1], 3), [2, 2, 2, 1, 1, 0, 0, 0])  # numbered by value
    np.testing.assert_array_equal(np.bincount(cluster_values(np.arange(12.0), 4, "quantile")), [3, 3, 3, 3])
    assert cluster_values(np.ones(5), 6).tolist() == [0] * 5  # identical values: one cluster, none empty
    assert cluster_values(v, 1).tolist() == [0] * 8


def test_bad_input_is_refused_with_clear_errors():
    env = Echo()
    pool = _echo_pool([0, 1, 2])
    with pytest.raises(ValueError, match="labels must have shape"):
        SnapshotStarts(env, pool, labels=[0, 1])
    with pytest.raises(ValueError, match="every cluster"):
        SnapshotStarts(env, pool, labels=[0, 2, 2])
    with pytest.raises(ValueError, match="truncate_steps"):
        SnapshotStarts(env, pool, truncate_steps=-1)
    with pytest.raises(ValueError, match="snapshot_steps"):
        SnapshotStarts(env, pool, snapshot_steps=1.5)
    with pytest.raises(ValueError, match="not states of Echo"):
        SnapshotStarts(env, {"t": jnp.zeros(3, jnp.int32)})
    with pytest.raises(ValueError, match="leaves int32"):
        SnapshotStarts(env, (jnp.zeros((3, 2), jnp.int32), jnp.zeros(3, jnp.int32)))
    with pytest.raises(ValueError, match="same leading snapshot axis"):
        SnapshotStarts(env, (jnp.zeros(3, jnp.int32), jnp.zeros(2, jnp.int32)))
    with pytest.raises(ValueError, match="kmeans"):
        cluster_values([1.0, 2.0], 2, method="dbscan")
    with pytest.raises(ValueError, match="finite"):
        cluster_values([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="n_clusters"):
        cluster_values([1.0, 2.0], 0)
