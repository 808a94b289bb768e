"""UAV offloading scenarios: named presets and JSON files, every field checked.

A scenario is a flat JSON object; every field is optional (the default is the ``mondal2025`` value) and
unknown fields are refused. Units are SI (metres, seconds, hertz) and dB/dBm.

Presets, each named after its source (research note ``rf-uav-agv.md`` §2.3-2.4):

- ``mondal2025`` (default): a reconstruction of Mondal et al., "Multi-Agent Reinforcement Learning for
  Offloading Cellular Communications with Cooperating UAVs", IEEE TAES 61(4), 2025. Confirmed by the
  paper: UAVs as extra access points offloading ground base stations, a grid whose cell is the distance flown
  in one slot at the speed limit, moves N/E/S/W/hover, association under an SINR (QoS) constraint, the
  metric = average UAV association. **Not confirmed** (full text unreachable), so chosen here and marked as
  ours: 1 km square, 10 x 10 grid (10 m/s x 10 s slots, as ``uav_bs_ctrl``), 4 UAVs at 100 m, 100 users in
  four hotspots plus 20 % spread uniformly, one congested macro base station at the centre (capacity 50), a
  10 dB UAV QoS threshold, 25 users per UAV, all UAVs on one band (so they interfere), urban A2G, 50 steps.
- ``uav_bs_ctrl``: the grid of ``zhangxiaochen95/uav_bs_ctrl`` (``tasks/envs.py``): 1 km as 10 x 10 cells of
  100 m, 4 UAVs at 100 m, 10 m/s x 10 s, 10 dBm, N0 = -170 dBm/Hz, 5 sub-channels of 180 kHz per UAV
  (capacity 5 users), urban A2G at 2.4 GHz, 200 steps, no ground base station. Its user count is ours (60,
  uniform).
- ``tn_ntn``: the TN/NTN macro-cell setting of ``hungledut/MADRL_UAVs_TNTN`` (IEICE Comms Express 2024):
  2 km square, 3 UAVs at 400 m, 250 users walking 15 m per step, a macro base station at the centre,
  2 GHz, 20 MHz, a 20 Mb/s rate target (Shannon: ``2**(20/20) - 1`` = 0 dB SINR), 50 steps. Its UAVs fly
  80 m/s; the 2.5 s slot (so a 200 m cell and a 10 x 10 grid) is ours.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from realax.core import MAX_STEPS
from realax.envs.uav.channel import ENVIRONMENTS
from realax.errors import RealaxError
from realax.files import preset_or_file

#: bounds on sizes, checked before arrays are built (pairwise user arrays are [U, U] in the association)
MAX_USERS = 4096
MAX_UAVS = 64
MAX_BASE_STATIONS = 64
MAX_GRID = 256


class ScenarioError(RealaxError):
    """A scenario that does not follow the schema; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One UAV offloading layout. Positions are ``[x, y]`` metres with the origin at a corner of the area."""

    name: str = "mondal2025"
    area_m: float = 1000.0
    """Side of the square area."""
    v_max_mps: float = 10.0
    """UAV speed limit; one grid cell is ``v_max_mps * slot_s`` and must divide ``area_m``."""
    slot_s: float = 10.0
    """Duration of one step."""
    num_uavs: int = 4
    altitude_m: float = 100.0
    uav_power_dbm: float = 20.0
    uav_capacity: int = 25
    """Users one UAV can serve at once (its sub-channels)."""
    uav_bands: tuple[int, ...] | None = None
    """Band of each UAV (UAVs on one band interfere); default all on band 0."""
    uav_start: tuple[tuple[float, float], ...] | None = None
    """Start position of each UAV (snapped to its cell's centre in grid mode); default: the cells around the
    centre of the area."""
    base_stations: tuple[tuple[float, float], ...] = ((500.0, 500.0),)
    bs_power_dbm: float = 46.0
    bs_capacity: int = 50
    shadowing_db: float = 8.0
    """Standard deviation of the log-normal shadowing of ground links (TR 36.814: 8 dB)."""
    num_users: int = 100
    hotspots: tuple[tuple[float, float, float, float], ...] = (
        (250.0, 250.0, 80.0, 1.0), (750.0, 250.0, 80.0, 1.0), (250.0, 750.0, 80.0, 1.0), (750.0, 750.0, 80.0, 1.0))
    """``[x, y, std, weight]`` of each user cluster (Gaussian, clipped to the area)."""
    uniform_fraction: float = 0.2
    """Share of users dropped uniformly over the area instead of in a hotspot."""
    users: tuple[tuple[float, float], ...] | None = None
    """Fixed user positions (then ``num_users`` is their count and no drop is drawn)."""
    user_speed_mps: float = 0.0
    """Random-waypoint speed of the users; 0 keeps them where they were dropped."""
    environment: str = "urban"
    """Air-to-ground preset: one of ``channel.ENVIRONMENTS``."""
    freq_hz: float = 2.0e9
    bandwidth_hz: float = 180e3
    noise_dbm_hz: float = -174.0
    noise_figure_db: float = 7.0
    sinr_threshold_db: float = 10.0
    """UAV QoS threshold: a user is offloaded only at or above it."""
    bs_sinr_threshold_db: float = 0.0
    collision_penalty: float = 0.5
    boundary_penalty: float = 0.1
    min_separation_m: float = 1.0
    """UAVs closer than this collide (in grid mode: the same cell)."""
    team_reward: bool = True
    """True: every UAV gets the team's association rate; False: each its own users' share (credit)."""
    max_steps: int = 50

    @property
    def cell_m(self) -> float:
        return self.v_max_mps * self.slot_s

    @property
    def grid(self) -> int:
        return int(round(self.area_m / self.cell_m))


PRESETS: dict[str, Scenario] = {
    "mondal2025": Scenario(),
    "uav_bs_ctrl": Scenario(
        name="uav_bs_ctrl", uav_power_dbm=10.0, uav_capacity=5, noise_dbm_hz=-170.0, noise_figure_db=0.0,
        base_stations=(), bs_capacity=0, num_users=60, hotspots=(), uniform_fraction=1.0, freq_hz=2.4e9,
        sinr_threshold_db=0.0, max_steps=200),
    "tn_ntn": Scenario(
        name="tn_ntn", area_m=2000.0, v_max_mps=80.0, slot_s=2.5, num_uavs=3, altitude_m=400.0, uav_power_dbm=30.0,
        uav_capacity=40, base_stations=((1000.0, 1000.0),), bs_capacity=100, num_users=250, hotspots=(),
        uniform_fraction=1.0, user_speed_mps=6.0, bandwidth_hz=20e6, sinr_threshold_db=0.0,
        bs_sinr_threshold_db=0.0, max_steps=50),
}

_FIELDS = {f.name: f for f in dataclasses.fields(Scenario)}
_INT = {"num_uavs", "uav_capacity", "bs_capacity", "num_users", "max_steps"}
_BOOL = {"team_reward"}
_POSITIVE = {"area_m", "v_max_mps", "slot_s", "altitude_m", "freq_hz", "bandwidth_hz"}
_NONNEGATIVE = {"shadowing_db", "user_speed_mps", "collision_penalty", "boundary_penalty", "min_separation_m",
                "sinr_threshold_db", "bs_sinr_threshold_db"}


def _fail(where: str, message: str) -> None:
    raise ScenarioError(f"{where}: {message}")


def _number(where: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        _fail(where, f"{key} must be a finite number, got {v!r}")
    return float(v)


def _points(where: str, key: str, v: Any, width: int, area: float, inside: bool = True) -> tuple:
    if not isinstance(v, (list, tuple)):
        _fail(where, f"{key} must be a list of [{', '.join('xy' if width == 2 else ['x', 'y', 'std', 'weight'])}] "
                     f"entries, got {v!r:.80}")
    out = []
    for i, p in enumerate(v):
        if not isinstance(p, (list, tuple)) or len(p) != width:
            _fail(where, f"{key}[{i}] must have {width} numbers, got {p!r:.80}")
        nums = tuple(_number(where, f"{key}[{i}]", x) for x in p)
        if inside and not all(0.0 <= c <= area for c in nums[:2]):
            _fail(where, f"{key}[{i}] = {list(nums[:2])} is outside the area [0, {area:g}] m x [0, {area:g}] m")
        out.append(nums)
    return tuple(out)


def build(fields: dict[str, Any], where: str = "scenario") -> Scenario:
    """A ``Scenario`` from a dict of fields (a JSON object or a preset's overrides), each checked; a
    ``ScenarioError`` names the field, the value and what is allowed."""
    if not isinstance(fields, dict):
        _fail(where, f"must be a JSON object of fields, got {type(fields).__name__}")
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        _fail(where, f"unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    v: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            if not isinstance(value, str):
                _fail(where, f"name must be text, got {value!r}")
            v[key] = value
        elif key == "environment":
            if value not in ENVIRONMENTS:
                _fail(where, f"environment {value!r} is unknown; one of {sorted(ENVIRONMENTS)}")
            v[key] = value
        elif key in _BOOL:
            if not isinstance(value, bool):
                _fail(where, f"{key} must be true or false, got {value!r}")
            v[key] = value
        elif key in _INT:
            if isinstance(value, bool) or not isinstance(value, int):
                _fail(where, f"{key} must be a whole number, got {value!r}")
            v[key] = value
        elif key in ("base_stations", "hotspots", "users", "uav_start", "uav_bands"):
            v[key] = value  # checked below, once the area is known
        else:
            v[key] = _number(where, key, value)
    base = Scenario(**{k: x for k, x in v.items() if k not in ("base_stations", "hotspots", "users", "uav_start",
                                                                "uav_bands")})
    area = base.area_m
    for key in _POSITIVE:
        if not getattr(base, key) > 0:
            _fail(where, f"{key} must be > 0, got {getattr(base, key)!r}")
    for key in _NONNEGATIVE:
        if not getattr(base, key) >= 0:
            _fail(where, f"{key} must be >= 0, got {getattr(base, key)!r}")
    if not 0.0 <= base.uniform_fraction <= 1.0:
        _fail(where, f"uniform_fraction must be in [0, 1], got {base.uniform_fraction!r}")
    ratio = area / base.cell_m
    if abs(ratio - round(ratio)) > 1e-6 or not 1 <= round(ratio) <= MAX_GRID:
        _fail(where, f"area_m / (v_max_mps * slot_s) = {area:g} / {base.cell_m:g} = {ratio:g} must be a whole "
                     f"number of cells in 1..{MAX_GRID}")
    limits = {"num_uavs": (1, MAX_UAVS), "num_users": (1, MAX_USERS), "max_steps": (1, MAX_STEPS),
              "uav_capacity": (0, MAX_USERS), "bs_capacity": (0, MAX_USERS)}
    for key, (low, high) in limits.items():
        if not low <= getattr(base, key) <= high:
            _fail(where, f"{key} must be in {low}..{high}, got {getattr(base, key)!r}")
    if base.num_uavs > base.grid**2:
        _fail(where, f"num_uavs = {base.num_uavs} is more than the {base.grid}x{base.grid} = {base.grid**2} grid cells")
    extra: dict[str, Any] = {}
    if "base_stations" in v:
        extra["base_stations"] = _points(where, "base_stations", v["base_stations"], 2, area)
        if len(extra["base_stations"]) > MAX_BASE_STATIONS:
            _fail(where, f"at most {MAX_BASE_STATIONS} base_stations, got {len(extra['base_stations'])}")
    if "hotspots" in v:
        hs = _points(where, "hotspots", v["hotspots"], 4, area)
        for i, (_, _, std, weight) in enumerate(hs):
            if std < 0 or weight < 0:
                _fail(where, f"hotspots[{i}]: std and weight must be >= 0, got {std:g} and {weight:g}")
        extra["hotspots"] = hs
    if "users" in v and v["users"] is not None:
        users = _points(where, "users", v["users"], 2, area)
        if not 1 <= len(users) <= MAX_USERS:
            _fail(where, f"users must list 1..{MAX_USERS} positions, got {len(users)}")
        if "num_users" in v and v["num_users"] != len(users):
            _fail(where, f"num_users = {v['num_users']} but users lists {len(users)} positions")
        extra["users"], extra["num_users"] = users, len(users)
    if "uav_start" in v and v["uav_start"] is not None:
        start = _points(where, "uav_start", v["uav_start"], 2, area)
        if len(start) != base.num_uavs:
            _fail(where, f"uav_start lists {len(start)} positions for num_uavs = {base.num_uavs}")
        extra["uav_start"] = start
    if "uav_bands" in v and v["uav_bands"] is not None:
        bands = v["uav_bands"]
        if (not isinstance(bands, (list, tuple)) or len(bands) != base.num_uavs
                or any(isinstance(b, bool) or not isinstance(b, int) or not 0 <= b < MAX_UAVS for b in bands)):
            _fail(where, f"uav_bands must list one band 0..{MAX_UAVS - 1} per UAV ({base.num_uavs}), got {bands!r:.80}")
        extra["uav_bands"] = tuple(bands)
    scenario = dataclasses.replace(base, **extra)
    if not scenario.users and not scenario.hotspots and scenario.uniform_fraction < 1.0:
        _fail(where, "hotspots is empty, so uniform_fraction must be 1 (every user dropped uniformly)")
    if scenario.hotspots and sum(h[3] for h in scenario.hotspots) <= 0 and scenario.uniform_fraction < 1.0:
        _fail(where, "the hotspot weights sum to 0; give a positive weight or set uniform_fraction to 1")
    return scenario


def resolve(scenario: str | Scenario) -> Scenario:
    """A preset by name, or a JSON file by path; anything else is a ``ScenarioError`` listing the presets."""
    return preset_or_file(scenario, PRESETS, Scenario, "UAV", build, ScenarioError)
