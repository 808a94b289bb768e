"""AGV warehouse scenarios: the four presets of Yin et al. and JSON files, every field checked.

Yin et al., "Random Network Distillation Based Deep Reinforcement Learning for AGV Path Planning" (arXiv
2404.12594) test four scenes -- simple and complex, each static and dynamic (moving obstacles) -- in a
continuous warehouse; the paper does not give their sizes, robot, sensors or constants (research notes
``rf-uav-agv.md`` §3.3 and ``papers-uav-agv-tscac.md``), so every number below is ours and says where it comes
from:

- robot and sensor (all presets): JaxNav's (JaxMARL ``jaxnav_env.py`` defaults): disc radius 0.3 m,
  ``dt = 0.1 s``, ``v in [0, 1] m/s``, ``w in [-1, 1] rad/s``, accelerations 1 m/s^2 and 1 rad/s^2, goal
  radius 0.3 m, lidar range 6 m at 0.05 m resolution (the beam count is a constructor option);
- ``simple_*``: 2 x 2 racks of 4 x 1 m with 2 m aisles (a 14 x 8 m floor), 4 depots, 4 pick stations;
  horizon 400 steps (40 s: the longest depot-to-station route is about 16 m, ~200 steps at full speed with
  turns; the paper's 2000-step episodes would make the time limit meaningless at 1 m/s);
- ``complex_*``: 4 x 3 racks of 5 x 1 m with 2 m aisles (23 x 14 m), 6 depots, 12 pick stations, and each
  rack left out of an episode with probability 0.15 (``gap_prob``), so routes change between episodes;
  horizon 800 steps (longest route ~35 m);
- ``*_dynamic``: the same floors with obstacles on scripted back-and-forth paths (the issue's "other AGVs or
  walking workers"): workers (radius 0.3 m, 0.5 m/s, a typical slow walk in a warehouse) along the main
  aisles, and in ``complex_dynamic`` also two AGVs (radius 0.35 m, 0.8 m/s) along the cross aisles. One
  turns back when an AGV takes its lane less than ``yield_m`` (0.5 m, ours) ahead of it -- a protective
  field, as a driverless truck's safety scanner keeps one (ISO 3691-4) -- so movers never run into an AGV,
  every collision is the AGV's own doing, and no aisle stays blocked. The paper's dynamic scenes may instead
  move the target; that reading is not confirmed.

A JSON scenario is an object with any of the ``Scenario`` fields (``layout`` a layout object as
``layout.build`` reads it, else the generator fields ``shelf_rows`` ... ``num_depots``) and
``obstacles`` as ``[[x0, y0, x1, y1, speed_mps, radius_m], ...]``; unknown fields are refused.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from realax.core import MAX_STEPS
from realax.envs.agv import layout as lay
from realax.envs.agv.layout import Layout, LayoutError
from realax.files import preset_or_file

#: most scripted obstacles a scenario may list
MAX_OBSTACLES = 64

ScenarioError = LayoutError

Obstacle = tuple[float, float, float, float, float, float]


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One AGV scene: a floor plan, the robot, the lidar, scripted obstacles and the horizon."""

    name: str
    layout: Layout
    max_steps: int = 400
    dt_s: float = 0.1
    """Seconds per step (JaxNav's 0.1 s)."""
    radius_m: float = 0.3
    v_max_mps: float = 1.0
    w_max_radps: float = 1.0
    v_acc_mps2: float = 1.0
    w_acc_radps2: float = 1.0
    goal_radius_m: float = 0.3
    lidar_range_m: float = 6.0
    lidar_resolution_m: float = 0.05
    """Reported ranges are multiples of this (0 = exact)."""
    gap_prob: float = 0.0
    """Probability that a shelf is left out of an episode (layout variety for generalisation)."""
    min_goal_distance_m: float = 3.0
    """Start-goal pairs closer than this (straight line) are never drawn."""
    obstacles: tuple[Obstacle, ...] = ()
    """Scripted obstacles: ``(x0, y0, x1, y1, speed_mps, radius_m)``, walking back and forth from ``(x0, y0)``
    to ``(x1, y1)``."""
    yield_m: float = 0.5
    """A scripted obstacle turns back when an AGV is in its lane less than this far ahead of it (gap between
    the discs, beyond its next step), and waits when one is as close behind it too (``env.advance_phase``): a
    worker who meets a robot in an aisle. So a mover never drives into an AGV. It may still stand in an
    AGV's way: one turned back towards the end of its path walks to the end, turns, and comes back while the
    AGV stays in its lane (docs/envs/agv.md, results)."""


_SIMPLE = lay.generate(2, 2, 4, 1, 2, num_depots=4, name="simple", radius=0.3)
_COMPLEX = lay.generate(4, 3, 5, 1, 2, num_depots=6, name="complex", radius=0.3)
#: workers in the simple floor: along the middle aisle (y 3..5) and the central cross aisle (x 6..8)
_SIMPLE_WORKERS = ((1.0, 4.0, 13.0, 4.0, 0.5, 0.3), (7.0, 1.5, 7.0, 7.0, 0.5, 0.3))
#: the complex floor: workers along two main aisles, AGVs along the two inner cross aisles (x 7..9, 14..16)
_COMPLEX_MOVERS = ((1.0, 4.0, 22.0, 4.0, 0.5, 0.3), (1.0, 10.0, 22.0, 10.0, 0.5, 0.3),
                   (8.0, 1.5, 8.0, 12.5, 0.8, 0.35), (15.0, 12.5, 15.0, 1.5, 0.8, 0.35))

PRESETS: dict[str, Scenario] = {
    "simple_static": Scenario("simple_static", _SIMPLE, max_steps=400),
    "simple_dynamic": Scenario("simple_dynamic", _SIMPLE, max_steps=400, obstacles=_SIMPLE_WORKERS),
    "complex_static": Scenario("complex_static", _COMPLEX, max_steps=800, gap_prob=0.15),
    "complex_dynamic": Scenario("complex_dynamic", _COMPLEX, max_steps=800, gap_prob=0.15, obstacles=_COMPLEX_MOVERS),
}

_FIELDS = {f.name for f in dataclasses.fields(Scenario)}
_GENERATOR = {"shelf_rows", "shelf_cols", "shelf_length_m", "shelf_depth_m", "aisle_m", "num_depots", "width_m",
              "height_m"}
#: ``(low, high)``, low exclusive for the positive ones
_POSITIVE = {"dt_s": 10.0, "radius_m": 5.0, "v_max_mps": 100.0, "w_max_radps": 100.0, "v_acc_mps2": 1000.0,
             "w_acc_radps2": 1000.0, "goal_radius_m": 50.0, "lidar_range_m": 1000.0}
_NONNEGATIVE = {"lidar_resolution_m": 10.0, "min_goal_distance_m": 1000.0, "yield_m": 100.0}


def _fail(where: str, message: str) -> None:
    raise ScenarioError(f"{where}: {message}")


def _number(where: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        _fail(where, f"{key} must be a finite number, got {v!r:.80}")
    return float(v)


def _obstacles(where: str, v: Any, layout: Layout) -> tuple[Obstacle, ...]:
    if not isinstance(v, (list, tuple)) or len(v) > MAX_OBSTACLES:
        _fail(where, f"obstacles must be a list of at most {MAX_OBSTACLES} [x0, y0, x1, y1, speed_mps, radius_m], "
                     f"got {v!r:.80}")
    out = []
    for i, o in enumerate(v):
        if not isinstance(o, (list, tuple)) or len(o) != 6:
            _fail(where, f"obstacles[{i}] must be [x0, y0, x1, y1, speed_mps, radius_m], got {o!r:.80}")
        x0, y0, x1, y1, speed, radius = (_number(where, f"obstacles[{i}]", x) for x in o)
        for x, y in ((x0, y0), (x1, y1)):
            if not (0 <= x <= layout.width_m and 0 <= y <= layout.height_m):
                _fail(where, f"obstacles[{i}] path point ({x:g}, {y:g}) is outside the {layout.width_m:g} x "
                             f"{layout.height_m:g} m map")
        if not 0 <= speed <= 100:
            _fail(where, f"obstacles[{i}] speed_mps must be in [0, 100], got {speed!r}")
        if not 0 < radius <= 5:
            _fail(where, f"obstacles[{i}] radius_m must be in (0, 5], got {radius!r}")
        out.append((x0, y0, x1, y1, speed, radius))
    return tuple(out)


def build(fields: dict[str, Any], where: str = "scenario") -> Scenario:
    """A ``Scenario`` from a JSON object, each field checked; a ``ScenarioError`` names the field, the value and
    what is allowed."""
    if not isinstance(fields, dict):
        _fail(where, f"must be a JSON object of fields, got {type(fields).__name__}")
    unknown = sorted(set(fields) - _FIELDS - _GENERATOR)
    if unknown:
        _fail(where, f"unknown field(s) {unknown}; allowed: {sorted(_FIELDS | _GENERATOR)}")
    v: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("layout", "obstacles") or key in _GENERATOR:
            continue
        if key == "name":
            if not isinstance(value, str):
                _fail(where, f"name must be text, got {value!r:.80}")
            v[key] = value
        elif key == "max_steps":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS:
                _fail(where, f"max_steps must be in 1..{MAX_STEPS}, got {value!r:.80}")
            v[key] = value
        else:
            x = _number(where, key, value)
            if key in _POSITIVE and not 0 < x <= _POSITIVE[key]:
                _fail(where, f"{key} must be in (0, {_POSITIVE[key]:g}], got {value!r}")
            if key in _NONNEGATIVE and not 0 <= x <= _NONNEGATIVE[key]:
                _fail(where, f"{key} must be in [0, {_NONNEGATIVE[key]:g}], got {value!r}")
            if key == "gap_prob" and not 0 <= x <= 1:
                _fail(where, f"gap_prob must be in [0, 1], got {value!r}")
            v[key] = x
    radius = v.get("radius_m", 0.3)
    if "layout" in fields:
        if set(fields) & _GENERATOR:
            _fail(where, f"give either layout or the generator fields {sorted(set(fields) & _GENERATOR)}, not both")
        layout = lay.build(fields["layout"], f"{where}: layout", radius)
    else:
        gen = {k: fields[k] for k in _GENERATOR if k in fields}
        layout = lay.generate(**gen, name=v.get("name", "custom"), radius=radius, where=where)
    obstacles = _obstacles(where, fields.get("obstacles", []), layout)
    return Scenario(name=v.pop("name", layout.name), layout=layout, obstacles=obstacles, **v)


def resolve(scenario: str | Scenario) -> Scenario:
    """A preset by name, or a JSON file by path; anything else is a ``ScenarioError`` listing the presets."""
    return preset_or_file(scenario, PRESETS, Scenario, "AGV", build, ScenarioError)
