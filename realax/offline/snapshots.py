"""Teacher snapshots for S3RL starts (``realax.wrappers.snapshot``): collect, save, load, wrap.

``collect`` runs a teacher (``random``, a baseline name, a folder written by ``realax train``, or
``module:factory``; see ``policies.resolve``) on ``episodes`` envs side by side, one whole episode each, in one
jitted ``scan`` of a vmapped step, and keeps the state at every ``every``-th step of each episode with its
value: the teacher's discounted return-to-go ``G_t = sum_k gamma^k r_{t+k}`` from that state to the episode's
end (summed over agents on multi-agent envs). The paper uses the teacher critic's ``Q(s, π(s))`` instead; a
return-to-go needs no critic, so any policy can teach. ``best`` keeps the best episodes by return (the
paper's ``teacher_best_env_num_ep``). ``starts`` clusters the values (k-means, 6 clusters by default) and
wraps the env::

    snaps = collect("realax/Spectrum-v0", "runs/ppo_jam_hopper", env_kwargs={"scenario": "jam_hopper"})
    env, params = starts(snaps, truncate_steps=25, snapshot_steps=3_000)
    save(snaps, "snapshots/jam_hopper");  snaps = load("snapshots/jam_hopper")
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.agents.evaluate import actor
from realax.offline import policies
from realax.wrappers.snapshot import SnapshotStarts, cluster_values


@dataclasses.dataclass
class Snapshots:
    """States of teacher episodes (``states``: the env's state pytree, leading axis ``S``) and their values."""

    states: Any
    values: np.ndarray  # float32 [S]: teacher's discounted return-to-go from the state
    episode: np.ndarray  # int32 [S]: teacher episode the state comes from
    step: np.ndarray  # int32 [S]: its step within that episode
    meta: dict  # env_id, env_kwargs, teacher, seed, episodes, every, gamma, best, teacher_returns

    def __len__(self) -> int:
        return int(self.values.shape[0])


def return_to_go(rewards: np.ndarray, lengths: np.ndarray, gamma: float) -> np.ndarray:
    """``float64 [E, T]``: discounted return-to-go of each step of each episode (0 past its length)."""
    E, T = rewards.shape
    live = np.arange(T)[None, :] < lengths[:, None]
    r = np.where(live, rewards, 0.0)
    out, acc = np.zeros((E, T)), np.zeros(E)
    for t in range(T - 1, -1, -1):
        acc = r[:, t] + gamma * acc
        out[:, t] = acc
    return out


def _rollout(env, params, act, every: int, outer: int):
    """``run(reset_keys [E], key) -> (states [outer, E, ...], rewards [outer*every, E], done [outer*every, E])``:
    the state at steps ``0, every, 2*every, ...`` and every step's reward and end flag."""

    def one(k, obs, state):
        k_act, k_env = jax.random.split(k)
        obs2, state2, r, te, tr, _ = env.step(k_env, state, act(k_act, obs, state), params)
        r = jnp.sum(r) if jnp.ndim(r) else r
        return obs2, state2, r.astype(jnp.float32), te | tr

    def inner(carry, k):
        obs, state = carry
        obs, state, r, done = jax.vmap(one)(jax.random.split(k, obs.shape[0]), obs, state)
        return (obs, state), (r, done)

    def block(carry, k):
        kept = carry[1]
        carry, (r, done) = jax.lax.scan(inner, carry, jax.random.split(k, every))
        return carry, (kept, r, done)

    @jax.jit
    def run(keys, key_run):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
        _, (kept, r, done) = jax.lax.scan(block, (obs, state), jax.random.split(key_run, outer))
        return kept, r.reshape(-1, r.shape[-1]), done.reshape(-1, done.shape[-1])

    return run


def collect(env_id: str, teacher: str, env_kwargs: dict | None = None, episodes: int = 10, every: int = 10,
            gamma: float = 0.99, best: int | None = None, seed: int = 0) -> Snapshots:
    """Snapshots of ``episodes`` teacher episodes on ``env_id`` (a saved agent brings its env options)."""
    if int(episodes) < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if int(every) < 1:
        raise ValueError(f"every must be >= 1 (keep every n-th state), got {every}")
    if not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if best is not None and not 1 <= int(best) <= int(episodes):
        raise ValueError(f"best must be in [1, episodes={episodes}], got {best}")
    kwargs = policies.agent_env_kwargs(teacher, env_id, dict(env_kwargs or {}))
    env, params = realax.make(env_id, **kwargs)
    fn = policies.resolve(teacher, env_id, env, params)
    act = actor(env, params, fn)
    E, every = int(episodes), int(every)
    outer = math.ceil(int(params.max_steps) / every)
    run = _rollout(env, params, act, every, outer)
    k_reset, k_run = jax.random.split(jax.random.key(seed))
    kept, rewards, done = jax.device_get(run(jax.random.split(k_reset, E), k_run))
    rewards, done = rewards.T.astype(np.float64), done.T  # [E, T]
    if not done.any(axis=1).all():
        raise RuntimeError(f"a teacher episode did not end within max_steps={params.max_steps} steps")
    lengths = done.argmax(axis=1) + 1
    rtg = return_to_go(rewards, lengths, float(gamma))
    returns = return_to_go(rewards, lengths, 1.0)[:, 0]
    chosen = np.arange(E) if best is None else np.sort(np.argsort(-returns, kind="stable")[:int(best)])
    steps = np.arange(outer) * every
    ep_idx, blk = np.meshgrid(chosen, np.arange(outer), indexing="ij")  # [E', outer]
    keep = steps[blk] < lengths[ep_idx]
    ep_idx, blk = ep_idx[keep], blk[keep]
    states = jax.tree.map(lambda x: np.asarray(x)[blk, ep_idx], kept)
    meta = {"env_id": env_id, "env_kwargs": kwargs, "teacher": teacher, "seed": int(seed), "episodes": E,
            "every": every, "gamma": float(gamma), "best": None if best is None else int(best),
            "teacher_returns": returns.tolist(), "teacher_return_mean": float(returns[chosen].mean())}
    return Snapshots(states, rtg[ep_idx, steps[blk]].astype(np.float32), ep_idx.astype(np.int32),
                     steps[blk].astype(np.int32), meta)


def starts(snaps: Snapshots, n_clusters: int = 6, method: str = "kmeans", truncate_steps: int = 0,
           snapshot_steps: int | None = None, env=None, params=None):
    """``(env, params)``: the snapshots' env wrapped in ``SnapshotStarts`` with the values clustered
    (``n_clusters=1``: uniform over all snapshots). ``env``/``params`` default to ``realax.make`` of the
    snapshots' env id and options."""
    if env is None:
        env, params = realax.make(snaps.meta["env_id"], **snaps.meta["env_kwargs"])
    labels = cluster_values(snaps.values, n_clusters, method)
    wrapped = SnapshotStarts(env, snaps.states, labels, truncate_steps=truncate_steps, snapshot_steps=snapshot_steps)
    return wrapped.wrap(params)


def save(snaps: Snapshots, folder) -> Path:
    """``states.npz`` (the leaves, in tree order), ``values.npz`` and ``meta.json`` under ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "states.npz", *[np.asarray(x) for x in jax.tree.leaves(snaps.states)])
    np.savez(folder / "values.npz", values=snaps.values, episode=snaps.episode, step=snaps.step)
    (folder / "meta.json").write_text(json.dumps(snaps.meta, indent=2))
    return folder


def load(folder) -> Snapshots:
    """Snapshots written by ``save``; the state structure comes from the env named in ``meta.json``."""
    folder = Path(folder)
    if not (folder / "meta.json").exists():
        raise ValueError(f"{folder} holds no snapshots (no meta.json); write them with realax.offline.snapshots.save")
    meta = json.loads((folder / "meta.json").read_text())
    env, params = realax.make(meta["env_id"], **meta["env_kwargs"])
    template = jax.eval_shape(lambda: env.reset_env(jax.random.key(0), params)[1])
    flat, tree = jax.tree.flatten(template)
    with np.load(folder / "states.npz") as f:
        arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
    if len(arrays) != len(flat):
        raise ValueError(f"{folder}: {len(arrays)} state arrays, but {meta['env_id']} states have {len(flat)}")
    with np.load(folder / "values.npz") as f:
        values, episode, step = f["values"], f["episode"], f["step"]
    return Snapshots(jax.tree.unflatten(tree, arrays), values, episode, step, meta)
