"""Scenario files: every shared RFRL Gym file loads; the schema refuses bad input naming the field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import realax
from realax.envs.spectrum import schema as sc
from realax.envs.spectrum.scenarios import BUILTIN

# RFRL Gym's real scenario files (MIT) live beside the project, never inside it (shared/data/rfrl_scenarios)
DATA = Path(os.environ.get("REALAX_RFRL_SCENARIOS",
                           Path(__file__).resolve().parents[3].parent / "shared" / "data" / "rfrl_scenarios"))
FILES = sorted(DATA.glob("*.json"))
needs_data = pytest.mark.skipif(not FILES, reason=f"RFRL Gym scenario files not found in {DATA} "
                                "(set REALAX_RFRL_SCENARIOS to their folder)")


@needs_data
def test_shared_scenario_folder_is_complete():
    assert len(FILES) == 13, f"expected the 13 RFRL Gym scenario files in {DATA}"


@needs_data
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_shared_file_loads_in_both_envs(path):
    raw = json.loads(path.read_text())
    for env_id in ("realax/Spectrum-v0", "realax/SpectrumMA-v0"):
        env, params = realax.make(env_id, scenario=str(path))
        s = env.scenario
        assert s.num_channels == raw["environment"]["num_channels"] and params.max_steps == raw["environment"]["max_steps"]
        assert [e.label for e in s.entities] == list(raw["entities"])
        assert s.multi_agent_file == ("agents" in raw["environment"])
        iq = [f"entities.{k}.modem_params" for k, v in raw["entities"].items() if "modem_params" in v]
        assert set(iq) <= set(s.unused)
        if "detector" in raw["environment"]:
            assert "environment.detector" in s.unused
    if "agents" in raw["environment"]:
        env, params = realax.make("realax/SpectrumMA-v0", scenario=str(path))
        assert env.num_agents == len(raw["environment"]["agents"])
        modes = [a["observation_mode"] == "classify" for a in raw["environment"]["agents"].values()]
        np.testing.assert_array_equal(np.asarray(params.classify), modes)


@needs_data
def test_master_test_scenario_semantics():
    env, params = realax.make("realax/Spectrum-v0", scenario=str(DATA / "master__test_scenario.json"))
    assert env.classify and bool(params.reward_jam) and int(params.target) == 3  # fixed_hop_freq_1, 1-based
    np.testing.assert_array_equal(np.asarray(params.entities.seq[2, :8]), [1, 2, 3, 4, 5, 6, 7, 8])


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtins_parse(name):
    env_id = "realax/SpectrumMA-v0" if "agents" in BUILTIN[name]["environment"] else "realax/Spectrum-v0"
    env, _ = realax.make(env_id, scenario=name)
    assert env.num_channels == 10


def _write(tmp_path, data) -> str:
    p = tmp_path / "s.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def test_unknown_scenario_lists_builtins():
    with pytest.raises(ValueError, match="unknown spectrum scenario 'nope'.*hopper"):
        realax.make("realax/Spectrum-v0", scenario="nope")


def test_missing_file_and_invalid_json(tmp_path):
    with pytest.raises(ValueError, match="cannot read scenario file"):
        realax.make("realax/Spectrum-v0", scenario=str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="not valid JSON"):
        realax.make("realax/Spectrum-v0", scenario=_write(tmp_path, "{\"environment\": "))


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["entities"]["tv"].update(channels=[12]), r"entities\.tv\.channels\[0\].*outside"),
    (lambda d: d["entities"]["tv"].update(type="__import__('os').system('x')"), r"entities\.tv\.type.*not one of"),
    (lambda d: d["entities"]["tv"].update(onoff=[1, -2, 0]), r"entities\.tv\.onoff\[1\]"),
    (lambda d: d["entities"]["tv"].update(colour="red"), r"entities\.tv\.colour: unknown field"),
    (lambda d: d["environment"].update(num_channels="10"), r"environment\.num_channels: expected an integer"),
    (lambda d: d["environment"].update(reward_mode="steal"), r"environment\.reward_mode.*not one of"),
    (lambda d: d["environment"].update(target_entity="ghost"), r"environment\.target_entity.*not one of"),
    (lambda d: d["environment"].pop("max_steps"), r"environment\.max_steps: missing"),
    (lambda d: d["entities"]["tv"].update(percent_on=1.5), r"entities\.tv\.percent_on"),
])
def test_malformed_fields_are_named(tmp_path, mutate, field):
    d = json.loads(json.dumps(BUILTIN["constant"]))
    mutate(d)
    with pytest.raises(sc.ScenarioError, match=field):
        realax.make("realax/Spectrum-v0", scenario=_write(tmp_path, d))
