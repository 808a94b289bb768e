"""Train an offline learner on a dataset over vmapped seeds, evaluate it online on the dataset's env, and
score it ``100 · (R - random) / (expert - random)`` (``loader.normalised_score``), as NeoRL-2's protocol
(3 seeds, the last policy evaluated online; Gao et al. 2025 ``benchmark/``)."""

from __future__ import annotations

import time
from typing import Callable

import jax
import numpy as np

from realax import options
from realax.agents import bc, cql, iql, td3bc
from realax.agents.evaluate import evaluate
from realax.agents.offline_nets import action_kind
from realax.errors import RealaxError
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


_MOST_PER_CHUNK = 1000


def make_config(algo: str, overrides: dict):
    """The config of ``algo`` with ``overrides`` (text from ``--set`` or Python values), each typed from the
    config's annotations (``options.coerce_all``: unknown fields, fractions for integers and non-booleans are
    refused, naming the field); the config checks its own ranges (``OfflineConfig.__post_init__``)."""
    if algo not in OFFLINE_ALGOS:
        raise RealaxError(f"unknown offline algorithm {algo!r}; available: {sorted(OFFLINE_ALGOS)}")
    cls = OFFLINE_ALGOS[algo][0]
    return cls(**options.coerce_all(dict(overrides), options.config_hints(cls), cls.__name__, "field"))


def chunk_for(updates: int) -> int:
    """Updates per chunk so that whole chunks make exactly ``updates``: the largest divisor of ``updates`` up
    to 1000 (0 when every such divisor is below 100, i.e. more than ten times the chunks needed: the caller
    rounds up to whole chunks of 1000 and says so)."""
    if updates <= _MOST_PER_CHUNK:
        return updates
    best = max(d for d in range(1, _MOST_PER_CHUNK + 1) if updates % d == 0)
    return best if best >= 100 else 0


def plan_updates(updates: int | None, overrides: dict) -> dict:
    """``overrides`` with ``--steps N`` as ``num_updates`` and an ``updates_per_chunk`` that divides it, so the
    run does exactly N gradient steps (``rounding_note`` says what runs when that cannot be: a given
    ``updates_per_chunk`` that does not divide N, or an N with no divisor in 100..1000)."""
    overrides = dict(overrides)
    if updates is None:
        return overrides
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
        raise RealaxError(f"steps (gradient steps per seed) must be a whole number >= 1, got {updates!r}")
    if "num_updates" in overrides:
        raise RealaxError("give the number of gradient steps once: --steps or --set num_updates=..., not both")
    overrides["num_updates"] = updates
    if "updates_per_chunk" not in overrides:
        overrides["updates_per_chunk"] = chunk_for(updates) or _MOST_PER_CHUNK
    return overrides


def rounding_note(config) -> str | None:
    """What the run does when it is not ``num_updates`` (``total_updates`` rounds up to whole chunks)."""
    if config.total_updates == config.num_updates:
        return None
    return (f"{config.num_updates} gradient steps are not a whole number of chunks of {config.updates_per_chunk}: "
            f"running {config.total_updates} ({config.num_chunks} chunks)")


def train(algo: str, path, seeds: int = 3, updates: int | None = None, overrides: dict | None = None,
          episodes: int = 100, seed: int = 0, data=None, progress: bool = False, check: bool = True) -> dict:
    """Train ``algo`` on the dataset folder ``path`` (or on ``data = (transitions, metadata)``) over
    ``seeds`` vmapped seeds; evaluate each seed's final policy for ``episodes`` episodes on the dataset's env.
    ``updates`` (``--steps``) gradient steps are run exactly where whole chunks allow, else ``note`` says what
    runs; ``check``: refuse a dataset that fails ``minari_io.verify``.

    Returns per-seed mean returns and normalised scores, their mean and std over seeds, the behaviour
    (dataset) score and the wall time. Scores are None, with ``warning`` set, when the dataset's reference
    returns are not ordered (expert not above random): the raw returns are what is reported then.
    """
    for name, value in (("seeds", seeds), ("episodes", episodes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RealaxError(f"{name} must be a whole number >= 1, got {value!r}")
    overrides = plan_updates(updates, overrides or {})
    config = make_config(algo, overrides)  # unknown algorithm or field: fail before reading the data
    note = rounding_note(config)
    transitions, meta = data if data is not None else loader.load(path, check=check)
    env, params = loader.env_of(meta)
    kind = action_kind(env.action_space(params))
    if kind not in OFFLINE_ALGOS[algo][2]:
        raise RealaxError(f"{algo} trains {'/'.join(OFFLINE_ALGOS[algo][2])} actions; {path or 'the dataset'} has "
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
    behaviour = meta.get("behaviour_return")
    behaviour_score = loader.normalised_score(behaviour, meta) if behaviour is not None else None
    out = {"algo": algo, "dataset": str(path) if path is not None else None, "env_id": meta["env_id"],
           "seeds": int(seeds), "num_updates": config.total_updates, "episodes": int(episodes),
           "return_per_seed": per_seed.tolist(),
           "score_per_seed": None if scores is None else scores.tolist(),
           "score_mean": None if scores is None else float(scores.mean()),
           "score_std": None if scores is None else float(scores.std()),
           "return_mean": float(per_seed.mean()), "return_std": float(per_seed.std()),
           "behaviour_return": behaviour,
           "behaviour_score": None if behaviour_score is None else float(behaviour_score),
           "ref_min_score": meta["ref_min_score"], "ref_max_score": meta["ref_max_score"],
           "expert_policy": meta.get("expert_policy"),
           "final_metrics": last, "train_seconds": train_s, "wall_seconds": time.perf_counter() - t0}
    warning = loader.reference_warning(meta)
    if warning is not None:
        out["warning"] = warning
    if note is not None:
        out["note"] = note
    return out
