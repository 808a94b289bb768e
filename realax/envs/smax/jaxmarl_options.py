"""JaxMARL's keyword arguments of ``SMAX`` and ``HeuristicEnemySMAX``, read as realax options.

``realax.wrappers.jaxmarl`` passes a JaxMARL script's ``ENV_KWARGS`` here (through ``SMAX.jaxmarl_options``),
so the script runs on realax with its keyword arguments unchanged. Facts (JaxMARL v0.2.0,
``jaxmarl/environments/smax/smax_env.py`` ``SMAX.__init__`` and ``heuristic_enemy_smax_env.py``
``HeuristicEnemySMAX.__init__``):

- ``scenario`` is a ``Scenario`` (``unit_types`` of every unit, allies first, ``num_allies``, ``num_enemies``,
  ``smacv2_position_generation``, ``smacv2_unit_type_generation``) or None: then ``num_allies`` x
  ``num_enemies`` marines (5 and 5), with the two ``smacv2_*`` keywords; given a scenario, JaxMARL ignores those
  four keywords (here they must agree with it).
- the unit stats are per-type arrays of six (marine, marauder, stalker, zealot, zergling, hydralisk);
  ``world_steps_per_env_step`` (8) ticks of ``time_per_step`` (1/16 s) make one env step.
- ``HeuristicEnemySMAX(enemy_shoots=True, attack_mode="closest", **smax_kwargs)``.

Mapped: the unit stats, map size, tick length, ``won_battle_bonus``, ``walls_cause_death`` and
``see_enemy_actions`` to ``SMAXParams`` fields; ``world_steps_per_env_step`` to ``ticks_per_step``;
``max_steps`` as it is. Accepted only at the value realax implements (else a ``RealaxError`` naming what realax
has instead): ``observation_type``, ``action_type``, ``use_self_play_reward``, ``enemy_shoots``,
``attack_mode``, ``unit_type_names``, ``unit_type_shorthands``. realax's own options (``scenario`` as a name
or a realax ``Scenario``, ``self_play``, ``ticks_per_step``) pass through.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from realax.envs.smax import scenarios as sc
from realax.errors import RealaxError

#: JaxMARL keyword -> ``SMAXParams`` field holding one value per unit type, and the lowest value allowed there
#: ("> 0": divided by; ">= 0": not)
PER_TYPE = {"unit_type_velocities": ("velocity", ">= 0"), "unit_type_attacks": ("attack", ">= 0"),
            "unit_type_attack_ranges": ("attack_range", ">= 0"), "unit_type_sight_ranges": ("sight_range", "> 0"),
            "unit_type_radiuses": ("radius", ">= 0"), "unit_type_health": ("health", "> 0"),
            "unit_type_weapon_cooldowns": ("cooldown", "> 0")}
#: JaxMARL keyword -> ``SMAXParams`` field holding one number
NUMBERS = {"map_width": "map_width", "map_height": "map_height", "time_per_step": "time_per_tick",
           "won_battle_bonus": "won_battle_bonus"}
#: JaxMARL keyword -> ``SMAXParams`` flag
FLAGS = {"walls_cause_death": "walls_cause_death", "see_enemy_actions": "see_enemy_actions"}
#: JaxMARL keyword -> realax constructor option of the same meaning
RENAMED = {"world_steps_per_env_step": "ticks_per_step", "max_steps": "max_steps"}
_TEAM_SIZE = ("num_allies", "num_enemies")
_GENERATION = {"smacv2_position_generation": "smacv2_positions", "smacv2_unit_type_generation": "smacv2_types"}
#: JaxMARL keyword -> (the one value realax implements, what realax has instead)
ONLY = {
    "observation_type": ("unit_list", "realax's SMAX has the 'unit_list' observation only (no 'conic' sectors)"),
    "action_type": ("discrete", "realax's SMAX has discrete actions only: Discrete(5 + enemies), masked by "
                                "get_avail_actions"),
    "use_self_play_reward": (False, "realax's SMAX pays the damage reward plus won_battle_bonus, never the sparse "
                                    "zero-sum self-play reward; its enemies become agents with self_play=True"),
    "enemy_shoots": (True, "realax's heuristic enemy always shoots when it can; to script the enemies otherwise "
                           "use self_play=True and act for them"),
    "attack_mode": ("closest", "realax's heuristic enemy shoots the closest unit it can (JaxMARL's "
                               "attack_mode='closest'); to script the enemies otherwise use self_play=True"),
    "unit_type_names": (list(sc.UNIT_TYPES), f"realax's SMAX has the six unit types {', '.join(sc.UNIT_TYPES)}; "
                                             "build other teams of them with realax.envs.smax.scenarios.custom"),
    "unit_type_shorthands": (["m", "M", "s", "Z", "z", "h"], "realax's SMAX names its unit types by the SMAC "
                                                            "letters m, M, s, Z, z, h"),
}
#: realax's own options of ``SMAX``, passed through
REALAX = ("scenario", "self_play", "ticks_per_step", "max_steps")
KNOWN = (*PER_TYPE, *NUMBERS, *FLAGS, *RENAMED, *_TEAM_SIZE, *_GENERATION, *ONLY, *REALAX)


def translate(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options for realax.make, SMAXParams fields to replace)`` of JaxMARL's (or realax's) keyword arguments;
    a ``RealaxError`` names a keyword realax does not have, or a value it does not implement."""
    unknown = sorted(set(kwargs) - set(KNOWN))
    if unknown:
        raise RealaxError(f"SMAX has no keyword argument {unknown[0]!r}; JaxMARL's: "
                          f"{', '.join(k for k in KNOWN if k not in REALAX)}; realax's: {', '.join(REALAX)}")
    for key, (value, instead) in ONLY.items():
        if key in kwargs and not _same(kwargs[key], value):
            raise RealaxError(f"SMAX: {key}={_short(kwargs[key])} is not available in realax: {instead}")
    options = {k: kwargs[k] for k in REALAX if k in kwargs and k != "scenario"}
    for jaxmarl, realax in RENAMED.items():
        if jaxmarl in kwargs and jaxmarl != realax:
            if realax in options:
                raise RealaxError(f"SMAX: give {jaxmarl} (JaxMARL's name) or {realax} (realax's), not both")
            options[realax] = kwargs[jaxmarl]
    scenario = _scenario(kwargs)
    if scenario is not None:
        options["scenario"] = scenario
    updates: dict[str, Any] = {}
    for key, (field, low) in PER_TYPE.items():
        if key in kwargs:
            updates[field] = _per_type(key, kwargs[key], low)
    for key, field in NUMBERS.items():
        if key in kwargs:
            updates[field] = _number(key, kwargs[key], positive=key != "won_battle_bonus")
    for key, field in FLAGS.items():
        if key in kwargs:
            updates[field] = _flag(key, kwargs[key])
    return options, updates


def _scenario(kwargs: dict[str, Any]) -> sc.Scenario | None:
    """The scenario of the keywords (a name, a realax ``Scenario``, JaxMARL's ``Scenario``, or ``num_allies`` x
    ``num_enemies`` marines) as a realax ``Scenario``; None when none of these keywords is given."""
    given = kwargs.get("scenario")
    sizes = {k: kwargs[k] for k in _TEAM_SIZE if k in kwargs}
    generation = {_GENERATION[k]: _flag(k, kwargs[k]) for k in _GENERATION if k in kwargs}
    if given is None:
        if not sizes and not generation:
            return None
        counts = [_count(k, sizes.get(k, 5)) for k in _TEAM_SIZE]  # JaxMARL's defaults: 5 and 5
        name = f"{counts[0]}m_vs_{counts[1]}m" if counts[0] != counts[1] else f"{counts[0]}m"
        s = sc.Scenario(name, (0,) * counts[0], (0,) * counts[1], generation.get("smacv2_positions", False),
                        generation.get("smacv2_types", False))
        return sc.resolve(s)
    s = _from_jaxmarl(given) if _is_jaxmarl_scenario(given) else sc.resolve(given)
    for key, n in sizes.items():
        if _count(key, n) != getattr(s, key):
            raise RealaxError(f"SMAX: {key}={n} disagrees with scenario {s.name!r} ({getattr(s, key)}); JaxMARL "
                              f"ignores {key} when a scenario is given: leave it out")
    for field, flag in generation.items():
        if flag != getattr(s, field):
            key = next(k for k, v in _GENERATION.items() if v == field)
            raise RealaxError(f"SMAX: {key}={flag} disagrees with scenario {s.name!r} ({getattr(s, field)}); JaxMARL "
                              f"takes it from the scenario: leave it out")
    return s


def _is_jaxmarl_scenario(s: Any) -> bool:
    return not isinstance(s, (str, sc.Scenario)) and all(
        hasattr(s, f) for f in ("unit_types", "num_allies", "num_enemies", "smacv2_position_generation",
                                "smacv2_unit_type_generation"))


def _from_jaxmarl(s: Any) -> sc.Scenario:
    """JaxMARL's ``Scenario`` as realax's, named after the built-in scenario it equals (else ``"jaxmarl"``)."""
    n_a, n_e = _count("scenario.num_allies", s.num_allies), _count("scenario.num_enemies", s.num_enemies)
    types = np.asarray(s.unit_types).reshape(-1)
    if types.shape != (n_a + n_e,):
        raise RealaxError(f"JaxMARL scenario: unit_types has {types.size} entries; num_allies + num_enemies is "
                          f"{n_a + n_e}")
    if not np.issubdtype(types.dtype, np.integer):
        raise RealaxError(f"JaxMARL scenario: unit_types must be integer type ids, got dtype {types.dtype}")
    ids = tuple(sc.unit_type_id(int(t)) for t in types)
    out = sc.Scenario("jaxmarl", ids[:n_a], ids[n_a:], bool(np.asarray(s.smacv2_position_generation)),
                      bool(np.asarray(s.smacv2_unit_type_generation)))
    for known in sc.SCENARIOS.values():
        if dataclasses.replace(known, name="jaxmarl") == out:
            return known
    return sc.resolve(out)


def _count(key: str, n: Any) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 1 <= n <= sc.MAX_UNITS_PER_TEAM:
        raise RealaxError(f"SMAX: {key} must be a whole number in 1..{sc.MAX_UNITS_PER_TEAM}, got {_short(n)}")
    return int(n)


def _per_type(key: str, value: Any, low: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RealaxError(f"SMAX: {key} must be {len(sc.UNIT_TYPES)} numbers (one per unit type: "
                          f"{', '.join(sc.UNIT_TYPES)}), got {_short(value)}") from None
    if arr.shape != (len(sc.UNIT_TYPES),):
        raise RealaxError(f"SMAX: {key} must have shape ({len(sc.UNIT_TYPES)},) (one per unit type: "
                          f"{', '.join(sc.UNIT_TYPES)}), got shape {arr.shape}")
    ok = np.isfinite(arr) & ((arr > 0) if low == "> 0" else (arr >= 0))
    if not ok.all():
        raise RealaxError(f"SMAX: every entry of {key} must be finite and {low}, got {arr.tolist()}")
    return arr.astype(np.float32)


def _number(key: str, value: Any, positive: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or (positive and not 0 < value <= 1e4):
        allowed = "a number in (0, 10000]" if positive else "a finite number"
        raise RealaxError(f"SMAX: {key} must be {allowed}, got {_short(value)}")
    return float(value)


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise RealaxError(f"SMAX: {key} must be true or false, got {_short(value)}")
    return bool(value)


def _same(value: Any, want: Any) -> bool:
    if isinstance(want, bool):
        return isinstance(value, (bool, np.bool_)) and bool(value) == want
    if isinstance(want, list):
        return isinstance(value, (list, tuple)) and list(value) == want
    return isinstance(value, str) and value == want


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."
