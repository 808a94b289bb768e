"""Writing files without losing any: atomic writes with the user's umask, and the rule for replacing a folder
(only one that is provably ours, never the working directory or a folder above it)."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable

from realax.errors import RealaxError


def umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp)`` then rename ``tmp`` to ``path``: a reader sees the old file or the whole new one. The file
    gets the mode a plain ``open`` would give (``0o666 & ~umask``), not ``mkstemp``'s 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def cwd_or_above(path: Path | str) -> str | None:
    """"the working directory" or "a parent of the working directory" when ``path`` (symbolic links
    resolved) is one of them, else None: such a folder is never replaced."""
    real, cwd = Path(os.path.realpath(path)), Path(os.path.realpath(os.getcwd()))
    if real == cwd:
        return "the working directory"
    return "a parent of the working directory" if real in cwd.parents else None


def check_replaceable(path: Path, is_ours: Callable[[Path], bool], what: str) -> None:
    """``RealaxError`` unless ``path`` may be replaced by a new ``what``: it must be a folder that ``is_ours``
    recognises, and neither the working directory nor a folder above it."""
    path = Path(path)
    where = cwd_or_above(path)
    if where:
        raise RealaxError(f"refusing to replace {path}: it is {where}")
    if not path.is_dir():
        raise RealaxError(f"refusing to replace {path}: it is a file, not a {what} folder")
    if not is_ours(path):
        raise RealaxError(f"refusing to replace {path}: it is not a {what} folder (only those are replaced by "
                          f"--overwrite); choose another folder")


def publish(staged: Path, out: Path, overwrite: bool, is_ours: Callable[[Path], bool], what: str) -> None:
    """Rename the finished folder ``staged`` to ``out``. An existing ``out`` is refused unless ``overwrite``
    and ``check_replaceable`` allow it; it is moved aside first and deleted only once the new one is in place."""
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it, or choose another folder")
        check_replaceable(out, is_ours, what)
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(out, old)
        try:
            os.replace(staged, out)
        except OSError:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, out)  # a folder created meanwhile makes this fail (non-empty) rather than merge


def read_json(path, what: str, error: type[RealaxError] = RealaxError) -> Any:
    """The decoded JSON of a user's file, or ``error`` naming ``what`` and the cause (unreadable, not UTF-8,
    not JSON, nested too deeply): the one reader of scenario and city files."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{what} {path} is not valid JSON: {e}") from None
    except RecursionError:
        raise error(f"{what} {path} is nested too deeply") from None
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror}") from None


def preset_or_file(scenario: Any, presets: dict[str, Any], kind: type, family: str,
                   build: Callable[..., Any], error: type[RealaxError]) -> Any:
    """A family's scenario: ``scenario`` itself if it is already a ``kind``, a preset by name, or the JSON file at
    that path passed to ``build(fields, where=...)`` (its ``name`` defaults to the file's stem); anything else is
    ``error`` listing the presets."""
    if isinstance(scenario, kind):
        return scenario
    if not isinstance(scenario, (str, os.PathLike)):
        raise error(f"scenario must be a preset name {sorted(presets)} or a JSON file path, got {scenario!r}")
    if str(scenario) in presets:
        return presets[str(scenario)]
    if str(scenario).endswith(".json") or os.path.exists(scenario):
        data = read_json(scenario, f"{family} scenario file", error)
        if isinstance(data, dict):
            data = {"name": os.path.splitext(os.path.basename(str(scenario)))[0], **data}
        return build(data, where=f"{family} scenario {scenario}")
    raise error(f"unknown {family} scenario {scenario!r}; presets: {sorted(presets)}, or a path to a .json file")


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, so ``json.dumps`` writes standard JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def dumps(value: Any, **kwargs) -> str:
    """Standard JSON (no ``NaN``/``Infinity`` tokens: non-finite numbers become null)."""
    return json.dumps(json_safe(value), allow_nan=False, **kwargs)
