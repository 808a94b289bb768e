"""Snapshot starts (SnapshotRL / S3RL): episodes that begin in states a teacher visited, via ``reset_to``.

Zhao et al., "Snapshot Reinforcement Learning: Leveraging Prior Trajectories for Efficiency",
arXiv:2403.00673 (AutoRL workshop at ICML 2024; code ``sdpkjc/snapshotrl``, ``src/snapshot_td3_mujoco.py``).
What the paper's code does (research/offline-tooling.md §3):

1. Snapshots: the teacher (a pretrained actor, deterministic) runs 10 episodes; every 10th step the whole
   env is saved together with the teacher's value ``Q(s, π(s))`` there.
2. Status Classification (SC): ``KMeans(n_clusters=6)`` on those 1-D values; at each reset a cluster is
   drawn uniformly, then a snapshot uniformly within it, so start states are balanced across value levels.
3. Student Trajectory Truncation (STT): an episode started from a snapshot ends after ``truncate_step=100``
   steps (MuJoCo episodes last 1000) as a *truncation* (bootstrapped), never a termination.
4. Schedule: for the first 100 k of 1 M training steps (10 %) every reset is a snapshot reset; afterwards
   every reset is the env's own. Evaluation always uses the original env.

S3RL = SC + STT; plain SnapshotRL draws uniformly over all snapshots (one cluster) without STT
(``truncate_steps=0``). The paper reports that S3RL with TD3, SAC and PPO on MuJoCo "significantly improves
sample efficiency and average return, without extra samples and additional computational resources"; a
third-party summary finds the gains for PPO more limited.

Here a snapshot is the env's state pytree itself (no deep copies): the pool is a batch of states (leading
axis ``S``) held in the wrapper's params with the cluster table, so the wrapper jits and vmaps like any env.
``cluster_values`` does SC once on the host (numpy): 1-D k-means as in the paper, or quantile bins. Two
choices differ from the paper's single-process scripts: the phase is counted per env copy in the wrapper
state (``snapshot_steps`` steps of that copy; ``N`` copies make a phase of ``N * snapshot_steps`` env steps),
and the env's own time limit still applies (a snapshot carries its step counter ``t``), so an episode from a
snapshot ends at whichever comes first. A snapshot episode still running when the phase ends keeps its
truncation; only the resets after the phase are the env's own. ``reset_to(state)`` takes a state of the
wrapped env, like the other wrappers', and starts an ordinary episode with the phase clock at 0.

Examples:
    >>> env, params = SnapshotStarts(base, states, labels=cluster_values(values, 6), truncate_steps=25,
    ...                              snapshot_steps=3_000).wrap(base_params)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, StepResult, _select
from realax.wrappers.realism import RealismWrapper, _Forward

#: ``snapshot_steps`` meaning "the whole run" (the phase clock saturates below it)
FOREVER = np.iinfo(np.int32).max


@struct.dataclass
class SnapshotParams(_Forward):
    env: Any
    states: Any  # pytree of the wrapped env's states with a leading axis [S]
    members: jax.Array  # int32 [C, M]: snapshot indices of each cluster (padded; row c is valid up to sizes[c])
    sizes: jax.Array  # int32 [C]: snapshots in each cluster, all >= 1
    truncate_steps: jax.Array  # int32 []: K; an episode from a snapshot is truncated after K steps (0: never)
    snapshot_steps: jax.Array  # int32 []: P; resets are snapshot resets while an env copy has taken < P steps


@struct.dataclass
class SnapshotState:
    env_state: Any
    steps: jax.Array  # int32 []: steps this env copy has taken since ``reset`` (the phase clock, saturating)
    episode_steps: jax.Array  # int32 []: steps of the current episode
    snapshot: jax.Array  # int32 []: pool index the current episode started from, -1 for the env's own reset
    cluster: jax.Array  # int32 []: its cluster, -1 for the env's own reset


def cluster_values(values: Any, n_clusters: int = 6, method: str = "kmeans", iters: int = 100) -> np.ndarray:
    """S3RL's Status Classification on the host: ``int32 [S]`` labels ``0..C-1`` of 1-D teacher values,
    numbered by increasing value; empty clusters are dropped (so ``C <= n_clusters``).

    ``method="kmeans"``: Lloyd's algorithm in 1-D started from the quantiles ``(i + 1/2) / n`` (deterministic;
    the paper uses scikit-learn's ``KMeans(n_clusters=6)``). ``"quantile"``: bins of equal count.
    """
    v = np.asarray(values, np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    if int(n_clusters) != n_clusters or n_clusters < 1:
        raise ValueError(f"n_clusters must be a whole number >= 1, got {n_clusters}")
    n = int(n_clusters)
    if method == "quantile":
        edges = np.quantile(v, np.arange(1, n) / n)
        raw = np.searchsorted(edges, v, side="right")
    elif method == "kmeans":
        centres = np.quantile(v, (np.arange(n) + 0.5) / n)
        raw = np.full(v.size, -1)
        for _ in range(int(iters)):
            new = np.argmin(np.abs(v[:, None] - centres[None, :]), axis=1)
            if np.array_equal(new, raw):
                break
            raw = new
            for c in range(n):
                if np.any(raw == c):
                    centres[c] = v[raw == c].mean()
    else:
        raise ValueError(f"cluster method must be 'kmeans' or 'quantile', got {method!r}")
    used = np.unique(raw)  # increasing, since centres/bins are ordered by value
    return np.searchsorted(used, raw).astype(np.int32)


def cluster_table(labels: Any, num_snapshots: int) -> tuple[np.ndarray, np.ndarray]:
    """``(members int32 [C, M], sizes int32 [C])`` of labels ``0..C-1``; rows are padded with their first
    member (never drawn, since the draw is below ``sizes[c]``)."""
    lab = np.asarray(labels)
    if lab.shape != (num_snapshots,):
        raise ValueError(f"labels must have shape ({num_snapshots},) (one per snapshot), got {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0:
        raise ValueError("labels must be integers >= 0")
    sizes = np.bincount(lab)
    if np.any(sizes == 0):
        raise ValueError(f"labels must use every cluster 0..{sizes.size - 1}; empty: {np.flatnonzero(sizes == 0)}")
    members = np.zeros((sizes.size, sizes.max()), np.int32)
    for c in range(sizes.size):
        idx = np.flatnonzero(lab == c)
        members[c] = np.concatenate([idx, np.full(sizes.max() - idx.size, idx[0])])
    return members, sizes.astype(np.int32)


def _whole(x: Any, what: str, allow_none: bool = False) -> int:
    if x is None and allow_none:
        return FOREVER
    if x is None or int(x) != x or int(x) < 0:
        raise ValueError(f"{what} must be a whole number >= 0, got {x}")
    return min(int(x), FOREVER)


class SnapshotStarts(RealismWrapper):
    """Resets into a pool of the wrapped env's states (S3RL when ``labels`` cluster them by teacher value).

    ``states``: a pytree of states with a leading axis ``S`` (what ``env.reset_env`` returns, stacked);
    ``labels``: ``int [S]`` clusters ``0..C-1`` (default: one cluster, a uniform draw); ``truncate_steps``: K
    (0: no truncation); ``snapshot_steps``: P, the per-copy phase of snapshot resets (None: the whole run).
    All four go into params (``default_params``/``make_params``), so they can be swapped without retracing.
    ``info["from_snapshot"]`` says whether the step belonged to an episode started from a snapshot.
    """

    OWN_PARAMS = True

    def __init__(self, env: Environment, states: Any, labels: Any = None, truncate_steps: int = 0,
                 snapshot_steps: int | None = None) -> None:
        super().__init__(env)
        leaves = jax.tree.leaves(states)
        if not leaves:
            raise ValueError("states must be a non-empty pytree of arrays with a leading snapshot axis")
        sizes = {int(np.shape(x)[0]) if np.ndim(x) else None for x in leaves}
        if len(sizes) != 1 or None in sizes or 0 in sizes:
            raise ValueError(f"every leaf of states needs the same leading snapshot axis (>= 1), got {sizes}")
        self._check_structure(states)
        (num,) = sizes
        assert num is not None  # checked above
        self.num_snapshots: int = num
        labels = np.zeros(self.num_snapshots, np.int32) if labels is None else labels
        members, csizes = cluster_table(labels, self.num_snapshots)
        self._pool = (jax.tree.map(jnp.asarray, states), jnp.asarray(members), jnp.asarray(csizes))
        self._k = _whole(truncate_steps, "truncate_steps")
        self._p = _whole(snapshot_steps, "snapshot_steps", allow_none=True)

    def _check_structure(self, states: Any) -> None:
        want = jax.eval_shape(lambda: self.env.reset_env(jax.random.key(0), self.env.default_params)[1])
        w_flat, w_tree = jax.tree.flatten(want)
        s_flat, s_tree = jax.tree.flatten(states)
        if w_tree != s_tree:  # type: ignore[operator]  # jax's stubs leave PyTreeDef unresolved
            raise ValueError(f"states are not states of {type(self.env).__name__}: structure {s_tree} != {w_tree}")
        for w, s in zip(w_flat, s_flat, strict=True):
            if tuple(np.shape(s)[1:]) != tuple(w.shape) or np.asarray(s).dtype != w.dtype:
                raise ValueError(f"states of {type(self.env).__name__} have leaves {w.dtype}{list(w.shape)} after "
                                 f"the snapshot axis, got {np.asarray(s).dtype}{list(np.shape(s)[1:])}")

    @property
    def num_clusters(self) -> int:
        return int(self._pool[2].shape[0])

    def make_params(self, env_params: Any) -> SnapshotParams:
        states, members, sizes = self._pool
        return SnapshotParams(env=env_params, states=states, members=members, sizes=sizes,
                              truncate_steps=jnp.int32(self._k), snapshot_steps=jnp.int32(self._p))

    def wrap(self, env_params: Any = None) -> tuple[SnapshotStarts, SnapshotParams]:
        """``(self, params)`` around ``env_params`` (default: the wrapped env's)."""
        return self, self.make_params(self.env.default_params if env_params is None else env_params)

    # -- the S3RL draw and the reset -----------------------------------------------------------------------
    def draw(self, key: jax.Array, params: SnapshotParams) -> tuple[jax.Array, jax.Array]:
        """``(snapshot index, cluster)``: a cluster uniformly, then a member of it uniformly."""
        k_c, k_m = jax.random.split(key)
        c = jax.random.randint(k_c, (), 0, params.sizes.shape[0])
        j = jax.random.randint(k_m, (), 0, params.sizes[c])
        return params.members[c, j], c

    def _start(self, key: jax.Array, params: SnapshotParams, steps: jax.Array) -> SnapshotState:
        """A fresh episode for a copy whose phase clock reads ``steps``: from a snapshot while
        ``steps < snapshot_steps``, else the env's own reset."""
        k_env, k_draw = jax.random.split(key)
        _, own = self.env.reset_env(k_env, params.env)
        idx, c = self.draw(k_draw, params)
        _, snap = self.env.reset_to(jax.tree.map(lambda x: x[idx], params.states), params.env)
        use = steps < params.snapshot_steps
        none = jnp.int32(-1)
        return SnapshotState(_select(use, snap, own), jnp.int32(steps), jnp.int32(0),
                             jnp.where(use, idx, none).astype(jnp.int32), jnp.where(use, c, none).astype(jnp.int32))

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        state = self._start(key, params, jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        obs, s, r, te, tr, info = self.env.step_env(key, state.env_state, action, params.env)
        n = state.episode_steps + 1
        from_snap = state.snapshot >= 0
        cut = from_snap & (params.truncate_steps > 0) & (n >= params.truncate_steps) & ~te
        steps = state.steps + (state.steps < FOREVER).astype(jnp.int32)
        new = state.replace(env_state=s, steps=steps, episode_steps=n)
        return obs, new, r, te, tr | cut, {**info, "from_snapshot": from_snap}

    def step_with_final_state(self, key: jax.Array, state: Any, action: Any, params: Any = None
                              ) -> tuple[jax.Array, Any, jax.Array, jax.Array, jax.Array, dict[str, Any], Any]:
        """``step_env``, then on ``terminated or truncated`` a reset chosen by the copy's phase clock (the
        base class's same-step autoreset, with this reset)."""
        params = self.default_params if params is None else params
        k_step, k_reset = jax.random.split(key)
        obs_st, st, r, te, tr, info = self.step_env(k_step, state, action, params)
        state = _select(te | tr, self._start(k_reset, params, st.steps), st)
        return self.get_obs(state, params), state, r, te, tr, {**info, "final_obs": obs_st}, st

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self.env.get_obs(state.env_state, params.env)

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        obs, s = self.env.reset_to(state, params.env)
        return obs, SnapshotState(s, jnp.int32(0), jnp.int32(0), jnp.int32(-1), jnp.int32(-1))
