"""One strict parser for options: ``-e KEY=VALUE`` (environment constructors), ``--set FIELD=VALUE`` (algorithm
configs), and the keyword arguments of ``realax.make``, each typed from the annotations of what receives it.

- booleans accept only true/false, 1/0, yes/no (any case) from text, and ``bool`` from Python;
- integers refuse fractions (``1.7``) and booleans; integral text such as ``2`` or ``1e6`` is read as an int;
- floats must be finite; ``X | None`` also takes ``none``/``null``; strings refuse non-strings (``scenario=123``);
- unknown keys are refused with the list of known ones.

Every error is a ``RealaxError`` naming the key, the value given and what is allowed.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable

from realax.errors import RealaxError

#: upper bounds of config fields that size an allocation (checked by ``require`` where a config has the field),
#: so a typo such as ``--set hidden=1e9`` is a clear error, not an out-of-memory after minutes
SIZE_LIMITS = {"num_envs": 2**20, "num_steps": 2**16, "hidden": 2**14, "layers": 64, "table_size": 2**26,
               "buffer_size": 2**26, "batch_size": 2**22, "num_seeds": 1024, "num_minibatches": 2**16,
               "updates_per_chunk": 2**20, "update_epochs": 10**4}

BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
NONES = ("none", "null")


def split_pairs(items: Iterable[str] | None, flag: str) -> dict[str, str]:
    """``["a=1", "b-c=x"]`` -> ``{"a": "1", "b_c": "x"}``; malformed or repeated keys are refused."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise RealaxError(f"{flag} {item!r} must look like KEY=VALUE")
        if key in out:
            raise RealaxError(f"{flag} gives {key!r} twice ({out[key]!r} and {val!r})")
        out[key] = val
    return out


def _describe(hint) -> str:
    if hint in (bool, int, float, str):
        return {bool: "true or false (also 1/0, yes/no)", int: "an integer", float: "a finite number",
                str: "a string"}[hint]
    if _is_union(hint):
        return " or ".join("none" if a is type(None) else _describe(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", str(hint))


def _is_union(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _bad(key: str, value, hint, owner: str) -> RealaxError:
    where = f" of {owner}" if owner else ""
    return RealaxError(f"option {key!r}{where} takes {_describe(hint)}, got {value!r}")


def coerce(key: str, value: Any, hint: Any, owner: str = "") -> Any:
    """``value`` (text from the command line, or a Python value) as ``hint`` says, or a ``RealaxError``."""
    if hint is Any or hint is inspect.Parameter.empty or hint is None:
        return value
    if _is_union(hint):
        arms = typing.get_args(hint)
        if type(None) in arms and (value is None or (isinstance(value, str) and value.strip().lower() in NONES)):
            return None
        if str in arms and isinstance(value, str):
            return value
        for arm in arms:
            if arm is type(None):
                continue
            try:
                return coerce(key, value, arm, owner)
            except RealaxError:
                pass
        raise _bad(key, value, hint, owner)
    if hint is bool:
        if isinstance(value, str) and value.strip().lower() in BOOLS:
            return BOOLS[value.strip().lower()]
        if isinstance(value, (bool, _np_bool())):
            return bool(value)
        raise _bad(key, value, hint, owner)
    if hint is int:
        number = _real(key, value, hint, owner)
        if isinstance(number, numbers.Integral):
            return int(number)
        if not (math.isfinite(number) and float(number).is_integer()):
            raise RealaxError(f"option {key!r}{f' of {owner}' if owner else ''} takes an integer, got {value!r} "
                              f"(a fraction or not finite)")
        return int(number)
    if hint is float:
        number = float(_real(key, value, hint, owner))
        if not math.isfinite(number):
            raise RealaxError(f"option {key!r}{f' of {owner}' if owner else ''} takes a finite number, got {value!r}")
        return number
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):
            return str(value)
        raise _bad(key, value, hint, owner)
    if hint is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise _bad(key, value, hint, owner)
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise _bad(key, value, hint, owner)
    return value  # a generic alias (tuple[int, ...], dict, ...): passed on unchecked


def _real(key: str, value: Any, hint: Any, owner: str):
    """``value`` as a Python number (text read as a float), or the error naming the option; booleans refused."""
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _bad(key, value, hint, owner) from None
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, _np_bool())):
        return value
    raise _bad(key, value, hint, owner)


def _np_bool():
    import numpy as np

    return np.bool_


def signature_hints(fn: Callable, forwards: Iterable[Callable] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(hints, defaults)`` of ``fn``'s keyword parameters (and of ``forwards``, the callables its ``**kwargs``
    go to: their parameters with defaults); a parameter without an annotation maps to ``Any``."""
    hints: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for i, f in enumerate((fn, *forwards)):
        try:
            resolved = typing.get_type_hints(f)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve: treat it as unannotated
            resolved = {}
        for name, p in inspect.signature(f).parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
                continue
            if i and p.default is p.empty:  # a forwarded callable's subject (a path), not an option
                continue
            hints.setdefault(name, resolved.get(name, Any))
            if p.default is not p.empty:
                defaults.setdefault(name, p.default)
    return hints, defaults


def env_hints(cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """Constructor options of an environment class: its ``__init__``'s, plus those of the callables named by
    its ``forwards_options_to`` (where its ``**kwargs`` go)."""
    init = cls.__init__  # type: ignore[misc]  # the class's own constructor, read from the class on purpose
    return signature_hints(init, getattr(cls, "forwards_options_to", ()))


def config_hints(cls: type) -> dict[str, Any]:
    """Field types of a config dataclass."""
    resolved = typing.get_type_hints(cls)
    return {f.name: resolved.get(f.name, Any) for f in dataclasses.fields(cls)}


def coerce_all(values: dict[str, Any], hints: dict[str, Any], owner: str, what: str = "option") -> dict[str, Any]:
    """Every value typed by ``hints``; a key not in ``hints`` is refused, naming the known ones."""
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise RealaxError(f"{owner} has no {what} {unknown[0]!r}; known: {', '.join(sorted(hints))}")
    return {k: coerce(k, v, hints[k], owner) for k, v in values.items()}


def require(obj, *, positive: Iterable[str] = (), nonnegative: Iterable[str] = (),
            unit: Iterable[str] = (), at_most: dict[str, float] | None = None) -> None:
    """Range checks of a config's fields (``__post_init__``): ``positive`` >= 1 for ints and > 0 for floats,
    ``nonnegative`` >= 0, ``unit`` in [0, 1], ``at_most`` upper bounds (of the fields ``obj`` has); a
    ``RealaxError`` names the field."""
    owner = type(obj).__name__
    for name in positive:
        v = getattr(obj, name)
        if v is not None and not v > 0:
            low = ">= 1" if isinstance(v, int) else "> 0"
            raise RealaxError(f"{owner}.{name} must be {low}, got {v!r}")
    for name in nonnegative:
        v = getattr(obj, name)
        if v is not None and not v >= 0:
            raise RealaxError(f"{owner}.{name} must be >= 0, got {v!r}")
    for name in unit:
        v = getattr(obj, name)
        if v is not None and not 0 <= v <= 1:
            raise RealaxError(f"{owner}.{name} must be in [0, 1], got {v!r}")
    for name, top in (at_most or {}).items():
        v = getattr(obj, name, None)
        if v is not None and not v <= top:
            raise RealaxError(f"{owner}.{name} must be <= {top:g}, got {v!r}")
