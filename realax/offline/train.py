"""Train an offline learner on a dataset over vmapped seeds, evaluate it online on the dataset's env, and
score it ``100 · (R - random) / (expert - random)`` (``loader.normalised_score``), as NeoRL-2's protocol
(3 seeds, the last policy evaluated online; Gao et al. 2025 ``benchmark/``)."""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import jax
import numpy as np

from realax.agents import bc, cql, iql, td3bc
from realax.agents.evaluate import evaluate
from realax.agents.offline_nets import action_kind
from realax.offline import loader

#: name -> (config class, make_train(config, data, env, params), action kinds it trains)
OFFLINE_ALGOS: dict[str, tuple[type, Callable, tuple[str, ...]]] = {
    "bc": (bc.BCConfig, bc.make_train, ("discrete", "box", "simplex")),
    "cql": (cql.CQLConfig, cql.make_train, ("discrete",)),
    "td3bc": (td3bc.TD3BCConfig, td3bc.make_train, ("box", "simplex")),
    "iql": (iql.IQLConfig, iql.make_train, ("box", "simplex")),
}


def applicable(kind: str) -> list[str]:
    """The offline algorithms that train on datasets with this action kind."""
    return [a for a, (_, _, kinds) in OFFLINE_ALGOS.items() if kind in kinds]


def make_config(algo: str, overrides: dict):
    if algo not in OFFLINE_ALGOS:
        raise ValueError(f"unknown offline algorithm {algo!r}; available: {sorted(OFFLINE_ALGOS)}")
    from realax.experiment import _convert

    cls = OFFLINE_ALGOS[algo][0]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {unknown[0]!r}; fields: {sorted(fields)}")
    defaults = cls()
    return cls(**{k: _convert(k, v, type(getattr(defaults, k))) for k, v in overrides.items()})


def train(algo: str, path, seeds: int = 3, updates: int | None = None, overrides: dict | None = None,
          episodes: int = 100, seed: int = 0, data=None, progress: bool = False) -> dict:
    """Train ``algo`` on the dataset folder ``path`` (or on ``data = (transitions, metadata)``) over
    ``seeds`` vmapped seeds; evaluate each seed's final policy for ``episodes`` episodes on the dataset's env.

    Returns per-seed mean returns and normalised scores, their mean and std over seeds, the behaviour
    (dataset) score and the wall time.
    """
    overrides = dict(overrides or {})
    if updates is not None:
        overrides["num_updates"] = int(updates)
        overrides.setdefault("updates_per_chunk", min(int(updates), 1000))  # so --steps N runs N updates
    if int(seeds) < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    config = make_config(algo, overrides)  # unknown algorithm or field: fail before reading the data
    transitions, meta = data if data is not None else loader.load(path)
    env, params = loader.env_of(meta)
    kind = action_kind(env.action_space(params))
    if kind not in OFFLINE_ALGOS[algo][2]:
        raise ValueError(f"{algo} trains {'/'.join(OFFLINE_ALGOS[algo][2])} actions; {path or 'the dataset'} has "
                         f"{kind} actions ({env.action_space(params)}); use one of {applicable(kind)}")
    trainer = OFFLINE_ALGOS[algo][1](config, transitions, env, params)
    t0 = time.perf_counter()
    carry = jax.jit(jax.vmap(trainer.init))(jax.random.split(jax.random.key(seed), seeds))
    step = jax.jit(jax.vmap(trainer.step))
    from tqdm import tqdm

    last = {}
    for _ in tqdm(range(trainer.num_chunks), desc=f"{algo}", unit="chunk", disable=not progress):
        carry, m = step(carry)
        last = {k: float(np.mean(v[:, -1])) for k, v in jax.device_get(m).items()}
    train_s = time.perf_counter() - t0
    keys = jax.random.split(jax.random.key(seed + 10_000), seeds)
    returns = jax.jit(jax.vmap(lambda c, k: evaluate(env, params, trainer.policy(c), k, episodes)))(carry, keys)
    per_seed = np.asarray(returns, np.float64).reshape(seeds, episodes, -1).sum(-1).mean(-1)
    scores = loader.normalised_score(per_seed, meta)
    return {"algo": algo, "dataset": str(path) if path is not None else None, "env_id": meta["env_id"],
            "seeds": int(seeds), "num_updates": config.total_updates, "episodes": int(episodes),
            "return_per_seed": per_seed.tolist(), "score_per_seed": scores.tolist(),
            "score_mean": float(scores.mean()), "score_std": float(scores.std()),
            "return_mean": float(per_seed.mean()),
            "behaviour_return": meta.get("behaviour_return"),
            "behaviour_score": float(loader.normalised_score(meta["behaviour_return"], meta))
            if meta.get("behaviour_return") is not None else None,
            "ref_min_score": meta["ref_min_score"], "ref_max_score": meta["ref_max_score"],
            "final_metrics": last, "train_seconds": train_s, "wall_seconds": time.perf_counter() - t0}
