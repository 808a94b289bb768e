"""``realax data``: generate, verify, measure and export offline datasets."""

from __future__ import annotations

import ast
import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Offline datasets: generate (vectorised JAX rollouts, Minari format), verify, measure, export.")

_REALISM = "Realism (NeoRL-2)"
_OUT_HELP = ("Dataset folder to create; a Minari id such as spectrum-random-v0 lets minari.load_dataset open it "
             "with MINARI_DATASETS_PATH set to its parent.")
_POLICY_HELP = "random, a baseline name, a folder written by `realax train`, or module:factory."
_LEVEL_HELP = "Probability that an action is the policy's, else uniform random: 1 = the policy, 0 = random."
_FRACTION_HELP = "Instead of --level: the level whose return is this fraction of the way from random to the policy."
_EXPERT_HELP = "Expert reference (default: the policy, or the first non-random baseline when the policy is random)."


def _realism(text: str):
    return typer.Option(help=text, rich_help_panel=_REALISM)


def _env_kwargs(scenario: str | None, env_arg: list[str] | None) -> dict:
    out = {}
    for item in env_arg or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--env-arg {item!r} must look like KEY=VALUE")
        try:
            out[key.replace("-", "_")] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            out[key.replace("-", "_")] = val
    if scenario is not None:
        out["scenario"] = scenario
    return out


@app.command()
def generate(
    env_id: Annotated[str, typer.Argument(help="Environment id, e.g. realax/Spectrum-v0")],
    episodes: Annotated[int, typer.Option(help="Whole episodes to collect (train + validation).")],
    out: Annotated[Path, typer.Option(help=_OUT_HELP)],
    policy: Annotated[str, typer.Option(help=_POLICY_HELP)] = "random",
    level: Annotated[float, typer.Option(help=_LEVEL_HELP)] = 1.0,
    return_fraction: Annotated[float | None, typer.Option(help=_FRACTION_HELP)] = None,
    noise: Annotated[float, typer.Option(help="Gaussian action noise (Box actions), in half-ranges.")] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
    val_fraction: Annotated[float, typer.Option(help="Share of episodes for validation (NeoRL-2: 1/5).")] = 0.2,
    expert: Annotated[str | None, typer.Option(help=_EXPERT_HELP)] = None,
    scenario: Annotated[str | None, typer.Option(help="Built-in scenario name or scenario file.")] = None,
    env_arg: Annotated[list[str] | None, typer.Option("--env-arg", "-e", help="Constructor KEY=VALUE.")] = None,
    action_delay: Annotated[int, _realism("Steps between choosing an action and its effect.")] = 0,
    obs_delay: Annotated[int, _realism("Steps by which observations lag.")] = 0,
    disturbance: Annotated[str | None, _realism("Exogenous AR(1) disturbance: 'action' or 'param:<field>'.")] = None,
    disturbance_rho: Annotated[float, _realism("AR(1) coefficient of the disturbance.")] = 0.95,
    disturbance_sigma: Annotated[float, _realism("Stationary std of the disturbance.")] = 0.3,
    cost_budget: Annotated[float | None, _realism("Safety cost budget per episode (turns the cost on).")] = None,
    cost_threshold: Annotated[float, _realism("Cost 1 for a step with reward below this (env without a cost).")] = 0.0,
    cost_terminate: Annotated[bool, _realism("End the episode when the budget is exceeded.")] = False,
    conservative: Annotated[float | None, _realism("Width of a narrow action distribution around the policy.")] = None,
    num_envs: Annotated[int, typer.Option(help="Most environments stepped side by side.")] = 1024,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset folder.")] = False,
    measure: Annotated[bool, typer.Option(help="Also compute TQ and SACo and store them in the metadata.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
):
    """Collect a dataset with vectorised JAX rollouts and write it in the Minari format (atomically)."""
    from realax.offline.generate import DataSpec, build, calibrate_level, generate_dataset
    from realax.wrappers.realism import RealismConfig

    try:
        realism = RealismConfig(action_delay=action_delay, obs_delay=obs_delay, disturbance=disturbance,
                                disturbance_rho=disturbance_rho, disturbance_sigma=disturbance_sigma,
                                cost_budget=cost_budget, cost_threshold=cost_threshold, cost_terminate=cost_terminate,
                                conservative=conservative)
        spec = DataSpec(env_id, policy=policy, episodes=episodes, seed=seed, level=level, noise=noise,
                        env_kwargs=_env_kwargs(scenario, env_arg), realism=realism, val_fraction=val_fraction,
                        expert=expert)
        if return_fraction is not None:
            spec = spec.resolved()  # calibrate on the env a saved agent was trained on, as collection will
            found = calibrate_level(build(spec), spec, return_fraction)
            typer.echo(f"level {found:.4f} gives {return_fraction:.0%} of the way from random to {policy}")
            spec = dataclasses.replace(spec, level=found)
        t0 = time.perf_counter()
        path, meta = generate_dataset(spec, out, progress=not quiet, overwrite=overwrite, max_envs=num_envs,
                                      measure=measure)
    except (ValueError, TypeError, FileExistsError) as e:
        raise typer.BadParameter(str(e)) from None
    wall = time.perf_counter() - t0
    from realax.offline.minari_io import stale_partials

    for p in stale_partials(out):
        typer.echo(f"note: {p} was left by an interrupted run; delete it when no other write of {out} runs")
    steps = meta["total_steps"]
    typer.echo(f"wrote {path}: {meta['total_episodes']} episodes, {steps} transitions "
               f"(train {meta['split']['train']}, validation {meta['split']['validation']})")
    typer.echo(f"collect {meta['collect_seconds']:.1f} s, write {meta['write_seconds']:.1f} s, total {wall:.1f} s: "
               f"{steps / wall:,.0f} transitions/s")
    typer.echo(f"behaviour return {meta['behaviour_return']:.2f}; ref_min {meta.get('ref_min_score')}, "
               f"ref_max {meta.get('ref_max_score')}")
    if "measures" in meta:
        typer.echo(f"TQ {meta['measures']['tq']:.4f}, SACo {meta['measures']['saco']:.4f} (stored in the metadata)")


@app.command()
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
def measure(
    path: Annotated[Path, typer.Argument(help="Dataset folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the measures as JSON.")] = False,
    reference: Annotated[Path | None, typer.Option(help="Replay dataset to use as SACo's reference.")] = None,
    expert: Annotated[str | None, typer.Option(help="Expert reference policy (default: from the metadata).")] = None,
    edges: Annotated[int, typer.Option(help="Bin edges per continuous dimension.")] = 100,
):
    """TQ and SACo (Schweighofer et al. 2022), the reference datasets generated on demand."""
    from realax.offline.measures import measure as run

    try:
        res = run(path, reference=reference, expert=expert, edges=edges, progress=not as_json)
    except (ValueError, FileNotFoundError) as e:
        raise typer.BadParameter(str(e)) from None
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"{path}: {res['episodes']} episodes, {res['transitions']} transitions")
    typer.echo(f"  TQ   {res['tq']:.4f}  (return {res['return_mean']:.3f}; random {res['random_return']:.3f}, "
               f"expert {res['expert_return']:.3f} [{res['expert_policy']}])")
    typer.echo(f"  SACo {res['saco']:.4f}  ({res['unique_pairs']} unique state-action pairs; reference "
               f"{res['reference_unique_pairs']}: {res['reference']})")
    if "warning" in res:
        typer.echo(f"  note: {res['warning']}")


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="Dataset folder.")],
    out: Annotated[Path, typer.Option(help="Folder for <name>-train.npz and <name>-val.npz.")],
    fmt: Annotated[str, typer.Option("--format", help="d4rl or neorl.")] = "neorl",
):
    """Write the train and validation episodes as D4RL-style or NeoRL-style arrays (.npz)."""
    from realax.offline.minari_io import export as run

    try:
        files = run(path, fmt, out)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    for f in files:
        typer.echo(f"wrote {f}")


_SET_HELP = "Any config field of the algorithm, KEY=VALUE (repeatable), e.g. --set alpha=2.5."


@app.command("train")
def train_cmd(
    algo: Annotated[str, typer.Argument(help="Offline algorithm: bc, cql (discrete actions), td3bc, iql "
                                              "(continuous actions). Hybrid DQN: `realax train dqn --set dataset=DIR`.")],
    path: Annotated[Path, typer.Argument(help="Dataset folder written by `realax data generate`.")],
    seeds: Annotated[int, typer.Option(help="Independent seeds, trained in one vmapped run.")] = 3,
    steps: Annotated[int | None, typer.Option(help="Gradient steps per seed (default: the config's).")] = None,
    episodes: Annotated[int, typer.Option(help="Online evaluation episodes per seed.")] = 100,
    seed: Annotated[int, typer.Option(help="Base random seed.")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
):
    """Train an offline learner on a dataset, evaluate it online on the dataset's env (realism included) and
    print the normalised score 100·(R − random)/(expert − random), mean ± std over seeds."""
    from realax.offline.train import train as run

    overrides = {}
    for item in set_ or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--set {item!r} must look like KEY=VALUE")
        overrides[key.replace("-", "_")] = val
    try:
        res = run(algo, path, seeds=seeds, updates=steps, overrides=overrides, episodes=episodes, seed=seed,
                  progress=not as_json)
    except (ValueError, TypeError, FileNotFoundError) as e:
        raise typer.BadParameter(str(e)) from None
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"{algo} on {path} ({res['env_id']}): {res['num_updates']} updates × {res['seeds']} seeds in "
               f"{res['train_seconds']:.0f} s")
    typer.echo(f"  normalised score {res['score_mean']:.1f} ± {res['score_std']:.1f}  (per seed "
               f"{', '.join(f'{s:.1f}' for s in res['score_per_seed'])}; return {res['return_mean']:.3f} over "
               f"{res['episodes']} episodes each)")
    typer.echo(f"  behaviour (dataset) score {res['behaviour_score']:.1f}; random {res['ref_min_score']:.3f} = 0, "
               f"expert {res['ref_max_score']:.3f} = 100")
