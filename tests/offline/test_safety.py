"""Issue 9 on the dataset side: nothing lost, nothing silently wrong.

Overwrites only of realax datasets (never ``.``, a parent of the working directory, a file or a foreign folder),
an exclusive write lock (two concurrent writes: one wins, the other is refused naming the lock), Minari ids
for ``--out``, normalised scores only against ordered references, damaged datasets refused before use, strict
options and bounded counts, clear messages for bad ``--policy`` folders, files with the user's umask.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from chain_env import CHAIN_ID
from typer.testing import CliRunner

import realax
from realax import experiment, registry
from realax.cli import app
from realax.errors import LockedError, RealaxError
from realax.offline import generate as gen
from realax.offline import loader, minari_io, write_guard
from realax.offline.dataset import generate_dataset
from realax.offline.generate import DataSpec

runner = CliRunner()
EXPERT = "chain_env:go_right"


def flat(text: str) -> str:
    """Output without rich's box drawing and line wrapping."""
    return " ".join(text.replace("│", " ").split())


def strict_json(text: str):
    """``json.loads`` that fails on ``NaN``/``Infinity`` tokens (not JSON)."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON token {c}"))


def refused(args, *needles) -> str:
    r = runner.invoke(app, args)
    out = flat(r.output)
    assert r.exit_code == 2, (args, r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output
    for n in needles:
        assert n in out, (n, out)
    return out


def gen_args(out, *extra) -> list[str]:
    return ["data", "generate", CHAIN_ID, "--policy", EXPERT, "--episodes", "6", "--num-envs", "6", "--out",
            str(out), "--quiet", *extra]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its contents (None for folders)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """rich folds long words (paths) at the terminal width: make it wide, so messages stay whole."""
    monkeypatch.setenv("COLUMNS", "4000")


@pytest.fixture(scope="module")
def chain():
    realax.register(CHAIN_ID, "chain_env:Chain")
    yield CHAIN_ID
    registry._REGISTRY.pop(CHAIN_ID, None)


@pytest.fixture(scope="module")
def dataset(chain, tmp_path_factory):
    """An intact chain dataset of the expert (read only: tests that damage one copy it first). One rollout, no
    reference rollouts: the references are set by hand (the expert's return is exactly 1; 0 stands in for the
    random policy's), as no test here looks at the scores it gives."""
    spec = DataSpec(chain, policy=EXPERT, episodes=6, level=0.7)
    eps, meta = gen.generate(spec, progress=False, max_envs=6, references=False)
    meta.update(ref_min_score=0.0, ref_max_score=1.0, reference_ordered=True)
    setup = gen.build(spec)
    spaces = minari_io.gym_spaces(setup.env, setup.params, False)
    return minari_io.write(tmp_path_factory.mktemp("d") / "chain-go-v0", eps, meta, *spaces)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory that looks like a source checkout (a dummy ``.git`` and source files)."""
    root = tmp_path / "project"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("print('hello')\n")
    (root / "README.md").write_text("# project\n")
    monkeypatch.chdir(root)
    return root


# -- 1. overwrite only what is provably ours ---------------------------------------------------------------------
def test_out_dot_and_parents_are_refused_and_every_file_survives(chain, project):
    before = snapshot(project.parent)
    refused(gen_args(".", "--overwrite"), "is the working directory", "nothing was changed")
    refused(gen_args(project, "--overwrite"), "is the working directory")
    refused(gen_args("..", "--overwrite"), "is a parent of the working directory")
    refused(gen_args("src/..", "--overwrite"), "is the working directory")
    assert snapshot(project.parent) == before  # .git, sources and README byte for byte, nothing added
    with pytest.raises(RealaxError, match="working directory"):
        minari_io.write(".", None, {}, None, None, overwrite=True)


def test_overwrite_refuses_files_foreign_folders_and_datasets_with_foreign_files(chain, project, dataset):
    (project / "notes-v0").write_text("my notes")
    (project / "mine-v0").mkdir()
    (project / "mine-v0" / "thesis.tex").write_text("\\begin{document}")
    shutil.copytree(dataset, project / "mixed-v0")
    (project / "mixed-v0" / "data" / "todo.txt").write_text("keep me")
    before = snapshot(project)
    refused(gen_args("notes-v0", "--overwrite"), "is a file", "--overwrite replaces only a folder holding a realax")
    refused(gen_args("notes-v0/sub-v0"), "notes-v0 is a file, so no folder can be created under it")
    refused(gen_args("mine-v0", "--overwrite"), "without realax_manifest.json")
    refused(gen_args("mixed-v0", "--overwrite"), "files the dataset did not write (data/todo.txt)")
    assert snapshot(project) == before


def test_existing_dataset_needs_overwrite_and_the_message_names_it(chain, tmp_path, dataset):
    copy = tmp_path / "chain-go-v0"
    shutil.copytree(dataset, copy)
    refused(gen_args(copy), "exists (a realax dataset)", "--overwrite")
    assert minari_io.verify(copy) == []


def test_final_rename_refuses_a_target_that_appeared_meanwhile(tmp_path, monkeypatch, dataset):
    """The check at the start passed; something appears under ``out`` during the write: the final rename
    refuses it (a foreign folder even with overwrite; a dataset without overwrite) and leaves it as it was."""
    eps, meta, ds = minari_io.read(dataset), minari_io.metadata(dataset), minari_io.load(dataset)
    real = minari_io._episode_records
    appear = {}

    def buffers(*args):
        appear["fn"]()
        yield from real(*args)

    monkeypatch.setattr(minari_io, "_episode_records", buffers)
    write = lambda out, **kw: minari_io.write(out, eps, meta, ds.observation_space, ds.action_space, **kw)  # noqa: E731
    foreign = tmp_path / "foreign-v0"
    appear["fn"] = lambda: (foreign.mkdir(), (foreign / "f.txt").write_text("x"))
    with pytest.raises(RealaxError, match="without realax_manifest.json"):
        write(foreign, overwrite=True)
    assert snapshot(foreign) == {"f.txt": b"x"}
    other = tmp_path / "other-v0"
    appear["fn"] = lambda: shutil.copytree(dataset, other)
    with pytest.raises(FileExistsError, match="--overwrite"):
        write(other)
    assert snapshot(other) == snapshot(dataset) and minari_io.verify(other) == []  # the copy, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign-v0", "other-v0"]  # no lock, no staging left
    appear["fn"] = lambda: None
    assert write(other, overwrite=True) == other and minari_io.verify(other) == []  # a dataset: replaced


# -- 2. exclusive write lock ----------------------------------------------------------------------------------
_BOOT = """
import sys
sys.path.insert(0, {tests!r})
import realax
realax.register({chain!r}, "chain_env:Chain")
"""
_GATED = """
import time
from pathlib import Path
from realax.offline import minari_io
real = minari_io._episode_records
def gated(*args):  # hold the lock mid-write until the test says go
    Path({ready!r}).write_text("writing")
    deadline = time.time() + 300
    while not Path({go!r}).exists() and time.time() < deadline:
        time.sleep(0.05)
    yield from real(*args)
minari_io._episode_records = gated
"""
_MAIN = """
from realax.cli import main
sys.argv = ["realax", *{args!r}]
main()
"""


def test_two_concurrent_generates_one_wins_the_other_names_the_lock(tmp_path):
    """A and B run ``realax data generate`` (``realax.cli:main``, the installed entry point) on the test chain
    to one --out; A pauses mid-write, holding the lock, until B has finished."""
    out, ready, go = tmp_path / "chain-random-v0", tmp_path / "ready", tmp_path / "go"
    args = ["data", "generate", CHAIN_ID, "--episodes", "4", "--num-envs", "4", "--out", str(out), "--quiet"]
    boot = _BOOT.format(tests=str(Path(__file__).parent), chain=CHAIN_ID)
    env = {**os.environ, "COLUMNS": "4000"}
    a = subprocess.Popen([sys.executable, "-c", boot + _GATED.format(ready=str(ready), go=str(go)) +
                          _MAIN.format(args=args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 300
        while not ready.exists():  # A holds the lock and is writing
            assert a.poll() is None, a.communicate()
            assert time.time() < deadline, "A never reached the write"
            time.sleep(0.1)
        assert write_guard.lock_path(out).exists()
        b = subprocess.run([sys.executable, "-c", boot + _MAIN.format(args=args)], capture_output=True, text=True,
                           timeout=300, env=env)
        go.write_text("go")
        a_out, a_err = a.communicate(timeout=300)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0, a_err
    assert b.returncode == 2 and "lock" in b.stderr and str(write_guard.lock_path(out)) in flat(b.stderr), b.stderr
    assert f"pid {a.pid}" in flat(b.stderr) and socket.gethostname() in b.stderr
    assert minari_io.verify(out) == [] and minari_io.metadata(out)["total_episodes"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain-random-v0", "go", "ready"]  # lock released


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_lock_is_taken_over_and_staging_leftovers_removed(tmp_path):
    """(The command prints these notes: tests/offline/test_storage.py, after a really killed write.)"""
    out = tmp_path / "chain-go-v0"
    lock = write_guard.lock_path(out)
    pid = _dead_pid()
    stale = {"pid": pid, "host": socket.gethostname(), "started": "2020-01-01T00:00:00+00:00"}
    lock.write_text(json.dumps(stale))
    leftover = tmp_path / ".chain-go-v0.partial-0badf00d"
    (leftover / "chain-go-v0").mkdir(parents=True)
    with write_guard.write_lock(out) as held:
        assert json.loads(lock.read_text()) == held.info and held.info["pid"] == os.getpid()
        assert not leftover.exists()
        with write_guard.write_lock(out) as again:  # re-entrant within the process
            assert again is held
    assert held.notes == [f"took over the stale lock {lock} of pid {pid} on {stale['host']} (started "
                          f"{stale['started']}; that process is gone)",
                          f"removed {leftover}, a staging folder left by an interrupted write of {out}"]
    assert os.listdir(tmp_path) == []  # released


def test_live_lock_is_refused_naming_file_pid_and_host(chain, tmp_path):
    out = tmp_path / "chain-go-v0"
    lock = write_guard.lock_path(out)
    for host, pid in ((socket.gethostname(), os.getpid()), ("elsewhere.example", _dead_pid())):
        lock.write_text(json.dumps({"pid": pid, "host": host, "started": "now"}))
        refused(gen_args(out), f"the lock {lock} is held by pid {pid} on host {host}")
        assert lock.exists() and not out.exists()  # someone else's lock is never removed
    with pytest.raises(LockedError), write_guard.write_lock(out):
        pass
    lock.write_text("{garbage")  # cannot tell whose: refused, never deleted
    with pytest.raises(LockedError, match="exists but is unreadable; if no write of .* runs, delete it"):
        with write_guard.write_lock(out):
            pass
    assert lock.read_text() == "{garbage"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError])
def test_lock_is_released_on_error_and_ctrl_c(chain, tmp_path, monkeypatch, interrupt):
    def stop(*a, **k):
        raise interrupt("stop")

    monkeypatch.setattr(gen, "collect", stop)
    with pytest.raises(interrupt):
        generate_dataset(DataSpec(chain, policy=EXPERT, episodes=3), tmp_path / "chain-go-v0", progress=False)
    assert os.listdir(tmp_path) == []


# -- 3. Minari ids ----------------------------------------------------------------------------------------------
def test_out_that_is_not_a_minari_id_is_refused_with_the_suggestion(chain, tmp_path):
    refused(gen_args(tmp_path / "spectrum-random"), "not a Minari dataset id",
            f"--out {tmp_path / 'spectrum-random-v0'}")
    refused(gen_args(tmp_path / "my data"), f"--out {tmp_path / 'my_data-v0'}")
    assert os.listdir(tmp_path) == []


# -- 8 and 3: the user's umask; minari.load_dataset opens it by id -----------------------------------------------
def test_files_follow_the_umask_and_load_dataset_opens_it_by_id(tmp_path, monkeypatch, dataset):
    import minari

    eps, meta, ds = minari_io.read(dataset), minari_io.metadata(dataset), minari_io.load(dataset)
    old = os.umask(0o022)
    try:
        out = minari_io.write(tmp_path / "chain-go-v3", eps, meta, ds.observation_space, ds.action_space)
        exported = minari_io.export(out, "d4rl", tmp_path / "npz")
        os.umask(0o077)
        private = minari_io.export(out, "neorl", tmp_path / "private")
    finally:
        os.umask(old)
    modes = {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in tmp_path.rglob("*")
             if tmp_path / "private" not in (p, p.parent)}
    want = {k: oct(0o755) if (tmp_path / k).is_dir() else oct(0o644) for k in modes}
    assert modes == want and len(modes) >= 7  # the folder, data/, its hdf5 and json, the manifest, two npz
    assert {oct(p.stat().st_mode & 0o777) for p in private} == {oct(0o600)}  # the umask, not a fixed mode
    assert len(exported) == 2
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    opened = minari.load_dataset("chain-go-v3")
    assert opened.total_episodes == 6 and opened.storage.metadata["realax"]["policy"] == EXPERT


# -- 4. normalised scores only against ordered references --------------------------------------------------------
def test_expert_is_the_best_candidate_on_a_jam_scenario():
    """On Spectrum ``constant`` (jam), sense-and-avoid is worse than random: it must not become the expert."""
    spec = DataSpec("realax/Spectrum-v0", policy="chain_env:transmit_on_4", episodes=4,
                    env_kwargs={"scenario": "constant", "max_steps": 20})
    setup, key = gen.build(spec), gen.jax.random.key(3)
    random_return = gen.mean_return(setup, gen.behaviour_of(setup, spec, "random", plain=True), key, 100)
    meta = {"ref_min_score": random_return, **gen.choose_expert(setup, spec, key, random_return)}
    cands = meta["expert_candidates"]
    assert set(cands) == {"chain_env:transmit_on_4", "sense_and_avoid", "predictive"}  # the behaviour, the baselines
    assert cands["sense_and_avoid"] < random_return < cands["predictive"] < cands["chain_env:transmit_on_4"] == 20.0
    assert meta["expert_policy"] == "chain_env:transmit_on_4" and meta["reference_ordered"] is True
    assert meta["ref_max_score"] == 20.0 and "reference_warning" not in meta
    assert loader.normalised_score([20.0], meta).tolist() == [100.0]  # the good policy scores 100, not -1432
    assert loader.normalised_score(random_return, meta) == 0.0
    # had sense-and-avoid been taken (the old rule), the good policy would have scored below zero: never again
    assert loader.normalised_score([20.0], {**meta, "ref_max_score": cands["sense_and_avoid"]}) is None


def test_unordered_references_report_raw_returns_never_an_inverted_score(chain, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run folders go to runs/ here
    out = tmp_path / "chain-left-v0"
    r = runner.invoke(app, gen_args(out, "--expert", "chain_env:go_left"))
    assert r.exit_code == 0, r.output
    assert "warning: the expert reference chain_env:go_left" in flat(r.output)
    meta = minari_io.metadata(out)
    assert meta["reference_ordered"] is False and meta["ref_max_score"] == 0.0 < meta["ref_min_score"]
    r = runner.invoke(app, ["data", "train", "bc", str(out), "--seeds", "1", "--steps", "1500", "--episodes", "3",
                            "--set", "hidden=8", "--set", "batch_size=16", "--json"])
    assert r.exit_code == 0, r.output
    res = strict_json(r.stdout)
    assert res["score_mean"] is None and res["score_per_seed"] is None and res["behaviour_score"] is None
    assert len(res["return_per_seed"]) == 1 and "does not beat the random policy" in res["warning"]
    assert res["num_updates"] == 1500  # --steps 1500: exactly 1500 (2 chunks of 750), not 2000
    # the text output of the same result: the warning and the raw returns, no score
    monkeypatch.setattr(experiment, "train_offline", lambda *a, **k: res)
    r = runner.invoke(app, ["data", "train", "bc", str(out)])
    text = flat(r.output)
    assert r.exit_code == 0 and "warning: the expert reference chain_env:go_left" in text, r.output
    assert f"normalised score undefined; return {res['return_mean']:.3f} ± 0.000" in text and "score 1" not in text


def test_tq_and_scores_are_none_for_unordered_references(dataset):
    from realax.offline import measures

    eps = minari_io.read(dataset)  # as its own references: the expert return equals the random one
    res = measures.measure_episodes(eps, dict.fromkeys(("random", "expert", "replay"), eps))
    assert res["tq"] is None and "TQ is undefined" in res["warning"] and res["saco"] == 1.0

    assert measures.tq(np.array([1.0]), 0.5, 0.5) is None and measures.tq(np.array([1.0]), 0.5, 0.2) is None
    assert measures.tq(np.array([1.0]), 0.0, 2.0) == 0.5
    old = {"ref_min_score": 1.0, "ref_max_score": 0.5, "expert_policy": "x"}  # no reference_ordered recorded
    assert loader.normalised_score([3.0], old) is None and "does not beat" in loader.reference_warning(old)


# -- 5. verify before use; standard JSON -------------------------------------------------------------------------
def test_damaged_dataset_is_refused_by_measure_train_and_export(chain, tmp_path, dataset, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run folder would go to runs/ here
    import h5py

    from realax.offline import measures

    bad = tmp_path / "chain-bad-v0"
    shutil.copytree(dataset, bad)
    with h5py.File(bad / "data" / "main_data.hdf5", "r+") as f:
        rewards = f["episode_0"]["rewards"]
        assert rewards[...].sum() > 0
        rewards[...] = -rewards[...]  # a sign-flipped reward episode
    why = "data/main_data.hdf5: sha256 differs from the one recorded at write time"
    train = ["data", "train", "bc", str(bad), "--seeds", "1", "--steps", "20", "--episodes", "2", "--set", "hidden=8"]
    for args in (["data", "measure", str(bad), "--json"], train,
                 ["data", "export", str(bad), "--out", str(tmp_path / "npz")]):
        refused(args, "fails verification", why, "--no-verify")
    assert not (tmp_path / "npz").exists()
    intact = minari_io.read(dataset)  # references from the intact data: no rollouts needed to see it run
    monkeypatch.setattr(measures, "references", lambda *a, **k: dict.fromkeys(("random", "expert", "replay"), intact))
    res = strict_json(runner.invoke(app, ["data", "measure", str(bad), "--json", "--no-verify"]).stdout)
    assert res["return_mean"] < intact.returns().mean()  # it read the damaged (sign-flipped) rewards
    r = runner.invoke(app, [*train, "--no-verify", "--json"])
    assert r.exit_code == 0 and strict_json(r.stdout)["num_updates"] == 20, r.output
    r = runner.invoke(app, ["data", "export", str(bad), "--out", str(tmp_path / "npz"), "--no-verify"])
    assert r.exit_code == 0 and np.load(tmp_path / "npz" / "chain-bad-v0-train.npz")["reward"].min() == -1.0


def test_json_output_has_no_infinity_or_nan(dataset, monkeypatch):
    from realax.offline import measures

    monkeypatch.setattr(measures, "measure", lambda *a, **k: {"saco": float("inf"), "tq": float("nan"),
                                                              "return_mean": 1.0, "per": [float("-inf"), 2.0]})
    r = runner.invoke(app, ["data", "measure", str(dataset), "--json"])
    assert r.exit_code == 0, r.output
    assert strict_json(r.stdout) == {"saco": None, "tq": None, "return_mean": 1.0, "per": [None, 2.0]}


def test_export_does_not_replace_files_silently(dataset, tmp_path):
    out = tmp_path / "npz"
    minari_io.export(dataset, "neorl", out)
    refused(["data", "export", str(dataset), "--out", str(out)], "exists", "--overwrite")
    assert runner.invoke(app, ["data", "export", str(dataset), "--out", str(out), "--overwrite"]).exit_code == 0


# -- 6. messages about --policy ----------------------------------------------------------------------------------
def test_policy_folder_messages(tmp_path):
    agent = tmp_path / "spectrum-agent"
    agent.mkdir()
    (agent / "meta.json").write_text(json.dumps({"algo": "ppo", "env_id": "realax/Spectrum-v0", "config": {},
                                                 "env_kwargs": {"scenario": "constant", "history": 1}}))
    base = ["data", "generate", "realax/RoboTaxi-v0", "--episodes", "2", "--out", str(tmp_path / "x-v0")]
    refused([*base, "--policy", str(agent)], f"agent {agent} was trained on realax/Spectrum-v0, not realax/RoboTaxi-v0")
    refused([*base, "--policy", str(tmp_path / "missing")], "no such folder")
    refused([*base, "--policy", "runs/missing"], "no such folder")
    refused([*base, "--expert", str(tmp_path / "missing")], "no such folder")
    (tmp_path / "plain").mkdir()
    refused([*base, "--policy", str(tmp_path / "plain")], "is not a saved agent", "no meta.json")
    refused([*base, "--policy", "oracle"], "unknown policy 'oracle'")
    assert not (tmp_path / "x-v0").exists()


# -- 7. strict parsing and bounds --------------------------------------------------------------------------------
@pytest.mark.parametrize("args, needles", [
    (["--episodes", "0"], ["Invalid value for '--episodes'"]),
    (["--episodes", "-3"], ["Invalid value for '--episodes'"]),
    (["--episodes", "2.5"], ["Invalid value for '--episodes'"]),
    (["--num-envs", "0"], ["Invalid value for '--num-envs'"]),
    (["--level", "-0.1"], ["Invalid value for '--level'"]),
    (["--val-fraction", "1"], ["val_fraction must be in [0, 1)"]),
    (["--return-fraction", "1.5"], ["Invalid value for '--return-fraction'"]),
    (["--noise", "-1"], ["Invalid value for '--noise'"]),
    (["--episodes", "1000000000000"], ["GiB", "collect fewer episodes"]),  # before any allocation
    (["-e", "max_steps=2.5"], ["'max_steps'", "an integer", "2.5"]),
    (["-e", "history=abc"], ["'history'", "'abc'"]),
    (["-e", "own_tx=maybe"], ["'own_tx'", "true or false"]),
    (["-e", "nope=1"], ["no option 'nope'"]),
    (["-e", "broken"], ["must look like KEY=VALUE"]),
])
def test_generate_options_are_strict_and_bounded(tmp_path, args, needles):
    refused(["data", "generate", "realax/Spectrum-v0", "--episodes", "2", "--out", str(tmp_path / "x-v0"), *args],
            *needles)
    assert not (tmp_path / "x-v0").exists()


@pytest.mark.parametrize("args, needles", [
    (["train", "bc", "DS", "--seeds", "0"], ["Invalid value for '--seeds'"]),
    (["train", "bc", "DS", "--steps", "0"], ["Invalid value for '--steps'"]),
    (["train", "bc", "DS", "--episodes", "0"], ["Invalid value for '--episodes'"]),
    (["train", "bc", "DS", "--set", "hidden=2.5"], ["'hidden'", "an integer"]),
    (["train", "bc", "DS", "--set", "lr=abc"], ["'lr'", "'abc'"]),
    (["train", "bc", "DS", "--set", "normalize_obs=maybe"], ["'normalize_obs'", "true or false"]),
    (["train", "bc", "DS", "--set", "updates_per_chunk=0"], ["updates_per_chunk must be >= 1"]),
    (["train", "bc", "DS", "--set", "nope=1"], ["BCConfig has no field 'nope'"]),
    (["train", "bc", "DS", "--steps", "10", "--set", "num_updates=5"], ["--steps or --set num_updates"]),
    (["measure", "DS", "--edges", "0"], ["Invalid value for '--edges'"]),
    (["export", "DS", "--out", "npz", "--format", "csv"], ["unknown export format 'csv'"]),
])
def test_train_measure_export_options_are_strict_and_bounded(dataset, args, needles):
    refused(["data", *[str(dataset) if a == "DS" else a for a in args]], *needles)


def test_steps_run_exactly_or_say_what_runs():
    assert experiment.chunk_for(1500) == 750 and experiment.chunk_for(999) == 999
    assert experiment.chunk_for(20_000) == 1000 and experiment.chunk_for(1009) == 0  # 1009 is prime
    for n in (1, 7, 999, 1500, 4096, 20_000):
        c = experiment.make_config("bc", experiment.plan_updates(n, {}))
        assert c.total_updates == n and experiment.rounding_note(c) is None
    c = experiment.make_config("bc", experiment.plan_updates(1009, {}))
    assert c.total_updates == 2000 and "running 2000" in experiment.rounding_note(c)
    c = experiment.make_config("bc", experiment.plan_updates(1500, {"updates_per_chunk": "1000"}))
    assert "1500 gradient steps are not a whole number of chunks of 1000: running 2000" in experiment.rounding_note(c)

