"""Cities for the robo-taxi env: RL4AMOD scenario files and a synthetic grid city, as plain arrays.

Facts carried over from RL4AMOD (Tresca, Schmidt, Harrison, Rodrigues, Zardini, Gammelli, Pavone,
"Robo-taxi Fleet Coordination at Scale via Reinforcement Learning", arXiv 2504.06125; code
``StanfordASL/RL4AMOD``, MIT; ``src/envs/sim/macro_env.py`` ``Scenario``), as recorded in
``shared/research/amod-recsys.md`` §1.2 and §1.5:

- file schema: ``nlat``, ``nlon`` (regions = nlat x nlon), ``demand`` records ``{time_stamp (minute of day),
  origin, destination, demand (trips/min), travel_time (min), price ($)}``, ``rebTime`` records
  ``{time_stamp (hour), origin, destination, reb_time (min)}``, ``totalAcc`` ``{hour, acc}``,
  ``topology_graph`` ``[{i, j}]`` (only a GNN's edge list);
- a record at minute ``m`` belongs to step ``(m - 60 * start_hour) // step_minutes``; the step's mean
  demand is the sum of ``demand * demand_ratio``; price and trip time are demand-weighted means, the trip
  time in steps ``max(round(minutes / step_minutes), 1)``;
- rebalancing times are those of the start hour, ``max(round(minutes / step_minutes), 1)`` steps;
- the fleet is ``totalAcc`` of hour ``start_hour + round(step_minutes / 2 * 20 / 60)`` (Python rounding,
  RL4AMOD's ``tf = 20``), split evenly: ``int(acc / regions)`` per region;
- calibration per city (``calibrated_parameters.json``): ``demand_ratio``, ``json_hr`` (start hour),
  ``beta`` (operating cost per vehicle-minute), optional ``test_tstep`` (minutes per step; RL4AMOD's
  default step is 3 minutes, ``src/config/simulator/macro.yaml``).

The synthetic grid follows RL4AMOD's non-JSON ``Scenario`` (Manhattan-distance travel times, destinations
preferred by ``exp(-trip_length_preference * distance)``, region demand scaled by ``U[1-alpha, 1+alpha]``,
fixed prices ``U[1, 3] * (travel time + 1)``), with its size, fleet, demand and prices as parameters.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from typing import Any

import numpy as np

from realax.core import MAX_SEED, check_int
from realax.errors import RealaxError
from realax.files import read_json

# Bounds checked before any array is built, so a bad file is a clear error instead of an out-of-memory (issue 9:
# a travel_time of 1e9 minutes once asked for 93 GB). RL4AMOD's 13 cities have at most 23 regions, trips of at
# most 69 minutes, 43 trips per step and $283 fares (shared/data/amod, measured), so each bound is far above.
MAX_REGIONS = 256  #: regions of a city (nlat * nlon, or a grid's rows * cols), and an env's n_regions
MAX_CELLS = 2**22  #: periods * regions**2, and travel buffer * regions**2 (arrays of 16 MiB at 4 bytes a cell)
MAX_TRAVEL_STEPS = 1440  #: a trip or rebalancing time in steps (one day at one-minute steps)
MAX_STEP_MINUTES = 1440.0  #: minutes per step
MAX_RATE = 1e6  #: mean trips per step of one origin-destination pair
MAX_PRICE = 1e6  #: $ per trip
MAX_FLEET = 2**24  #: vehicles in the whole fleet (float32 holds every integer up to 2**24 exactly)
MAX_COST = 1e6  #: operating cost per vehicle-minute (beta), $
MAX_RATIO = 1e6  #: demand_ratio


class CityError(RealaxError):
    """A city file or calibration that cannot be used; the message names the field."""


@dataclasses.dataclass(frozen=True)
class City:
    """One city as arrays over ``n`` regions and ``periods`` steps (unpadded)."""

    name: str
    fleet: np.ndarray  # int [n]; idle vehicles per region at the start
    rate: np.ndarray  # float [periods, n, n]; mean trips per step (Poisson mean)
    price: np.ndarray  # float [periods, n, n]; $ per trip (0 where no demand)
    trip_steps: np.ndarray  # int [periods, n, n]; trip duration in steps (>= 1)
    reb_steps: np.ndarray  # int [n, n]; rebalancing duration in steps (>= 1)
    adjacency: np.ndarray  # bool [n, n]; topology graph (GNN edges), no self loops
    xy: np.ndarray  # float [n, 2]; layout for pictures, in [0, 1]
    cost_per_minute: float  # RL4AMOD's beta
    step_minutes: float
    start_hour: int = 0
    demand_ratio: float = 1.0

    @property
    def n(self) -> int:
        return int(self.fleet.shape[0])

    @property
    def max_travel_steps(self) -> int:
        return int(max(self.trip_steps.max(initial=1), self.reb_steps.max(initial=1)))


# -- RL4AMOD scenario files ------------------------------------------------------------------------------
_DEMAND_FIELDS = ("time_stamp", "origin", "destination", "demand", "travel_time", "price")
_REB_FIELDS = ("time_stamp", "origin", "destination", "reb_time")
_CALIB = {"demand_ratio": "demand_ratio", "start_hour": "json_hr", "cost_per_minute": "beta",
          "step_minutes": "test_tstep"}


def _num(rec: Any, field: str, where: str, *, nonneg: bool = False, integer: bool = False) -> float:
    if not isinstance(rec, dict):
        raise CityError(f"{where} must be an object, got {type(rec).__name__}")
    if field not in rec:
        raise CityError(f"{where} is missing the field {field!r}")
    v = rec[field]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
        raise CityError(f"{where}.{field} must be a finite number, got {_short(v)}")
    if nonneg and v < 0:
        raise CityError(f"{where}.{field} is negative ({v}); it must be >= 0")
    if integer and v != int(v):
        raise CityError(f"{where}.{field} must be an integer, got {v!r}")
    return v


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an int beyond any float (10**400)
        return False


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at_most(v: float, top: float, where: str, what: str = "") -> float:
    if v > top:
        raise CityError(f"{where} = {v:g}{what} is too large; at most {top:g}")
    return v


def _region(rec: Any, field: str, where: str, n: int) -> int:
    v = int(_num(rec, field, where, integer=True))
    if not 0 <= v < n:
        raise CityError(f"{where}.{field} = {v} is not a region index in 0..{n - 1}")
    return v


def city_name(path: str) -> str:
    """``scenario_nyc_brooklyn.json`` -> ``nyc_brooklyn`` (the key in ``calibrated_parameters.json``)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return re.sub(r"^scenario_", "", stem)


def calibration_for(path: str, calibration: str | None = None) -> dict[str, Any]:
    """RL4AMOD's calibrated parameters of the city in ``path``, from ``calibration`` or, if None, from
    ``calibrated_parameters.json`` beside the file; ``{}`` when there is none for this city."""
    file = calibration or os.path.join(os.path.dirname(os.path.abspath(path)), "calibrated_parameters.json")
    if not isinstance(file, (str, os.PathLike)):
        raise CityError(f"calibration must be the path of a calibrated_parameters.json, got {_short(file)}")
    if not os.path.exists(file):
        if calibration is not None:
            raise CityError(f"calibration file {calibration!r} does not exist")
        return {}
    table = _read_json(file, "calibration file")
    if not isinstance(table, dict):
        raise CityError(f"calibration file {file} must hold a JSON object {{city: {{parameter: value}}}}")
    entry = table.get(city_name(path), {})
    if not isinstance(entry, dict):
        raise CityError(f"calibration file {file}: entry {city_name(path)!r} must be an object, got {_short(entry)}")
    return dict(entry)


def _read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Decoded JSON of a file, or a ``CityError`` (unreadable, not UTF-8, not JSON, nested too deeply)."""
    return read_json(path, what, CityError)


def load_city(path: str, *, calibration: str | None = None, demand_ratio: float | None = None,
              start_hour: int | None = None, cost_per_minute: float | None = None,
              step_minutes: float | None = None, periods: int = 40) -> City:
    """Read an RL4AMOD scenario JSON into a ``City`` with ``periods`` steps from ``start_hour``.

    Calibration comes from the explicit arguments, else from the city's entry in ``calibration`` (or the
    ``calibrated_parameters.json`` beside the file); the step defaults to RL4AMOD's 3 minutes.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise CityError(f"city file {_short(path)} does not exist (give the path of an RL4AMOD scenario_*.json)")
    path = os.fspath(path)
    periods = check_int("periods", periods, 1, MAX_CELLS, "city")
    data = _read_json(path, "city file")
    if not isinstance(data, dict):
        raise CityError(f"city file {path} must hold a JSON object")
    cal = calibration_for(path, calibration)
    given = {"demand_ratio": demand_ratio, "start_hour": start_hour, "cost_per_minute": cost_per_minute,
             "step_minutes": step_minutes}
    values: dict[str, Any] = {k: (v if v is not None else cal.get(_CALIB[k])) for k, v in given.items()}
    if values["step_minutes"] is None:
        values["step_minutes"] = 3  # RL4AMOD macro.yaml json_tsetp
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise CityError(f"no calibration for city {city_name(path)!r}: pass {', '.join(missing)} "
                        "(or a calibrated_parameters.json that has this city)")
    for name, v in values.items():
        _num({name: v}, name, "calibration", nonneg=True)
    if not 0 < values["step_minutes"] <= MAX_STEP_MINUTES:
        raise CityError(f"calibration.step_minutes must be in (0, {MAX_STEP_MINUTES:g}], got {values['step_minutes']}")
    _num(values, "start_hour", "calibration", integer=True)
    if not 0 <= values["start_hour"] <= 23:
        raise CityError(f"calibration.start_hour (json_hr) must be an hour of the day 0..23, got {values['start_hour']}")
    _at_most(values["demand_ratio"], MAX_RATIO, "calibration.demand_ratio")
    _at_most(values["cost_per_minute"], MAX_COST, "calibration.cost_per_minute")
    tstep, ratio, hour = float(values["step_minutes"]), float(values["demand_ratio"]), int(values["start_hour"])

    size = {k: _num(data, k, "city", integer=True) for k in ("nlat", "nlon")}
    for name, v in size.items():
        if not 1 <= v <= MAX_REGIONS:
            raise CityError(f"city.{name} must be an integer in 1..{MAX_REGIONS}, got {v!r}")
    n = int(size["nlat"]) * int(size["nlon"])
    if n > MAX_REGIONS:
        raise CityError(f"city.nlat * city.nlon = {n} regions; at most {MAX_REGIONS}")
    if periods * n * n > MAX_CELLS:
        raise CityError(f"periods * regions**2 = {periods} * {n}**2 is too large; at most {MAX_CELLS} "
                        f"(fewer periods or regions)")
    for key in ("demand", "rebTime", "totalAcc"):
        if key not in data:
            raise CityError(f"city file {path} is missing the field {key!r}")
        if not isinstance(data[key], list):
            raise CityError(f"city.{key} must be a list")
    if not isinstance(data.get("topology_graph", []), list):
        raise CityError(f"city.topology_graph must be a list of {{i, j}} edges, got {_short(data['topology_graph'])}")

    trips = np.zeros((periods, n, n))
    money = np.zeros((periods, n, n))
    minutes = np.zeros((periods, n, n))
    start = 60 * hour
    longest = MAX_TRAVEL_STEPS * tstep
    for k, rec in enumerate(data["demand"]):
        where = f"demand[{k}]"
        m, d = _num(rec, "time_stamp", where), _num(rec, "demand", where, nonneg=True)
        tt, p = _num(rec, "travel_time", where, nonneg=True), _num(rec, "price", where, nonneg=True)
        _at_most(d, MAX_RATE, f"{where}.demand")
        _at_most(p, MAX_PRICE, f"{where}.price")
        _at_most(tt, longest, f"{where}.travel_time", f" min ({tt / tstep:.3g} steps of {tstep:g} min; at most "
                                                      f"{MAX_TRAVEL_STEPS} steps)")
        o, dst = _region(rec, "origin", where, n), _region(rec, "destination", where, n)
        t = int((m - start) // tstep)
        if 0 <= t < periods:
            v = d * ratio
            trips[t, o, dst] += v
            money[t, o, dst] += p * v
            minutes[t, o, dst] += tt * v / tstep
    if trips.max(initial=0.0) > MAX_RATE:
        t, o, dst = (int(i) for i in np.unravel_index(np.argmax(trips), trips.shape))
        raise CityError(f"city.demand: {trips[t, o, dst]:g} trips per step from region {o} to {dst} at step {t} "
                        f"(demand * demand_ratio, summed); at most {MAX_RATE:g}")
    has = trips > 0
    safe = np.where(has, trips, 1.0)
    price = np.where(has, money / safe, 0.0)
    trip_steps = np.where(has, np.maximum(np.round(minutes / safe), 1), 1).astype(np.int32)

    reb = np.full((n, n), -1, np.int64)
    for k, rec in enumerate(data["rebTime"]):
        where = f"rebTime[{k}]"
        hr, rt = _num(rec, "time_stamp", where), _num(rec, "reb_time", where, nonneg=True)
        _at_most(rt, longest, f"{where}.reb_time", f" min ({rt / tstep:.3g} steps of {tstep:g} min; at most "
                                                   f"{MAX_TRAVEL_STEPS} steps)")
        o, dst = _region(rec, "origin", where, n), _region(rec, "destination", where, n)
        if hr == hour:
            reb[o, dst] = min(max(int(round(rt / tstep)), 1), MAX_TRAVEL_STEPS)
    np.fill_diagonal(reb, 1)
    if (reb < 0).any():
        o, dst = np.argwhere(reb < 0)[0]
        raise CityError(f"city.rebTime has no record for hour {hour} from region {o} to {dst}")

    fleet_hour = hour + int(round(tstep / 2 * 20 / 60))
    acc = None
    for k, rec in enumerate(data["totalAcc"]):
        if _num(rec, "hour", f"totalAcc[{k}]") == fleet_hour:
            acc = _at_most(_num(rec, "acc", f"totalAcc[{k}]", nonneg=True), MAX_FLEET, f"totalAcc[{k}].acc")
    if acc is None:
        raise CityError(f"city.totalAcc has no entry for hour {fleet_hour} (start hour {hour})")
    fleet = np.full(n, int(acc / n), np.int32)

    adj = np.zeros((n, n), bool)
    for k, rec in enumerate(data.get("topology_graph", [])):
        adj[_region(rec, "i", f"topology_graph[{k}]", n), _region(rec, "j", f"topology_graph[{k}]", n)] = True
    np.fill_diagonal(adj, False)
    return City(city_name(path), fleet, trips.astype(np.float32), price.astype(np.float32), trip_steps,
                reb.astype(np.int32), adj, layout(reb), float(values["cost_per_minute"]), tstep, hour, ratio)


def layout(times: np.ndarray) -> np.ndarray:
    """Region positions in ``[0, 1]^2`` from a travel-time matrix (classical multidimensional scaling)."""
    n = times.shape[0]
    if n == 1:
        return np.full((1, 2), 0.5)
    d = (times + times.T) / 2.0
    np.fill_diagonal(d, 0.0)
    j = np.eye(n) - 1.0 / n
    w, v = np.linalg.eigh(-0.5 * j @ (d**2) @ j)
    xy = v[:, -2:] * np.sqrt(np.maximum(w[-2:], 1e-9))
    xy = xy - xy.min(0)
    xy = xy / np.maximum(xy.max(), 1e-9)
    return xy + (1 - xy.max(0)) / 2  # centred


# -- synthetic grid city ------------------------------------------------------------------------------------
def grid_city(rows: int = 4, cols: int = 4, fleet_per_region: int = 20, demand_per_region: float = 4.0,
              price_scale: float = 1.0, trip_length_preference: float = 0.25, alpha: float = 0.2,
              cost_per_minute: float = 0.2, step_minutes: float = 3.0, seed: int = 0, periods: int = 40) -> City:
    """A ``rows x cols`` grid: one step per block (Manhattan distance, at least 1), ``demand_per_region``
    mean trips per step leaving each region (scaled by a fixed ``U[1-alpha, 1+alpha]`` per region),
    destinations weighted by ``exp(-trip_length_preference * distance)``, fixed prices
    ``price_scale * U[1, 3] * (distance + 1)``; everything seeded by ``seed``."""
    rows, cols = check_int("rows", rows, 1, MAX_REGIONS, "grid city"), check_int("cols", cols, 1, MAX_REGIONS, "grid city")
    periods, seed = check_int("periods", periods, 1, MAX_CELLS, "grid city"), check_int("seed", seed, 0, MAX_SEED, "grid city")
    n = rows * cols
    if n > MAX_REGIONS or periods * n * n > MAX_CELLS:
        raise CityError(f"grid city: rows * cols = {n} regions (at most {MAX_REGIONS}) and periods * regions**2 = "
                        f"{periods * n * n} (at most {MAX_CELLS}) must both fit")
    check_int("fleet_per_region", fleet_per_region, 0, MAX_FLEET // n, "grid city")
    ranges = {"demand_per_region": (demand_per_region, 0.0, MAX_RATE), "price_scale": (price_scale, 0.0, 1e3),
              "trip_length_preference": (trip_length_preference, -100.0, 100.0), "alpha": (alpha, 0.0, 1.0),
              "cost_per_minute": (cost_per_minute, 0.0, MAX_COST), "step_minutes": (step_minutes, 1e-9, MAX_STEP_MINUTES)}
    for name, (v, lo, hi) in ranges.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not _finite(v) \
                or not lo <= v <= hi:
            raise CityError(f"grid city: {name} must be a number in [{lo:g}, {hi:g}], got {_short(v)}")
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(n), cols)
    dist = np.abs(r[:, None] - r[None]) + np.abs(c[:, None] - c[None])
    steps = np.maximum(dist, 1).astype(np.int32)
    logit = -trip_length_preference * dist
    pref = np.exp(logit - logit.max(1, keepdims=True))  # shifted so no exp overflows; 0 for preference >= 0
    pref /= pref.sum(1, keepdims=True)
    region = demand_per_region * rng.uniform(1 - alpha, 1 + alpha, n)
    rate = np.broadcast_to(region[:, None] * pref, (periods, n, n)).astype(np.float32)
    price = price_scale * rng.uniform(1, 3, (n, n)) * (dist + 1)
    adj = dist == 1
    xy = np.stack([(c + 0.5) / cols, (r + 0.5) / rows], 1)
    return City(f"grid{rows}x{cols}", np.full(n, int(fleet_per_region), np.int32), rate,
                np.broadcast_to(price, (periods, n, n)).astype(np.float32),
                np.broadcast_to(steps, (periods, n, n)).copy(), steps, adj, xy, float(cost_per_minute),
                float(step_minutes))


def check_city(c: City) -> City:
    """``c`` if its arrays agree and lie within the bounds above (any ``City``: from a file, a grid, or built by
    hand), else a ``CityError`` naming the field, the value and the bound."""
    if not isinstance(c, City):
        raise CityError(f"expected a City, got {_short(c)}")
    try:
        n, periods = c.n, int(np.shape(c.rate)[0])
        shapes = {"fleet": (n,), "rate": (periods, n, n), "price": (periods, n, n), "trip_steps": (periods, n, n),
                  "reb_steps": (n, n), "adjacency": (n, n), "xy": (n, 2)}
        arrays = {k: np.asarray(getattr(c, k)) for k in shapes}
    except (TypeError, ValueError, IndexError):
        raise CityError(f"city {c.name!r}: its fields must be arrays (fleet [n], rate [periods, n, n], ...)") from None
    for k, shape in shapes.items():
        if arrays[k].shape != shape or arrays[k].dtype.kind not in "biuf":
            raise CityError(f"city {c.name!r}: {k} has shape {arrays[k].shape} ({arrays[k].dtype}); expected {shape} numbers")
    if not 1 <= n <= MAX_REGIONS or periods < 1 or periods * n * n > MAX_CELLS:
        raise CityError(f"city {c.name!r}: {n} regions and {periods} periods; at most {MAX_REGIONS} regions and "
                        f"periods * regions**2 <= {MAX_CELLS}")
    for k, lo, hi in (("rate", 0, MAX_RATE), ("price", 0, MAX_PRICE), ("trip_steps", 1, MAX_TRAVEL_STEPS),
                      ("reb_steps", 1, MAX_TRAVEL_STEPS), ("fleet", 0, MAX_FLEET), ("xy", 0, 1)):
        a = arrays[k].astype(np.float64)
        if not np.all(np.isfinite(a)) or a.min(initial=lo) < lo or a.max(initial=lo) > hi:
            raise CityError(f"city {c.name!r}: {k} must lie in [{lo:g}, {hi:g}], got [{a.min():g}, {a.max():g}]")
    if arrays["fleet"].sum() > MAX_FLEET:
        raise CityError(f"city {c.name!r}: a fleet of {arrays['fleet'].sum()} vehicles; at most {MAX_FLEET}")
    for k, hi in (("cost_per_minute", MAX_COST), ("step_minutes", MAX_STEP_MINUTES)):
        v = getattr(c, k)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not _finite(v) \
                or not 0 <= v <= hi:
            raise CityError(f"city {c.name!r}: {k} must be a number in [0, {hi:g}], got {_short(v)}")
    return c
