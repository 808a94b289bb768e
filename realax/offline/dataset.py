"""Write a dataset: collect it (``generate``), optionally measure it (``measures``), store it atomically in the
Minari format under the target's lock (``minari_io``, ``write_guard``)."""

from __future__ import annotations

import dataclasses
import numbers
import time
from typing import Any

from realax import registry
from realax.errors import RealaxError
from realax.offline import measures, minari_io, write_guard
from realax.offline.generate import DataSpec, build, generate


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


def generate_dataset(spec: DataSpec, out, progress: bool = True, overwrite: bool = False,
                     max_envs: int = 1024, measure: bool = False, devices: int | None = None) -> tuple[Any, dict]:
    """Generate ``spec`` and write it to ``out`` (atomically, Minari format): ``(path, metadata)``.
    ``measure``: also compute TQ and SACo (``measures``) and store them, with the binning, in the metadata.
    ``devices``: how many devices the collection is split over (``generate.collect``).

    ``out`` is checked before anything is collected (``write_guard.check_target``: a Minari id, and an existing
    folder only with ``overwrite`` and only when it holds a realax dataset), and its write lock is held from
    then to the end; the returned metadata's ``notes`` say what the lock cleaned up (not stored)."""
    if isinstance(max_envs, bool) or not isinstance(max_envs, numbers.Integral) or max_envs < 1:
        raise RealaxError(f"max_envs (--num-envs) must be a whole number >= 1, got {max_envs!r}")
    spec.validate()
    out = write_guard.check_target(out, overwrite)  # fail before spending the time to collect
    with write_guard.write_lock(out) as lock:
        spec = spec.resolved()
        eps, meta = generate(spec, progress=progress, max_envs=max_envs, devices=devices)
        if measure:
            if meta["expert_policy"] is None:
                raise RealaxError(f"{spec.env_id} has no non-random baseline to serve as the expert: pass an expert")
            refs = measures.references(spec, meta["expert_policy"], max_envs=max_envs, progress=progress)
            meta["measures"] = {**measures.measure_episodes(eps, refs), "reference": measures.REPLAY_PROXY}
        setup = build(spec)
        obs_space, act_space = minari_io.gym_spaces(setup.env, setup.params, setup.multi_agent)
        t0 = time.perf_counter()
        path = minari_io.write(out, eps, meta, obs_space, act_space, env_spec=gymnasium_spec(spec),
                               overwrite=overwrite)
        meta["write_seconds"] = time.perf_counter() - t0
    meta["notes"] = list(lock.notes)
    return path, meta
