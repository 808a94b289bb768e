"""TQ and SACo, the dataset measures of Schweighofer et al., "A Dataset Perspective on Offline Reinforcement
Learning" (CoLLAs 2022, arXiv:2111.04714; code ``ml-jku/OfflineRL``).

- TQ (trajectory quality, exploitation) = ``(g(D) - g(D_random)) / (g_expert - g(D_random))``, ``g`` the mean
  undiscounted return over the episodes (``source/plotting/create_plots.py``; ``Evaluator.get_normalized_rewards``
  in ``source/offline_ds_evaluation/evaluator.py``).
- SACo (state-action coverage, exploration) = ``u_{s,a}(D) / u_{s,a}(D_ref)``, unique state-action pairs over
  those of the replay dataset of the online run (``create_plots.py``: ``x = result / online_usap``). It can
  exceed 1.
- Discretisation (``evaluator.get_unique_states``): each dimension ``np.digitize(x, np.linspace(min, max,
  num=100))``, limits taken from the replay dataset for continuous states (``ex_01.py``: ``state_limits``).
  Schweighofer et al. count distinct rows with HyperLogLog (1 % error); here they are counted exactly.
  Integer-valued dimensions (all of them in realax's grid/spectrum envs, and discrete actions) are counted
  exactly, as the paper's discrete MiniGrid/MinAtar states are.

References are generated on demand from the dataset's metadata, with its env, realism wrappers, seed and
episode count: ``D_random`` with the random policy and ``g_expert`` with the expert policy (in the paper the
best greedy evaluation of the online agent), both with the dataset's own seed, so a dataset of the random policy
has TQ 0 and one of the expert TQ 1 by construction. The paper's reference for SACo is the replay buffer of the
online DQN that produced the behaviour policy; realax has no such run for every policy, so the default
reference is a *replay proxy*: the expert mixed with random actions at a level rising linearly from 0 to 1
across the parallel streams (an epsilon-greedy schedule decaying from 1 to 0, as DQN's exploration does), of the
dataset's size. A real replay dataset can be given instead (``reference=``).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from realax.errors import RealaxError
from realax.offline import minari_io
from realax.offline.episodes import Episodes
from realax.offline.generate import DataSpec, behaviour_of, build, collect, collect_each

EDGES = 100  # np.linspace(min, max, num=100) per dimension, as Schweighofer et al.'s get_unique_states
REPLAY_PROXY = "replay proxy: expert with random actions, level linear 0 -> 1 over the streams"
#: beyond this many binned (continuous) dimensions nearly every pair is unique and SACo says little
MANY_DIMS = 20


def tq_warning(random_return: float, expert_return: float) -> str | None:
    """Why TQ is undefined for these references (the expert does not beat random), or None."""
    if expert_return > random_return:
        return None
    return (f"TQ is undefined: the expert reference return ({expert_return:.6g}) does not exceed the random "
            f"policy's ({random_return:.6g}); the raw returns are reported instead (give a better expert)")


def tq(returns: np.ndarray, random_return: float, expert_return: float) -> float | None:
    """Trajectory quality of episodes with these returns; None when the references are not ordered (expert
    not above random), where the ratio would be inverted or infinite."""
    if tq_warning(random_return, expert_return) is not None:
        return None
    return float((np.mean(returns) - random_return) / (expert_return - random_return))


def _blocks(obs: np.ndarray, actions: np.ndarray) -> list[np.ndarray]:
    """The state columns and the action columns, ``[N, d]`` each, in their own dtypes."""
    n = len(obs)
    return [obs.reshape(n, -1), actions.reshape(n, -1)]


def fit_binning(obs: np.ndarray, actions: np.ndarray, edges: int = EDGES) -> dict:
    """Binning of the (state, action) columns, limits from these (reference) data: integer-valued columns
    are kept exact, the others digitised over ``np.linspace(low, high, edges)``."""
    exact, low, high = [], [], []
    for block in _blocks(obs, actions):
        is_int = bool(np.issubdtype(block.dtype, np.integer))
        exact += [is_int] * block.shape[1]
        low += [0.0] * block.shape[1] if is_int else block.min(0).astype(float).tolist()
        high += [0.0] * block.shape[1] if is_int else block.max(0).astype(float).tolist()
    return {"method": "per dimension np.digitize(x, np.linspace(low, high, edges)); integer dimensions exact "
                      "(Schweighofer et al. 2022, evaluator.get_unique_states)",
            "edges": int(edges), "exact": exact, "low": low, "high": high}


def discretise(obs: np.ndarray, actions: np.ndarray, binning: dict) -> np.ndarray:
    """``[N, D]`` integers, each (state, action) row in bin indices (exact values for exact columns), in the
    smallest integer dtype that holds them (so a million rows stay small)."""
    blocks = _blocks(obs, actions)
    exact = np.asarray(binning["exact"], bool)
    width = sum(b.shape[1] for b in blocks)
    if width != len(exact):
        raise RealaxError(f"binning has {len(exact)} columns; the data have {width}")
    cols, j = [], 0
    for block in blocks:
        for c in range(block.shape[1]):
            x = block[:, c]
            if exact[j]:
                cols.append(x)
            else:
                cols.append(np.digitize(x, np.linspace(binning["low"][j], binning["high"][j], binning["edges"])))
            j += 1
    lo = min(int(c.min()) for c in cols)
    hi = max(int(c.max()) for c in cols)
    dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64)
                 if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max)
    return np.stack([c.astype(dtype) for c in cols], axis=1)


def unique_pairs(obs: np.ndarray, actions: np.ndarray, binning: dict | None = None) -> int:
    """Number of distinct (state, action) pairs, after ``binning`` (default: fitted on these data)."""
    if len(obs) == 0:
        return 0
    rows = np.ascontiguousarray(discretise(obs, actions, binning or fit_binning(obs, actions)))
    return len(np.unique(rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))))


def saco(data: Episodes, reference: Episodes, edges: int = EDGES) -> tuple[float, dict]:
    """``(SACo, details)``: unique pairs of ``data`` over those of ``reference``, binned on ``reference``'s limits."""
    binning = fit_binning(reference.observations, reference.actions, edges)
    u_data = unique_pairs(data.observations, data.actions, binning)
    u_ref = unique_pairs(reference.observations, reference.actions, binning)
    details = {"unique_pairs": u_data, "reference_unique_pairs": u_ref, "binning": binning}
    binned = len(binning["exact"]) - sum(binning["exact"])
    if binned > MANY_DIMS:
        details["warning"] = (f"{binned} continuous dimensions binned {edges} ways each: almost every pair is "
                              f"unique, so SACo mostly counts transitions")
    return u_data / u_ref, details


def references(spec: DataSpec, expert: str, max_envs: int = 1024, progress: bool = False) -> dict[str, Episodes]:
    """``{"random", "expert", "replay"}`` episodes for a dataset spec (see the module docstring). The random and
    expert references run side by side in one program where both fit in ``max_envs`` (``collect_each``)."""
    setup = build(spec)
    key = jax.random.key(spec.seed)
    rand, exp = (behaviour_of(setup, spec, policy, plain=True) for policy in ("random", expert))
    random_eps, expert_eps = collect_each(setup.env, setup.params, [rand, exp], key, spec.episodes, max_envs=max_envs,
                                          progress=progress, desc=f"references random, expert {expert}")
    replay = collect(setup.env, setup.params, exp, jax.random.key(spec.seed + 2_000_003), spec.episodes,
                     level=(0.0, 1.0), max_envs=max_envs, progress=progress, desc="reference replay proxy")
    return {"random": random_eps, "expert": expert_eps, "replay": replay}


def measure_episodes(data: Episodes, refs: dict[str, Episodes], edges: int = EDGES) -> dict:
    """TQ and SACo of ``data`` against reference episodes (``random``, ``expert``, ``replay``)."""
    g_rand, g_exp = float(refs["random"].returns().mean()), float(refs["expert"].returns().mean())
    value, details = saco(data, refs["replay"], edges)
    out = {"tq": tq(data.returns(), g_rand, g_exp), "saco": value, "return_mean": float(data.returns().mean()),
           "random_return": g_rand, "expert_return": g_exp, "episodes": data.num_episodes,
           "transitions": data.num_steps, **details}
    problem = tq_warning(g_rand, g_exp)
    if problem is not None:
        out["warning"] = problem + (f"; {details['warning']}" if "warning" in details else "")
    return out


def measure(path: Path | str, reference: Path | str | None = None, expert: str | None = None, edges: int = EDGES,
            progress: bool = False, check: bool = True) -> dict:
    """TQ and SACo of the dataset at ``path``, references generated from its metadata (``reference``: a
    dataset folder to use as the SACo reference instead of the replay proxy). ``check``: refuse a dataset
    (and a reference dataset) that fails ``minari_io.verify`` first."""
    if isinstance(edges, bool) or not isinstance(edges, int) or edges < 1:
        raise RealaxError(f"edges must be a whole number >= 1, got {edges!r}")
    if check:
        minari_io.require_intact(path)
        if reference is not None:
            minari_io.require_intact(reference)
    meta = minari_io.metadata(path)
    spec = DataSpec.from_dict(meta["spec"])
    expert = expert or meta.get("expert_policy")
    if expert is None:
        raise RealaxError(f"{spec.env_id} has no non-random baseline to serve as the expert; pass an expert "
                         f"policy (a folder written by `realax train`)")
    refs = references(spec, expert, max_envs=int(meta.get("max_envs", 1024)), progress=progress)
    source = REPLAY_PROXY
    if reference is not None:
        refs["replay"], source = minari_io.read(reference), str(reference)
    out = measure_episodes(minari_io.read(path), refs, edges)
    return {**out, "expert_policy": expert, "reference": source}
