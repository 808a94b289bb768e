"""A dataset as the offline learners read it: flat transitions (``agents.offline_nets.Transitions``), the
environment it was collected on (realism wrappers included), and its reference returns for the normalised
score.

The normalised score is NeoRL-2's and D4RL's ``100 · (R - random) / (expert - random)`` (Gao et al. 2025,
``neorl2/envs/base.py``; Fu et al. 2020, ``d4rl/offline_env.py`` without the factor 100), with ``random`` and
``expert`` the dataset's ``ref_min_score`` and ``ref_max_score`` (the random policy's and the expert's mean
return on the same env, stored in the metadata by ``generate``).
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np

from realax.agents.offline_nets import Transitions
from realax.offline import minari_io
from realax.offline.episodes import Episodes
from realax.offline.generate import DataSpec, build

#: metadata a dataset needs to be trained on and scored
REQUIRED_META = ("env_id", "spec", "behaviour_return", "ref_min_score", "ref_max_score")


def transitions(eps: Episodes) -> Transitions:
    """Flat JAX arrays of single-agent episodes (``ValueError`` for multi-agent data)."""
    if eps.rewards.ndim != 1:
        raise ValueError(f"offline learners take single-agent datasets; rewards have shape {eps.rewards.shape} "
                         f"(an agent axis)")
    return Transitions(obs=jnp.asarray(eps.observations), action=jnp.asarray(eps.actions),
                       reward=jnp.asarray(eps.rewards, jnp.float32), next_obs=jnp.asarray(eps.next_observations),
                       terminal=jnp.asarray(eps.terminations, jnp.float32),
                       done=jnp.asarray(eps.terminations | eps.truncations))


def check_metadata(meta: dict, path) -> None:
    missing = [k for k in REQUIRED_META if meta.get(k) is None]
    if missing:
        raise ValueError(f"{path}: the dataset metadata lacks {missing}; regenerate it with `realax data generate` "
                         f"(which records the env and the random/expert reference returns)")
    if meta.get("multi_agent"):
        raise ValueError(f"{path} is a multi-agent dataset; the offline learners take single-agent datasets")
    if meta["ref_max_score"] == meta["ref_min_score"]:
        raise ValueError(f"{path}: random and expert reference returns are equal ({meta['ref_min_score']}); "
                         f"the normalised score is undefined")


def load(path: Path | str, split: str = "train") -> tuple[Transitions, dict]:
    """``(transitions of the split, realax metadata)`` of the dataset folder ``path``, read through Minari."""
    path = Path(path)
    if not (path / "data").is_dir():
        raise FileNotFoundError(f"{path} is not a dataset folder (no data/ inside); create one with "
                                f"`realax data generate`")
    meta = minari_io.metadata(path)
    check_metadata(meta, path)
    return transitions(minari_io.read(path, split)), meta


def env_of(meta: dict):
    """``(env, params)`` the dataset was collected on, realism wrappers on."""
    setup = build(DataSpec.from_dict(meta["spec"]))
    return setup.env, setup.params


def normalised_score(returns, meta: dict) -> np.ndarray:
    """``100 · (R - ref_min) / (ref_max - ref_min)`` of each return."""
    lo, hi = float(meta["ref_min_score"]), float(meta["ref_max_score"])
    return 100.0 * (np.asarray(returns, np.float64) - lo) / (hi - lo)
