"""Minari storage: Minari's own loader opens it, writes are atomic, verify finds damage, exporters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from realax.cli import app
from realax.offline import minari_io
from realax.offline.dataset import generate_dataset
from realax.offline.generate import DataSpec

EXPERT = "chain_env:go_right"
runner = CliRunner()


@pytest.fixture
def chain_dataset(chain_id, tmp_path):
    spec = DataSpec(chain_id, policy=EXPERT, episodes=40, level=0.6, seed=3)
    path, meta = generate_dataset(spec, tmp_path / "chain-mixed-v0", progress=False)
    return path, meta


def test_minari_load_dataset_opens_it(chain_dataset, monkeypatch):
    import minari

    path, meta = chain_dataset
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(path.parent))
    ds = minari.load_dataset(path.name)
    assert ds.total_episodes == 40 and ds.total_steps == meta["total_steps"]
    for ep in ds.iterate_episodes():
        assert len(ep.observations) == len(ep.actions) + 1
        # the chain ends by reaching the goal (termination) or by the time limit (truncation), never both
        assert ep.terminations[-1] != ep.truncations[-1]
        assert not ep.terminations[:-1].any() and not ep.truncations[:-1].any()
        assert ep.terminations[-1] == (ep.observations[-1] == 4)
    md = ds.storage.metadata
    assert md["ref_min_score"] == meta["ref_min_score"] and md["ref_max_score"] == 1.0
    assert md["realax"]["policy"] == EXPERT and md["realax"]["level"] == 0.6 and md["realax"]["seed"] == 3
    assert md["realax"]["env_id"] == "realax/TestChain-v0" and md["realax"]["env_params"] == {"max_steps": 8}
    assert md["realax"]["split"] == {"train": [0, 32], "validation": [32, 40]}
    assert minari.get_normalized_score(ds, np.array([1.0]))[0] == pytest.approx(1.0)
    assert len(minari_io.load(path, "validation")) == 8


def test_verify_detects_corruption_missing_and_extra_files(chain_dataset):
    path, _ = chain_dataset
    assert minari_io.verify(path) == []
    assert runner.invoke(app, ["data", "verify", str(path)]).exit_code == 0
    h5 = path / "data" / "main_data.hdf5"
    raw = bytearray(h5.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    h5.write_bytes(bytes(raw))
    problems = minari_io.verify(path)
    assert problems == ["data/main_data.hdf5: sha256 differs from the one recorded at write time"]
    r = runner.invoke(app, ["data", "verify", str(path)])
    assert r.exit_code == 1 and "sha256" in r.output
    (path / "data" / "stray.txt").write_text("x")
    assert "data/stray.txt: not in the manifest" in minari_io.verify(path)
    (path / "data" / "metadata.json").unlink()
    assert "data/metadata.json: missing" in minari_io.verify(path)


def test_forced_failure_mid_write_leaves_nothing(chain_id, tmp_path, monkeypatch):
    real = minari_io._episode_records

    def failing(*args):
        for i, b in enumerate(real(*args)):
            if i == 5:
                raise RuntimeError("disk full")
            yield b

    monkeypatch.setattr(minari_io, "_episode_records", failing)
    spec = DataSpec(chain_id, policy=EXPERT, episodes=20)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_dataset(spec, tmp_path / "chain-v0", progress=False)
    assert os.listdir(tmp_path) == []  # neither the dataset nor a partial folder


_KILLED_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import realax
realax.register("realax/TestChain-v0", "chain_env:Chain")
from realax.offline import minari_io
real = minari_io._episode_records
def slow(*args):
    for i, b in enumerate(real(*args)):
        if i == 10:
            Path({ready!r}).write_text("mid-write")
            time.sleep(600)
        yield b
minari_io._episode_records = slow
from realax.cli import main
sys.argv = ["realax", "data", "generate", "realax/TestChain-v0", "--policy", "chain_env:go_right",
            "--episodes", "30", "--out", {out!r}, "--quiet"]
main()
"""


def test_killed_generate_leaves_nothing_under_the_final_name(chain_id, tmp_path):
    out, ready = tmp_path / "chain-v0", tmp_path / "ready"
    code = _KILLED_CHILD.format(tests=str(Path(__file__).parent), ready=str(ready), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while not ready.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline, "the child never reached the write"
            time.sleep(0.2)
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".chain-v0.partial-")]
        assert len(partial) == 1 and any(partial[0].rglob("main_data.hdf5"))  # it really was writing
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert minari_io.verify(out) != []
    assert minari_io.stale_partials(out) == partial  # hidden
    lock = tmp_path / ".chain-v0.lock"
    assert json.loads(lock.read_text())["pid"] == proc.pid  # the killed writer's lock stays behind, stale
    # the next write takes the stale lock over and removes the staging folder, saying so
    r = runner.invoke(app, ["data", "generate", chain_id, "--policy", EXPERT, "--episodes", "5", "--out", str(out),
                            "--quiet"], env={"COLUMNS": "4000"})
    assert r.exit_code == 0, r.output
    assert f"took over the stale lock {lock} of pid {proc.pid}" in r.output
    assert f"removed {partial[0]}, a staging folder left by an interrupted write" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain-v0", "ready"] and minari_io.verify(out) == []


def test_exports_split_into_train_and_validation(chain_dataset, tmp_path):
    path, meta = chain_dataset
    d4rl = minari_io.export(path, "d4rl", tmp_path / "d4rl")
    neorl = minari_io.export(path, "neorl", tmp_path / "neorl")
    assert [p.name for p in neorl] == ["chain-mixed-v0-train.npz", "chain-mixed-v0-val.npz"]
    train, val = (np.load(p) for p in d4rl)
    assert len(train["observations"]) + len(val["observations"]) == meta["total_steps"]
    assert set(train.files) == {"observations", "actions", "rewards", "terminals", "timeouts", "next_observations",
                                "metadata/observation_shape"}
    assert train["observations"].shape == (len(train["rewards"]), 1) and train["metadata/observation_shape"].shape == (0,)
    n = np.load(neorl[0])
    assert set(n.files) == {"obs", "next_obs", "action", "reward", "done", "truncated", "index"}
    # each trajectory of the chain: next_obs is obs shifted by one inside a trajectory
    starts = n["index"].tolist() + [len(n["obs"])]
    for s, e in zip(starts[:-1], starts[1:], strict=True):
        np.testing.assert_array_equal(n["next_obs"][s:e - 1], n["obs"][s + 1:e])
        assert n["done"][e - 1] or n["truncated"][e - 1]
    assert n["index"][0] == 0 and (n["reward"] == n["done"]).all()  # reward 1 exactly at the goal
    np.testing.assert_array_equal(n["obs"], train["observations"][:, 0])  # D4RL's rows are flat: (N, 1)


def test_existing_folder_is_refused_and_overwrite_replaces(chain_dataset):
    path, _ = chain_dataset
    r = runner.invoke(app, ["data", "generate", "realax/TestChain-v0", "--policy", EXPERT, "--episodes", "5",
                            "--out", str(path), "--quiet"])
    assert r.exit_code != 0 and "exists" in r.output
    r = runner.invoke(app, ["data", "generate", "realax/TestChain-v0", "--policy", EXPERT, "--episodes", "5",
                            "--out", str(path), "--quiet", "--overwrite"])
    assert r.exit_code == 0, r.output
    assert json.loads((path / minari_io.MANIFEST).read_text())["total_episodes"] == 5
    assert minari_io.verify(path) == []


@pytest.fixture
def gym_chain_id(chain_id):
    """The chain registered with Gymnasium too, so its datasets record an env spec (``recover_environment``)."""
    import gymnasium

    gymnasium.register(chain_id, entry_point="realax.wrappers.gymnasium:GymnasiumEnv", kwargs={"env_id": chain_id})
    yield chain_id
    del gymnasium.registry[chain_id]


def test_minari_reads_episodes_as_its_data_collector_writes_them(gym_chain_id, tmp_path, monkeypatch):
    """Issue 17: an ``infos`` group, per-episode ``seed`` and reward statistics, actions in the space's dtype, a
    printable ``EpisodeData``, and a recovered env whose ``reset(seed=...)`` starts the episode where it started."""
    import minari

    spec = DataSpec(gym_chain_id, policy="random", episodes=6, seed=2, env_kwargs={"random_start": True})
    path, _ = generate_dataset(spec, tmp_path / "chain-starts-v0", progress=False)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    ds = minari.load_dataset(path.name)
    text = repr(ds[0])
    assert text.startswith("EpisodeData(id=0, total_steps=") and "infos=dict with the following keys: []" in text
    env, starts = ds.recover_environment(), set()
    for ep, attrs in zip(ds.iterate_episodes(), ds.storage.get_episode_metadata(range(6)), strict=True):
        assert ep.infos == {} and ep.actions.dtype == ds.action_space.dtype == np.int64  # Discrete(2): int64
        assert attrs["id"] == ep.id and attrs["total_steps"] == len(ep) and isinstance(attrs["seed"], int)
        r = ep.rewards
        assert [attrs[f"rewards_{s}"] for s in ("sum", "mean", "std", "max", "min")] == \
            pytest.approx([r.sum(), r.mean(), r.std(), r.max(), r.min()])
        obs, _ = env.reset(seed=attrs["seed"])
        assert obs == ep.observations[0]  # the recorded seed starts the episode where it started
        obs, reward, *_ = env.step(ep.actions[0])  # the chain is deterministic after the start
        assert (obs, reward) == (ep.observations[1], ep.rewards[0])
        starts.add(int(ep.observations[0]))
    assert len(starts) > 1  # the starts differ: the seeds, not a fixed start, reproduced them
    eps = minari_io.read(path)
    assert eps.seeds.tolist() == [a["seed"] for a in ds.storage.get_episode_metadata(range(6))]


def _waterfall_dataset(out: Path) -> Path:
    """Four episodes of (8, 10) observations written through ``minari_io.write`` (no collection)."""
    import gymnasium

    from realax.offline.episodes import Episodes

    rng = np.random.default_rng(0)
    lengths = np.array([3, 2, 4, 1])
    n = int(lengths.sum())
    ends = np.cumsum(lengths) - 1
    done = np.zeros(n, bool)
    done[ends] = True
    eps = Episodes(rng.random((n, 8, 10), np.float32), rng.random((n, 8, 10), np.float32),
                   rng.integers(0, 4, n).astype(np.int32), rng.random(n).astype(np.float32), done,
                   np.zeros(n, bool), lengths)
    meta = {"split": {"train": [0, 3], "validation": [3, 4]}, "policy": "random", "realax_version": "0"}
    return minari_io.write(out, eps, meta, gymnasium.spaces.Box(0.0, 1.0, (8, 10), np.float32),
                           gymnasium.spaces.Discrete(4))


def test_d4rl_export_is_flat_by_default_and_structured_with_keep_shape(tmp_path):
    path = _waterfall_dataset(tmp_path / "waterfall-v0")
    r = runner.invoke(app, ["data", "export", str(path), "--format", "d4rl", "--out", str(tmp_path / "flat")])
    assert r.exit_code == 0, r.output
    flat = np.load(tmp_path / "flat" / "waterfall-v0-train.npz")
    assert flat["observations"].shape == flat["next_observations"].shape == (9, 80)
    assert flat["metadata/observation_shape"].tolist() == [8, 10]
    assert flat["actions"].dtype == np.int64  # stored in the recorded Discrete space's dtype
    r = runner.invoke(app, ["data", "export", str(path), "--format", "d4rl", "--keep-shape", "--out",
                            str(tmp_path / "shaped")])
    assert r.exit_code == 0, r.output
    shaped = np.load(tmp_path / "shaped" / "waterfall-v0-train.npz")
    np.testing.assert_array_equal(shaped["observations"].reshape(9, 80), flat["observations"])
    r = runner.invoke(app, ["data", "export", str(path), "--format", "neorl", "--keep-shape", "--out",
                            str(tmp_path / "n")])
    assert r.exit_code == 2 and "--keep-shape applies to the d4rl format" in r.output
    assert not (tmp_path / "n").exists()


def test_d3rlpy_builds_an_mdp_dataset_from_the_d4rl_export(tmp_path):
    d3rlpy = pytest.importorskip("d3rlpy", reason="d3rlpy is not installed (it is in the [bench] extra)")
    path = _waterfall_dataset(tmp_path / "waterfall-v0")
    d = np.load(minari_io.export(path, "d4rl", tmp_path / "npz")[0])
    data = d3rlpy.dataset.MDPDataset(d["observations"], d["actions"], d["rewards"], d["terminals"],
                                     timeouts=d["timeouts"])
    assert data.size() == 3 and data.transition_count == 9  # the train split's 3 + 2 + 4 steps, all terminating
    assert data.dataset_info.observation_signature.shape == [(80,)]
    bc = d3rlpy.algos.DiscreteBCConfig().create(device="cpu:0")
    bc.build_with_dataset(data)  # the default vector encoder takes the flat rows
    assert bc.predict(d["observations"][:2]).shape == (2,)


def _hdf5_contents(file: Path) -> dict:
    """Every object of an HDF5 file: a group's attributes (name, dtype, value), a dataset's dtype, shape and
    values, by path."""
    import h5py

    out = {}

    def visit(name, obj):
        attrs = {k: (np.asarray(v).dtype.str, np.asarray(v).tolist()) for k, v in obj.attrs.items()}
        if isinstance(obj, h5py.Dataset):
            out[name] = (obj.dtype.str, obj.shape, obj[()].tolist(), attrs)
        else:
            out[name] = ("group", attrs)

    with h5py.File(file, "r") as f:
        f.visititems(visit)
    return out


def test_reward_statistics_match_minaris_callback_bit_for_bit():
    """``_reward_stats`` reduces all episodes of one length at once; each value must equal what Minari's
    ``EpisodeMetadataCallback`` gives that episode alone (lengths past numpy's pairwise block of 128 and
    per-agent reward rows included)."""
    import minari

    from realax.offline.episodes import Episodes

    callback = minari.data_collector.callbacks.EpisodeMetadataCallback()
    rng = np.random.default_rng(3)
    for reward_shape in ((), (3,)):
        lengths = np.array([300, 1, 300, 129, 7, 300, 129])
        n = int(lengths.sum())
        rewards = (rng.standard_normal((n, *reward_shape)) * 10).astype(np.float32)
        eps = Episodes(np.zeros((n, 1)), np.zeros((n, 1)), np.zeros(n, int), rewards, np.zeros(n, bool),
                       np.zeros(n, bool), lengths)
        stats = minari_io._reward_stats(eps, eps.starts)
        for i, (s, length) in enumerate(zip(eps.starts, lengths, strict=True)):
            assert {k: float(v[i]) for k, v in stats.items()} == callback({"rewards": rewards[s:s + length]})


def test_episodes_are_stored_as_minaris_own_writer_stores_them(tmp_path, monkeypatch):
    """``hdf5_episodes`` (h5py's low-level API) against Minari's ``create_dataset_from_buffers`` and its
    ``update_episode_metadata`` on the same episodes: the same groups, datasets (dtype, shape, values) and
    attributes, bool arrays and info entries included; Minari reads the same episodes from both."""
    import gymnasium
    import minari
    from minari.data_collector import EpisodeBuffer

    from realax.offline.episodes import Episodes

    rng = np.random.default_rng(1)
    lengths = np.array([3, 1, 4])
    n = int(lengths.sum())
    done = np.zeros(n, bool)
    done[np.cumsum(lengths) - 1] = True
    eps = Episodes(rng.random((n, 2, 3), np.float32), rng.random((n, 2, 3), np.float32),
                   rng.integers(0, 5, n), rng.random(n).astype(np.float32), done, ~done & (rng.random(n) < 0.3),
                   lengths, costs=rng.random((n, 1)).astype(np.float32),
                   infos={"hit": rng.random(n) < 0.5, "load": rng.integers(0, 9, (n, 2)).astype(np.int32)},
                   seeds=np.array([7, 8, 9]))
    obs_space, act_space = gymnasium.spaces.Box(0.0, 1.0, (2, 3), np.float32), gymnasium.spaces.Discrete(5)
    ours = minari_io.write(tmp_path / "ours-v0", eps, {"policy": "random", "realax_version": "0"}, obs_space,
                           act_space)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    records = list(minari_io._episode_records(eps, obs_space, act_space))
    buffers = [EpisodeBuffer(id=r.attrs["id"], seed=r.attrs["seed"], observations=r.arrays["observations"],
                             actions=r.arrays["actions"], rewards=r.arrays["rewards"],
                             terminations=r.arrays["terminations"], truncations=r.arrays["truncations"],
                             infos=dict(r.infos)) for r in records]
    theirs = minari.create_dataset_from_buffers("theirs-v0", buffers, observation_space=obs_space,
                                                action_space=act_space)
    callback = minari.data_collector.callbacks.EpisodeMetadataCallback()
    theirs.storage.update_episode_metadata([callback({"rewards": b.rewards}) for b in buffers])
    mine = _hdf5_contents(ours / "data" / "main_data.hdf5")
    assert mine == _hdf5_contents(theirs.storage.data_path / "main_data.hdf5")
    assert mine["episode_2/terminations"][0] == "|b1" and mine["episode_0/infos"] == ("group", {})
    assert set(mine["episode_1"][1]) == {"id", "seed", "total_steps", "rewards_sum", "rewards_mean", "rewards_std",
                                         "rewards_max", "rewards_min"}
    loaded = minari_io.load(ours)
    assert (loaded.total_episodes, loaded.total_steps) == (3, 8)
    for a, b in zip(loaded.iterate_episodes(), theirs.iterate_episodes(), strict=True):
        for field in ("observations", "actions", "rewards", "terminations", "truncations"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.infos.keys() == b.infos.keys() == {"hit", "load", "cost"}
