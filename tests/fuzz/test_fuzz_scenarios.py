"""Fuzzing spectrum scenario files and SMAX custom scenarios (issue 9): every generated input either builds an
env whose reset and step trace with params + state under the stated bound, or is refused with a
``RealaxError`` that has a message (``fuzz_support.works_or_refused``); never another exception or a hang.

Spectrum inputs are mutations of RFRL Gym's own scenario files (read from ``shared/data/rfrl_scenarios`` when
that folder exists, never copied here) and of the built-in scenarios, which follow the same schema.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from fuzz_support import FUZZ, GARBAGE, TIME_LIMIT_S, mutate, time_limit, works_or_refused
from hypothesis import given
from hypothesis import strategies as st

from realax.envs.smax import SMAX
from realax.envs.smax import scenarios as smax_sc
from realax.envs.spectrum import Spectrum, SpectrumMA
from realax.envs.spectrum import schema as spec_sc
from realax.envs.spectrum.scenarios import BUILTIN
from realax.errors import RealaxError

RFRL = Path(os.environ.get("REALAX_RFRL_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "rfrl_scenarios"))
#: every field of the schema (scenario.py), so that optional ones the bases lack get fuzzed too
FIELDS = tuple(sorted(spec_sc._ENTITY_FIELDS | spec_sc._ENV_FIELDS | spec_sc._AGENT_FIELDS))
BASES = [json.loads(p.read_text()) for p in sorted(RFRL.glob("*.json"))] + [BUILTIN[k] for k in sorted(BUILTIN)]


def _write(tmp: str, data) -> str:
    path = os.path.join(tmp, "scenario.json")
    with open(path, "w") as f:
        json.dump(data, f)  # NaN and infinity are written as JSON's NaN/Infinity tokens, which Python reads back
    return path


def _spectrum(path: str, multi: bool, **kw):
    env = SpectrumMA(path, **kw) if multi else Spectrum(path, **kw)
    return env, env.default_params


@FUZZ
@given(st.data())
def test_spectrum_scenario_files_work_or_raise_realax_error(data):
    base = BASES[data.draw(st.integers(0, len(BASES) - 1))]
    scenario = mutate(base, data.draw, data.draw(st.sampled_from([0, 1, 1, 1, 2, 3])), FIELDS)
    multi = data.draw(st.booleans())
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, scenario)
        works_or_refused(lambda: _spectrum(path, multi))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_spectrum_scenario_bytes_are_refused_or_parsed(raw):
    with tempfile.TemporaryDirectory() as tmp, time_limit(TIME_LIMIT_S):
        path = os.path.join(tmp, "s.json")
        Path(path).write_bytes(raw)
        with pytest.raises(RealaxError, match="scenario"):
            spec_sc.load(path)  # no random bytes form a whole scenario


_options = st.fixed_dictionaries({}, optional={
    "history": st.one_of(st.integers(-3, 2000), GARBAGE), "max_steps": st.one_of(st.none(), st.integers(-5, 2**40)),
    "seed": st.one_of(st.integers(-5, 2**40), GARBAGE), "own_tx": st.one_of(st.booleans(), GARBAGE)})


@FUZZ
@given(st.sampled_from(sorted(BUILTIN) + [123, None, "nope", "x.json", ["hopper"]]), _options)
def test_spectrum_constructor_options_work_or_raise_realax_error(scenario, options):
    multi = "own_tx" not in options and scenario == "marl_mixed"
    works_or_refused(lambda: _spectrum(scenario, multi, **options))


# -- SMAX ---------------------------------------------------------------------------------------------------
_names = st.sampled_from(list(smax_sc.UNIT_TYPES) + ["m", "M", "s", "Z", "z", "h", "Marine", "tank", "", 0, 5, 6, -1])
_valid_names = st.sampled_from(list(smax_sc.UNIT_TYPES) + ["m", "M", "s", "Z", "z", "h", 0, 5])
_count = st.one_of(st.integers(0, 4), st.sampled_from([0, 129, 2000, 10**12, -1, True, 2.0, 1.5, None, "3"]))
# mostly well-formed teams (so that many examples build an env), with bad names, counts and garbage mixed in
_team = st.one_of(st.dictionaries(_valid_names, st.integers(1, 4), min_size=1, max_size=3),
                  st.lists(_valid_names, min_size=1, max_size=6), st.dictionaries(_names, _count, max_size=3),
                  st.lists(_names, max_size=6), GARBAGE)
_pair = st.lists(st.one_of(st.floats(-5, 40), st.sampled_from([float("nan"), float("inf"), 16.0]), GARBAGE),
                 min_size=0, max_size=3)
_positions = st.one_of(st.none(), st.none(), st.none(), st.lists(_pair, max_size=5), GARBAGE)
_flag = st.one_of(st.booleans(), st.booleans(), GARBAGE)


def _smax(scenario, **kw):
    env = SMAX(scenario, **kw)
    return env, env.default_params


@FUZZ
@given(_team, _team, _positions, _positions, _flag, st.booleans())
def test_smax_custom_scenarios_work_or_raise_realax_error(allies, enemies, ally_pos, enemy_pos, smacv2, self_play):
    def build():
        scenario = smax_sc.custom(allies, enemies, ally_pos, enemy_pos, smacv2)
        return _smax(scenario, self_play=self_play)

    works_or_refused(build)


@FUZZ
@given(st.one_of(st.lists(_valid_names, min_size=1, max_size=5).map(tuple), st.lists(_names, max_size=5).map(tuple), GARBAGE),
       st.one_of(st.lists(_valid_names, min_size=1, max_size=5).map(tuple), GARBAGE), _positions, _flag, _flag,
       st.one_of(st.integers(1, 300), st.integers(-2, 0), GARBAGE), st.one_of(st.integers(1, 2**31), st.integers(-2, 0), GARBAGE))
def test_smax_scenario_objects_and_options_work_or_raise_realax_error(ally, enemy, pos, sv2_pos, sv2_types, ticks, steps):
    """A ``Scenario`` built by hand (no checks at all) is checked when the env resolves it."""
    scenario = smax_sc.Scenario("fuzz", ally, enemy, sv2_pos, sv2_types, pos, None)
    works_or_refused(lambda: _smax(scenario, ticks_per_step=ticks, max_steps=steps))
