"""Issue 15: a run of two processes on this machine (``jax.distributed`` through ``--coordinator``), and datasets
written in parts and merged.

Each process of a two-process run is a ``realax`` command of its own; they meet at a free localhost port. The
training run must complete with process 0 writing the folder; the data generation must leave one merged
dataset that verifies and holds the episodes one process writes, bit for bit.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from realax.errors import RealaxError
from realax.offline import minari_io
from realax.offline.dataset import generate_dataset, merge_parts, part_path
from realax.offline.generate import DataSpec

TRAIN = ["train", "ppo", "realax/Spectrum-v0", "--total-timesteps", "1024", "--num-seeds", "2", "--set", "num_envs=16",
         "--set", "num_steps=32", "--set", "updates_per_chunk=1", "--episodes", "2"]
DATA = ["data", "generate", "realax/Spectrum-v0", "--episodes", "12", "--num-envs", "6", "--quiet"]
FIELDS = ("observations", "next_observations", "actions", "rewards", "terminations", "truncations", "lengths", "seeds")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _two_processes(args: list[str], cwd: Path) -> list[subprocess.CompletedProcess]:
    coordinator = f"localhost:{_free_port()}"
    # one CPU device per process: the session's XLA flags (tests/conftest.py) without a forced device count
    flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f)
    env = {**os.environ, "XLA_FLAGS": flags}
    cmd = [sys.executable, "-m", "realax.cli", *args, "--coordinator", coordinator, "--num-processes", "2"]
    procs = [subprocess.Popen([*cmd, "--process-id", str(i)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    try:
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


def test_two_processes_train_and_generate_a_merged_dataset(tmp_path: Path):
    runs = _two_processes([*TRAIN, "--out", "run"], tmp_path)
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    assert "process 1 of 2: trained its part" in runs[1].stdout
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["processes"] == 2 and meta["devices"] == 2 and meta["status"] == "complete"
    assert (tmp_path / "run" / "metrics.json").exists()

    runs = _two_processes([*DATA, "--out", "two-v0"], tmp_path)
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    assert "merged 2 parts into" in runs[0].stdout
    assert minari_io.verify(tmp_path / "two-v0") == []
    assert not part_path(tmp_path / "two-v0", 0, 2).exists()  # the parts are removed once merged
    # the same data in one process: this one (the command's defaults, without another JAX start-up)
    generate_dataset(DataSpec("realax/Spectrum-v0", episodes=12), tmp_path / "one-v0", progress=False, max_envs=6)
    a, b = minari_io.read(tmp_path / "two-v0"), minari_io.read(tmp_path / "one-v0")
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    ma, mb = minari_io.metadata(tmp_path / "two-v0"), minari_io.metadata(tmp_path / "one-v0")
    assert {k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k)} == {"parts", "collect_seconds"}


def test_parts_merge_into_the_one_process_dataset_and_bad_merges_are_refused(tmp_path: Path):
    spec = DataSpec("realax/Spectrum-v0", episodes=7, seed=3)
    whole, _ = generate_dataset(spec, tmp_path / "whole-v0", progress=False, max_envs=3)
    for i in range(3):
        generate_dataset(spec, tmp_path / "d-v0", progress=False, max_envs=3, part=(i, 3))
    assert part_path(tmp_path / "d-v0", 2, 3).name == "d-part2of3-v0"
    path, meta = merge_parts(tmp_path / "d-v0", 3)
    assert meta["total_episodes"] == 7 and meta["parts"] == 3 and minari_io.verify(path) == []
    a, b = minari_io.read(path), minari_io.read(whole)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    with pytest.raises(RealaxError, match=r"d-part3of4-v0 not written \(expected 4 parts\)"):
        merge_parts(tmp_path / "d-v0", 4)
    other = DataSpec("realax/Spectrum-v0", episodes=7, seed=4)
    generate_dataset(other, tmp_path / "e-v0", progress=False, max_envs=3, part=(0, 2))
    generate_dataset(spec, tmp_path / "e-v0", progress=False, max_envs=3, part=(1, 2))
    with pytest.raises(RealaxError, match="is not part 1 of 2 of the dataset part 0 describes"):
        merge_parts(tmp_path / "e-v0", 2)
    with pytest.raises(RealaxError, match="part 0 of 4 has no environment: 3 episodes run as 3 parallel"):
        generate_dataset(DataSpec("realax/Spectrum-v0", episodes=3), tmp_path / "f-v0", progress=False, part=(0, 4))
    with pytest.raises(RealaxError, match="run `realax data measure` on the merged one"):
        generate_dataset(spec, tmp_path / "g-v0", progress=False, measure=True, part=(0, 2))
