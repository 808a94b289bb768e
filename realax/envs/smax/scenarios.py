"""SMAX scenarios: JaxMARL's fourteen named maps and user-defined team compositions.

Facts (research/jax-env-anchors.md §2.1, from ``JaxMARL:jaxmarl/environments/smax/smax_env.py``
``MAP_NAME_TO_SCENARIO``): unit type ids 0 marine, 1 marauder, 2 stalker, 3 zealot, 4 zergling,
5 hydralisk; the ``smacv2_*`` maps draw unit types uniformly over all six types for the allies and copy them
to the enemies, and draw start positions with the surround-or-reflect generator (§2.8).

A user scenario names unit types and counts per team, e.g.
``custom({"stalker": 2, "zealot": 3}, {"zergling": 8})``, optionally with start positions per unit.
A team may not need more room than half the map: the summed square footprints ``(2 r)^2`` of its units must fit
in ``W/2 x H``, and a team has at most ``MAX_UNITS_PER_TEAM`` (128) units, checked before any list or array is
built (rules of this package, not of JaxMARL, which accepts any count; its largest map has 30 per team).
Every bad input is a ``RealaxError`` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from realax.errors import RealaxError

#: the most units one team may have: the env's arrays are [units, units, 13] per step, so this bounds them
#: (256 units: 3.4 MB of pairwise features), and 128 is four times JaxMARL's largest map (27m_vs_30m)
MAX_UNITS_PER_TEAM = 128
UNIT_TYPES = ("marine", "marauder", "stalker", "zealot", "zergling", "hydralisk")
#: one-letter SMAC abbreviations (§2.2: m, M, s, Z, z, h) accepted as well as the full names
_ALIASES = {"m": 0, "M": 1, "s": 2, "Z": 3, "z": 4, "h": 5}
#: unit radii of §2.2, used for the footprint rule only (the dynamics read them from the params)
_RADIUS = (0.375, 0.5625, 0.625, 0.5, 0.375, 0.625)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    ally_types: tuple[int, ...]
    enemy_types: tuple[int, ...]
    smacv2_positions: bool = False
    smacv2_types: bool = False
    ally_positions: tuple[tuple[float, float], ...] | None = None
    enemy_positions: tuple[tuple[float, float], ...] | None = None

    @property
    def num_allies(self) -> int:
        return len(self.ally_types)

    @property
    def num_enemies(self) -> int:
        return len(self.enemy_types)


def _team(*parts: tuple[int, int]) -> tuple[int, ...]:
    return tuple(t for n, t in parts for _ in range(n))


def _marines(a: int, e: int, name: str) -> Scenario:
    return Scenario(name, _team((a, 0)), _team((e, 0)))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    _marines(3, 3, "3m"), _marines(8, 8, "8m"), _marines(25, 25, "25m"),
    _marines(5, 6, "5m_vs_6m"), _marines(10, 11, "10m_vs_11m"), _marines(27, 30, "27m_vs_30m"),
    Scenario("2s3z", _team((2, 2), (3, 3)), _team((2, 2), (3, 3))),
    Scenario("3s5z", _team((3, 2), (5, 3)), _team((3, 2), (5, 3))),
    Scenario("3s5z_vs_3s6z", _team((3, 2), (5, 3)), _team((3, 2), (6, 3))),
    Scenario("3s_vs_5z", _team((3, 2)), _team((5, 3))),
    Scenario("6h_vs_8z", _team((6, 5)), _team((8, 3))),
    *[Scenario(f"smacv2_{n}_units", _team((n, 0)), _team((n, 0)), True, True) for n in (5, 10, 20)],
]}


def unit_type_id(name: str | int) -> int:
    """The id of a unit type given by full name, SMAC letter or id; ``RealaxError`` lists the valid ones."""
    if isinstance(name, (int, np.integer)) and not isinstance(name, (bool, np.bool_)) and 0 <= int(name) < len(UNIT_TYPES):
        return int(name)
    if isinstance(name, str):
        if name in _ALIASES:
            return _ALIASES[name]
        if name.lower() in UNIT_TYPES:
            return UNIT_TYPES.index(name.lower())
    raise RealaxError(f"unknown unit type {_short(name)}; valid unit types: {', '.join(UNIT_TYPES)} "
                     f"(or ids 0-{len(UNIT_TYPES) - 1}, or letters {', '.join(_ALIASES)})")


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _types(team: str, units: Mapping[str | int, int] | Sequence[str | int]) -> tuple[int, ...]:
    most = MAX_UNITS_PER_TEAM
    if isinstance(units, Mapping):
        out, total = [], 0
        for name, count in units.items():
            if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
                raise RealaxError(f"{team}: count of {_short(name)} must be an integer >= 0, got {_short(count)}")
            total += int(count)
            if total > most:  # before building the list: a count of 10**12 is refused, not allocated
                raise RealaxError(f"{team}: {total} units or more is too many; a team has at most {most}")
            out += [unit_type_id(name)] * int(count)
        types = tuple(out)
    elif isinstance(units, Sequence) and not isinstance(units, (str, bytes)):
        if len(units) > most:
            raise RealaxError(f"{team}: {len(units)} units is too many; a team has at most {most}")
        types = tuple(unit_type_id(u) for u in units)
    else:
        raise RealaxError(f"{team} must be a mapping {{unit type: count}} or a list of unit types, got {_short(units)}")
    if not types:
        raise RealaxError(f"{team} needs at least one unit (at most {most})")
    return types


def _positions(team: str, positions: Any, n: int, width: float, height: float
               ) -> tuple[tuple[float, float], ...] | None:
    if positions is None:
        return None
    if isinstance(positions, (str, bytes, Mapping)):
        raise RealaxError(f"{team}_positions must be a list of ({n}) [x, y] pairs, got {_short(positions)}")
    try:
        arr = np.asarray(positions, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # ragged lists, text, objects
        raise RealaxError(f"{team}_positions must be a list of ({n}) [x, y] number pairs, got {_short(positions)}") from None
    if arr.shape != (n, 2):
        raise RealaxError(f"{team}_positions must have shape ({n}, 2) (one (x, y) per unit), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr >= [width, height]):
        raise RealaxError(f"{team}_positions must lie strictly inside the map (0, {width}) x (0, {height}); "
                          "units touching a wall die")
    return tuple(map(tuple, arr.tolist()))


def check_room(types: tuple[int, ...], team: str, width: float, height: float) -> None:
    need = sum((2 * _RADIUS[t]) ** 2 for t in types)
    if need > width / 2 * height:
        raise RealaxError(f"{team}: {len(types)} units need {need:.0f} square units but a {width:g}x{height:g} map "
                         f"gives each team {width / 2 * height:.0f}; use fewer units")


def _flag(name: str, v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise RealaxError(f"{name} must be true or false, got {_short(v)}")
    return bool(v)


def _map_size(width: float, height: float) -> tuple[float, float]:
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not np.isfinite(v) or not 0 < v <= 1e4:
            raise RealaxError(f"map {name} must be a number in (0, 10000], got {_short(v)}")
    return float(width), float(height)


def custom(allies: Mapping[str | int, int] | Sequence[str | int], enemies: Mapping[str | int, int] | Sequence[str | int],
           ally_positions: Any = None, enemy_positions: Any = None, smacv2_positions: bool = False,
           width: float = 32.0, height: float = 32.0, name: str = "custom") -> Scenario:
    """A user scenario: ``allies``/``enemies`` map unit type names to counts (or list unit types), 1 to
    ``MAX_UNITS_PER_TEAM`` units each; positions are optional ``(n, 2)`` start points strictly inside the map."""
    width, height = _map_size(width, height)
    if not isinstance(name, str):
        raise RealaxError(f"scenario name must be a string, got {_short(name)}")
    a, e = _types("allies", allies), _types("enemies", enemies)
    for team, types in (("allies", a), ("enemies", e)):
        check_room(types, team, width, height)
    if _flag("smacv2_positions", smacv2_positions) and (ally_positions is not None or enemy_positions is not None):
        raise RealaxError("give either start positions or smacv2_positions=True, not both")
    return Scenario(name, a, e, bool(smacv2_positions), False,
                    _positions("ally", ally_positions, len(a), width, height),
                    _positions("enemy", enemy_positions, len(e), width, height))


def resolve(scenario: str | Scenario, width: float = 32.0, height: float = 32.0) -> Scenario:
    """A named scenario or a ``Scenario`` (every field checked as ``custom`` checks it); unknown names raise a
    ``RealaxError`` listing the valid ones."""
    if isinstance(scenario, Scenario):
        s = scenario
        for team, types in (("allies", s.ally_types), ("enemies", s.enemy_types)):
            if not isinstance(types, (tuple, list)):
                raise RealaxError(f"{team} unit types must be a tuple of unit type ids, got {_short(types)}")
        out = custom(list(s.ally_types), list(s.enemy_types), s.ally_positions, s.enemy_positions,
                     s.smacv2_positions, width, height, s.name)
        return dataclasses.replace(out, smacv2_types=_flag("smacv2_types", s.smacv2_types))
    if isinstance(scenario, str) and scenario in SCENARIOS:
        return SCENARIOS[scenario]
    raise RealaxError(f"unknown SMAX scenario {_short(scenario)}; valid scenarios: {', '.join(SCENARIOS)} "
                      "(or build one with realax.envs.smax.scenarios.custom)")
