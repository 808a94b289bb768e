"""Versioned environment ids mapped to lazy entry points: one table, no if/elif chains."""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from typing import TYPE_CHECKING, Any

from realax.errors import RealaxError

if TYPE_CHECKING:  # the registry never imports JAX: names for the type checker only
    from realax.core import Environment, EnvParams

_ID = re.compile(r"^realax/[A-Za-z][A-Za-z0-9_]*-v\d+$")


def _load(entry_point: str) -> Any:
    module, _, attr = entry_point.partition(":")
    target = importlib.import_module(module)
    return getattr(target, attr) if attr else target


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """One registered id: where its class lives and what it declares before anything is imported."""

    id: str
    entry_point: str
    """``"module:Class"`` of the environment."""
    multi_agent: bool
    """Whether the class is a ``MultiAgentEnv`` (a test checks this against the class)."""
    max_episode_steps: int | None = None
    """The horizon with the default options (Gymnasium's ``env.spec.max_episode_steps``)."""
    baselines: str | None = None
    """Module of the env's own non-learning policies: its ``BASELINES`` maps a name to ``factory(env, params)``;
    its ``SLOW`` (optional) names those too slow for the rows printed beside every trained agent."""
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def load(self) -> type[Environment]:
        """The environment class (imports its family)."""
        return _load(self.entry_point)

    def load_baselines(self) -> Any:
        """The baselines module (``None`` when the env declares none)."""
        return None if self.baselines is None else _load(self.baselines)

    @property
    def description(self) -> str:
        """The class's one-line ``description`` (imports its family)."""
        return self.load().description


_REGISTRY: dict[str, EnvSpec] = {}


def register(id: str, entry_point: str, *, multi_agent: bool = False, max_episode_steps: int | None = None,
             baselines: str | None = None, **kwargs: Any) -> EnvSpec:
    """Add an id; ids look like ``realax/Name-vN`` and may be registered once. ``kwargs`` are constructor
    options fixed for this id; see ``EnvSpec`` for the rest."""
    if not _ID.match(id):
        raise RealaxError(f"environment id {id!r} must look like 'realax/Name-v0'")
    if id in _REGISTRY:
        raise RealaxError(f"environment id {id!r} is already registered")
    if "description" in kwargs:
        raise RealaxError("register() takes no description: `realax list` shows the env class's `description` "
                          "attribute (set it on the class)")
    spec = EnvSpec(id, entry_point, multi_agent, max_episode_steps, baselines, kwargs)
    _REGISTRY[id] = spec
    return spec


def spec(id: str) -> EnvSpec:
    """The ``EnvSpec`` of a registered id; an unknown id is a ``RealaxError`` listing the registered ones."""
    try:
        return _REGISTRY[id]
    except KeyError:
        raise RealaxError(f"unknown environment id {id!r}; registered ids: {', '.join(sorted(_REGISTRY))}") from None


def spec_of(env: Any) -> EnvSpec | None:
    """The spec whose class is that of ``env`` under its wrappers (None for an unregistered class). Only
    families already imported are looked at: an instance's class has been imported."""
    cls = type(env.unwrapped)
    for s in _REGISTRY.values():
        if s.entry_point.partition(":")[0] in sys.modules and s.load() is cls:
            return s
    return None


def list_envs(multi_agent: bool | None = None) -> list[str]:
    """Registered ids, sorted; ``multi_agent`` filters when given."""
    return sorted(i for i, s in _REGISTRY.items() if multi_agent is None or s.multi_agent == multi_agent)


def make(id: str, **kwargs: Any) -> tuple[Environment, EnvParams]:
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
