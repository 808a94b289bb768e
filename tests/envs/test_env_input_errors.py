"""Bad input at env construction gets the project's own error (issue 9, DESIGN §2): a ``RealaxError`` naming
the field, the value and what is allowed, raised before anything large is allocated. One plain regression test
per bug the fuzz suite (tests/fuzz) found, plus the bounds each constructor states in its docstring."""

from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.core import MAX_STEPS, discrete_action
from realax.envs.robotaxi import RoboTaxi
from realax.envs.robotaxi.city import CityError, grid_city, load_city
from realax.envs.smax import SMAX
from realax.envs.smax import scenarios as smax_sc
from realax.envs.spectrum import Spectrum, SpectrumMA
from realax.envs.spectrum import schema as spec_sc
from realax.envs.spectrum.scenarios import BUILTIN
from realax.errors import RealaxError


def test_file_errors_are_realax_errors():
    assert issubclass(spec_sc.ScenarioError, RealaxError) and issubclass(CityError, RealaxError)


@pytest.mark.parametrize("env_id", realax.list_envs())
@pytest.mark.parametrize("bad", [-5, 0, 10**12])
def test_max_steps_outside_1_to_2_30_is_refused_by_every_family(env_id, bad):
    """``max_steps=0`` was silently replaced by the scenario's (``max_steps or ...``), ``-5`` accepted and
    ``10**12`` an OverflowError at the first jit (issue 9 cases 3 and 7)."""
    with pytest.raises(RealaxError, match=rf"max_steps must be in 1\.\.{MAX_STEPS}, got {bad}"):
        realax.make(env_id, max_steps=bad)
    _, params = realax.make(env_id, max_steps=1)
    assert params.max_steps == 1


def test_spectrum_constructor_bounds():
    for kw, field in (({"history": 0}, "history"), ({"history": 5000}, r"history must be in 1\.\.1024"),
                      ({"seed": -1}, r"seed must be in 0\.\.4294967295"), ({"own_tx": "yes"}, "own_tx")):
        with pytest.raises(RealaxError, match=field):
            Spectrum("hopper", **kw)
    with pytest.raises(RealaxError, match=r"num_agents must be in 1\.\.125, got 0"):
        SpectrumMA("hopper", num_agents=0)
    with pytest.raises(RealaxError, match=r"num_agents must be in 1\.\.125, got 1000000000"):
        SpectrumMA("hopper", num_agents=10**9)  # was a tuple of 10**9 agent specs
    for bad in (123, None, ["hopper"]):  # was a TypeError from ``bad in BUILTIN`` / ``bad.endswith``
        with pytest.raises(spec_sc.ScenarioError, match="built-in name or a .json path"):
            Spectrum(bad)


def _spectrum_file(tmp_path, entities=None, **env):
    data = json.loads(json.dumps(BUILTIN["jam_hopper"]))
    if entities is not None:
        data["entities"] = entities
    data["environment"].update(env)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_spectrum_own_tx_refuses_codes_beyond_int8(tmp_path):
    """With ``own_tx`` the observation adds ``E + 2`` to the radio's cells: 70 entities overflowed int8."""
    many = {f"e{i}": {"type": "ConstantFreq", "channels": [i % 10]} for i in range(70)}
    path = _spectrum_file(tmp_path, many, target_entity="e0")
    Spectrum(path)  # fine without own_tx: codes up to E + 1
    with pytest.raises(RealaxError, match="own_tx=True needs at most 62 entities"):
        Spectrum(path, own_tx=True)


@pytest.mark.parametrize("field, value, message", [
    ("onoff", [1, 2**40, 0], r"onoff\[1\]: 1099511627776 is outside the allowed range 0\.\.1073741824"),
    ("start", 2**40, r"start: 1099511627776 is outside"),
    ("dwell", 10**20, r"dwell: .* is outside"),
    ("channels", [1] * 5000, r"channels: expected a list of 1\.\.1024 channel indices"),
])
def test_spectrum_entity_numbers_are_bounded(tmp_path, field, value, message):
    """Times beyond int32 were an OverflowError when the entity table was built; hop lists set an [E, L] array."""
    entity = {"type": "FixedHopFreq", "channels": [1, 2], field: value}
    with pytest.raises(spec_sc.ScenarioError, match=message):
        Spectrum(_spectrum_file(tmp_path, {"hopper": entity}))


def test_spectrum_probabilities_beyond_float_are_refused(tmp_path):
    """``np.isfinite(10**400)`` is a TypeError: a percent_on or channel weight of 10**400 escaped as one."""
    for entity, field in (({"type": "StochasticConstantFreq", "channels": [1], "percent_on": 10**400}, "percent_on"),
                          ({"type": "StochasticHopFreq", "channels": [1, 2], "channel_weights": [10**400, 0]},
                           r"channel_weights\[0\]")):
        with pytest.raises(spec_sc.ScenarioError, match=rf"{field}: expected a number in \[0.0, 1.0\]"):
            Spectrum(_spectrum_file(tmp_path, {"hopper": entity}))


def test_spectrum_stop_beyond_an_episode_means_never(tmp_path):
    entity = {"type": "ConstantFreq", "channels": [3], "stop": 10**30}
    env = Spectrum(_spectrum_file(tmp_path, {"hopper": entity}))
    assert int(env.default_params.entities.stop[0]) == MAX_STEPS


def test_spectrum_files_that_are_not_utf8_json_or_nest_too_deep(tmp_path):
    """A byte-flipped file was a UnicodeDecodeError, a deeply nested one a RecursionError."""
    path = tmp_path / "s.json"
    path.write_bytes(b'{"environment": "\xff\xfe"}')
    with pytest.raises(spec_sc.ScenarioError, match="not valid JSON"):
        Spectrum(str(path))
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(spec_sc.ScenarioError, match="nested too deeply"):
        Spectrum(str(path))


def test_spectrum_multi_agent_files_with_too_many_agents(tmp_path):
    data = json.loads(json.dumps(BUILTIN["marl_mixed"]))
    data["environment"]["agents"] = {f"a{i}": {"observation_mode": "detect", "reward_mode": "dsa"} for i in range(130)}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    with pytest.raises(spec_sc.ScenarioError, match="130 agents is too many with 4 entities: at most 122"):
        SpectrumMA(str(path))


def test_smax_counts_are_bounded_before_building_lists():
    """A count of 10**12 built a list of 10**12 unit ids (minutes, then out of memory) before the room rule."""
    t0 = time.perf_counter()
    with pytest.raises(RealaxError, match="at most 128"):
        smax_sc.custom({"marine": 10**12}, {"marine": 1})
    assert time.perf_counter() - t0 < 1.0
    with pytest.raises(RealaxError, match="count of 'marine' must be an integer >= 0, got True"):
        smax_sc.custom({"marine": True}, {"marine": 1})  # a bool was one marine
    with pytest.raises(RealaxError, match="at most 128"):
        smax_sc.custom(["m"] * 129, ["m"])


def test_smax_positions_and_hand_built_scenarios():
    """Ragged or textual positions were a raw numpy ValueError; a hand-built ``Scenario`` skipped every check."""
    for pos in ([[1, 2], [3]], [["a", "b"], [1, 2]], "x", {"a": 1}):
        with pytest.raises(RealaxError, match="ally_positions must be a list"):
            smax_sc.custom({"marine": 2}, {"marine": 1}, ally_positions=pos)
    bad = smax_sc.Scenario("hand", (0, 0), (0,), ally_positions=((1.0, 1.0), (float("nan"), 2.0)))
    with pytest.raises(RealaxError, match="strictly inside the map"):
        SMAX(bad)
    with pytest.raises(RealaxError, match="unknown unit type 'tank'"):
        SMAX(smax_sc.Scenario("hand", ("tank",), (0,)))
    env = SMAX(smax_sc.Scenario("hand", ("marine", "s"), (0,)))  # names were a TypeError in the room rule
    assert env.scenario.ally_types == (0, 2)
    with pytest.raises(RealaxError, match="smacv2_types must be true or false"):
        SMAX(smax_sc.Scenario("hand", (0,), (0,), smacv2_types="yes"))
    with pytest.raises(RealaxError, match=r"ticks_per_step must be in 1\.\.256, got 1000000"):
        SMAX("3m", ticks_per_step=10**6)
    with pytest.raises(RealaxError, match="self_play must be true or false"):
        SMAX("3m", self_play="false")


@pytest.mark.parametrize("self_play", [False, True])
def test_smax_more_allies_than_enemies_steps(self_play):
    """Found by tests/fuzz: with more allies than enemies (and no self-play) the action masks failed to
    trace (``bool[1, 2]`` into ``bool[1, 1]``); JaxMARL's maps all have as many or more enemies."""
    env = SMAX(smax_sc.custom({"marine": 2}, ["marine"]), self_play=self_play)
    params = env.default_params
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)  # jitted: op by op, each op compiles alone
    mask = jax.jit(env.action_mask)(state, params)
    assert mask.shape == (env.num_agents, env.n_actions)
    obs, state, *_ = jax.jit(env.step)(jax.random.key(1), state, jnp.full(env.num_agents, 4), params)
    assert obs.shape == (env.num_agents, env.obs_size)


def _city(tmp_path, **overrides) -> str:
    data = {"nlat": 2, "nlon": 1,
            "demand": [{"time_stamp": 600, "origin": 0, "destination": 1, "demand": 1.0, "travel_time": 8, "price": 10.0}],
            "rebTime": [{"time_stamp": 10, "origin": 0, "destination": 1, "reb_time": 6.5},
                        {"time_stamp": 10, "origin": 1, "destination": 0, "reb_time": 1.0}],
            "totalAcc": [{"hour": 10, "acc": 7}, {"hour": 11, "acc": 11}], "topology_graph": [{"i": 0, "j": 1}]}
    data.update(overrides)
    path = tmp_path / "scenario_tiny.json"
    path.write_text(json.dumps(data))
    return str(path)


CAL = {"demand_ratio": 1.0, "start_hour": 10, "cost_per_minute": 0.5, "step_minutes": 4}


def test_a_travel_time_of_1e9_minutes_is_refused_before_allocating(tmp_path):
    """Issue 9 case 7: the arrivals buffer grows with the longest trip; 1e9 minutes asked for 93 GB after 45 s."""
    rec = {"time_stamp": 600, "origin": 0, "destination": 1, "demand": 1.0, "travel_time": 1e9, "price": 10.0}
    t0 = time.perf_counter()
    with pytest.raises(CityError, match=r"demand\[0\]\.travel_time = 1e\+09 min .* at most 1440 steps"):
        RoboTaxi(_city(tmp_path, demand=[rec]), **CAL)
    reb = [{"time_stamp": 10, "origin": 0, "destination": 1, "reb_time": 1e9},
           {"time_stamp": 10, "origin": 1, "destination": 0, "reb_time": 1.0}]
    with pytest.raises(CityError, match=r"rebTime\[0\]\.reb_time = 1e\+09 min"):
        RoboTaxi(_city(tmp_path, rebTime=reb), **CAL)
    assert time.perf_counter() - t0 < 5.0


@pytest.mark.parametrize("overrides, message", [
    ({"nlat": -2, "nlon": -2}, r"city\.nlat must be an integer in 1\.\.256, got -2"),  # was 4 regions
    ({"nlat": 1000, "nlon": 1000}, r"city\.nlat must be an integer in 1\.\.256"),  # was a 10**12-cell array
    ({"nlat": 200, "nlon": 2}, r"nlat \* city\.nlon = 400 regions; at most 256"),
    ({"totalAcc": [{"hour": 11, "acc": 1e300}]}, r"totalAcc\[0\]\.acc = 1e\+300 is too large"),  # was OverflowError
    ({"demand": [{"time_stamp": 600, "origin": 0, "destination": 1, "demand": 10**400, "travel_time": 8,
                  "price": 1.0}]}, r"demand\[0\]\.demand must be a finite number"),  # was OverflowError
    ({"topology_graph": 7}, r"topology_graph must be a list"),  # was a TypeError
])
def test_city_file_numbers_are_bounded(tmp_path, overrides, message):
    with pytest.raises(CityError, match=message):
        load_city(_city(tmp_path, **overrides), **CAL)


def test_calibration_files_that_are_not_tables(tmp_path):
    """A broken calibrated_parameters.json was a JSONDecodeError, a list an AttributeError."""
    path = _city(tmp_path)
    cal = tmp_path / "calibrated_parameters.json"
    for text, message in (("{", "not valid JSON"), ("[1, 2]", "must hold a JSON object"),
                          ('{"tiny": 5}', "entry 'tiny' must be an object")):
        cal.write_text(text)
        with pytest.raises(CityError, match=message):
            load_city(path)
    cal.write_text(json.dumps({"tiny": {"demand_ratio": 1, "json_hr": 10.5, "beta": 0.5}}))
    with pytest.raises(CityError, match=r"start_hour must be an integer"):  # 10.5 was silently hour 10
        load_city(path)


def test_robotaxi_options_are_checked_not_ignored():
    with pytest.raises(RealaxError, match="option 'calibration' does not apply to city='grid'"):
        RoboTaxi("grid", calibration="x.json")  # was a TypeError from grid_city
    for kw, message in (({"n_regions": 0}, r"n_regions must be in 1\.\.256, got 0"),  # 0 was ignored
                        ({"max_travel_steps": 0}, r"max_travel_steps must be in 1\.\.1440"),
                        ({"max_rate": float("nan")}, "max_rate must be a number"),
                        ({"n_regions": 4}, "city grid4x4 has 16 regions; n_regions=4 is fewer"),
                        ({"rows": 16, "cols": 16, "periods": 100}, "at most 4194304"),
                        ({"trip_length_preference": float("inf")}, "trip_length_preference must be a number"),
                        ({"fleet_per_region": {}}, "fleet_per_region must be an integer")):  # was a TypeError
        with pytest.raises(RealaxError, match=message):
            RoboTaxi("grid", **kw)


def test_grid_city_preference_that_would_overflow_exp_still_gives_distributions():
    c = grid_city(rows=8, cols=8, trip_length_preference=-100.0)
    assert np.all(np.isfinite(c.rate)) and c.rate.sum() > 0


def test_discrete_action_rule():
    """One rule for every discrete family inside jit: whole numbers in range pass, the rest is the no-op."""
    values = jnp.array([0.0, 3.0, 2.5, jnp.nan, jnp.inf, -1.0, 10.0, 11.0, 2.0**31])
    act, invalid = discrete_action(values, 11, 4, (9,))
    np.testing.assert_array_equal(np.asarray(act), [0, 3, 4, 4, 4, 4, 10, 4, 4])
    np.testing.assert_array_equal(np.asarray(invalid), [0, 0, 1, 1, 1, 1, 0, 1, 1])
    act, invalid = discrete_action(jnp.array([-3, 5, 11], jnp.int32), 11, 0, (3,))
    np.testing.assert_array_equal(np.asarray(act), [0, 5, 0])
    np.testing.assert_array_equal(np.asarray(invalid), [1, 0, 1])
    with pytest.raises(RealaxError, match=r"action has shape \(2,\); expected \(3,\)"):
        discrete_action(jnp.zeros(2), 11, 0, (3,))
    for bad in ("a", None, object()):  # while tracing: a RealaxError, not jnp.asarray's TypeError
        with pytest.raises(RealaxError, match="not an array of numbers"):
            discrete_action(bad, 11, 0)
