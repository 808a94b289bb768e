"""Training runs as the ``realax`` command drives them: train over vmapped seeds with a progress bar,
evaluate beside the baselines, save the agent and a learning curve, and load saved agents back."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from realax import baselines
from realax.agents import dqn, ippo, mappo, ppo, qlearning
from realax.agents.evaluate import evaluate_episodes
from realax.core import MultiAgentEnv

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
        raise ValueError(f"unknown algorithm {algo!r}; available: {sorted(ALGOS)}")
    multi_algo, multi_env = is_multi_agent_algo(algo), isinstance(env, MultiAgentEnv)
    kind = lambda multi: [a for a in sorted(ALGOS) if is_multi_agent_algo(a) == multi]
    if multi_env and not multi_algo:
        raise ValueError(f"{algo} trains single-agent environments; {type(env).__name__} is multi-agent "
                         f"(use one of {kind(True)})")
    if multi_algo and not multi_env:
        raise ValueError(f"{algo} trains multi-agent environments; {type(env).__name__} is single-agent "
                         f"(use one of {kind(False)})")


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


def make_config(algo: str, overrides: dict):
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; available: {sorted(ALGOS)}")
    cls = ALGOS[algo][0]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k in overrides:
        if k not in fields:
            raise ValueError(f"{cls.__name__} has no field {k!r}; fields: {sorted(fields)}")
    return cls(**{k: _convert(k, v, type(getattr(cls(), k))) for k, v in overrides.items()})


_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _convert(name: str, value, kind: type):
    """A config value from the command line (a string) or from a saved config (its own type)."""
    if kind is bool and isinstance(value, str):
        if value.lower() not in _BOOLS:
            raise ValueError(f"{name} takes true or false, got {value!r}")
        return _BOOLS[value.lower()]
    return kind(value)


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
    for _ in bar:
        carry, m = step(carry)
        m = jax.device_get(m)
        chunks.append(m)
        ret = np.nanmean(m["return"][:, -1]) if np.any(np.isfinite(m["return"][:, -1])) else float("nan")
        post = {"steps": int(m["env_steps"][0, -1]), "ret": f"{ret:.1f}"}
        if "win_rate" in m:
            post["win"] = f"{np.nanmean(m['win_rate'][:, -1]):.2f}"
        bar.set_postfix(**post)
    wall = time.perf_counter() - t0
    metrics = {k: np.concatenate([c[k] for c in chunks], axis=1) for k in chunks[0]}
    k_eval = jax.random.split(jax.random.key(seed + 10_000), config.num_seeds)
    agent = jax.jit(jax.vmap(lambda c, k: evaluate_policy(env, params, trainer.policy(c), k, episodes)))(carry, k_eval)
    base = {name: jax.jit(lambda k, n=name: evaluate_policy(env, params, baselines.get(n, env, params), k,
                                                            episodes * config.num_seeds))(k_eval[0])
            for name in baselines.names(env) if name not in baselines.SLOW}
    return Result(algo, config, env, params, trainer, carry, metrics["env_steps"][0], metrics["return"],
                  np.asarray(agent["return"]), {n: np.asarray(b["return"]) for n, b in base.items()}, wall,
                  np.asarray(agent["won"]) if "won" in agent else None,
                  {n: np.asarray(b["won"]) for n, b in base.items() if "won" in b})


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


def _write_atomic(path: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save(r: Result, out: Path, env_id: str, env_kwargs: dict) -> dict[str, Path]:
    """Write ``agent.npz`` (best seed's carry), ``meta.json``, ``curve.png`` and ``metrics.json`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    best = int(np.argmax(r.agent_returns.mean(-1)))
    carry = jax.tree.map(lambda x: x[best], r.carry)
    leaves = _leaves(carry)
    _write_atomic(out / "agent.npz", lambda p: np.savez(open(p, "wb"), *leaves))
    meta = {"algo": r.algo, "env_id": env_id, "env_kwargs": env_kwargs, "config": dataclasses.asdict(r.config),
            "seed_index": best}
    _write_atomic(out / "meta.json", lambda p: Path(p).write_text(json.dumps(meta, indent=2)))
    summary = {"agent_mean": float(r.agent_returns.mean()), "agent_seed_means": r.agent_returns.mean(-1).tolist(),
               "baselines": {k: float(v.mean()) for k, v in r.baseline_returns.items()},
               "agent_win_rate": None if r.agent_wins is None else float(r.agent_wins.mean()),
               "agent_seed_win_rates": None if r.agent_wins is None else r.agent_wins.mean(-1).tolist(),
               "baseline_win_rates": {k: float(v.mean()) for k, v in r.baseline_wins.items()},
               "env_steps_per_seed": int(r.curve_steps[-1]), "wall_seconds": r.wall_seconds}
    _write_atomic(out / "metrics.json", lambda p: Path(p).write_text(json.dumps(summary, indent=2)))
    curve = out / "curve.png"
    _plot(r, curve, f"{r.algo} on {env_id} {env_kwargs}")
    return {"agent": out, "curve": curve}


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


def load_policy(folder: Path, env, params):
    """The greedy policy of an agent saved by ``save``."""
    meta = json.loads((folder / "meta.json").read_text())
    config = make_config(meta["algo"], meta["config"])
    trainer = ALGOS[meta["algo"]][1](config, env, params)
    template = jax.eval_shape(trainer.init, jax.random.key(0))
    with np.load(folder / "agent.npz") as f:
        arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
    flat, tree = jax.tree.flatten(template)
    if len(flat) != len(arrays):
        raise ValueError(f"{folder} does not match {meta['algo']} on this environment")
    leaves = [jax.random.wrap_key_data(a) if jnp.issubdtype(t.dtype, jax.dtypes.prng_key) else jnp.asarray(a)
              for t, a in zip(flat, arrays, strict=True)]
    return trainer.policy(jax.tree.unflatten(tree, leaves))
