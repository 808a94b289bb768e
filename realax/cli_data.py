"""``realax data``: generate, verify, measure, export and train on offline datasets.

Bad input ends a command with ``Error: <message>`` and exit code 2 (``cli_common.handles_bad_input``): counts
and shares are bounded here, ``-e``/``--set`` are typed by ``realax.options``, a dataset is checked against its
manifest before it is measured, trained on or exported (``--no-verify`` skips that knowingly), and JSON output
is standard JSON (``files.dumps``: no ``NaN``/``Infinity``).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer

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
from realax.errors import RealaxError
from realax.files import dumps

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Offline datasets: generate (vectorised JAX rollouts, Minari format), verify, measure, export.")

_REALISM = "Realism (NeoRL-2)"
_OUT_HELP = ("Dataset folder to create, named as a Minari id (NAME-vN, e.g. DIR/spectrum-random-v0), so "
             "minari.load_dataset(NAME-vN) opens it with MINARI_DATASETS_PATH=DIR.")
_POLICY_HELP = "random, a baseline name, a folder written by `realax train`, or module:factory."
_LEVEL_HELP = "Probability that an action is the policy's, else uniform random: 1 = the policy, 0 = random."
_FRACTION_HELP = "Instead of --level: the level whose return is this fraction of the way from random to the policy."
_EXPERT_HELP = ("Expert reference (default: the best by measured return of the policy and the env's non-random "
                "baselines).")
_VERIFY_HELP = "Check the dataset against its manifest's checksums first (--no-verify: use it even if damaged)."
#: most environments stepped side by side (as ``realax bench``) and most SACo bin edges per dimension
MAX_ENVS, MAX_EDGES = 2**20, 100_000


def _realism(text: str, **bounds):
    return typer.Option(help=text, rich_help_panel=_REALISM, **bounds)


def _say(lines, prefix: str) -> None:
    for line in lines:
        typer.echo(f"{prefix}: {line}", err=True)


def _fmt(x, spec: str = ".3f") -> str:
    return "undefined" if x is None else format(x, spec)


@app.command()
@handles_bad_input
def generate(
    env_id: Annotated[str, typer.Argument(help="Environment id, e.g. realax/Spectrum-v0")],
    episodes: Annotated[int, typer.Option(min=1, help="Whole episodes to collect (train + validation).")],
    out: Annotated[Path, typer.Option(help=_OUT_HELP)],
    policy: Annotated[str, typer.Option(help=_POLICY_HELP)] = "random",
    level: Annotated[float, typer.Option(min=0.0, max=1.0, help=_LEVEL_HELP)] = 1.0,
    return_fraction: Annotated[float | None, typer.Option(min=0.0, max=1.0, help=_FRACTION_HELP)] = None,
    noise: Annotated[float, typer.Option(min=0.0, help="Gaussian action noise (Box actions), in half-ranges.")] = 0.0,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    val_fraction: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of episodes for validation, below 1 "
                                                "(NeoRL-2: 1/5).")] = 0.2,
    expert: Annotated[str | None, typer.Option(help=_EXPERT_HELP)] = None,
    scenario: str | None = ScenarioOpt,
    env_arg: list[str] | None = EnvArgOpt,
    action_delay: Annotated[int, _realism("Steps between choosing an action and its effect.", min=0)] = 0,
    obs_delay: Annotated[int, _realism("Steps by which observations lag.", min=0)] = 0,
    disturbance: Annotated[str | None, _realism("Exogenous AR(1) disturbance: 'action' or 'param:<field>'.")] = None,
    disturbance_rho: Annotated[float, _realism("AR(1) coefficient of the disturbance.")] = 0.95,
    disturbance_sigma: Annotated[float, _realism("Stationary std of the disturbance.")] = 0.3,
    cost_budget: Annotated[float | None, _realism("Safety cost budget per episode (turns the cost on).")] = None,
    cost_threshold: Annotated[float, _realism("Cost 1 for a step with reward below this (env without a cost).")] = 0.0,
    cost_terminate: Annotated[bool, _realism("End the episode when the budget is exceeded.")] = False,
    conservative: Annotated[float | None, _realism("Width of a narrow action distribution around the policy.")] = None,
    num_envs: Annotated[int, typer.Option(min=1, max=MAX_ENVS, help="Most environments stepped side by side.")] = 1024,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing realax dataset folder (nothing else).")] = False,
    measure: Annotated[bool, typer.Option(help="Also compute TQ and SACo and store them in the metadata.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    propensities: Annotated[bool, typer.Option(help="Record each action's probability under the behaviour "
                                               "(infos['propensity'], for off-policy evaluation; discrete actions, "
                                               "random or deterministic policies).")] = False,
    devices: int | None = DevicesOpt,
    coordinator: str | None = CoordinatorOpt,
    num_processes: int = NumProcessesOpt,
    process_id: int = ProcessIdOpt,
):
    """Collect a dataset with vectorised JAX rollouts and write it in the Minari format (atomically, under an
    exclusive lock on --out). With --num-processes K each process writes its part (OUT's name + -partIofK)
    and, given --coordinator, process 0 merges the parts into OUT once all are written; without it, run
    `realax data merge OUT --parts K` after the last."""
    from realax import sharding
    from realax.offline import write_guard
    from realax.offline.dataset import generate_dataset, merge_parts
    from realax.offline.generate import DataSpec, build, calibrate_level
    from realax.wrappers.realism import RealismConfig
    if process_id >= num_processes:
        raise RealaxError(f"--process-id must be from 0 to {num_processes - 1} (--num-processes - 1), got {process_id}")
    if coordinator is not None:  # before anything starts JAX's backend
        sharding.join(coordinator, num_processes, process_id)

    realism = RealismConfig(action_delay=action_delay, obs_delay=obs_delay, disturbance=disturbance,
                            disturbance_rho=disturbance_rho, disturbance_sigma=disturbance_sigma,
                            cost_budget=cost_budget, cost_threshold=cost_threshold, cost_terminate=cost_terminate,
                            conservative=conservative)
    spec = DataSpec(env_id, policy=policy, episodes=episodes, seed=seed, level=level, noise=noise,
                    env_kwargs=env_kwargs(env_id, scenario, env_arg), realism=realism, val_fraction=val_fraction,
                    expert=expert, propensities=propensities)
    spec.validate()
    write_guard.check_target(out, overwrite)  # before the calibration's rollouts (and again under the lock)
    if return_fraction is not None:
        spec = spec.resolved()  # calibrate on the env a saved agent was trained on, as collection will
        found = calibrate_level(build(spec), spec, return_fraction)
        typer.echo(f"level {found:.4f} gives {return_fraction:.0%} of the way from random to {policy}")
        spec = dataclasses.replace(spec, level=found)
    t0 = time.perf_counter()
    path, meta = generate_dataset(spec, out, progress=not quiet, overwrite=overwrite, max_envs=num_envs,
                                  measure=measure, devices=devices, part=(process_id, num_processes))
    wall = time.perf_counter() - t0
    _say(meta.get("notes", []), "note")
    steps = meta["total_steps"]
    typer.echo(f"wrote {path}: {meta['total_episodes']} episodes, {steps} transitions "
               f"(train {meta['split']['train']}, validation {meta['split']['validation']})")
    typer.echo(f"collect {meta['collect_seconds']:.1f} s, write {meta['write_seconds']:.1f} s, total {wall:.1f} s: "
               f"{steps / wall:,.0f} transitions/s")
    cands = ", ".join(f"{k} {v:.3f}" for k, v in (meta.get("expert_candidates") or {}).items())
    if process_id == 0:  # the reference returns are measured in part 0
        typer.echo(f"behaviour return {meta['behaviour_return']:.2f}; ref_min {meta.get('ref_min_score')} (random), "
                   f"ref_max {meta.get('ref_max_score')} (expert {meta.get('expert_policy')}; "
                   f"{meta.get('expert_choice')}{': ' + cands if cands else ''})")
    if "reference_warning" in meta:
        _say([meta["reference_warning"]], "warning")
    if "measures" in meta:
        m = meta["measures"]
        typer.echo(f"TQ {_fmt(m['tq'], '.4f')}, SACo {m['saco']:.4f} (stored in the metadata)")
    if num_processes == 1:
        return
    if coordinator is None:
        typer.echo(f"part {process_id} of {num_processes}; when all are written: realax data merge {out} "
                   f"--parts {num_processes}")
        return
    sharding.barrier("realax data generate: every part written")
    if process_id == 0:
        path, meta = merge_parts(out, num_processes, overwrite=overwrite, remove=True)
        typer.echo(f"merged {num_processes} parts into {path}: {meta['total_episodes']} episodes, "
                   f"{meta['total_steps']} transitions")


@app.command()
@handles_bad_input
def merge(
    out: Annotated[Path, typer.Argument(help="The dataset the parts were generated for (their --out).")],
    parts: Annotated[int, typer.Option(min=2, help="How many parts (--num-processes of the generation).")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing realax dataset at OUT.")] = False,
    remove_parts: Annotated[bool, typer.Option(help="Delete the parts once OUT is written.")] = False,
):
    """Assemble a dataset from the parts `realax data generate --num-processes K` wrote (each checked against
    its checksums); the result is the dataset one process would have written."""
    from realax.offline.dataset import merge_parts

    path, meta = merge_parts(out, parts, overwrite=overwrite, remove=remove_parts)
    typer.echo(f"merged {parts} parts into {path}: {meta['total_episodes']} episodes, {meta['total_steps']} transitions")


@app.command()
@handles_bad_input
def verify(path: Annotated[Path, typer.Argument(help="Dataset folder.")]):
    """Check a dataset's files against the checksums recorded when it was written; exit 1 on any problem."""
    from realax.offline.minari_io import verify as check

    problems = check(path)
    if problems:
        for p in problems:
            typer.echo(f"FAIL {p}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK {path}")


@app.command()
@handles_bad_input
def measure(
    path: Annotated[Path, typer.Argument(help="Dataset folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the measures as JSON.")] = False,
    reference: Annotated[Path | None, typer.Option(help="Replay dataset to use as SACo's reference.")] = None,
    expert: Annotated[str | None, typer.Option(help="Expert reference policy (default: from the metadata).")] = None,
    edges: Annotated[int, typer.Option(min=1, max=MAX_EDGES, help="Bin edges per continuous dimension.")] = 100,
    check: Annotated[bool, typer.Option("--verify/--no-verify", help=_VERIFY_HELP)] = True,
):
    """TQ and SACo (Schweighofer et al. 2022), the reference datasets generated on demand."""
    from realax.offline.measures import measure as run

    res = run(path, reference=reference, expert=expert, edges=edges, progress=not as_json, check=check)
    if as_json:
        typer.echo(dumps(res))
        if "warning" in res:
            _say([res["warning"]], "warning")
        return
    typer.echo(f"{path}: {res['episodes']} episodes, {res['transitions']} transitions")
    typer.echo(f"  TQ   {_fmt(res['tq'], '.4f')}  (return {res['return_mean']:.3f}; random {res['random_return']:.3f}, "
               f"expert {res['expert_return']:.3f} [{res['expert_policy']}])")
    typer.echo(f"  SACo {res['saco']:.4f}  ({res['unique_pairs']} unique state-action pairs; reference "
               f"{res['reference_unique_pairs']}: {res['reference']})")
    if "warning" in res:
        _say([res["warning"]], "warning")


@app.command()
@handles_bad_input
def export(
    path: Annotated[Path, typer.Argument(help="Dataset folder.")],
    out: Annotated[Path, typer.Option(help="Folder for <name>-train.npz and <name>-val.npz.")],
    fmt: Annotated[str, typer.Option("--format", help="d4rl or neorl.")] = "neorl",
    overwrite: Annotated[bool, typer.Option(help="Replace existing .npz files of the same names.")] = False,
    check: Annotated[bool, typer.Option("--verify/--no-verify", help=_VERIFY_HELP)] = True,
    keep_shape: Annotated[bool, typer.Option(help="d4rl: keep each observation's own shape (default: flat rows "
                                                  "(N, obs_dim), as D4RL's datasets, the shape in "
                                                  "metadata/observation_shape).")] = False,
):
    """Write the train and validation episodes as D4RL-style or NeoRL-style arrays (.npz)."""
    from realax.offline.minari_io import export as run

    for f in run(path, fmt, out, check=check, overwrite=overwrite, keep_shape=keep_shape):
        typer.echo(f"wrote {f}")


_SET_HELP = "Any config field of the algorithm, KEY=VALUE (repeatable), e.g. --set alpha=2.5."


@app.command("train")
@handles_bad_input
def train_cmd(
    algo: Annotated[str, typer.Argument(help="Offline algorithm: bc and cql (any action kind), td3bc and iql "
                                              "(continuous actions: box, simplex). Hybrid DQN: `realax train dqn --set "
                                              "dataset=DIR`.")],
    path: Annotated[Path, typer.Argument(help="Dataset folder written by `realax data generate`.")],
    seeds: Annotated[int, typer.Option(min=1, max=1024, help="Independent seeds, trained in one vmapped run.")] = 3,
    steps: Annotated[int | None, typer.Option(min=1, help="Gradient steps per seed, run exactly "
                                              "(default: the config's num_updates).")] = None,
    episodes: Annotated[int, typer.Option(min=1, help="Online evaluation episodes per seed.")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Base random seed.")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    check: Annotated[bool, typer.Option("--verify/--no-verify", help=_VERIFY_HELP)] = True,
    out: Annotated[Path | None, typer.Option(help="Run folder (logs, checkpoints, the agent; default "
                                             "runs/ALGO_DATASET, or runs/ALGO_DATASET-2, ... when that exists).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out run folder (only a realax run folder).")] = False,
    wandb: Annotated[bool, typer.Option(help="Also log to Weights & Biases (pip install 'realax[wandb]').")] = False,
):
    """Train an offline learner on a dataset, evaluate it online on the dataset's env (realism included) and
    print the normalised score 100·(R − random)/(expert − random), mean ± std over seeds (only when the
    expert beats random; else the raw returns, with a warning)."""
    from realax import experiment, options
    from realax.offline import loader
    from realax.run_folder import RunFolder, choose

    experiment.check_offline(algo)
    overrides = options.split_pairs(set_, "--set")
    config = experiment.make_config(algo, {**experiment.plan_updates(steps, overrides), "num_seeds": seeds})
    data = loader.load(path, check=check)  # a missing or damaged dataset: refused before a run folder is made
    folder_path, note = choose(out, Path("runs") / f"{algo}_{Path(path).name}", overwrite)
    _say([note] if note else [], "note")
    meta = {"algo": algo, "env_id": data[1]["env_id"], "env_kwargs": data[1].get("env_kwargs", {}),
            "dataset": str(Path(path).resolve()), "config": dataclasses.asdict(config), "seed": seed,
            "num_seeds": seeds, "episodes": episodes}
    folder = RunFolder.create(folder_path, meta, overwrite=overwrite, wandb=wandb)
    try:
        res = experiment.train_offline(algo, path, seeds=seeds, updates=steps, overrides=overrides, episodes=episodes,
                                       seed=seed, data=data, progress=not as_json, folder=folder)
    except experiment.Interrupted as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(130) from None
    res["run_folder"] = str(folder_path)
    _say([res["note"]] if "note" in res else [], "note")
    if as_json:
        typer.echo(dumps(res))
        _say([res["warning"]] if "warning" in res else [], "warning")
        return
    typer.echo(f"{algo} on {path} ({res['env_id']}): {res['num_updates']} updates × {res['seeds']} seeds in "
               f"{res['train_seconds']:.0f} s")
    typer.echo(f"  run folder {folder_path} (logs: tensorboard --logdir {folder_path / 'tb'})")
    per_seed = ", ".join(f"{r:.3f}" for r in res["return_per_seed"])
    if res["score_mean"] is None:
        _say([res["warning"]], "warning")
        typer.echo(f"  normalised score undefined; return {res['return_mean']:.3f} ± {res['return_std']:.3f} (per "
                   f"seed {per_seed}; {res['episodes']} episodes each)")
        typer.echo(f"  behaviour (dataset) return {_fmt(res['behaviour_return'])}; random {res['ref_min_score']:.3f}, "
                   f"expert {res['ref_max_score']:.3f} [{res['expert_policy']}]")
        return
    typer.echo(f"  normalised score {res['score_mean']:.1f} ± {res['score_std']:.1f}  (per seed "
               f"{', '.join(f'{s:.1f}' for s in res['score_per_seed'])}; return {res['return_mean']:.3f} over "
               f"{res['episodes']} episodes each)")
    typer.echo(f"  behaviour (dataset) score {_fmt(res['behaviour_score'], '.1f')}; random {res['ref_min_score']:.3f} "
               f"= 0, expert {res['ref_max_score']:.3f} = 100")
