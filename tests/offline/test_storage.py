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
    real = minari_io._buffers

    def failing(eps):
        for i, b in enumerate(real(eps)):
            if i == 5:
                raise RuntimeError("disk full")
            yield b

    monkeypatch.setattr(minari_io, "_buffers", failing)
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
real = minari_io._buffers
def slow(eps):
    for i, b in enumerate(real(eps)):
        if i == 10:
            Path({ready!r}).write_text("mid-write")
            time.sleep(600)
        yield b
minari_io._buffers = slow
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
    assert set(train.files) == {"observations", "actions", "rewards", "terminals", "timeouts", "next_observations"}
    n = np.load(neorl[0])
    assert set(n.files) == {"obs", "next_obs", "action", "reward", "done", "truncated", "index"}
    # each trajectory of the chain: next_obs is obs shifted by one inside a trajectory
    starts = n["index"].tolist() + [len(n["obs"])]
    for s, e in zip(starts[:-1], starts[1:], strict=True):
        np.testing.assert_array_equal(n["next_obs"][s:e - 1], n["obs"][s + 1:e])
        assert n["done"][e - 1] or n["truncated"][e - 1]
    assert n["index"][0] == 0 and (n["reward"] == n["done"]).all()  # reward 1 exactly at the goal
    np.testing.assert_array_equal(n["obs"], train["observations"])


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
