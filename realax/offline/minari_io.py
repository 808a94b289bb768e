"""Datasets on disk in the Minari format, written atomically and checked by checksums.

Layout of a dataset folder ``DIR`` (a Minari dataset directory, so ``MINARI_DATASETS_PATH=<parent of DIR>``
and ``minari.load_dataset(DIR.name)`` open it when ``DIR.name`` is a Minari id such as ``spectrum-random-v0``;
``load(DIR)`` opens it from any path)::

    DIR/data/main_data.hdf5     episodes, in Minari's layout (``hdf5_episodes``; the file made by Minari's API)
    DIR/data/metadata.json      Minari's metadata; realax's under the key "realax"
    DIR/realax_manifest.json    sha256 and size of every other file, step and episode counts

Minari format facts (Farama-Foundation/Minari 0.5, ``minari/utils.py``, ``dataset/_storages/hdf5_storage.py``,
``docs/content/dataset_standards.md``): one group per episode with ``observations`` of length T+1, and
``actions``, ``rewards``, ``terminations``, ``truncations`` of length T; ``ref_min_score``/``ref_max_score`` in
the metadata feed ``minari.get_normalized_score``. Exporters write D4RL's keys (``observations, actions,
rewards, terminals, timeouts`` + ``next_observations``; Fu et al. 2020, ``d4rl/offline_env.py``) and NeoRL's
(``obs, next_obs, action, reward, done, truncated, index``; ``polixir/NeoRL2`` ``neorl2/envs/base.py``).

Writes go to a hidden folder next to ``DIR`` and are renamed into place at the end (``os.replace`` on the same
file system), so a run killed mid-write leaves nothing under ``DIR``. A write holds the exclusive lock of ``DIR``
and replaces only a realax dataset, and only when asked (``write_guard``). Files get the user's umask.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from realax import files
from realax._extras import require
from realax.errors import RealaxError
from realax.offline import hdf5_episodes, write_guard
from realax.offline.episodes import Episodes
from realax.offline.write_guard import FORMAT, MANIFEST, stale_partials  # noqa: F401 - part of this module's API


def gym_spaces(env, params, multi_agent: bool):
    """Gymnasium ``(observation_space, action_space)`` of one step; the agent axis leads for
    multi-agent envs (``Box [A, ...]``, ``MultiDiscrete([n] * A)``)."""
    obs, act = env.observation_space(params).to_gymnasium(), env.action_space(params).to_gymnasium()
    if not multi_agent:
        return obs, act
    return _stacked(obs, env.num_agents), _stacked(act, env.num_agents)


def _stacked(space, a: int):
    """One agent's Gymnasium space with a leading agent axis of ``a``."""
    import gymnasium

    if isinstance(space, gymnasium.spaces.Discrete):
        return gymnasium.spaces.MultiDiscrete(np.full(a, space.n), dtype=space.dtype)
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        return gymnasium.spaces.MultiDiscrete(np.broadcast_to(space.nvec, (a,) + space.nvec.shape), dtype=space.dtype)
    return gymnasium.spaces.Box(np.broadcast_to(space.low, (a,) + space.shape),
                                np.broadcast_to(space.high, (a,) + space.shape), (a,) + space.shape, space.dtype)


def dataset_id_for(path: Path) -> str:
    """The Minari id of a dataset folder: its name (``write`` refuses a name that is not an id)."""
    return Path(path).name


def _reward_stats(eps: Episodes, starts: np.ndarray) -> dict[str, np.ndarray]:
    """``rewards_sum/_mean/_std/_max/_min`` of every episode, as Minari's ``EpisodeMetadataCallback`` gives them
    (``float`` of numpy's ``sum``, ``mean``, ``std``, ``max``, ``min`` over the episode's rewards), computed for
    all episodes of one length at once: numpy reduces each row of a ``[episodes, steps]`` array with the same
    pairwise sums as one episode alone, so the values are the same bit for bit (a test compares them with the
    callback). The callback, called per episode, took 0.8 s of the write of 10,000 episodes."""
    out = {k: np.empty(eps.num_episodes) for k in ("rewards_sum", "rewards_mean", "rewards_std", "rewards_max",
                                                   "rewards_min")}
    for length in np.unique(eps.lengths):
        sel = np.flatnonzero(eps.lengths == length)
        rows = eps.rewards[starts[sel, None] + np.arange(length)].reshape(len(sel), -1)
        for key, fn in (("rewards_sum", np.sum), ("rewards_mean", np.mean), ("rewards_std", np.std),
                        ("rewards_max", np.max), ("rewards_min", np.min)):
            out[key][sel] = fn(rows, axis=1)
    return out


def _episode_records(eps: Episodes, observation_space=None, action_space=None):
    """Each episode as Minari's ``DataCollector`` records it (``hdf5_episodes.Episode``): the reset ``seed``,
    observations and actions in the dtypes of the recorded spaces, ``infos`` always (empty when nothing was
    recorded) with T+1 rows like its observations (the reset's first; realax's reset has no info: zeros), and
    the reward statistics of its ``EpisodeMetadataCallback`` (``_reward_stats``)."""
    as_space = lambda x, space: np.asarray(x, getattr(space, "dtype", None) or np.asarray(x).dtype)
    per_step = {**eps.infos, **({"cost": eps.costs} if eps.costs is not None else {})}
    starts = eps.starts  # computed once: a cumulative sum over every episode
    stats = _reward_stats(eps, starts)
    for i, (s, n) in enumerate(zip(starts, eps.lengths, strict=True)):
        e = s + n
        attrs = {"id": i, **({} if eps.seeds is None else {"seed": int(eps.seeds[i])}), "total_steps": int(n),
                 **{k: float(v[i]) for k, v in stats.items()}}
        arrays = {"observations": as_space(np.concatenate([eps.observations[s:e], eps.next_observations[e - 1:e]]),
                                           observation_space),
                  "actions": as_space(eps.actions[s:e], action_space), "rewards": eps.rewards[s:e],
                  "terminations": eps.terminations[s:e], "truncations": eps.truncations[s:e]}
        infos = {k: np.concatenate([np.zeros_like(v[s:s + 1]), v[s:e]]) for k, v in per_step.items()}
        yield hdf5_episodes.Episode(attrs, arrays, infos)


@contextlib.contextmanager
def _minari_root(root: Path):
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def write(out: Path | str, eps: Episodes, meta: dict, observation_space, action_space, *, env_spec=None,
          overwrite: bool = False, later: Callable[[], dict] | None = None) -> Path:
    """Store ``eps`` as a Minari dataset at ``out`` atomically; returns ``out``.

    ``meta`` (JSON-serialisable) goes to Minari's metadata under ``"realax"``; its ``ref_min_score`` /
    ``ref_max_score`` also go to Minari's own keys. ``env_spec``: a Gymnasium ``EnvSpec`` that recreates
    the env (``MinariDataset.recover_environment``), or None. ``later``: called once the episodes are written,
    the metadata to store instead of ``meta`` (so work it waits for runs meanwhile).
    """
    minari = require("minari", extra="offline")

    out = write_guard.check_target(out, overwrite)
    with write_guard.write_lock(out):
        tmp = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            dataset_id = dataset_id_for(out)
            with _minari_root(tmp), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Minari asks for an author email and permalink
                ds = minari.create_dataset_from_buffers(  # the storage and its metadata; no episodes yet
                    dataset_id, [], env=env_spec, observation_space=observation_space,
                    action_space=action_space, algorithm_name=f"realax:{meta.get('policy')}", author="realax",
                    description=describe(meta), data_format="hdf5",
                    requirements=[f"realax=={meta.get('realax_version')}"])
                hdf5_episodes.append(ds.storage.data_path / "main_data.hdf5",
                                     _episode_records(eps, observation_space, action_space))
                meta = meta if later is None else later()
                extra = {k: meta[k] for k in ("ref_min_score", "ref_max_score", "num_episodes_average_score")
                         if k in meta}
                ds.storage.update_metadata({"total_episodes": eps.num_episodes, "total_steps": eps.num_steps,
                                            "dataset_size": ds.storage.get_size(), **extra, "realax": meta})
            staged = tmp / dataset_id
            manifest = {"format": FORMAT, "dataset_id": dataset_id, "total_steps": eps.num_steps,
                        "total_episodes": eps.num_episodes,
                        "files": {f: {"sha256": _sha256(staged / f), "bytes": (staged / f).stat().st_size}
                                  for f in _files(staged)}}
            (staged / MANIFEST).write_text(json.dumps(manifest, indent=1))
            with_umask(staged)
            write_guard.check_target(out, overwrite)  # again: what is there now may be replaced (lock held)
            if os.path.lexists(out):  # move the old dataset aside first, so some dataset is always under ``out``
                os.replace(out, tmp / "previous")  # ... but for the instant between these two renames
            os.replace(staged, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def with_umask(root: Path) -> None:
    """Give every file under ``root`` mode ``0o666 & ~umask`` and every folder ``0o777 & ~umask``, as files the
    user creates get (some writers create files 0600)."""
    mask = files.umask()
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            p.chmod((0o777 if p.is_dir() else 0o666) & ~mask)


def describe(meta: dict) -> str:
    realism = {k: v for k, v in (meta.get("realism") or {}).items()
               if v not in (None, 0, False) and not k.startswith(("disturbance_", "cost_threshold"))}
    return (f"realax dataset of {meta.get('env_id')} {meta.get('env_kwargs') or ''}: policy {meta.get('policy')} "
            f"at level {meta.get('level')} (noise {meta.get('noise')}), seed {meta.get('seed')}, "
            f"realism {realism or 'off'}; train/validation split in metadata['realax']['split']")


def verify(path: Path | str) -> list[str]:
    """Problems found in the dataset at ``path`` (empty: intact): missing manifest, missing, extra or
    changed files (sha256 and size), counts that disagree with Minari's view, episodes of the wrong shape."""
    root = Path(path)
    if not (root / MANIFEST).exists():
        return [f"{root}: no {MANIFEST} (not a realax dataset, or an unfinished write)"]
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except json.JSONDecodeError as e:
        return [f"{MANIFEST} is not valid JSON: {e}"]
    problems = []
    listed = manifest.get("files", {})
    for f, want in listed.items():
        p = root / f
        if not p.exists():
            problems.append(f"{f}: missing")
        elif p.stat().st_size != want["bytes"]:
            problems.append(f"{f}: {p.stat().st_size} bytes, expected {want['bytes']}")
        elif _sha256(p) != want["sha256"]:
            problems.append(f"{f}: sha256 differs from the one recorded at write time")
    problems += [f"{f}: not in the manifest" for f in _files(root) if f not in listed]
    if problems:
        return problems
    try:
        ds = load(root)
        if ds.total_episodes != manifest["total_episodes"] or ds.total_steps != manifest["total_steps"]:
            problems.append(f"Minari sees {ds.total_episodes} episodes / {ds.total_steps} steps; the manifest says "
                            f"{manifest['total_episodes']} / {manifest['total_steps']}")
    except Exception as e:  # noqa: BLE001 - any failure to open is a finding
        problems.append(f"Minari cannot open it: {type(e).__name__}: {e}")
    return problems


def require_intact(path: Path | str) -> None:
    """A ``RealaxError`` unless ``path`` is a dataset folder that passes ``verify`` (what the commands that use
    a dataset check first: a damaged dataset must not train or measure silently)."""
    root = Path(path)
    if not (root / "data").is_dir():
        raise RealaxError(f"{path} is not a dataset folder (no data/ inside); create one with `realax data generate`")
    problems = verify(root)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise RealaxError(f"{path} fails verification: {shown}. Regenerate it, or pass --no-verify to use it anyway "
                          f"(`realax data verify {path}` lists every problem)")


def load(path: Path | str, split: str | None = None):
    """The ``minari.MinariDataset`` at ``path``; ``split`` = ``"train"`` or ``"validation"`` selects those
    episodes (``metadata["realax"]["split"]``)."""
    MinariDataset = require("minari", extra="offline").MinariDataset

    data = Path(path) / "data"
    if not data.is_dir():
        raise RealaxError(f"{path} is not a dataset folder (no data/ inside)")
    ds = MinariDataset(data)
    if split is None:
        return ds
    bounds = metadata(path)["split"]
    if split not in bounds:
        raise RealaxError(f"split must be one of {sorted(bounds)}, got {split!r}")
    lo, hi = bounds[split]
    return MinariDataset(data, episode_indices=np.arange(lo, hi))


def metadata(path: Path | str) -> dict:
    """realax's metadata of a dataset."""
    file = Path(path) / "data" / "metadata.json"
    try:
        meta = json.loads(file.read_text())
    except FileNotFoundError:
        raise RealaxError(f"{path} is not a dataset folder (no {file.relative_to(path)})") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise RealaxError(f"{file} is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or "realax" not in meta:
        raise RealaxError(f"{path} is a Minari dataset without realax metadata")
    return meta["realax"]


def read(path: Path | str, split: str | None = None) -> Episodes:
    """The dataset's episodes as flat arrays, read through Minari."""
    ds = load(path, split)
    parts = {k: [] for k in ("obs", "next", "act", "rew", "term", "trunc")}
    infos: dict[str, list] = {}
    lengths = []
    for ep in ds.iterate_episodes():
        o = np.asarray(ep.observations)
        parts["obs"].append(o[:-1])
        parts["next"].append(o[1:])
        parts["act"].append(np.asarray(ep.actions))
        parts["rew"].append(np.asarray(ep.rewards))
        parts["term"].append(np.asarray(ep.terminations, bool))
        parts["trunc"].append(np.asarray(ep.truncations, bool))
        for k, v in (ep.infos or {}).items():  # T+1 rows, the reset's first
            if isinstance(v, np.ndarray):
                infos.setdefault(k, []).append(v[1:])
        lengths.append(len(ep.rewards))
    cat = lambda k: np.concatenate(parts[k])
    infos = {k: np.concatenate(v) for k, v in infos.items() if len(v) == len(lengths)}  # in every episode
    seeds = [m.get("seed") for m in ds.storage.get_episode_metadata(ds.episode_indices)]
    return Episodes(cat("obs"), cat("next"), cat("act"), cat("rew"), cat("term"), cat("trunc"), np.asarray(lengths),
                    infos.pop("cost", None), infos, None if None in seeds else np.asarray(seeds, np.int64))


def _save_npz(path: Path, arrays: dict) -> None:
    tmp = path.parent / f".{path.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def d4rl_arrays(eps: Episodes, keep_shape: bool = False) -> dict:
    """D4RL's ``get_dataset()`` keys plus ``next_observations`` (``qlearning_dataset``). Observations are flat
    rows ``(N, obs_dim)``, as in D4RL's own datasets (what d3rlpy's default encoders take), unless
    ``keep_shape``; ``metadata/observation_shape`` is one observation's shape either way (D4RL keeps its
    metadata under ``metadata/``)."""
    shape = eps.observations.shape[1:]
    flat = (lambda x: x) if keep_shape else (lambda x: x.reshape(len(x), -1))
    return {"observations": flat(eps.observations), "actions": eps.actions, "rewards": eps.rewards,
            "terminals": eps.terminations, "timeouts": eps.truncations,
            "next_observations": flat(eps.next_observations),
            "metadata/observation_shape": np.asarray(shape, np.int64)}


def neorl_arrays(eps: Episodes, keep_shape: bool = False) -> dict:
    """NeoRL/NeoRL-2's keys: ``done`` is the termination flag, ``truncated`` the time limit, ``index`` the
    start of each trajectory; observations keep their shape (``keep_shape`` is d4rl's choice)."""
    return {"obs": eps.observations, "next_obs": eps.next_observations, "action": eps.actions,
            "reward": eps.rewards, "done": eps.terminations, "truncated": eps.truncations, "index": eps.starts}


EXPORTERS = {"d4rl": d4rl_arrays, "neorl": neorl_arrays}


def export(path: Path | str, fmt: str, out: Path | str, check: bool = True, overwrite: bool = False,
           keep_shape: bool = False) -> list[Path]:
    """Write ``<name>-train.npz`` and ``<name>-val.npz`` (NeoRL-2's file names) in ``fmt`` under ``out``;
    ``check``: refuse a dataset that fails ``verify`` first (``require_intact``); existing files of those
    names are replaced only with ``overwrite``; ``keep_shape`` (d4rl only): structured observations instead
    of flat rows."""
    if fmt not in EXPORTERS:
        raise RealaxError(f"unknown export format {fmt!r}; available: {sorted(EXPORTERS)}")
    if keep_shape and fmt != "d4rl":
        raise RealaxError(f"--keep-shape applies to the d4rl format (flat observations by default); {fmt} keeps "
                          "each observation's shape already")
    if check:
        require_intact(path)
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise RealaxError(f"--out {out} is a file; exports go to a folder")
    name = Path(path).absolute().name
    bounds = metadata(path)["split"]
    splits = [(split, out / f"{name}-{suffix}.npz") for split, suffix in (("train", "train"), ("validation", "val"))
              if bounds[split][1] > bounds[split][0]]  # an empty split (val_fraction 0) is not written
    for _, target in splits:
        if os.path.lexists(target) and (not overwrite or not target.is_file()):
            raise FileExistsError(f"{target} exists; choose another --out or pass --overwrite to replace it")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, target in splits:
        eps = read(path, split)
        arrays = EXPORTERS[fmt](eps, keep_shape)
        if eps.costs is not None:
            arrays["costs"] = eps.costs
        _save_npz(target, arrays)
        written.append(target)
    return written
