"""What a dataset write may replace, and the exclusive lock a write holds on its target.

A dataset write (``realax data generate``, ``minari_io.write``) must never destroy what it did not write, and
two writes of one folder must not interleave. So:

- ``check_target`` refuses a target that is the working directory or one of its parents, a plain file, a
  symbolic link, a folder whose name is not a Minari dataset id (``NAME-vN``: ``minari.load_dataset`` could not
  open it by name), and any existing folder that is not provably a realax dataset (a ``realax_manifest.json``
  of realax's format, and no file the manifest does not list). An existing dataset is replaced only with
  ``overwrite``; the check runs before collecting and again just before the final rename.
- ``write_lock`` takes ``.<name>.lock`` next to the target, created with ``O_CREAT | O_EXCL`` and holding
  ``{pid, host, started}``. A lock whose process is gone (same host, pid not alive) is stale and taken over
  with a note; a live one raises ``LockedError`` naming the lock file, the pid and the host. While the lock is
  held no other realax write of the target runs, so staging folders ``.<name>.partial-*`` left beside it are
  provably stale: they are removed (with a note). The lock is released on success, error and Ctrl-C; a
  killed process leaves a stale lock, which the next write takes over.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import re
import shutil
import socket
import time
import uuid
from pathlib import Path

from realax.errors import LockedError, RealaxError
from realax.files import cwd_or_above

MANIFEST = "realax_manifest.json"
FORMAT = "realax-minari/1"
#: a Minari dataset id without namespace (``minari.dataset.minari_dataset.DATASET_ID_RE`` with the version)
DATASET_ID = re.compile(r"[-_\w]+?-v\d+")


def suggested_id(name: str) -> str:
    """A valid Minari dataset id close to the folder name ``name``: ``<name>-v0``, odd characters as ``_``."""
    if DATASET_ID.fullmatch(name):
        return name
    stem = re.sub(r"[^-_\w]", "_", name).strip("-") or "dataset"
    return f"{stem}-v0"


def not_ours(path: Path) -> str | None:
    """Why the existing ``path`` is not provably a realax dataset (None: it is one, and may be replaced)."""
    if path.is_symlink():
        return "a symbolic link"
    if not path.is_dir():
        return "a file, not a folder"
    manifest = path / MANIFEST
    if not manifest.is_file():
        return f"a folder without {MANIFEST} (not a realax dataset)"
    try:
        listed = json.loads(manifest.read_text())
        files = set(listed["files"])
        if listed.get("format") != FORMAT:
            raise ValueError(listed.get("format"))
    except (ValueError, KeyError, TypeError, OSError):
        return f"a folder whose {MANIFEST} is not a realax manifest"
    extra = sorted(str(p.relative_to(path)) for p in path.rglob("*")
                   if (p.is_file() or p.is_symlink()) and p != manifest and str(p.relative_to(path)) not in files)
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        return f"a dataset folder holding files the dataset did not write ({shown})"
    return None


def check_target(out: Path | str, overwrite: bool) -> Path:
    """The absolute path of the dataset folder ``out`` if a write may go there, else a ``RealaxError``
    (``FileExistsError`` for an existing dataset without ``overwrite``); see the module docstring."""
    given = Path(out)
    path = Path(os.path.abspath(given))
    real = Path(os.path.realpath(given))
    what = cwd_or_above(given)
    if what:
        raise RealaxError(f"--out {given} is {what} ({real}); a dataset is written to a folder of its own, named "
                          f"as a Minari id, e.g. --out datasets/NAME-v0; nothing was changed")
    if not DATASET_ID.fullmatch(path.name):
        raise RealaxError(f"--out {given}: the folder name {path.name!r} is not a Minari dataset id (NAME-vN), so "
                          f"minari.load_dataset could not open it by name; use --out {path.parent / suggested_id(path.name)}")
    above = path.parent
    while not os.path.lexists(above) and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise RealaxError(f"--out {given}: {above} is a file, so no folder can be created under it")
    if not os.access(above, os.W_OK | os.X_OK):
        raise RealaxError(f"--out {given}: {above} is not writable (permission denied)")
    if os.path.lexists(path):
        reason = not_ours(path)
        if reason is not None:
            raise RealaxError(f"{path} exists and is {reason}; choose another --out (--overwrite replaces only a "
                              f"folder holding a realax dataset); nothing was changed")
        if not overwrite:
            raise FileExistsError(f"{path} exists (a realax dataset); choose another --out or pass --overwrite to "
                                  f"replace it")
    return path


def lock_path(target: Path | str) -> Path:
    """The lock file of a dataset folder: ``.<name>.lock`` beside it."""
    target = Path(os.path.abspath(target))
    return target.parent / f".{target.name}.lock"


def stale_partials(out: Path | str) -> list[Path]:
    """Staging folders ``.<name>.partial-*`` next to ``out`` (left by interrupted writes when no write runs)."""
    out = Path(os.path.abspath(out))
    return sorted(out.parent.glob(f".{out.name}.partial-*")) if out.parent.is_dir() else []


@dataclasses.dataclass
class WriteLock:
    """A held lock: its file, what it records, and notes for the user (stale lock taken over, leftovers removed)."""

    path: Path
    target: Path
    info: dict
    notes: list[str] = dataclasses.field(default_factory=list)


_HELD: dict[Path, WriteLock] = {}  # targets this process holds, so a write inside a held lock does not re-lock


def _read(lock: Path) -> dict | None:
    try:
        info = json.loads(lock.read_text())
        return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None
    except (OSError, ValueError):
        return None


def _alive(info: dict) -> bool:
    """Whether the process that wrote ``info`` may still run (another host: it cannot be told, so yes)."""
    if info.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(info["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _describe(lock: Path, info: dict, target: Path) -> str:
    return (f"{target} is being written by another run: the lock {lock} is held by pid {info.get('pid')} on host "
            f"{info.get('host')} (since {info.get('started')}); wait for it to finish, or delete the lock file if "
            f"that run is gone")


def _take_over(lock: Path, stale: dict) -> bool:
    """Remove the stale ``lock`` if it still holds ``stale`` (moved aside first, so a fresh lock another
    process wrote meanwhile is put back, not deleted)."""
    aside = lock.with_name(f"{lock.name}.stale-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return False
    if _read(aside) == stale:
        aside.unlink()
        return True
    with contextlib.suppress(OSError):
        os.link(aside, lock)  # not the stale lock: restore it (fails if yet another lock took its place)
    aside.unlink()
    return False


def _acquire(target: Path) -> WriteLock:
    lock = lock_path(target)
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    notes, unreadable_since = [], None
    for _ in range(100):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except PermissionError as e:
            raise RealaxError(f"{target}: cannot create the lock file {lock} ({e.strerror})") from None
        except FileExistsError:
            holder = _read(lock)
            if holder is None:  # being written this instant, or a crash between create and write
                unreadable_since = unreadable_since or time.monotonic()
                if time.monotonic() - unreadable_since > 2.0:
                    raise LockedError(f"{target}: the lock file {lock} exists but is unreadable; if no write of "
                                      f"{target} runs, delete it") from None
                time.sleep(0.05)
                continue
            if _alive(holder):
                raise LockedError(_describe(lock, holder, target)) from None
            if _take_over(lock, holder):
                notes.append(f"took over the stale lock {lock} of pid {holder.get('pid')} on {holder.get('host')} "
                             f"(started {holder.get('started')}; that process is gone)")
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(info, f)
        return WriteLock(lock, target, info, notes)
    raise LockedError(f"{target}: could not take the lock {lock} (it keeps changing hands)")


def _release(held: WriteLock) -> None:
    if _read(held.path) == held.info:  # never remove a lock that is not ours
        with contextlib.suppress(FileNotFoundError):
            held.path.unlink()


@contextlib.contextmanager
def write_lock(target: Path | str):
    """Hold the exclusive write lock of the dataset folder ``target`` (re-entrant within a process); yields a
    ``WriteLock`` whose ``notes`` say what was cleaned up. Leftover staging folders are removed on entry."""
    target = Path(os.path.abspath(target))
    if target in _HELD:
        yield _HELD[target]
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    held = _acquire(target)
    _HELD[target] = held
    try:
        for p in stale_partials(target):
            shutil.rmtree(p, ignore_errors=True)
            held.notes.append(f"removed {p}, a staging folder left by an interrupted write of {target}")
        yield held
    finally:
        _HELD.pop(target, None)
        _release(held)
