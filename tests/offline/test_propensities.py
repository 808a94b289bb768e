"""``realax data generate --propensities``: each logged action's probability under the behaviour policy."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from realax.errors import RealaxError
from realax.offline import policies
from realax.offline.generate import DataSpec, build, collect, propensity_of
from realax.spaces import Discrete, MultiDiscrete, Slate


def _collect(spec: DataSpec):
    spec = spec.resolved()
    setup = build(spec)
    act = policies.behaviour(setup.env, setup.params, setup.base_env, setup.base_params,
                             policies.resolve(spec.policy, spec.env_id, setup.base_env, setup.base_params))
    eps = collect(setup.env, setup.params, act, jax.random.key(0), spec.episodes, level=spec.level, progress=False,
                  prop=propensity_of(setup, spec))
    return eps, setup


def test_uniform_probabilities_by_hand():
    assert policies.uniform_log_prob(Discrete(4)) == pytest.approx(-np.log(4))
    assert policies.uniform_log_prob(MultiDiscrete([2, 3])) == pytest.approx(-np.log(6))
    assert policies.uniform_log_prob(Slate(10, 2)) == pytest.approx(-np.log(90))  # ordered pairs of distinct items


def test_random_policy_logs_the_uniform_probability():
    eps, setup = _collect(DataSpec("realax/Spectrum-v0", episodes=4))
    n = setup.base_env.action_space(setup.base_params).n
    np.testing.assert_allclose(eps.infos["propensity"], 1.0 / n, rtol=1e-6)
    eps, _ = _collect(DataSpec("realax/SlateRec-v0", episodes=4))
    np.testing.assert_allclose(eps.infos["propensity"], 1.0 / 90, rtol=1e-6)  # slate of 2 of 10 candidates


def test_multi_agent_random_policy_is_uniform_over_each_agents_valid_actions():
    eps, setup = _collect(DataSpec("realax/SMAX-v0", episodes=2))
    p = eps.infos["propensity"]
    assert p.shape == eps.rewards.shape  # one per agent and step
    # SMAX masks attacks on enemies out of range: the valid count changes, and 1/p is always a whole count
    counts = 1.0 / p
    np.testing.assert_allclose(counts, np.round(counts), rtol=1e-5)
    assert len(np.unique(np.round(counts))) > 1


def test_a_deterministic_policy_mixed_at_a_level():
    level, n = 0.7, 90  # SlateRec: ordered slates of 2 of 10 candidates
    eps, _ = _collect(DataSpec("realax/SlateRec-v0", policy="popularity", level=level, episodes=8))
    p = eps.infos["propensity"]
    own, other = level + (1 - level) / n, (1 - level) / n  # the policy's slate, any other
    assert np.all(np.isclose(p, own, rtol=1e-5) | np.isclose(p, other, rtol=1e-5))
    assert 0.6 < np.mean(np.isclose(p, own)) < 0.8  # the policy's own slate in ~ level + (1-level)/n of steps


def test_propensities_are_refused_where_they_are_not_defined():
    with pytest.raises(RealaxError, match="'sense_and_avoid' draws its actions at random"):  # among free channels
        _collect(DataSpec("realax/Spectrum-v0", policy="sense_and_avoid", episodes=1))
    with pytest.raises(RealaxError, match="propensities are recorded for discrete actions"):
        _collect(DataSpec("realax/AGV-v0", episodes=1))
    with pytest.raises(RealaxError, match="give neither with --propensities"):
        DataSpec("realax/AGV-v0", noise=0.1, propensities=True).validate()


def test_the_command_stores_them_in_the_minari_dataset(tmp_path):
    from typer.testing import CliRunner

    from realax.cli import app
    from realax.offline import minari_io

    out = tmp_path / "props-v0"
    res = CliRunner().invoke(app, ["data", "generate", "realax/Spectrum-v0", "--episodes", "3", "--propensities",
                                   "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    eps = minari_io.read(out)
    assert minari_io.metadata(out)["spec"]["propensities"] is True
    np.testing.assert_allclose(eps.infos["propensity"], 1.0 / 11, rtol=1e-6)  # Spectrum-v0: stay silent or 10 channels
