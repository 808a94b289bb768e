"""Versioned environment ids mapped to lazy entry points: one table, no if/elif chains."""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

from realax.errors import RealaxError

_ID = re.compile(r"^realax/[A-Za-z][A-Za-z0-9_]*-v\d+$")


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """One registered id: where its class lives (``load`` imports it), whether it is multi-agent, a one-line
    description and the constructor arguments the id fixes."""

    id: str
    entry_point: str  # "module:Class"
    multi_agent: bool
    description: str
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def load(self):
        module, _, attr = self.entry_point.partition(":")
        return getattr(importlib.import_module(module), attr)


_REGISTRY: dict[str, EnvSpec] = {}


def register(id: str, entry_point: str, *, description: str, multi_agent: bool = False, **kwargs) -> EnvSpec:
    """Add an id; ids look like ``realax/Name-vN`` and may be registered once."""
    if not _ID.match(id):
        raise RealaxError(f"environment id {id!r} must look like 'realax/Name-v0'")
    if id in _REGISTRY:
        raise RealaxError(f"environment id {id!r} is already registered")
    spec = EnvSpec(id, entry_point, multi_agent, description, kwargs)
    _REGISTRY[id] = spec
    return spec


def spec(id: str) -> EnvSpec:
    """The ``EnvSpec`` of a registered id; an unknown id is a ``RealaxError`` listing the registered ones."""
    try:
        return _REGISTRY[id]
    except KeyError:
        raise RealaxError(f"unknown environment id {id!r}; registered ids: {', '.join(sorted(_REGISTRY))}") from None


def list_envs(multi_agent: bool | None = None) -> list[str]:
    """Registered ids, sorted; ``multi_agent`` filters when given."""
    return sorted(i for i, s in _REGISTRY.items() if multi_agent is None or s.multi_agent == multi_agent)


def make(id: str, **kwargs):
    """``(env, default_params)`` for a registered id; keyword arguments go to the constructor, typed and
    checked against its annotations first (``realax.options``): a ``RealaxError`` names a bad one."""
    from realax import options

    s = spec(id)
    cls = s.load()
    hints, _ = options.env_hints(cls)
    env = cls(**{**s.kwargs, **options.coerce_all(kwargs, hints, id)})
    return env, env.default_params


def options_of(id: str) -> dict[str, Any]:
    """Every constructor option of ``id`` with its default (``meta.json`` records them all)."""
    from realax import options

    s = spec(id)
    _, defaults = options.env_hints(s.load())
    return {**defaults, **s.kwargs}
