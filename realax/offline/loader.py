"""A dataset as the offline learners read it: flat transitions (``agents.offline_nets.Transitions``), the
environment it was collected on (realism wrappers included), and its reference returns for the normalised
score.

The normalised score is NeoRL-2's and D4RL's ``100 · (R - random) / (expert - random)`` (Gao et al. 2025,
``neorl2/envs/base.py``; Fu et al. 2020, ``d4rl/offline_env.py`` without the factor 100), with ``random`` and
``expert`` the dataset's ``ref_min_score`` and ``ref_max_score`` (the random policy's and the expert's mean
return on the same env, stored in the metadata by ``generate``). It is defined only when the references are
ordered (expert above random); otherwise it would be inverted or infinite, so ``normalised_score`` gives None
and ``reference_warning`` says why (report the raw returns instead).
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np

from realax.agents.offline_nets import Transitions
from realax.errors import RealaxError
from realax.offline import minari_io
from realax.offline.episodes import Episodes

#: metadata a dataset needs to be trained on and scored
REQUIRED_META = ("env_id", "spec", "behaviour_return", "ref_min_score", "ref_max_score")


def transitions(eps: Episodes) -> Transitions:
    """Flat JAX arrays of single-agent episodes (``RealaxError`` for multi-agent data)."""
    if eps.rewards.ndim != 1:
        raise RealaxError(f"offline learners take single-agent datasets; rewards have shape {eps.rewards.shape} "
                          f"(an agent axis)")
    return Transitions(obs=jnp.asarray(eps.observations), action=jnp.asarray(eps.actions),
                       reward=jnp.asarray(eps.rewards, jnp.float32), next_obs=jnp.asarray(eps.next_observations),
                       terminal=jnp.asarray(eps.terminations, jnp.float32),
                       done=jnp.asarray(eps.terminations | eps.truncations))


def check_metadata(meta: dict, path) -> None:
    missing = [k for k in REQUIRED_META if meta.get(k) is None]
    if missing:
        raise RealaxError(f"{path}: the dataset metadata lacks {missing}; regenerate it with `realax data generate` "
                          f"(which records the env and the random/expert reference returns)")
    if meta.get("multi_agent"):
        raise RealaxError(f"{path} is a multi-agent dataset; the offline learners take single-agent datasets")


def load(path: Path | str, split: str = "train", check: bool = True) -> tuple[Transitions, dict]:
    """``(transitions of the split, realax metadata)`` of the dataset folder ``path``, read through Minari;
    ``check``: refuse a dataset that fails ``minari_io.verify`` first."""
    path = Path(path)
    if not (path / "data").is_dir():
        raise RealaxError(f"{path} is not a dataset folder (no data/ inside); create one with "
                          f"`realax data generate`")
    if check:
        minari_io.require_intact(path)
    meta = minari_io.metadata(path)
    check_metadata(meta, path)
    return transitions(minari_io.read(path, split)), meta


def reference_warning(meta: dict) -> str | None:
    """Why normalised scores are undefined for this dataset (expert not above random), or None when they are
    defined. Datasets written before ``reference_ordered`` was recorded are judged by their two returns."""
    lo, hi = meta.get("ref_min_score"), meta.get("ref_max_score")
    if lo is None or hi is None:
        return "the dataset records no random/expert reference returns: normalised scores are undefined"
    if float(hi) > float(lo) and meta.get("reference_ordered", True):
        return None
    return meta.get("reference_warning") or (
        f"the expert reference {meta.get('expert_policy')} (mean return {float(hi):.6g}) does not beat the random "
        f"policy ({float(lo):.6g}): normalised scores are undefined and are not reported (raw returns are)")


def normalised_score(returns, meta: dict) -> np.ndarray | None:
    """``100 · (R - ref_min) / (ref_max - ref_min)`` of each return; None when the references are not ordered
    (``reference_warning``): never an inverted or infinite score."""
    if reference_warning(meta) is not None:
        return None
    lo, hi = float(meta["ref_min_score"]), float(meta["ref_max_score"])
    return 100.0 * (np.asarray(returns, np.float64) - lo) / (hi - lo)
