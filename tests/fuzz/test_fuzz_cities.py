"""Fuzzing robo-taxi city files (issue 9): mutations of RL4AMOD's city JSON structure (a small hand-made city,
and the first records of a real city when ``shared/data/amod`` exists; never copied here), its calibration
file and the env's options. Every input either builds an env whose reset and step trace with params + state
under the stated bound, or is refused with a ``RealaxError`` that has a message (``fuzz_support``); never
another exception, a hang, or an allocation that grows with a travel time (the 93 GB case of issue 9).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from fuzz_support import FUZZ, GARBAGE, mutate, works_or_refused
from hypothesis import given
from hypothesis import strategies as st

from realax.envs.robotaxi import RoboTaxi

AMOD = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "amod"))


def _tiny() -> dict:
    """Two regions, RL4AMOD's fields (``city.py`` docstring), records at 10:00 with 4-minute steps."""
    return {
        "nlat": 2, "nlon": 1,
        "demand": [{"time_stamp": 600, "origin": 0, "destination": 1, "demand": 1.0, "travel_time": 8, "price": 10.0},
                   {"time_stamp": 605, "origin": 1, "destination": 0, "demand": 0.5, "travel_time": 2, "price": 7.0}],
        "rebTime": [{"time_stamp": 10, "origin": 0, "destination": 1, "reb_time": 6.5},
                    {"time_stamp": 10, "origin": 1, "destination": 0, "reb_time": 1.0}],
        "totalAcc": [{"hour": 10, "acc": 7}, {"hour": 11, "acc": 11}],
        "topology_graph": [{"i": 0, "j": 1}],
    }


def _real_head(records: int = 12) -> list[tuple[dict, dict]]:
    """``(city, calibration)`` of the smallest real city, cut to its first records (kept small: a mutation
    picks among every path of the file)."""
    path = AMOD / "scenario_nyc_man_north.json"
    if not path.exists():
        return []
    d = json.loads(path.read_text())
    cal = json.loads((AMOD / "calibrated_parameters.json").read_text())["nyc_man_north"]
    hour = cal["json_hr"]
    demand = [r for r in d["demand"] if 60 * hour <= r["time_stamp"] < 60 * hour + 6][:records]
    reb = [r for r in d["rebTime"] if r["time_stamp"] == hour]
    city = {"nlat": d["nlat"], "nlon": d["nlon"], "demand": demand, "rebTime": reb,
            "totalAcc": [r for r in d["totalAcc"] if r["hour"] in (hour, hour + 1)], "topology_graph": d["topology_graph"][:4]}
    return [(city, {"demand_ratio": cal["demand_ratio"], "start_hour": hour, "cost_per_minute": cal["beta"]})]


#: every field of RL4AMOD's schema (city.py docstring)
FIELDS = ("nlat", "nlon", "demand", "rebTime", "totalAcc", "topology_graph", "time_stamp", "origin", "destination",
          "demand", "travel_time", "price", "reb_time", "hour", "acc", "i", "j")
BASES = [(_tiny(), {"demand_ratio": 1.0, "start_hour": 10, "cost_per_minute": 0.5, "step_minutes": 4})] + _real_head()
_option = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 10, 40, 1440, 2000, 10**9, -1, 0.5, 1e300, float("nan")]), GARBAGE)


@FUZZ
@given(st.data())
def test_city_files_work_or_raise_realax_error(data):
    city, calibration = BASES[data.draw(st.integers(0, len(BASES) - 1))]
    city = mutate(city, data.draw, data.draw(st.sampled_from([0, 1, 1, 1, 2, 3])), FIELDS)
    kwargs = dict(calibration)
    for key in data.draw(st.sampled_from([[], [], [], sorted(kwargs)[:1], sorted(kwargs)[-1:]])):
        kwargs[key] = data.draw(_option)  # a bad calibration value sometimes
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scenario_fuzz.json")
        Path(path).write_text(json.dumps(city))
        works_or_refused(lambda: _robotaxi(path, **kwargs))


@FUZZ
@given(st.data())
def test_calibration_files_work_or_raise_realax_error(data):
    city, calibration = BASES[0]
    table = {"fuzz": {"demand_ratio": 1.0, "json_hr": 10, "beta": 0.5, "test_tstep": 4}}
    table = mutate(table, data.draw, data.draw(st.integers(1, 3)), ("demand_ratio", "json_hr", "beta", "test_tstep"))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "scenario_fuzz.json").write_text(json.dumps(city))
        Path(tmp, "calibrated_parameters.json").write_text(json.dumps(table))
        works_or_refused(lambda: _robotaxi(os.path.join(tmp, "scenario_fuzz.json")))


@FUZZ
@given(st.dictionaries(st.sampled_from(["n_regions", "max_travel_steps", "max_rate", "periods", "horizon", "max_steps",
                                        "rows", "cols", "fleet_per_region", "demand_per_region", "price_scale",
                                        "trip_length_preference", "alpha", "step_minutes", "seed", "calibration"]),
                       _option, max_size=2))
def test_grid_city_options_work_or_raise_realax_error(options):
    works_or_refused(lambda: _robotaxi("grid", **options))


def _robotaxi(city, **kwargs):
    env = RoboTaxi(city, **kwargs)
    return env, env.default_params
