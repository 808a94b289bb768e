"""The ``realax`` command: list, train, eval, bench, render."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Optional

import typer

from realax.offline.cli import app as data_app

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="realax: JAX-native RL environments for real-world operations problems.")
app.add_typer(data_app, name="data")

_ENV_OPTS = "Environment"
ScenarioOpt = typer.Option(None, "--scenario", help="Built-in scenario name or path to a scenario file.",
                           rich_help_panel=_ENV_OPTS)
EnvArgOpt = typer.Option(None, "--env-arg", "-e", help="Any constructor argument, KEY=VALUE (repeatable), "
                         "e.g. -e history=1.", rich_help_panel=_ENV_OPTS)


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _pairs(items: list[str] | None, what: str) -> dict:
    out = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {item!r} must look like KEY=VALUE")
        out[key.replace("-", "_")] = _value(val)
    return out


def _env_kwargs(scenario: str | None, env_arg: list[str] | None) -> dict:
    kw = _pairs(env_arg, "--env-arg")
    if scenario is not None:
        kw["scenario"] = scenario
    return kw


def _make(env_id: str, kwargs: dict):
    import realax

    try:
        return realax.make(env_id, **kwargs)
    except (ValueError, TypeError) as e:
        raise typer.BadParameter(str(e)) from None


def _env_and_policy(env_id: str, policy: str, kwargs: dict):
    """``(env, params, policy_fn)`` for a baseline name or a folder written by ``realax train``."""
    from realax import baselines, experiment

    if not os.path.isdir(policy):
        env, params = _make(env_id, kwargs)
        try:
            return env, params, baselines.get(policy, env, params)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    meta = json.loads((Path(policy) / "meta.json").read_text())
    if meta["env_id"] != env_id:
        raise typer.BadParameter(f"agent {policy} was trained on {meta['env_id']}, not {env_id}")
    clash = experiment.kwargs_clash(meta["env_kwargs"], kwargs)
    if clash:
        raise typer.BadParameter(f"agent {policy} was trained with {meta['env_kwargs']}; it cannot run with {clash}")
    env, params = _make(env_id, {**meta["env_kwargs"], **kwargs})
    try:
        return env, params, experiment.load_policy(Path(policy), env, params)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def _tag(env_id: str, kwargs: dict) -> str:
    name = env_id.split("/")[-1]
    extra = "_".join(f"{Path(str(v)).stem}" if k == "scenario" else f"{k}{v}" for k, v in sorted(kwargs.items()))
    return f"{name}_{extra}" if extra else name


@app.command("list")
def list_cmd():
    """Registered environment ids with their spaces and a one-line description."""
    import realax

    for env_id in realax.list_envs():
        spec = realax.spec(env_id)
        env, params = realax.make(env_id)
        agents = f", {env.num_agents} agents" if spec.multi_agent else ""
        typer.echo(f"{env_id:24s} obs {env.observation_space(params)}  act {env.action_space(params)}{agents}")
        typer.echo(f"{'':24s} {spec.description}")


#: kept in step with ``realax.experiment.ALGOS`` by tests/test_cli.py (the CLI does not import it at start-up)
ALGO_HELP = ("Algorithm: ppo, qlearning, dqn (single-agent; dqn --set dataset=DIR for the hybrid offline+online "
             "recipe); ippo, mappo (multi-agent; --set recurrent=true for a GRU actor)")


@app.command()
def train(
    algo: str = typer.Argument(..., help=ALGO_HELP),
    env_id: str = typer.Argument(..., help="Environment id, e.g. realax/Spectrum-v0"),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    total_timesteps: Optional[int] = typer.Option(None, help="Environment steps per seed."),
    num_seeds: int = typer.Option(3, help="Independent seeds, trained in one vmapped run."),
    seed: int = typer.Option(0, help="Base random seed."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any config field, KEY=VALUE (repeatable)."),
    episodes: int = typer.Option(100, help="Evaluation episodes per seed and per baseline."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default runs/ALGO_ENV)."),
):
    """Train an agent with a progress bar; print its evaluation beside the baselines; save a curve."""
    from realax import experiment as tr

    kwargs = _env_kwargs(scenario, env_arg)
    env, params = _make(env_id, kwargs)
    overrides = _pairs(set_, "--set")
    if total_timesteps is not None:
        overrides["total_timesteps"] = total_timesteps
    overrides["num_seeds"] = num_seeds
    try:
        result = tr.run(algo, env, params, overrides, seed=seed, episodes=episodes, progress=True)
    except (ValueError, TypeError) as e:
        raise typer.BadParameter(str(e)) from None
    out = out or Path("runs") / f"{algo}_{_tag(env_id, kwargs)}"
    paths = tr.save(result, out, env_id, kwargs)
    typer.echo(tr.format_table(result))
    typer.echo(f"learning curve: {paths['curve']}\nagent: {paths['agent']}")


@app.command("eval")
def eval_cmd(
    env_id: str = typer.Argument(...),
    policy: str = typer.Option("random", help="A baseline name or a folder written by `realax train`."),
    episodes: int = typer.Option(100),
    seed: int = typer.Option(0),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    as_json: bool = typer.Option(False, "--json", help="Print {mean, std, episodes} as JSON."),
):
    """Mean and std of the episode return of a baseline or a saved agent."""
    import jax
    import numpy as np

    from realax import experiment as tr

    env, params, fn = _env_and_policy(env_id, policy, _env_kwargs(scenario, env_arg))
    out = jax.device_get(tr.evaluate_policy(env, params, fn, jax.random.key(seed), episodes))
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
def bench(
    env_id: str = typer.Argument(...),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    num_envs: Optional[list[int]] = typer.Option(None, help="Batch sizes (repeatable); default 1, 1024, 16384."),
    num_steps: int = typer.Option(100, help="Steps per rollout."),
):
    """Environment steps per second with random actions and autoreset, compile time apart."""
    from realax.bench import device_name, measure

    env, params = _make(env_id, _env_kwargs(scenario, env_arg))
    agents = getattr(env, "num_agents", None)
    typer.echo(f"{env_id} on {device_name()}")
    for n in num_envs or [1, 1024, 16384]:
        r = measure(env, params, n, num_steps, num_agents=agents)
        typer.echo(f"  N={n:>7d}: {r.steps_per_second / 1e6:9.3f} M steps/s   (compile {r.compile_seconds:.1f} s)")


@app.command()
def render(
    env_id: str = typer.Argument(...),
    out: Path = typer.Option(..., help="Output .gif (or .png for one frame)."),
    policy: str = typer.Option("random", help="A baseline name or a folder written by `realax train`."),
    steps: int = typer.Option(60, help="Frames to draw."),
    seed: int = typer.Option(0),
    scenario: Optional[str] = ScenarioOpt,
    env_arg: Optional[list[str]] = EnvArgOpt,
    fps: int = typer.Option(8),
):
    """Play an episode and write its frames as a GIF."""
    import jax
    import numpy as np
    from PIL import Image

    from realax.agents.evaluate import stateful_actor

    env, params, fn = _env_and_policy(env_id, policy, _env_kwargs(scenario, env_arg))
    memory0, act = stateful_actor(env, params, fn)
    step, act = jax.jit(env.step), jax.jit(act)
    key = jax.random.key(seed)
    obs, state = env.reset(key, params)
    memory, frames = memory0, []
    for _t in range(steps):
        key, k1, k2 = jax.random.split(key, 3)
        action, memory = act(k2, obs, state, memory)
        obs, state, _, terminated, truncated, _ = step(k1, state, action, params)
        if bool(terminated | truncated):
            memory = memory0
        frames.append(Image.fromarray(np.asarray(env.render(state, params))))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".png":
        frames[-1].save(out)
    else:
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    typer.echo(f"wrote {out} ({len(frames)} frames)")


def main() -> None:
    """Entry point of the ``realax`` command."""
    from realax import _xla

    _xla.configure()
    app()


if __name__ == "__main__":
    main()
