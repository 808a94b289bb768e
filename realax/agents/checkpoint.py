"""Checkpoints as named trees, and the saved agents of ``realax train`` loaded back as policies.

A checkpoint is any training carry (parameters, optimiser state, the update counter, env states, keys)
written by name with ``flax.serialization`` (``to_state_dict``: dataclass and named-tuple fields by their
names, sequences by position) as MessagePack, with a SHA-256 of the bytes so a damaged file is named as such.
Loading walks the names of the tree the code builds now (``template``): a leaf that is missing, renamed or
of another shape is a ``RealaxError`` naming its path, so a file never lands silently in the wrong place,
and any version of the code that keeps the names loads it. Typed PRNG keys are stored as their key data.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import msgpack
import numpy as np
from flax import serialization

from realax.agents.algorithms import get, make_config
from realax.errors import RealaxError
from realax.files import write_atomic

#: the layout of a checkpoint file; bumped if the wrapping (not the tree) ever changes
FORMAT = 1
#: file names inside a run folder
AGENT_FILE = "agent.msgpack"


def _is_key(x: Any) -> bool:
    return hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def named(tree: Any) -> dict:
    """``tree`` as a nested dict of NumPy arrays keyed by field names (keys as their key data)."""
    state = serialization.to_state_dict(tree)
    return jax.tree.map(lambda x: np.asarray(jax.random.key_data(x)) if _is_key(x) else np.asarray(x), state)


def flat_names(state: Any, prefix: str = "") -> dict[str, Any]:
    """``{"train_state/params/...": leaf}`` of a nested state dict."""
    if isinstance(state, dict):
        out: dict[str, Any] = {}
        for k, v in state.items():
            out.update(flat_names(v, f"{prefix}{k}/"))
        return out if out or not prefix else {prefix.rstrip("/"): {}}
    return {prefix.rstrip("/"): state}


def save(path: Path | str, tree: Any, extra: dict | None = None) -> None:
    """Write ``tree`` (and JSON-able ``extra``) to ``path`` atomically, by name."""
    payload = serialization.msgpack_serialize({"tree": named(tree), "extra": json.dumps(extra or {})})
    wrapped = msgpack.packb({"format": FORMAT, "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload})
    path = Path(path)
    write_atomic(path, lambda p: Path(p).write_bytes(wrapped))


def read(path: Path | str, what: str = "checkpoint") -> tuple[dict, dict]:
    """``(state dict, extra)`` of a checkpoint file, or a ``RealaxError`` for a missing or damaged one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RealaxError(f"{path}: no such {what} file") from None
    except OSError as e:
        raise RealaxError(f"{path} cannot be read: {e.strerror or e}") from None
    try:
        outer = msgpack.unpackb(raw)
        payload = outer["payload"]
        if outer.get("format") != FORMAT:
            raise RealaxError(f"{path} has checkpoint format {outer.get('format')!r}; this realax reads {FORMAT}")
        if hashlib.sha256(payload).hexdigest() != outer["sha256"]:
            raise ValueError("its checksum does not match its contents")
        inner = serialization.msgpack_restore(payload)
        return inner["tree"], json.loads(inner["extra"])
    except RealaxError:
        raise
    except Exception as e:  # noqa: BLE001 - msgpack, zlib, key and type errors all mean a damaged file
        raise RealaxError(f"{path} is damaged ({type(e).__name__}: {e})") from None


def restore(template: Any, state: dict, source: str) -> Any:
    """``template``'s tree (arrays or ``jax.eval_shape`` structs) with the leaves of ``state`` put in by name;
    a ``RealaxError`` names the leaves that are missing or unexpected (a renamed field shows as both) and any
    leaf of another shape."""
    want, have = flat_names(_shapes(template)), flat_names(state)
    missing, unexpected = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or unexpected:
        few = lambda names: f"{names[:5]}{' ...' if len(names) > 5 else ''}"  # noqa: E731
        parts = ([f"missing {few(missing)}"] if missing else []) + ([f"not expected {few(unexpected)}"] if unexpected else [])
        raise RealaxError(f"{source} does not match this code's training state: {'; '.join(parts)} (a field renamed "
                          f"or removed since it was written, or a file of another algorithm)")
    for name, spec in want.items():
        if not isinstance(spec, dict) and tuple(np.shape(have[name])) != tuple(spec.shape):
            raise RealaxError(f"{source}: {name} has shape {tuple(np.shape(have[name]))}; this environment and "
                              f"config need {tuple(spec.shape)}")
    restored = serialization.from_state_dict(template, state)
    return jax.tree.map(lambda t, a: jax.random.wrap_key_data(jnp.asarray(a)) if _is_key(t) else jnp.asarray(a, t.dtype),
                        template, restored)


def _shapes(template: Any) -> Any:
    """``template`` with each leaf replaced by a ShapeDtypeStruct of the stored array (keys: their key data)."""
    def spec(x):
        if _is_key(x):
            return jax.ShapeDtypeStruct(tuple(x.shape) + jax.random.key_data(jax.random.key(0)).shape, np.uint32)
        return jax.ShapeDtypeStruct(np.shape(x), x.dtype)

    return serialization.to_state_dict(jax.tree.map(spec, template))


def load(path: Path | str, template: Any, what: str = "checkpoint") -> tuple[Any, dict]:
    """``(tree, extra)``: a checkpoint read into the structure of ``template`` (``restore``)."""
    state, extra = read(path, what)
    return restore(template, state, str(path)), extra


# -- saved agents (folders written by ``realax train``) -----------------------------------------------------
def read_meta(folder: Path | str) -> dict:
    """The ``meta.json`` of a run folder, or a ``RealaxError`` saying why ``folder`` is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RealaxError(f"{folder}: no such folder (a run or saved agent is a folder written by `realax train`)")
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        raise RealaxError(f"{folder} is not a saved agent: it has no meta.json (use a folder written by "
                          f"`realax train`)") from None
    except (OSError, ValueError) as e:
        raise RealaxError(f"{folder}/meta.json is damaged ({type(e).__name__}: {e})") from None
    missing = [k for k in ("algo", "env_id", "env_kwargs", "config") if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise RealaxError(f"{folder}/meta.json lacks {missing}: not an agent written by `realax train`")
    return meta


def kwargs_clash(trained: dict, given: dict) -> dict:
    """The ``given`` env options that contradict those an agent was ``trained`` with (one file named by two
    paths is no contradiction)."""

    def same(a: Any, b: Any) -> bool:
        if a == b:
            return True
        both = isinstance(a, str) and isinstance(b, str) and os.path.isfile(a) and os.path.isfile(b)
        return both and os.path.samefile(a, b)

    return {k: v for k, v in given.items() if k in trained and not same(trained[k], v)}


def load_policy(folder: Path | str, env: Any, params: Any, data: Any = None) -> Any:
    """The greedy policy of the agent saved in ``folder`` (its ``agent.msgpack``), built for ``env``; offline
    learners need their dataset's transitions as ``data`` (their networks normalise with its statistics).
    A ``RealaxError`` names any reason it cannot be loaded (missing or damaged files, an unfinished run,
    another algorithm's or environment's arrays, shapes that do not fit ``env``)."""
    folder = Path(folder)
    meta = read_meta(folder)
    entry = get(meta["algo"])
    config = make_config(meta["algo"], {k: v for k, v in meta["config"].items() if k != "dataset"})
    if not (folder / AGENT_FILE).is_file():
        status = meta.get("status")
        hint = (f"the run is {status}: finish it with `realax train --resume {folder}`" if status in ("running", "interrupted")
                else meta.get("error", "the run diverged") if status == "diverged"
                else "an interrupted or partial copy of a run?")
        raise RealaxError(f"{folder} has no {AGENT_FILE} ({hint})")
    if entry.offline and data is None:
        raise RealaxError(f"{folder} holds an offline {meta['algo']} agent: it needs its dataset {meta.get('dataset')}")
    trainer = entry.make_train(config, env, params, data)
    template = jax.eval_shape(trainer.init, jax.random.key(0))
    state, _ = read(folder / AGENT_FILE, "agent")
    try:
        carry = restore(template, state, str(folder / AGENT_FILE))
    except RealaxError as e:
        raise RealaxError(f"agent {folder} does not fit this environment: {e} (it was trained with "
                          f"{meta['env_kwargs']}; run it with those options)") from None
    return trainer.policy(carry)
