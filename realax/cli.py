"""The ``realax`` command: list, train, eval, bench, render."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Optional

from realax._extras import typer  # the [cli] extra: MissingExtra names it when typer is absent
from realax.cli_common import (
    CoordinatorOpt,
    DevicesOpt,
    EnvArgOpt,
    NumProcessesOpt,
    ProcessIdOpt,
    ScenarioOpt,
    env_kwargs,
    handles_bad_input,
)
from realax.cli_data import app as data_app
from realax.errors import RealaxError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="realax: JAX-native RL environments for real-world operations problems.")
app.add_typer(data_app, name="data")



def _make(env_id: str, kwargs: dict):
    import realax

    return realax.make(env_id, **kwargs)


def _looks_like_path(policy: str) -> bool:
    return os.sep in policy or "/" in policy or policy.startswith(".") or os.path.exists(policy)


def _env_and_policy(env_id: str, policy: str, kwargs: dict):
    """``(env, params, policy_fn)`` for a baseline name or a folder written by ``realax train``."""
    from realax import baselines, experiment
    from realax.agents import checkpoint
    from realax.registry import spec

    if not _looks_like_path(policy):
        env, params = _make(env_id, kwargs)
        return env, params, baselines.get(policy, env, params)
    meta = checkpoint.read_meta(policy)
    if meta["env_id"] != env_id:
        raise RealaxError(f"agent {policy} was trained on {meta['env_id']}, not {env_id}")
    transfer = spec(env_id).load().transfer_options  # e.g. a held-out domain: allowed
    clash = {k: v for k, v in checkpoint.kwargs_clash(meta.get("env_options", meta["env_kwargs"]), kwargs).items()
             if k not in transfer}
    if clash:
        allowed = f" (options it may change: {list(transfer)})" if transfer else ""
        raise RealaxError(f"agent {policy} was trained with {meta['env_kwargs']}; it cannot run with {clash}{allowed}")
    env, params = _make(env_id, {**meta["env_kwargs"], **kwargs})
    return env, params, experiment.load_policy(Path(policy), env, params)


def _tag(env_id: str, kwargs: dict) -> str:
    name = env_id.split("/")[-1]
    extra = "_".join(f"{Path(str(v)).stem}" if k == "scenario" else f"{k}{v}" for k, v in sorted(kwargs.items()))
    return f"{name}_{extra}" if extra else name


@app.command("list")
@handles_bad_input
def list_cmd():
    """Registered environment ids with their spaces and a one-line description."""
    import realax

    for env_id in realax.list_envs():
        spec = realax.spec(env_id)
        env, params = realax.make(env_id)
        agents = f", {env.num_agents} agents" if spec.multi_agent else ""
        typer.echo(f"{env_id:24s} obs {env.observation_space(params)}  act {env.action_space(params)}{agents}")
        typer.echo(f"{'':24s} {spec.description}")


#: kept in step with ``realax.agents.algorithms.ALGOS`` by tests/test_cli.py (the CLI does not import it at start-up)
ALGO_HELP = ("Algorithm: ppo, a2c (advantage actor-critic, RL4AMOD's settings), "
             "sac (soft actor-critic for Simplex/Box actions, RL4AMOD's settings; --set auto_alpha=true to learn "
             "the temperature), "
             "ppo_rnd (PPO with a random-network-distillation exploration bonus), dqn (single-agent; "
             "dqn --set dataset=DIR for the hybrid offline+online recipe); "
             "qlearning, sarsa (tabular; one table per agent on multi-agent envs); "
             "ippo, mappo (multi-agent; --set recurrent=true for a GRU actor); "
             "iql_marl, vdn, qmix (multi-agent value-based: independent Q-learning, VDN, QMIX; GRU agents, "
             "--set recurrent=false for feed-forward ones); "
             "ppo_ctx (context-aware PPO: a GRU context of the episode so far beside the observation, Sim2Rec); "
             "ppo_lag, tscac (constrained: PPO-Lagrangian and two-stage constrained actor-critic, on envs that "
             "report info['cost_margin']); slateq (slates, on envs that report info['choice'])")


@app.command()
@handles_bad_input
def train(
    algo: Optional[str] = typer.Argument(None, help=ALGO_HELP),
    env_id: Optional[str] = typer.Argument(None, help="Environment id, e.g. realax/Spectrum-v0"),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    total_timesteps: Optional[int] = typer.Option(None, min=1, help="Environment steps per seed."),
    num_seeds: int = typer.Option(3, min=1, max=1024, help="Independent seeds, trained in one vmapped run."),
    seed: int = typer.Option(0, min=0, help="Base random seed (recorded in meta.json)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any config field, KEY=VALUE (repeatable), typed "
                                             "from the config (booleans: true/false)."),
    episodes: int = typer.Option(100, min=1, help="Evaluation episodes per seed and per baseline."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default runs/ALGO_ENV, or runs/ALGO_ENV-2, ... "
                                       "when that exists)."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out run folder (only a realax run folder)."),
    resume: Optional[Path] = typer.Option(None, help="Continue the interrupted run in this folder from its last "
                                          "checkpoint, with its saved options (give no ALGO, ENV_ID or options)."),
    wandb: bool = typer.Option(False, help="Also log to Weights & Biases (pip install 'realax[wandb]')."),
    devices: Optional[int] = DevicesOpt,
    coordinator: Optional[str] = CoordinatorOpt,
    num_processes: int = NumProcessesOpt,
    process_id: int = ProcessIdOpt,
):
    """Train an agent with a progress bar; print its evaluation beside the baselines. The run folder gets
    meta.json, a checkpoint after every chunk or as often as costs at most a tenth of the time (Ctrl-C stops
    after the chunk in flight and saves it; --resume continues),
    metrics.jsonl, TensorBoard events (tb/), then the agent, metrics.json and a learning curve."""
    from realax import experiment as tr
    from realax import options, sharding
    from realax.agents import algorithms
    from realax.run_folder import RunFolder, choose

    if coordinator is not None:
        if resume is not None:
            raise RealaxError("--resume continues a run in one process; give no --coordinator")
        sharding.join(coordinator, num_processes, process_id)
    elif num_processes > 1 or process_id:
        raise RealaxError("--num-processes and --process-id need --coordinator HOST:PORT (process 0's address)")
    if resume is not None:
        given = [f for f, v in (("ALGO", algo), ("ENV_ID", env_id), ("--scenario", scenario), ("-e", env_arg),
                                ("--set", set_), ("--out", out), ("--total-timesteps", total_timesteps)) if v]
        if given:
            raise RealaxError(f"--resume continues a run with its saved options; do not also give {', '.join(given)}")
        try:
            result, folder = tr.resume(resume, progress=True, wandb=wandb, devices=devices)
        except tr.Interrupted as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(130) from None
        _finish(tr, result, folder, folder.meta["env_id"], folder.meta["env_kwargs"])
        return
    if algo is None or env_id is None:
        raise RealaxError("give ALGO and ENV_ID (e.g. `realax train ppo realax/Spectrum-v0`), or --resume RUN_DIR")
    kwargs = env_kwargs(env_id, scenario, env_arg)
    overrides = options.split_pairs(set_, "--set")
    for flag, value in (("total_timesteps", total_timesteps), ("num_seeds", num_seeds)):
        if flag in overrides:
            raise RealaxError(f"give {flag} as --{flag.replace('_', '-')}, not --set {flag}=...")
        if value is not None:
            overrides[flag] = value
    env, params = _make(env_id, kwargs)
    if algorithms.get(algo).offline:
        raise RealaxError(f"{algo} learns from a dataset: use `realax data train {algo} DATASET`")
    algorithms.check_env(algo, env, params)
    config = tr.make_config(algo, overrides)
    if process_id:  # process 0 writes the run folder and evaluates; the others train their part and stop
        tr.run(algo, env, params, overrides, seed=seed, episodes=episodes, progress=False, devices=devices)
        typer.echo(f"process {process_id} of {num_processes}: trained its part; process 0 writes the run folder")
        return
    path, note = choose(out, Path("runs") / f"{algo}_{_tag(env_id, kwargs)}", overwrite)
    for line in (tr.budget_note(config), note):
        if line:
            typer.echo(line, err=True)
    command = ["realax", "train", algo, env_id, *(["--scenario", scenario] if scenario else []),
               *[a for e in env_arg or [] for a in ("-e", e)], *[a for e in set_ or [] for a in ("--set", e)],
               *(["--total-timesteps", str(total_timesteps)] if total_timesteps else []), "--num-seeds", str(num_seeds),
               "--seed", str(seed), "--episodes", str(episodes), "--out", str(path),
               *(["--devices", str(devices)] if devices else [])]
    from realax.registry import options_of

    meta = {"algo": algo, "env_id": env_id, "env_kwargs": kwargs, "env_options": {**options_of(env_id), **kwargs},
            "config": dataclasses.asdict(config), "seed": seed, "num_seeds": config.num_seeds, "episodes": episodes,
            "command": shlex.join(command), **_device_meta(devices)}
    meta["processes"] = num_processes
    folder = RunFolder.create(path, meta, overwrite=overwrite, wandb=wandb)
    try:
        result = tr.run(algo, env, params, overrides, seed=seed, episodes=episodes, progress=True, folder=folder,
                        devices=devices)
    except tr.Interrupted as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(130) from None
    _finish(tr, result, folder, env_id, kwargs)


def _device_meta(devices: int | None) -> dict:
    """What ``meta.json`` records of the devices a run is spread over (it fails early on a bad count)."""
    from realax import sharding

    mesh = sharding.mesh(devices)
    return {"devices": mesh.size, "device_kind": mesh.devices.flat[0].device_kind}


def _finish(tr, result, folder, env_id: str, kwargs: dict) -> None:
    tr.finish(result, folder, f"{result.algo} on {env_id} {kwargs}")
    typer.echo(tr.format_table(result))
    typer.echo(f"learning curve: {folder.path / 'curve.png'}\nagent: {folder.path}\n"
               f"logs: tensorboard --logdir {folder.path / 'tb'}")


@app.command("eval")
@handles_bad_input
def eval_cmd(
    env_id: str = typer.Argument(...),
    policy: str = typer.Option("random", help="A baseline name or a folder written by `realax train`."),
    episodes: int = typer.Option(100, min=1),
    seed: int = typer.Option(0, min=0),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    as_json: bool = typer.Option(False, "--json", help="Print {mean, std, episodes} as JSON."),
):
    """Mean and std of the episode return of a baseline or a saved agent."""
    import jax
    import numpy as np

    from realax import experiment as tr

    env, params, fn = _env_and_policy(env_id, policy, env_kwargs(env_id, scenario, env_arg))
    run = jax.jit(lambda key: tr.evaluate_policy(env, params, fn, key, episodes))  # one compiled program
    out = jax.device_get(run(jax.random.key(seed)))
    returns = np.asarray(out["return"])
    res = {"mean": float(returns.mean()), "std": float(returns.std()), "episodes": episodes}
    if "won" in out:
        res["win_rate"] = float(np.mean(out["won"]))
    if as_json:
        typer.echo(json.dumps(res))
    else:
        wins = f", win rate {res['win_rate']:.3f}" if "win_rate" in res else ""
        typer.echo(f"{env_id} policy={policy}: {returns.mean():.2f} ± {returns.std():.2f} over {episodes} episodes{wins}")


@app.command()
@handles_bad_input
def bench(
    env_id: Optional[str] = typer.Argument(None, help="Environment id (or --all)."),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    num_envs: Optional[list[int]] = typer.Option(None, min=1, max=2**22,
                                                 help="Batch sizes (repeatable); default 1, 1024, 16384."),
    num_steps: int = typer.Option(100, min=1, max=100_000, help="Steps per rollout."),
    all_: bool = typer.Option(False, "--all", help="Every registered id with its default options, as one table."),
):
    """Environment steps per second with random actions and autoreset, compile time apart, and the bytes of
    one environment's state; the device on every row."""
    from realax.bench import device_name, measure, state_bytes
    from realax.registry import list_envs

    if all_ == (env_id is not None):
        raise RealaxError("give one ENV_ID, or --all for every registered id")
    if all_ and (scenario or env_arg):
        raise RealaxError("--all takes no --scenario or -e (each id runs with its defaults)")
    ids = list_envs() if all_ else [env_id]
    typer.echo("| id | device | N | steps/s | compile (s) | state bytes per env |\n|---|---|---|---|---|---|")
    for i in ids:
        env, params = _make(i, {} if all_ else env_kwargs(i, scenario, env_arg))
        agents = getattr(env, "num_agents", None)
        size = state_bytes(env, params)
        for n in num_envs or [1, 1024, 16384]:
            r = measure(env, params, n, num_steps, num_agents=agents)
            typer.echo(f"| `{i}` | {device_name()} | {n} | {r.steps_per_second:,.0f} | {r.compile_seconds:.1f} | {size:,} |")


#: picture formats ``realax render`` writes, by file extension
RENDER_FORMATS = {".gif": "an animated GIF of every frame", ".png": "one PNG of the last frame"}


def _check_writable(out: Path) -> None:
    """``RealaxError`` now, before any rollout, if ``out`` cannot be written (bad extension, no permission)."""
    if out.is_dir():
        raise RealaxError(f"--out {out} is a folder; give a file name ending in .gif or .png")
    if out.suffix.lower() not in RENDER_FORMATS:
        allowed = ", ".join(f"{k} ({v})" for k, v in RENDER_FORMATS.items())
        raise RealaxError(f"--out {out}: unknown picture format {out.suffix or '(no extension)'!r}; allowed: {allowed}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.parent / f".{out.name}.probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as e:
        raise RealaxError(f"--out {out} cannot be written: {e.strerror or e}") from None


@app.command()
@handles_bad_input
def render(
    env_id: str = typer.Argument(...),
    out: Path = typer.Option(..., help="Output .gif (every frame) or .png (the last frame)."),
    policy: str = typer.Option("random", help="A baseline name or a folder written by `realax train`."),
    steps: int = typer.Option(60, min=1, max=10_000, help="Steps to play (GIF: one frame each)."),
    seed: int = typer.Option(0, min=0),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    fps: int = typer.Option(8, min=1, max=100),
):
    """Play an episode and write its frames as a GIF (or the last one as a PNG)."""
    import jax
    import numpy as np
    from PIL import Image

    from realax.agents.evaluate import stateful_actor
    from realax.files import write_atomic

    _check_writable(out)
    env, params, fn = _env_and_policy(env_id, policy, env_kwargs(env_id, scenario, env_arg))
    memory0, act = stateful_actor(env, params, fn)
    step, act = jax.jit(env.step_with_final_state), jax.jit(act)
    key = jax.random.key(seed)
    obs, state = env.reset(key, params)
    memory, frames, ret = memory0, [], 0.0
    png = out.suffix.lower() == ".png"
    for t in range(steps):
        key, k1, k2 = jax.random.split(key, 3)
        action, memory = act(k2, obs, state, memory)
        obs, state, reward, terminated, truncated, _, final = step(k1, state, action, params)
        reward = np.asarray(reward)
        ret = ret + reward
        if not png or t == steps - 1:  # the state the action led to (before any reset), with its reward and return
            frames.append(Image.fromarray(np.asarray(env.render(final, params, reward=reward, episode_return=ret))))
        if bool(terminated | truncated):
            memory, ret = memory0, 0.0
    if png:
        write_atomic(out, lambda p: frames[-1].save(p, format="PNG"))
        typer.echo(f"wrote {out} (one frame: the state after {steps} steps)")
    else:
        write_atomic(out, lambda p: frames[0].save(p, format="GIF", save_all=True, append_images=frames[1:],
                                                    duration=int(1000 / fps), loop=0))
        typer.echo(f"wrote {out} ({len(frames)} frames)")


def main() -> None:
    """Entry point of the ``realax`` command."""
    from realax import _xla

    _xla.configure()
    if sys.argv[1:2] != ["bench"]:  # bench reports compile times: it compiles afresh
        _xla.use_compilation_cache()
    app()


if __name__ == "__main__":
    main()
