"""Fuzzing ``-e KEY=VALUE`` and ``--set FIELD=VALUE`` (issue 9): whatever text a user types, the option parser,
``realax.make`` and the configs either accept it or raise ``RealaxError`` with a message; never another
exception, never a hang, and never an environment whose params exceed ``PARAMS_BYTES``."""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import realax
from realax import experiment, options
from realax.agents.algorithms import ALGOS
from realax.cli_common import env_kwargs
from realax.errors import RealaxError

#: the stated bound on an environment's params built from any option value
PARAMS_BYTES = 64 * 2**20
TRICKY = ["true", "false", "FALSE", "yes", "no", "0", "1", "-1", "-5", "2", "1.7", "2.0", "1e12", "1e309", "-0", "nan",
          "inf", "-inf", "none", "null", "", " ", "abc", "0x10", "1_000", "hopper", "3m", "grid", "[1, 2]", "{}",
          "/nonexistent/file.json", "../x.json", "\x00", "é", "9" * 40]
values = st.one_of(st.sampled_from(TRICKY), st.integers(-10**15, 10**15).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=12))
FUZZ = settings(max_examples=60, deadline=5000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _option_cases(env_ids):
    keys = [(i, k) for i in env_ids for k in options.env_hints(realax.spec(i).load())[0]]
    return st.tuples(st.sampled_from(keys), values)


def _params_bytes(params) -> int:
    return sum(np.asarray(x).nbytes for x in jax.tree.leaves(params))


@FUZZ
@given(_option_cases(["realax/Spectrum-v0", "realax/SpectrumMA-v0", "realax/SMAX-v0"]))
def test_env_options_work_or_raise_realax_error(case):
    (env_id, key), text = case
    try:
        kwargs = env_kwargs(env_id, None, [f"{key}={text}"])
        env, params = realax.make(env_id, **kwargs)
    except RealaxError as e:
        assert str(e)
        return
    assert _params_bytes(params) <= PARAMS_BYTES


@settings(FUZZ, max_examples=25)
@given(_option_cases(["realax/RoboTaxi-v0"]))
def test_robotaxi_options_work_or_raise_realax_error(case):
    (env_id, key), text = case
    try:
        env, params = realax.make(env_id, **env_kwargs(env_id, None, [f"{key}={text}"]))
    except RealaxError as e:
        assert str(e)
        return
    assert _params_bytes(params) <= PARAMS_BYTES


@FUZZ
@given(st.sampled_from([(a, f) for a, entry in ALGOS.items() for f in options.config_hints(entry.config)]),
       values)
def test_config_fields_work_or_raise_realax_error(algo_field, text):
    algo, field = algo_field
    try:
        experiment.make_config(algo, options.split_pairs([f"{field}={text}"], "--set"))
    except RealaxError as e:
        assert str(e)


@FUZZ
@given(st.text(max_size=20))
def test_any_pair_text_parses_or_raises_realax_error(item):
    try:
        pairs = options.split_pairs([item], "--set")
        experiment.make_config("ppo", pairs)
    except RealaxError as e:
        assert str(e)
