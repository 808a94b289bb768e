"""Write a dataset: collect it (``generate``), optionally measure it (``measures``), store it atomically in the
Minari format under the target's lock (``minari_io``, ``write_guard``)."""

from __future__ import annotations

import dataclasses
import numbers
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from realax import registry
from realax.errors import RealaxError
from realax.offline import measures, minari_io, write_guard
from realax.offline.episodes import Episodes
from realax.offline.generate import DataSpec, build, episode_meta, generate, reference_meta


def gymnasium_spec(spec: DataSpec):
    """The Gymnasium ``EnvSpec`` that recreates the dataset's env, or None (multi-agent envs, or realism
    wrappers on, which Gymnasium cannot rebuild)."""
    r = spec.realism
    if registry.spec(spec.env_id).multi_agent or r.action_delay or r.obs_delay or r.disturbance or \
            r.cost_budget is not None:
        return None
    import gymnasium

    if spec.env_id not in gymnasium.registry:
        return None
    base = gymnasium.spec(spec.env_id)
    return dataclasses.replace(base, kwargs={**base.kwargs, **spec.env_kwargs})


def part_path(out: Path | str, i: int, k: int) -> Path:
    """Where part ``i`` of ``k`` of the dataset ``out`` (``NAME-vN``) is written: ``NAME-part{i}of{k}-vN`` beside it."""
    out = Path(out)
    name, _, version = out.name.rpartition("-v")
    return out.with_name(f"{name}-part{i}of{k}-v{version}")


def generate_dataset(spec: DataSpec, out, progress: bool = True, overwrite: bool = False,
                     max_envs: int = 1024, measure: bool = False, devices: int | None = None,
                     part: tuple[int, int] = (0, 1)) -> tuple[Any, dict]:
    """Generate ``spec`` and write it to ``out`` (atomically, Minari format): ``(path, metadata)``.
    ``measure``: also compute TQ and SACo (``measures``) and store them, with the binning, in the metadata.
    ``devices``: how many devices the collection is split over (``generate.collect``).
    ``part=(i, k)`` with ``k > 1``: collect and write only the ``i``-th of ``k`` parts, at ``part_path``;
    ``merge_parts`` assembles the dataset from them (the same as one process writes).

    ``out`` is checked before anything is collected (``write_guard.check_target``: a Minari id, and an existing
    folder only with ``overwrite`` and only when it holds a realax dataset), and its write lock is held from
    then to the end; the returned metadata's ``notes`` say what the lock cleaned up (not stored)."""
    if isinstance(max_envs, bool) or not isinstance(max_envs, numbers.Integral) or max_envs < 1:
        raise RealaxError(f"max_envs (--num-envs) must be a whole number >= 1, got {max_envs!r}")
    spec.validate()
    if part[1] > 1:
        if measure:
            raise RealaxError("TQ and SACo measure a whole dataset: run `realax data measure` on the merged one")
        out = part_path(out, *part)
    out = write_guard.check_target(out, overwrite)  # fail before spending the time to collect
    with write_guard.write_lock(out) as lock, ThreadPoolExecutor(1) as pool:
        spec = spec.resolved()
        eps, meta = generate(spec, progress=progress, max_envs=max_envs, devices=devices, part=part, references=False)
        # the reference returns (their compilations, mostly) run beside the write, which is Python and HDF5 work;
        # started before the collection instead, they slowed it down more than they gained (2-core CPU)
        refs = pool.submit(reference_meta, spec) if part[0] == 0 else None
        if measure:
            meta.update(refs.result())
            if meta["expert_policy"] is None:
                raise RealaxError(f"{spec.env_id} has no non-random baseline to serve as the expert: pass an expert")
            measured = measures.references(spec, meta["expert_policy"], max_envs=max_envs, progress=progress)
            meta["measures"] = {**measures.measure_episodes(eps, measured), "reference": measures.REPLAY_PROXY}

        def with_references() -> dict:
            meta.update(refs.result())
            return meta

        path, meta["write_seconds"] = _write(out, spec, eps, meta, overwrite,
                                             None if refs is None else with_references)
    meta["notes"] = list(lock.notes)
    return path, meta


def _write(out: Path, spec: DataSpec, eps: Episodes, meta: dict, overwrite: bool,
           later: Callable[[], dict] | None = None) -> tuple[Path, float]:
    setup = build(spec)
    obs_space, act_space = minari_io.gym_spaces(setup.env, setup.params, setup.multi_agent)
    t0 = time.perf_counter()
    path = minari_io.write(out, eps, meta, obs_space, act_space, env_spec=gymnasium_spec(spec), overwrite=overwrite,
                           later=later)
    return path, time.perf_counter() - t0


def merge_parts(out: Path | str, k: int, overwrite: bool = False, remove: bool = False) -> tuple[Path, dict]:
    """Assemble the dataset ``out`` from its ``k`` parts (``part_path``; each checked against its checksums,
    all of one spec) and write it atomically: the same episodes and metadata as one process writes, but for
    timings (``collect_seconds``: the slowest part's) and ``"parts": k``. ``remove``: delete the parts once
    the dataset is written."""
    parts = [part_path(out, i, k) for i in range(k)]
    missing = [str(p) for p in parts if not p.exists()]
    if missing:
        raise RealaxError(f"cannot merge {out}: part(s) {', '.join(missing)} not written (expected {k} parts)")
    for p in parts:
        minari_io.require_intact(p)
    metas = [minari_io.metadata(p) for p in parts]
    for i, (p, m) in enumerate(zip(parts, metas, strict=True)):
        if m.get("part") != [i, k] or m.get("spec") != metas[0].get("spec"):
            raise RealaxError(f"{p} is not part {i} of {k} of the dataset part 0 describes (its part: "
                              f"{m.get('part')}; same spec: {m.get('spec') == metas[0].get('spec')})")
    spec = DataSpec.from_dict(metas[0]["spec"])
    eps = Episodes.concatenate([minari_io.read(p) for p in parts])
    meta = {**{key: v for key, v in metas[0].items() if key not in ("part", "write_seconds")},
            **episode_meta(eps, spec), "collect_seconds": max(m["collect_seconds"] for m in metas), "parts": k}
    out = write_guard.check_target(out, overwrite)
    with write_guard.write_lock(out):
        path, meta["write_seconds"] = _write(out, spec, eps, meta, overwrite)
    if remove:
        for p in parts:
            shutil.rmtree(p)
    return path, meta
