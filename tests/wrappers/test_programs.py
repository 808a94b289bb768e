"""Adapters of one id and options share their jitted functions (realax/wrappers/programs.py)."""

from __future__ import annotations

import gymnasium
import pytest

import realax
from realax.errors import RealaxError
from realax.wrappers import programs


def test_adapters_of_one_id_and_options_compile_once():
    programs.clear()  # fresh programs: earlier tests in this worker may have stepped them with other action types
    a, b = gymnasium.make("realax/Spectrum-v0").unwrapped, gymnasium.make("realax/Spectrum-v0").unwrapped
    assert a.env is b.env and a._step is b._step
    for env in (a, b):
        env.reset(seed=0)
        env.step(1)
    assert a._step._cache_size() == 1  # the second adapter's step reused the first one's compilation
    other = gymnasium.make("realax/Spectrum-v0", scenario="constant").unwrapped
    assert other.env is not a.env and other.env.scenario.name != a.env.scenario.name
    pz = realax.parallel_env("realax/SpectrumMA-v0"), realax.parallel_env("realax/SpectrumMA-v0", strict_masks=False)
    assert pz[0]._step is pz[1]._step  # an adapter-only option is not an env option


def test_clear_forgets_and_an_unhashable_option_gets_makes_own_message():
    shared = programs.programs("realax/Spectrum-v0", {})
    assert programs.programs("realax/Spectrum-v0", {}) is shared
    programs.clear()
    assert programs.programs("realax/Spectrum-v0", {}) is not shared
    with pytest.raises(RealaxError, match="option 'scenario' of realax/Spectrum-v0 takes a string"):
        programs.programs("realax/Spectrum-v0", {"scenario": ["hopper"]})  # a list: not hashable, not cached
