"""Training runs as the ``realax`` command drives them: train over vmapped seeds with a progress bar,
evaluate beside the baselines, save the agent and a learning curve, and load saved agents back."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from realax import baselines, files, options
from realax.agents import dqn, ippo, mappo, ppo, qlearning
from realax.agents.evaluate import evaluate_episodes
from realax.core import MultiAgentEnv
from realax.errors import RealaxError

#: algorithm name -> (config class, make_train)
ALGOS: dict[str, tuple[type, Callable]] = {
    "ppo": (ppo.PPOConfig, ppo.make_train),
    "qlearning": (qlearning.QConfig, qlearning.make_train),
    "dqn": (dqn.DQNConfig, dqn.make_train),
    "ippo": (ippo.IPPOConfig, ippo.make_train),
    "mappo": (mappo.MAPPOConfig, mappo.make_train),
}


def is_multi_agent_algo(algo: str) -> bool:
    """Whether ``algo`` trains ``MultiAgentEnv`` (its config class declares ``MULTI_AGENT = True``)."""
    return bool(getattr(ALGOS[algo][0], "MULTI_AGENT", False))


def check_algo_env(algo: str, env) -> None:
    """``ValueError`` unless ``algo`` and ``env`` agree on being single- or multi-agent."""
    if algo not in ALGOS:
        raise RealaxError(f"unknown algorithm {algo!r}; available: {sorted(ALGOS)}")
    multi_algo, multi_env = is_multi_agent_algo(algo), isinstance(env, MultiAgentEnv)
    kind = lambda multi: [a for a in sorted(ALGOS) if is_multi_agent_algo(a) == multi]
    if multi_env and not multi_algo:
        raise RealaxError(f"{algo} trains single-agent environments; {type(env).__name__} is multi-agent "
                         f"(use one of {kind(True)})")
    if multi_algo and not multi_env:
        raise RealaxError(f"{algo} trains multi-agent environments; {type(env).__name__} is single-agent "
                         f"(use one of {kind(False)})")


class Interrupted(Exception):
    """Ctrl-C during training: how far the run got (nothing of it is saved; checkpoints are issue 10's)."""

    def __init__(self, chunks_done: int, chunks: int, env_steps: int):
        self.chunks_done, self.chunks, self.env_steps = chunks_done, chunks, env_steps
        super().__init__(f"interrupted after {chunks_done} of {chunks} chunks ({env_steps:,} env steps per seed)")


@dataclasses.dataclass
class Result:
    algo: str
    config: Any
    env: Any
    params: Any
    trainer: Any
    carry: Any  # final carry, leading seed axis
    curve_steps: np.ndarray  # [updates]
    curve_returns: np.ndarray  # [seeds, updates]
    agent_returns: np.ndarray  # [seeds, episodes]
    baseline_returns: dict[str, np.ndarray]
    wall_seconds: float
    agent_wins: np.ndarray | None = None  # [seeds, episodes], for envs reporting info["won"]
    baseline_wins: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    seed: int = 0  # the base seed of the run (seed i is jax.random.split(key(seed), num_seeds)[i])
    episodes: int = 0  # evaluation episodes per seed and per baseline


def make_config(algo: str, overrides: dict):
    """The config of ``algo`` with ``overrides`` (text from ``--set`` or saved values), typed by the config's
    annotations (``realax.options``). A run shorter than one chunk gets chunks of exactly its updates (unless
    ``updates_per_chunk`` is given), so a small budget is not rounded up to a whole default chunk."""
    if algo not in ALGOS:
        raise RealaxError(f"unknown algorithm {algo!r}; available: {sorted(ALGOS)}")
    cls = ALGOS[algo][0]
    config = cls(**options.coerce_all(overrides, options.config_hints(cls), cls.__name__, what="field"))
    if "updates_per_chunk" not in overrides and config.num_updates < config.updates_per_chunk:
        config = dataclasses.replace(config, updates_per_chunk=config.num_updates)
    return config


def env_steps_run(config) -> int:
    """Environment steps per seed a run of ``config`` makes: whole chunks of whole updates."""
    return config.num_chunks * config.updates_per_chunk * config.env_steps_per_update


def budget_note(config) -> str | None:
    """What a run will make when that differs from ``total_timesteps`` (updates and chunks are whole)."""
    run = env_steps_run(config)
    if run == config.total_timesteps:
        return None
    return (f"note: {config.total_timesteps:,} env steps per seed asked; the run makes {run:,} "
            f"({config.num_chunks} chunks × {config.updates_per_chunk} updates × {config.env_steps_per_update:,} "
            f"env steps per update)")


def evaluate_policy(env, params, policy, key, episodes: int) -> dict[str, jax.Array]:
    """``{"return": [episodes]}`` (summed over agents for multi-agent envs), plus ``"won"`` where the env
    reports wins."""
    out = evaluate_episodes(env, params, policy, key, episodes)
    return {**out, "return": out["return"].reshape(episodes, -1).sum(-1)}


def run(algo: str, env, params, overrides: dict, seed: int = 0, episodes: int = 100, progress: bool = True) -> Result:
    check_algo_env(algo, env)
    config = make_config(algo, overrides)
    trainer = ALGOS[algo][1](config, env, params)
    keys = jax.random.split(jax.random.key(seed), config.num_seeds)
    t0 = time.perf_counter()
    carry = jax.jit(jax.vmap(trainer.init))(keys)
    step = jax.jit(jax.vmap(trainer.step))
    chunks = []
    from tqdm import tqdm

    bar = tqdm(range(trainer.num_chunks), desc=f"{algo} {type(env).__name__}", unit="chunk", disable=not progress)
    try:
        for _ in bar:
            carry, m = step(carry)
            m = jax.device_get(m)
            chunks.append(m)
            ret = np.nanmean(m["return"][:, -1]) if np.any(np.isfinite(m["return"][:, -1])) else float("nan")
            post = {"steps": int(m["env_steps"][0, -1]), "ret": f"{ret:.1f}"}
            if "win_rate" in m:
                post["win"] = f"{np.nanmean(m['win_rate'][:, -1]):.2f}"
            bar.set_postfix(**post)
    except KeyboardInterrupt:
        bar.close()
        raise Interrupted(len(chunks), trainer.num_chunks, int(chunks[-1]["env_steps"][0, -1]) if chunks else 0) from None
    wall = time.perf_counter() - t0
    metrics = {k: np.concatenate([c[k] for c in chunks], axis=1) for k in chunks[0]}
    k_eval = jax.random.split(jax.random.key(seed + 10_000), config.num_seeds)
    agent = jax.jit(jax.vmap(lambda c, k: evaluate_policy(env, params, trainer.policy(c), k, episodes)))(carry, k_eval)
    base = {name: jax.jit(lambda k, n=name: evaluate_policy(env, params, baselines.get(n, env, params), k,
                                                            episodes * config.num_seeds))(k_eval[0])
            for name in baselines.fast_names(env)}
    return Result(algo, config, env, params, trainer, carry, metrics["env_steps"][0], metrics["return"],
                  np.asarray(agent["return"]), {n: np.asarray(b["return"]) for n, b in base.items()}, wall,
                  np.asarray(agent["won"]) if "won" in agent else None,
                  {n: np.asarray(b["won"]) for n, b in base.items() if "won" in b}, seed, episodes)


def format_table(r: Result) -> str:
    seeds = r.agent_returns.mean(-1)
    win = lambda w: "" if w is None else f"  win rate {w.mean():.3f}"  # noqa: E731
    lines = [f"{'policy':<18s} {'return (mean ± std)':>22s}",
             f"{r.algo + ' (greedy)':<18s} {seeds.mean():>12.2f} ± {seeds.std():<7.2f}  over {len(seeds)} seeds "
             f"× {r.agent_returns.shape[1]} episodes; {int(r.curve_steps[-1])} env steps/seed in "
             f"{r.wall_seconds:.0f} s{win(r.agent_wins)}"]
    for name, ret in r.baseline_returns.items():
        lines.append(f"{name:<18s} {ret.mean():>12.2f} ± {ret.std():<7.2f}  over {len(ret)} episodes"
                     f"{win(r.baseline_wins.get(name))}")
    return "\n".join(lines)


def _leaves(tree):
    return [np.asarray(jax.random.key_data(x)) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else np.asarray(x)
            for x in jax.tree.leaves(tree)]


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run written by ``save`` (its ``meta.json`` names an algorithm and an env)."""
    try:
        meta = json.loads((Path(path) / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "algo" in meta and "env_id" in meta


def run_folder(out: Path | None, default: Path, overwrite: bool = False) -> tuple[Path, str | None]:
    """``(folder, note)``: where a run will be saved. An explicit ``out`` that exists is refused unless
    ``overwrite`` (and then only a run folder is replaced); without ``out``, ``default`` or, when that exists,
    the first free ``default-2``, ``default-3``, ... (the note says so). Checked before training, so nothing is
    spent on a run that could not be saved; ``save`` checks again at the end."""
    if out is not None:
        out = Path(out)
        if out.exists() or out.is_symlink():
            if not overwrite:
                raise RealaxError(f"{out} exists; pass --overwrite to replace it (only a realax run folder is "
                                  f"replaced), or choose another --out")
            files.check_replaceable(out, is_run_folder, "realax run")
        return out, None
    default = Path(default)
    if not default.exists():
        return default, None
    n = 2
    while (free := default.with_name(f"{default.name}-{n}")).exists():
        n += 1
    return free, f"note: {default} exists; saving this run to {free}"


def save(r: Result, out: Path, env_id: str, env_kwargs: dict, *, overwrite: bool = False,
         record: dict | None = None) -> dict[str, Path]:
    """Write ``agent.npz`` (best seed's carry), ``meta.json``, ``curve.png`` and ``metrics.json`` to a staging
    folder next to ``out``, then rename it into place (``files.publish``: an existing ``out`` only with
    ``overwrite``, and only a run folder). ``meta.json`` holds every env option (defaults included), the full
    config, the seed and ``record`` (e.g. the command line)."""
    from realax.registry import options_of

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        best = int(np.argmax(r.agent_returns.mean(-1)))
        leaves = _leaves(jax.tree.map(lambda x: x[best], r.carry))
        files.write_atomic(stage / "agent.npz", lambda p: np.savez(open(p, "wb"), *leaves))
        meta = {"algo": r.algo, "env_id": env_id, "env_kwargs": env_kwargs,
                "env_options": {**options_of(env_id), **env_kwargs}, "config": dataclasses.asdict(r.config),
                "seed": r.seed, "num_seeds": r.config.num_seeds, "episodes": r.episodes, "seed_index": best,
                "realax_version": _version(), **(record or {})}
        files.write_atomic(stage / "meta.json", lambda p: Path(p).write_text(json.dumps(_plain(meta), indent=2, default=str)))
        summary = {"agent_mean": float(r.agent_returns.mean()), "agent_seed_means": r.agent_returns.mean(-1).tolist(),
                   "baselines": {k: float(v.mean()) for k, v in r.baseline_returns.items()},
                   "agent_win_rate": None if r.agent_wins is None else float(r.agent_wins.mean()),
                   "agent_seed_win_rates": None if r.agent_wins is None else r.agent_wins.mean(-1).tolist(),
                   "baseline_win_rates": {k: float(v.mean()) for k, v in r.baseline_wins.items()},
                   "env_steps_per_seed": int(r.curve_steps[-1]), "wall_seconds": r.wall_seconds}
        files.write_atomic(stage / "metrics.json", lambda p: Path(p).write_text(json.dumps(summary, indent=2)))
        _plot(r, stage / "curve.png", f"{r.algo} on {env_id} {env_kwargs}")
        files.publish(stage, out, overwrite, is_run_folder, "realax run")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {"agent": out, "curve": out / "curve.png"}


def _version() -> str:
    import realax

    return realax.__version__


def _plain(value):
    """JSON-ready: paths as strings, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _plot(r: Result, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    x = r.curve_steps
    y = r.curve_returns
    seen = np.isfinite(y).any(0)  # NaN until the first episode of a run has finished
    x, y = x[seen], y[:, seen]
    mean, lo, hi = np.nanmean(y, 0), np.nanmin(y, 0), np.nanmax(y, 0)
    ax.plot(x, mean, label=f"{r.algo} (mean of {y.shape[0]} seeds)")
    ax.fill_between(x, lo, hi, alpha=0.25)
    for name, ret in r.baseline_returns.items():
        ax.axhline(ret.mean(), ls="--", lw=1, color="grey" if name == "random" else "C3", label=name)
    ax.set_xlabel("environment steps per seed")
    ax.set_ylabel("episode return")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def kwargs_clash(trained: dict, given: dict) -> dict:
    """The ``given`` env options that contradict those an agent was ``trained`` with (one file named by two
    paths is no contradiction)."""

    def same(a, b) -> bool:
        if a == b:
            return True
        files = isinstance(a, str) and isinstance(b, str) and os.path.isfile(a) and os.path.isfile(b)
        return files and os.path.samefile(a, b)

    return {k: v for k, v in given.items() if k in trained and not same(trained[k], v)}


def agent_meta(folder: Path | str) -> dict:
    """The ``meta.json`` of a saved agent, or a ``RealaxError`` saying why ``folder`` is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RealaxError(f"{folder}: no such folder (a saved agent is a folder written by `realax train`)")
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        raise RealaxError(f"{folder} is not a saved agent: it has no meta.json (use a folder written by "
                          f"`realax train`)") from None
    except (OSError, ValueError) as e:
        raise RealaxError(f"{folder}/meta.json is damaged ({type(e).__name__}: {e})") from None
    missing = [k for k in ("algo", "env_id", "env_kwargs", "config") if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise RealaxError(f"{folder}/meta.json lacks {missing}: not an agent written by `realax train`")
    return meta


def load_policy(folder: Path | str, env, params):
    """The greedy policy of an agent saved by ``save``; a ``RealaxError`` names any reason it cannot be loaded
    (missing or damaged files, another algorithm's or environment's arrays, shapes that do not fit ``env``)."""
    folder = Path(folder)
    meta = agent_meta(folder)
    config = make_config(meta["algo"], meta["config"])
    trainer = ALGOS[meta["algo"]][1](config, env, params)
    template = jax.eval_shape(trainer.init, jax.random.key(0))
    try:
        with np.load(folder / "agent.npz") as f:
            arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
    except FileNotFoundError:
        raise RealaxError(f"{folder} has no agent.npz (an interrupted or partial copy of a run?)") from None
    except Exception as e:  # noqa: BLE001 - zipfile, zlib, pickle and format errors all mean a damaged file
        raise RealaxError(f"{folder}/agent.npz is damaged ({type(e).__name__}: {e})") from None
    flat, tree = jax.tree.flatten(template)
    if len(flat) != len(arrays):
        raise RealaxError(f"{folder}/agent.npz holds {len(arrays)} arrays; {meta['algo']} on this environment has "
                          f"{len(flat)}: the file does not belong to this agent")
    for i, (t, a) in enumerate(zip(flat, arrays, strict=True)):
        want = t.shape + ((2,) if jnp.issubdtype(t.dtype, jax.dtypes.prng_key) else ())
        if a.shape != want:
            raise RealaxError(f"agent {folder} does not fit this environment: array {i} has shape {a.shape}, the "
                              f"environment needs {want}; it was trained with {meta['env_kwargs']} (run it with "
                              f"those options)")
    leaves = [jax.random.wrap_key_data(a) if jnp.issubdtype(t.dtype, jax.dtypes.prng_key) else jnp.asarray(a, t.dtype)
              for t, a in zip(flat, arrays, strict=True)]
    return trainer.policy(jax.tree.unflatten(tree, leaves))

