"""Issue 9's cases on the command and the runs (datasets: tests/offline/test_safety.py; environments and
adapters: tests/envs and tests/fuzz): each bad input gets a clear message and exit code 2, nothing is lost."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import realax
from realax import experiment
from realax.cli import app
from realax.errors import RealaxError

runner = CliRunner(env={"COLUMNS": "2000", "TERMINAL_WIDTH": "2000"})  # no wrapping inside messages
TINY = ["qlearning", "realax/Spectrum-v0", "--scenario", "constant", "-e", "history=1", "--total-timesteps", "2000",
        "--num-seeds", "1", "--episodes", "2"]


def _text(output: str) -> str:
    """The output with rich's box drawing removed and whitespace collapsed (messages wrap inside the box)."""
    return " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def _refused(args, *needles):
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (args, r.exit_code, r.output, r.exception)
    text = _text(r.output)
    assert "Traceback" not in text
    for n in needles:
        assert n in text, (args, n, text)
    return text


def _ok(args):
    r = runner.invoke(app, args)
    assert r.exit_code == 0, (args, r.output, r.exception)
    return r.output


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """One tiny saved Q-learning agent (history=1) shared by the loading tests."""
    out = tmp_path_factory.mktemp("runs") / "agent"
    _ok(["train", *TINY, "--out", str(out)])
    return out


# -- case 3: strict option parsing --------------------------------------------------------------------------
def test_booleans_parse_strictly_and_false_means_false():
    from realax.cli_common import env_kwargs

    assert env_kwargs("realax/Spectrum-v0", None, ["own_tx=false"]) == {"own_tx": False}
    assert env_kwargs("realax/Spectrum-v0", None, ["own_tx=YES"]) == {"own_tx": True}
    assert env_kwargs("realax/SMAX-v0", None, ["self_play=False"]) == {"self_play": False}
    env, _ = realax.make("realax/Spectrum-v0", **env_kwargs("realax/Spectrum-v0", None, ["own_tx=0"]))
    assert env.own_tx is False
    _refused(["eval", "realax/Spectrum-v0", "-e", "own_tx=maybe"], "own_tx", "true or false")


@pytest.mark.parametrize("args, needles", [
    (["eval", "realax/Spectrum-v0", "-e", "history=1.7"], ("'history'", "integer", "1.7")),
    (["eval", "realax/Spectrum-v0", "-e", "history=abc"], ("'history'", "integer", "abc")),
    (["eval", "realax/Spectrum-v0", "-e", "nope=1"], ("no option 'nope'", "history")),
    (["eval", "realax/Spectrum-v0", "-e", "history"], ("KEY=VALUE",)),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "num_envs=2.5"], ("'num_envs'", "integer", "2.5")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "lr=abc"], ("'lr'", "finite number", "abc")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "lr=nan"], ("'lr'", "finite")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "num_envs=0"], ("num_envs", ">= 1")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "hidden=1e9"], ("hidden", "<=")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "gamma=1.5"], ("gamma", "[0, 1]")),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "num_minibatches=7"], ("divisible",)),
    (["train", "ppo", "realax/Spectrum-v0", "--set", "num_seeds=2"], ("--num-seeds",)),
    (["train", "ppo", "realax/Spectrum-v0", "--total-timesteps", "0"], ("total-timesteps",)),
    (["train", "ppo", "realax/Spectrum-v0", "--total-timesteps", "-5"], ("total-timesteps",)),
    (["train", "ppo", "realax/Spectrum-v0", "--num-seeds", "0"], ("num-seeds",)),
    (["train", "ppo", "realax/Spectrum-v0", "--num-seeds", "-1"], ("num-seeds",)),
    (["train", "qlearning", "realax/RoboTaxi-v0"], ("tabular Q-learning needs a Discrete action space",)),
    (["eval", "realax/Spectrum-v0", "--episodes", "0"], ("episodes",)),
    (["eval", "realax/Spectrum-v0", "--episodes", "-3"], ("episodes",)),
    (["bench", "realax/Spectrum-v0", "--num-envs", "0"], ("num-envs",)),
    (["eval", "realax/Nope-v0"], ("unknown environment id", "realax/Spectrum-v0")),
    (["eval", "realax/Spectrum-v0", "--policy", "nope"], ("unknown baseline", "sense_and_avoid")),
])
def test_bad_options_and_counts_exit_2_naming_the_field(args, needles):
    _refused(args, *needles)


def test_a_budget_that_rounds_says_what_it_runs(tmp_path):
    cfg = experiment.make_config("ppo", {"total_timesteps": 5000})
    assert experiment.env_steps_run(cfg) == 4096  # two whole updates of 32 x 64, not a default chunk of ten
    assert "5,000" in experiment.budget_note(cfg) and "4,096" in experiment.budget_note(cfg)
    exact = experiment.make_config("qlearning", {"total_timesteps": 2000})
    assert experiment.budget_note(exact) is None and experiment.env_steps_run(exact) == 2000
    r = runner.invoke(app, ["train", *TINY[:-6], "--total-timesteps", "2100", "--num-seeds", "1", "--episodes", "2",
                            "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    assert "2,100 env steps per seed asked; the run makes 2,096" in _text(r.output)
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["env_steps_per_seed"] == 2096


# -- case 6: run folders --------------------------------------------------------------------------------------
def test_run_folders_are_never_overwritten_silently(tmp_path, monkeypatch, agent):
    monkeypatch.chdir(tmp_path)
    default = Path("runs") / "qlearning_Spectrum-v0_history1_constant"
    shutil.copytree(agent, default)  # a finished run of the same command, where it would have saved itself
    out = _ok(["train", *TINY])
    assert default.is_dir() and Path(f"{default}-2").is_dir() and f"saving this run to {default}-2" in _text(out)
    before = (default / "agent.msgpack").read_bytes()
    _refused(["train", *TINY, "--out", str(default)], "exists", "--overwrite")
    assert (default / "agent.msgpack").read_bytes() == before
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "thesis.tex").write_text("precious")
    _refused(["train", *TINY, "--out", str(keep), "--overwrite"], "not a realax run folder")
    _refused(["train", *TINY, "--out", ".", "--overwrite"], "working directory")
    assert (keep / "thesis.tex").read_text() == "precious"
    _ok(["train", *TINY, "--out", str(default), "--overwrite", "--seed", "7"])
    assert json.loads((default / "meta.json").read_text())["seed"] == 7


def test_meta_records_seed_and_every_option_defaults_included(agent):
    meta = json.loads((agent / "meta.json").read_text())
    assert meta["seed"] == 0 and meta["num_seeds"] == 1 and meta["episodes"] == 2
    assert meta["env_options"] == {"scenario": "constant", "history": 1, "own_tx": False, "seed": 0, "max_steps": None}
    assert meta["config"]["lr"] == experiment.make_config("qlearning", {}).lr  # defaults too
    assert meta["command"] == (f"realax train qlearning realax/Spectrum-v0 --scenario constant -e history=1 "
                               f"--total-timesteps 2000 --num-seeds 1 --seed 0 --episodes 2 --out {agent}")


def test_ctrl_c_leaves_a_clear_message_and_a_checkpoint_to_resume(tmp_path, monkeypatch):
    import jax

    calls = {"n": 0}
    real = jax.device_get

    def interrupted_on_third_chunk(x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(x)

    monkeypatch.setattr(jax, "device_get", interrupted_on_third_chunk)
    out = tmp_path / "run"
    r = runner.invoke(app, ["train", *TINY[:-6], "--total-timesteps", "20000", "--set", "updates_per_chunk=100",
                            "--num-seeds", "1", "--out", str(out)])
    assert r.exit_code == 130, r.output
    assert (f"interrupted after 2 of 13 chunks (3,200 steps per seed); checkpoint saved; continue with "
            f"`realax train --resume {out}`") in _text(r.output)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["chunks_done"] == 2 and (out / "checkpoint.msgpack").is_file()
    assert not (out / "agent.msgpack").exists()
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(out)], "the run is interrupted", "--resume")


def test_a_diverging_run_stops_naming_the_loss_and_keeps_the_last_good_checkpoint(tmp_path):
    """DQN at lr = 1e12: its TD loss is NaN by design until ``learning_starts`` (all of chunk 1 here), then
    finite, then NaN for good once the weights overflow (in chunk 2). The run stops there, exit 2, with the
    loss, the seed and the step named; the folder says so and keeps chunk 1's checkpoint, not the broken one."""
    out = tmp_path / "run"
    text = _refused(["train", "dqn", *TINY[1:-6], "--total-timesteps", "4096", "--num-seeds", "2", "--set", "lr=1e12",
                     "--set", "num_envs=8", "--set", "updates_per_chunk=64", "--set", "learning_starts=600",
                     "--out", str(out)],
                    "training diverged: td_loss of seed 0 is nan", "(chunk 2 of 8)", "lower lr",
                    f"{out} keeps the checkpoint of chunk 1")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "diverged" and meta["chunks_done"] == 1 and meta["error"] in text
    assert (out / "checkpoint.msgpack").is_file() and not (out / "agent.msgpack").exists()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["chunk"] == 2  # the broken chunk is logged, not saved
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(out)], "has no agent.msgpack (training diverged: td_loss")
    # resumed from chunk 1 it diverges again in chunk 2 (the same run), which is logged once, not twice
    _refused(["train", "--resume", str(out)], "training diverged")
    assert json.loads((out / "meta.json").read_text())["error"] == meta["error"]
    assert [json.loads(x)["chunk"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_a_loss_is_broken_only_after_two_learning_updates_without_a_finite_value():
    """``experiment._divergence``: NaN before learning starts and between ``train_every`` updates is by design,
    and one non-finite spike is let pass; NaN or inf for ``2 * train_every`` updates in a row after a finite
    value is not, across chunk boundaries too."""
    nan, inf = float("nan"), float("inf")
    steps = np.arange(1, 5)
    trail: dict = {}
    assert experiment._divergence({"td_loss": np.array([[nan] * 4, [nan, nan, 1.0, nan]])}, trail, steps, 2) is None
    assert trail["td_loss"].tolist() == [-1, 1]  # seed 0 never learnt; seed 1 one NaN since its last finite value
    assert experiment._divergence({"td_loss": np.array([[nan, 2.0, nan, 3.0], [nan, 5.0, nan, 6.0]])},
                                  trail, steps, 2) is None
    assert trail["td_loss"].tolist() == [0, 0]
    # seed 1: at train_every = 2, two NaNs in a row are one learning update that gave NaN: let pass ...
    assert experiment._divergence({"td_loss": np.array([[nan, 2.0, nan, 3.0], [nan, 5.0, nan, nan]])},
                                  trail, steps, 2) is None
    # ... but not NaN from there on (2 + 4 updates, counted across the chunks' boundary)
    msg = experiment._divergence({"td_loss": np.array([[nan, 2.0, nan, 3.0], [nan] * 4])}, trail, steps, 2)
    assert msg == "td_loss of seed 1 is nan and has had no finite value for 6 updates, to env step 4", msg
    trail = {}
    assert experiment._divergence({"td_loss": np.array([[1.0, nan, 1.0, nan]])}, trail, steps, 2) is None
    msg = experiment._divergence({"td_loss": np.array([[nan, inf, 4.0, 5.0]]), "q_loss": np.array([[inf] * 4])},
                                 {"q_loss": np.array([0])}, steps, 1)
    assert msg == "q_loss of seed 0 is inf and has had no finite value for 4 updates, to env step 4", msg
    assert experiment._divergence({"loss": np.array([[nan]])}, {"loss": np.array([2])}, steps[:1], 2) is None
    assert experiment._divergence({"loss": np.array([[nan]])}, {"loss": np.array([3])}, steps[:1], 2) is not None
    assert experiment._divergence({"value": np.array([[nan] * 4])}, {}, steps, 1) is None  # not a loss


# -- case 7: saved agents that cannot be loaded -----------------------------------------------------------
def _copy(agent, tmp_path, name):
    import shutil

    dst = tmp_path / name
    shutil.copytree(agent, dst)
    return dst


def test_damaged_agent_folders_are_named(agent, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(empty)], "no meta.json")
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(tmp_path / "missing")], "no such folder")
    bad_json = _copy(agent, tmp_path, "bad_json")
    (bad_json / "meta.json").write_text('{"algo": "qlearning", "env_')
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(bad_json)], "meta.json is damaged")
    truncated = _copy(agent, tmp_path, "truncated")
    data = (truncated / "agent.msgpack").read_bytes()
    (truncated / "agent.msgpack").write_bytes(data[: len(data) // 2])
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(truncated)], "agent.msgpack is damaged")
    flipped = _copy(agent, tmp_path, "flipped")
    data = bytearray((flipped / "agent.msgpack").read_bytes())
    data[len(data) - 40] ^= 0xFF  # inside the stored arrays: only the checksum can tell
    (flipped / "agent.msgpack").write_bytes(bytes(data))
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(flipped)], "agent.msgpack is damaged", "checksum")
    no_file = _copy(agent, tmp_path, "no_file")
    (no_file / "agent.msgpack").unlink()
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(no_file)], "no agent.msgpack")
    _refused(["eval", "realax/SMAX-v0", "--policy", str(agent)], "trained on realax/Spectrum-v0")


def test_an_option_that_changes_shapes_is_refused_before_any_flax_error(agent):
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(agent), "-e", "history=2"], "cannot run with",
             "'history': 2")
    _refused(["eval", "realax/Spectrum-v0", "--policy", str(agent), "-e", "own_tx=true"], "own_tx")
    env, params = realax.make("realax/Spectrum-v0", scenario="constant", history=3)
    with pytest.raises(RealaxError, match="does not fit this environment"):
        experiment.load_policy(agent, env, params)  # the library call checks shapes itself


# -- render -----------------------------------------------------------------------------------------------
def test_render_checks_its_output_before_the_rollout(tmp_path):
    _refused(["render", "realax/Spectrum-v0", "--out", str(tmp_path / "a.bmp")], "unknown picture format", ".gif")
    _refused(["render", "realax/Spectrum-v0", "--out", str(tmp_path / "a.gif"), "--steps", "0"], "steps")
    _refused(["render", "realax/Spectrum-v0", "--out", str(tmp_path)], "is a folder")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a path under a plain file instead
            target = tmp_path / "file" / "a.gif"
            (tmp_path / "file").write_text("x")
        else:
            target = locked / "a.gif"
        _refused(["render", "realax/Spectrum-v0", "--out", str(target)], "cannot be written")
    finally:
        locked.chmod(0o700)
    out = _ok(["render", "realax/Spectrum-v0", "--out", str(tmp_path / "a.png"), "--steps", "5"])
    assert "one frame: the state after 5 steps" in out
    from PIL import Image

    with Image.open(tmp_path / "a.png") as im:
        assert getattr(im, "n_frames", 1) == 1


# -- case 10: the user's umask ----------------------------------------------------------------------------
def test_run_files_get_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        _ok(["train", *TINY, "--out", str(out)])
        gif = tmp_path / "a.gif"
        _ok(["render", "realax/Spectrum-v0", "--out", str(gif), "--steps", "2"])
    finally:
        os.umask(old)
    made = [*out.rglob("*"), gif]
    assert {"tb", "metrics.jsonl", "checkpoint.msgpack", "agent.msgpack"} <= {f.name for f in made}
    for f in made:
        assert stat.S_IMODE(f.stat().st_mode) == (0o755 if f.is_dir() else 0o644), f
