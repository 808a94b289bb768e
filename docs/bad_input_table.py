"""Writes docs/bad_input.md: every class of bad input tried against realax, with the exit code and the message
users get, each obtained by running it now (``python docs/bad_input_table.py``; about two minutes on 2 cores).

Command cases run through the ``realax`` command (typer's test runner, in-process); library cases call the
Python API and record the exception. The tests that hold each behaviour are named in the last column.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from realax import _xla

_xla.configure()

import numpy as np  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import realax  # noqa: E402
from realax.cli import app  # noqa: E402

ROOT = Path(__file__).resolve().parent
runner = CliRunner(env={"COLUMNS": "2000", "TERMINAL_WIDTH": "2000"})
ROWS: list[tuple[str, str, str, str, str]] = []


def _clean(text: str) -> str:
    text = " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
    # escaped for Markdown: a table cell ("|"), and brackets that would read as links ("[algo] [env_id]")
    return text.removeprefix("Error ").replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")


def cli(kind: str, args: list[str], test: str, shown: str | None = None) -> None:
    r = runner.invoke(app, args, prog_name="realax")
    message = _clean(r.output) if r.output.strip() else repr(r.exception)
    ROWS.append((kind, f"`realax {shown or ' '.join(args)}`", str(r.exit_code), message[:400], test))


def api(kind: str, code: str, fn, test: str) -> None:
    try:
        fn()
        ROWS.append((kind, f"`{code}`", "accepted", "(no error)", test))
    except Exception as e:  # noqa: BLE001 - the point is to record whatever comes out
        ROWS.append((kind, f"`{code}`", type(e).__name__, _clean(str(e))[:400], test))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="realax-bad-input-"))
    os.chdir(work)
    agent = work / "runs" / "agent"
    runner.invoke(app, ["train", "qlearning", "realax/Spectrum-v0", "--scenario", "constant", "-e", "history=1",
                        "--total-timesteps", "2000", "--num-seeds", "1", "--episodes", "2", "--out", str(agent)])
    t = "tests/test_bad_input.py"
    cli("option type", ["eval", "realax/Spectrum-v0", "-e", "own_tx=maybe"], t)
    cli("option type", ["eval", "realax/Spectrum-v0", "-e", "history=1.7"], t)
    cli("option type", ["eval", "realax/Spectrum-v0", "-e", "history=abc"], t)
    cli("unknown option", ["eval", "realax/Spectrum-v0", "-e", "nope=1"], t)
    cli("malformed option", ["eval", "realax/Spectrum-v0", "-e", "history"], t)
    cli("config type", ["train", "ppo", "realax/Spectrum-v0", "--set", "num_envs=2.5"], t)
    cli("config type", ["train", "ppo", "realax/Spectrum-v0", "--set", "lr=abc"], t)
    cli("config range", ["train", "ppo", "realax/Spectrum-v0", "--set", "num_envs=0"], t)
    cli("config size bound", ["train", "ppo", "realax/Spectrum-v0", "--set", "hidden=1e9"], t)
    cli("count", ["train", "ppo", "realax/Spectrum-v0", "--total-timesteps", "0"], t)
    cli("count", ["train", "ppo", "realax/Spectrum-v0", "--num-seeds", "-1"], t)
    cli("count", ["eval", "realax/Spectrum-v0", "--episodes", "0"], t)
    cli("count", ["bench", "realax/Spectrum-v0", "--num-envs", "0"], t)
    cli("algorithm/env mismatch", ["train", "qlearning", "realax/RoboTaxi-v0"], t)
    cli("unknown id", ["eval", "realax/Nope-v0"], t)
    cli("unknown scenario", ["eval", "realax/Spectrum-v0", "--scenario", "nope"], "tests/test_cli.py")
    cli("unknown baseline", ["eval", "realax/Spectrum-v0", "--policy", "nope"], t)
    cli("missing agent folder", ["eval", "realax/Spectrum-v0", "--policy", "runs/missing"], t)
    cli("agent of another env", ["eval", "realax/SMAX-v0", "--policy", str(agent)], t,
        "eval realax/SMAX-v0 --policy runs/agent")
    cli("agent with other shapes", ["eval", "realax/Spectrum-v0", "--policy", str(agent), "-e", "history=2"], t,
        "eval realax/Spectrum-v0 --policy runs/agent -e history=2")
    broken = work / "runs" / "broken"
    shutil.copytree(agent, broken)
    data = (broken / "agent.msgpack").read_bytes()
    (broken / "agent.msgpack").write_bytes(data[: len(data) // 2])
    cli("damaged agent", ["eval", "realax/Spectrum-v0", "--policy", str(broken)], t,
        "eval realax/Spectrum-v0 --policy runs/broken  (agent.msgpack cut in half)")
    cli("existing run folder", ["train", "qlearning", "realax/Spectrum-v0", "--out", str(agent)], t,
        "train qlearning realax/Spectrum-v0 --out runs/agent")
    cli("overwrite of a non-run folder", ["train", "qlearning", "realax/Spectrum-v0", "--out", ".", "--overwrite"], t)
    cli("render format", ["render", "realax/Spectrum-v0", "--out", "a.bmp"], t)
    cli("render target", ["render", "realax/Spectrum-v0", "--out", "runs/agent/meta.json/a.gif"], t)
    cli("count", ["render", "realax/Spectrum-v0", "--out", "a.gif", "--steps", "0"], t)
    api("option type", 'realax.make("realax/Spectrum-v0", scenario=123)',
        lambda: realax.make("realax/Spectrum-v0", scenario=123), "tests/fuzz/test_fuzz_options.py")
    dataset_cases(work, agent)
    for case in extra_cases(work):
        case()
    write(work)


def dataset_cases(work: Path, agent: Path) -> None:
    """``realax data``: what a write may replace, the lock, Minari ids, damaged data, ordered references."""
    import h5py

    t = "tests/offline/test_safety.py"
    gen = ["data", "generate", "realax/Spectrum-v0", "--scenario", "constant", "--episodes", "4", "--num-envs", "4",
           "--quiet"]
    ds = work / "datasets" / "spectrum-random-v0"
    r = runner.invoke(app, [*gen, "--expert", "sense_and_avoid", "--out", str(ds)], prog_name="realax")
    warning = next((line for line in r.output.splitlines() if "warning" in line.lower()), "(none printed)")
    ROWS.append(("references not ordered", "`realax data generate realax/Spectrum-v0 --scenario constant --policy "
                 "random --expert sense_and_avoid ...` (an expert worse than random: sense-and-avoid on a jam scenario)",
                 str(r.exit_code),
                 _clean(warning)[:400], t))
    cli("overwrite of the working directory", [*gen, "--out", ".", "--overwrite"], t)
    (work / "notes-v0").mkdir()
    (work / "notes-v0" / "thesis.tex").write_text("precious")
    cli("overwrite of a non-dataset folder", [*gen, "--out", "notes-v0", "--overwrite"], t)
    cli("existing dataset", [*gen, "--out", str(ds)], t, "data generate ... --out datasets/spectrum-random-v0")
    cli("not a Minari id", [*gen, "--out", "datasets/spectrum-random"], t)
    cli("count", ["data", "generate", "realax/Spectrum-v0", "--episodes", "0", "--out", "d/x-v0"], t)
    cli("missing policy folder", [*gen, "--policy", "runs/missing", "--out", "datasets/x-v0"], t)
    cli("agent of another env", ["data", "generate", "realax/RoboTaxi-v0", "--episodes", "4", "--policy", str(agent),
                                 "--out", "datasets/x-v0"], t,
        "data generate realax/RoboTaxi-v0 --episodes 4 --policy runs/agent --out datasets/x-v0")
    locked = work / "datasets" / "busy-v0"
    (work / "datasets" / ".busy-v0.lock").write_text(
        '{"pid": %d, "host": "%s", "started": "2026-11-29T20:00:00+00:00"}' % (os.getppid(), os.uname().nodename))
    cli("concurrent write (live lock)", [*gen, "--out", str(locked)], t, "data generate ... --out datasets/busy-v0  "
        "(while another generate holds the lock)")
    with h5py.File(ds / "data" / "main_data.hdf5", "r+") as f:
        rewards = f["episode_0"]["rewards"]
        rewards[...] = -rewards[...]
    cli("damaged dataset", ["data", "measure", str(ds), "--json"], t,
        "data measure datasets/spectrum-random-v0 --json  (rewards of one episode sign-flipped)")
    cli("damaged dataset", ["data", "train", "cql", str(ds)], t, "data train cql datasets/spectrum-random-v0")
    cli("export option", ["data", "export", str(ds), "--format", "neorl", "--keep-shape", "--out", "npz"],
        "tests/offline/test_storage.py", "data export datasets/spectrum-random-v0 --format neorl --keep-shape --out npz")


def extra_cases(work: Path) -> list:
    """Cases whose behaviour other modules own (environments, adapters, datasets)."""
    import gymnasium

    from realax.wrappers.jaxmarl import HeuristicEnemySMAX

    g = gymnasium.make("realax/Spectrum-v0")
    g.reset(seed=0)
    pz = realax.parallel_env("realax/SpectrumMA-v0")
    pz.reset(seed=0)
    t_env = "tests/envs, tests/fuzz"
    t_jaxmarl = "tests/wrappers/test_jaxmarl_adapter.py"
    return [
        lambda: api("bound", 'realax.make("realax/Spectrum-v0", max_steps=-5)',
                    lambda: realax.make("realax/Spectrum-v0", max_steps=-5), t_env),
        lambda: api("bound", 'realax.make("realax/Spectrum-v0", max_steps=0)',
                    lambda: realax.make("realax/Spectrum-v0", max_steps=0), t_env),
        lambda: api("bound", 'realax.make("realax/Spectrum-v0", max_steps=10**12)',
                    lambda: realax.make("realax/Spectrum-v0", max_steps=10**12), t_env),
        lambda: api("action", 'gymnasium.make("realax/Spectrum-v0").step("a")', lambda: g.step("a"), t_env),
        lambda: api("action", 'gymnasium.make("realax/Spectrum-v0").step(1.5)', lambda: g.step(1.5), t_env),
        lambda: api("action", 'gymnasium.make("realax/Spectrum-v0").step(np.nan)', lambda: g.step(np.nan), t_env),
        lambda: api("action", 'gymnasium.make("realax/Spectrum-v0").step(99)', lambda: g.step(99), t_env),
        lambda: api("action", 'realax.parallel_env("realax/SpectrumMA-v0").step({"radio_0": "x", ...})',
                    lambda: pz.step({a: "x" for a in pz.agents}), t_env),
        lambda: api("JaxMARL keyword", 'HeuristicEnemySMAX(attack_mode="random")',
                    lambda: HeuristicEnemySMAX(attack_mode="random"), t_jaxmarl),
        lambda: api("JaxMARL keyword", "HeuristicEnemySMAX(unit_type_health=[45, 125])",
                    lambda: HeuristicEnemySMAX(unit_type_health=[45, 125]), t_jaxmarl),
    ]


def write(work: Path) -> None:
    lines = ["# Bad input and the answer users get", "",
             "Every class of bad input tried against realax, with what comes back. Produced by running each case "
             "(`python docs/bad_input_table.py`, which rewrites this page); the command's exit code is 2 for bad "
             "input, the Python API raises `realax.errors.RealaxError` (a `ValueError`). Inside `jit` nothing can "
             "raise: invalid actions become the env's no-op and are counted in `info[\"invalid_action\"]`.", "",
             "| class | input | exit code / exception | message | test |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {c} | {x} | {m} | {t} |" for k, c, x, m, t in ROWS]
    text = "\n".join(lines).replace(str(work) + "/", "").replace(str(work), ".") + "\n"
    (ROOT / "bad_input.md").write_text(text)
    print(f"wrote {ROOT / 'bad_input.md'} ({len(ROWS)} cases)")


if __name__ == "__main__":
    main()
