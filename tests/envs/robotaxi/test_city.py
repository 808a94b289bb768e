"""City files: all 13 RL4AMOD cities load with their calibration; a hand-made file gives hand-computed
arrays; bad files and missing calibration are refused naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from realax.envs.robotaxi.city import CityError, grid_city, load_city
from tests.envs.robotaxi.conftest import DATA, FILES, needs_data


@needs_data
def test_shared_folder_has_all_13_cities():
    assert len(FILES) == 13, f"expected RL4AMOD's 13 scenario files in {DATA}"


@needs_data
@pytest.mark.parametrize("path", FILES, ids=[p.stem.removeprefix("scenario_") for p in FILES])
def test_every_city_loads_with_its_calibration(path):
    raw = json.loads(path.read_text())
    cal = json.loads((DATA / "calibrated_parameters.json").read_text())[path.stem.removeprefix("scenario_")]
    c = load_city(str(path))
    n = raw["nlat"] * raw["nlon"]
    assert c.n == n and c.rate.shape == (40, n, n) and c.reb_steps.shape == (n, n)
    assert c.demand_ratio == cal["demand_ratio"] and c.start_hour == cal["json_hr"]
    assert c.cost_per_minute == cal["beta"] and c.step_minutes == cal.get("test_tstep", 3)
    # fleet: totalAcc of the hour start + round(step / 2 * 20 / 60), split evenly (RL4AMOD Scenario)
    hour = cal["json_hr"] + int(round(c.step_minutes / 2 * 20 / 60))
    acc = next(r["acc"] for r in raw["totalAcc"] if r["hour"] == hour)
    assert (c.fleet == int(acc / n)).all()
    # the 40 steps hold exactly the records of their minutes, times the demand ratio
    start = 60 * cal["json_hr"]
    inside = [r for r in raw["demand"] if 0 <= (r["time_stamp"] - start) // c.step_minutes < 40]
    np.testing.assert_allclose(c.rate.sum(), sum(r["demand"] for r in inside) * cal["demand_ratio"], rtol=1e-4)
    assert (c.trip_steps >= 1).all() and (c.reb_steps >= 1).all() and (c.price >= 0).all()
    assert c.adjacency.sum() == len({(e["i"], e["j"]) for e in raw["topology_graph"] if e["i"] != e["j"]})


def _tiny(tmp_path, **overrides):
    data = {
        "nlat": 2, "nlon": 1,
        "demand": [
            # minute 600 = 10:00 -> step 0 with 4-minute steps; two records 0->1 average by demand
            {"time_stamp": 600, "origin": 0, "destination": 1, "demand": 1.0, "travel_time": 8, "price": 10.0},
            {"time_stamp": 601, "origin": 0, "destination": 1, "demand": 3.0, "travel_time": 16, "price": 20.0},
            {"time_stamp": 605, "origin": 1, "destination": 0, "demand": 0.5, "travel_time": 2, "price": 7.0},
            {"time_stamp": 599, "origin": 1, "destination": 1, "demand": 9.0, "travel_time": 5, "price": 5.0},
        ],
        "rebTime": [{"time_stamp": 10, "origin": 0, "destination": 1, "reb_time": 6.5},
                    {"time_stamp": 10, "origin": 1, "destination": 0, "reb_time": 1.0},
                    {"time_stamp": 11, "origin": 0, "destination": 1, "reb_time": 99}],
        "totalAcc": [{"hour": 10, "acc": 7}, {"hour": 11, "acc": 11}],
        "topology_graph": [{"i": 0, "j": 1}],
    }
    data.update(overrides)
    path = tmp_path / "scenario_tiny.json"
    path.write_text(json.dumps(data))
    return path, data


def test_hand_computed_arrays(tmp_path):
    path, _ = _tiny(tmp_path)
    c = load_city(str(path), demand_ratio=2.0, start_hour=10, cost_per_minute=0.5, step_minutes=4, periods=3)
    np.testing.assert_allclose(c.rate[0], [[0, 8.0], [0, 0]])  # (1 + 3) * 2; minute 599 is before the start
    np.testing.assert_allclose(c.rate[1], [[0, 0], [1.0, 0]])  # minute 605 -> step 1
    assert c.price[0, 0, 1] == pytest.approx((10 * 1 + 20 * 3) / 4)  # demand-weighted
    assert c.trip_steps[0, 0, 1] == 4  # demand-weighted 14 min / 4-minute steps = 3.5, rounded to 4
    assert c.trip_steps[1, 1, 0] == 1  # 2 min / 4 rounds to 0 -> at least 1
    np.testing.assert_array_equal(c.reb_steps, [[1, 2], [1, 1]])  # 6.5 / 4 -> 2, 1 / 4 -> at least 1
    # fleet: hour 10 + round(4 / 2 * 20 / 60) = 11 -> 11 vehicles, int(11 / 2) = 5 each
    np.testing.assert_array_equal(c.fleet, [5, 5])
    assert c.adjacency.tolist() == [[False, True], [False, False]]


@pytest.mark.parametrize("field", ["time_stamp", "origin", "destination", "demand", "travel_time", "price"])
def test_missing_demand_field_is_named(tmp_path, field):
    path, data = _tiny(tmp_path)
    del data["demand"][1][field]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=rf"demand\[1\] is missing the field '{field}'"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)


def test_negative_demand_is_refused_naming_the_field(tmp_path):
    path, data = _tiny(tmp_path)
    data["demand"][2]["demand"] = -0.5
    path.write_text(json.dumps(data))
    with pytest.raises(CityError, match=r"demand\[2\]\.demand is negative"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)


@pytest.mark.parametrize("key", ["demand", "rebTime", "totalAcc", "nlat"])
def test_missing_top_level_field_is_named(tmp_path, key):
    path, data = _tiny(tmp_path)
    del data[key]
    path.write_text(json.dumps(data))
    with pytest.raises(CityError, match=key):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)


def test_other_bad_inputs(tmp_path):
    path, data = _tiny(tmp_path)
    with pytest.raises(CityError, match="pass demand_ratio, start_hour, cost_per_minute"):
        load_city(str(path))  # no calibration file beside it, none given
    bad = dict(data, demand=[dict(data["demand"][0], origin=5)])
    path.write_text(json.dumps(bad))
    with pytest.raises(CityError, match=r"demand\[0\]\.origin = 5 is not a region index in 0..1"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)
    bad = dict(data, rebTime=data["rebTime"][:1])
    path.write_text(json.dumps(bad))
    with pytest.raises(CityError, match="rebTime has no record for hour 10 from region 1 to 0"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)
    path.write_text(json.dumps(dict(data, totalAcc=data["totalAcc"][:1])))
    with pytest.raises(CityError, match="totalAcc has no entry for hour 11 .start hour 10"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5, step_minutes=4)
    path.write_text("{not json")
    with pytest.raises(CityError, match="not valid JSON"):
        load_city(str(path), demand_ratio=1, start_hour=10, cost_per_minute=0.5)
    with pytest.raises(CityError, match="does not exist"):
        load_city(str(tmp_path / "nope.json"))
    with pytest.raises(CityError, match="demand_per_region"):
        grid_city(demand_per_region=-1)


def test_grid_city_follows_its_parameters():
    c = grid_city(rows=2, cols=3, fleet_per_region=7, demand_per_region=5.0, alpha=0.0, periods=4)
    assert c.n == 6 and (c.fleet == 7).all()
    np.testing.assert_allclose(c.rate[0].sum(1), 5.0, rtol=1e-5)  # alpha = 0: exactly 5 trips per region
    assert c.reb_steps[0, 5] == 3 and c.reb_steps[0, 0] == 1  # Manhattan distance, at least one step
    assert (c.price[0] >= 1).all() and 4 <= c.price[0, 0, 5] <= 12  # U[1, 3] * (distance 3 + 1)
