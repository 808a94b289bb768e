"""Named checkpoints, resume after SIGINT, and the run folder's logs (TensorBoard, metrics.jsonl)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

import realax
from realax import experiment
from realax.agents import algorithms, checkpoint
from realax.cli import app
from realax.errors import RealaxError
from realax.run_folder import RunFolder

ENV = {"scenario": "constant", "history": 1}
#: 4 chunks of 100 Q-learning updates (1 env each): compiles in seconds
SMALL = {"total_timesteps": 3200, "updates_per_chunk": 100, "num_envs": 8, "num_seeds": 2}


def _meta(seed: int) -> dict:
    return {"algo": "qlearning", "env_id": "realax/Spectrum-v0", "env_kwargs": ENV, "seed": seed, "num_seeds": 2,
            "episodes": 4, "config": experiment.make_config("qlearning", SMALL).__dict__}


def _keyless(tree):
    return [np.asarray(jax.random.key_data(x)) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else np.asarray(x)
            for x in jax.tree.leaves(tree)]


@contextlib.contextmanager
def _sigint_at_device_get(monkeypatch, n: int):
    """A real SIGINT, delivered during the ``n``-th ``jax.device_get`` (the chunk loop's, while it runs)."""
    real, calls = jax.device_get, {"n": 0}

    def get(x):
        calls["n"] += 1
        if calls["n"] == n:
            os.kill(os.getpid(), signal.SIGINT)
        return real(x)

    monkeypatch.setattr(jax, "device_get", get)
    try:
        yield
    finally:
        monkeypatch.setattr(jax, "device_get", real)


def test_sigint_halfway_then_resume_gives_the_uninterrupted_result(tmp_path, monkeypatch):
    env, params = realax.make("realax/Spectrum-v0", **ENV)
    whole = experiment.run("qlearning", env, params, SMALL, seed=3, episodes=4, progress=False,
                           folder=RunFolder.create(tmp_path / "whole", _meta(3)))
    with _sigint_at_device_get(monkeypatch, 2), \
            pytest.raises(experiment.Interrupted, match="interrupted after 2 of 4 chunks") as stop:
        experiment.run("qlearning", env, params, SMALL, seed=3, episodes=4, progress=False,
                       folder=RunFolder.create(tmp_path / "cut", _meta(3)))
    assert stop.value.folder == tmp_path / "cut"
    assert json.loads((tmp_path / "cut" / "meta.json").read_text())["status"] == "interrupted"
    assert len((tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()) == 2
    resumed, folder = experiment.resume(tmp_path / "cut", progress=False)
    assert np.array_equal(resumed.agent_returns, whole.agent_returns)
    assert np.array_equal(resumed.curve_returns, whole.curve_returns, equal_nan=True)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_keyless(resumed.carry), _keyless(whole.carry), strict=True))
    assert len((tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()) == 4
    experiment.finish(resumed, folder, "resumed")
    assert json.loads((tmp_path / "cut" / "meta.json").read_text())["status"] == "complete"


def test_slow_checkpoints_are_written_sparingly_and_ctrl_c_still_writes_the_last_chunk(tmp_path, monkeypatch):
    """A checkpoint that takes long to write (here 0.5 s, against chunks of milliseconds) is not written after
    every chunk: after the first, only once the training since took 9 times as long (``_Saver``), and after
    the last chunk. A Ctrl-C writes the last finished chunk, so the run resumes to the uninterrupted result."""
    env, params = realax.make("realax/Spectrum-v0", **ENV)
    real_save, saved = RunFolder.save_checkpoint, []

    def slow_save(self, carry, metrics, done, wall):
        real_save(self, carry, metrics, done, wall)
        saved.append(done)
        time.sleep(0.5)

    monkeypatch.setattr(RunFolder, "save_checkpoint", slow_save)
    whole = experiment.run("qlearning", env, params, SMALL, seed=3, episodes=4, progress=False,
                           folder=RunFolder.create(tmp_path / "whole", _meta(3)))
    assert saved == [1, 4]
    saved.clear()
    with _sigint_at_device_get(monkeypatch, 3), \
            pytest.raises(experiment.Interrupted, match="interrupted after 3 of 4 chunks"):
        experiment.run("qlearning", env, params, SMALL, seed=3, episodes=4, progress=False,
                       folder=RunFolder.create(tmp_path / "cut", _meta(3)))
    assert saved == [1, 3]
    resumed, _ = experiment.resume(tmp_path / "cut", progress=False)
    assert np.array_equal(resumed.agent_returns, whole.agent_returns)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_keyless(resumed.carry), _keyless(whole.carry), strict=True))


def test_resume_from_the_command_line_and_tensorboard_reads_its_scalars(tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(tmp_path)
    args = ["train", "qlearning", "realax/Spectrum-v0", "--scenario", "constant", "-e", "history=1", "--num-seeds", "1",
            "--total-timesteps", "1600", "--set", "updates_per_chunk=100", "--set", "num_envs=8", "--episodes", "2",
            "--out", "run"]
    with _sigint_at_device_get(monkeypatch, 1):
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 130 and "continue with `realax train --resume run`" in " ".join(r.output.split()), r.output
    refused = CliRunner().invoke(app, ["train", "--resume", "run", "--set", "lr=1"])
    assert refused.exit_code == 2 and "do not also give --set" in refused.output
    r = CliRunner().invoke(app, ["train", "--resume", "run"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["status"] == "complete"
    assert (tmp_path / "run" / "agent.msgpack").is_file()
    again = CliRunner().invoke(app, ["train", "--resume", "run"])
    assert again.exit_code == 2 and "is a finished run; nothing to resume" in again.output
    # TensorBoard's own reader sees the scalars of both halves
    events = EventAccumulator(str(tmp_path / "run" / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/return", "train/td_error", "train/epsilon", "perf/steps_per_second", "eval/agent_mean"} <= tags, tags
    returns = events.Scalars("train/return")
    assert [e.step for e in returns][-1] == 1600 and all(np.isfinite(e.value) for e in returns)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["chunk"] for line in lines] == [1, 2] and lines[-1]["step"] == 1600 and lines[-1]["steps_per_second"] > 0
    assert lines[-1]["return"] == pytest.approx(returns[-1].value)


def test_checkpoints_are_read_by_name_and_name_what_is_missing(tmp_path):
    env, params = realax.make("realax/Spectrum-v0", **ENV)
    trainer = algorithms.make_trainer("qlearning", experiment.make_config("qlearning", SMALL), env, params)
    carry = trainer.init(jax.random.key(0))
    checkpoint.save(tmp_path / "c.msgpack", carry)
    state, _ = checkpoint.read(tmp_path / "c.msgpack")
    assert {"q", "env_state", "obs", "stats", "key", "update"} <= set(state)  # field names, not arr_0, arr_1, ...
    back, _ = checkpoint.load(tmp_path / "c.msgpack", jax.eval_shape(trainer.init, jax.random.key(1)))
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_keyless(back), _keyless(carry), strict=True))
    renamed = dict(state)
    renamed["q_table"] = renamed.pop("q")
    with pytest.raises(RealaxError, match=r"missing \['q'\]; not expected \['q_table'\].*renamed"):
        checkpoint.restore(jax.eval_shape(trainer.init, jax.random.key(1)), renamed, "c.msgpack")
    dropped = {k: v for k, v in state.items() if k != "update"}
    with pytest.raises(RealaxError, match=r"missing \['update'\]"):
        checkpoint.restore(jax.eval_shape(trainer.init, jax.random.key(1)), dropped, "c.msgpack")
    reshaped = {**state, "q": np.zeros((3, 3), np.float32)}
    with pytest.raises(RealaxError, match=r"q has shape \(3, 3\)"):
        checkpoint.restore(jax.eval_shape(trainer.init, jax.random.key(1)), reshaped, "c.msgpack")
