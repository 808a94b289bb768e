"""What each registration declares agrees with its class: multi-agent by type, baselines by module."""

from __future__ import annotations

import pytest

import realax
from realax import baselines
from realax.core import MultiAgentEnv, is_multi_agent
from realax.wrappers import FlattenObservation


@pytest.mark.parametrize("env_id", realax.list_envs())
def test_registration_matches_the_class(env_id):
    spec = realax.spec(env_id)
    cls = spec.load()
    assert spec.multi_agent == issubclass(cls, MultiAgentEnv)
    assert spec.description == cls.description and len(cls.description) > 20
    module = spec.load_baselines()
    if module is not None:
        assert module.BASELINES and all(callable(f) for f in module.BASELINES.values())
        assert set(getattr(module, "SLOW", ())) <= set(module.BASELINES)


def test_baselines_and_multi_agent_are_found_through_wrappers():
    env, params = realax.make("realax/SpectrumMA-v0")
    wrapped = FlattenObservation(env)
    assert is_multi_agent(wrapped) and wrapped.unwrapped is env
    assert baselines.names(wrapped) == baselines.names(env) == ["random", "sense_and_avoid", "predictive"]
    single, _ = realax.make("realax/RoboTaxi-v0")
    assert not is_multi_agent(single) and "mpc_oracle" in baselines.names(single)
    assert "mpc_oracle" not in baselines.fast_names(single)
    smax, _ = realax.make("realax/SMAX-v0")
    assert baselines.names(smax) == ["random"]
