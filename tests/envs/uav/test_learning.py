"""Distributed tabular SARSA and Q-learning (one table per UAV over its own cell) learn to fly two UAVs from
the centre to two user hotspots in opposite corners: as good as the greedy heuristic, far above random
flight and above the untrained tables (which hover where they start)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from realax.agents.algorithms import make_config, make_trainer
from realax.agents.evaluate import evaluate
from realax.baselines import get
from realax.envs.uav import UAVOffload
from realax.envs.uav.scenarios import build
from tests.tuned import jit_tuned

SCENARIO = build(dict(name="two_hotspots", area_m=500.0, num_uavs=2, uav_start=[[250, 250], [250, 250]],
                      num_users=30, hotspots=[[50, 50, 30, 1], [450, 450, 30, 1]], uniform_fraction=0.0,
                      base_stations=[], bs_capacity=0, uav_capacity=15, collision_penalty=0.2, max_steps=20))


@pytest.mark.parametrize("algo", ["sarsa", "qlearning"])
def test_tabular_uavs_learn_to_split_over_the_hotspots(algo):
    env = UAVOffload(SCENARIO)
    params = env.default_params
    trainer = make_trainer(algo, make_config(algo, {"total_timesteps": 10_000, "num_envs": 8, "gamma": 0.95}),
                           env, params)
    carry, metrics = jit_tuned(trainer.train)(jax.random.key(0))
    assert carry.q.shape == (2, 25, 5)  # one table per UAV over its own cell
    key = jax.random.key(1)
    score = lambda policy, n=4: float(jax.jit(lambda k: evaluate(env, params, policy, k, n).mean())(key))  # noqa: E731
    trained = score(trainer.policy(carry))
    untrained = score(trainer.policy(trainer.init(jax.random.key(0))))
    greedy, rand = score(get("greedy", env, params)), score(get("random", env, params), 8)
    assert trained >= 0.95 * greedy and trained > 2 * rand and trained > untrained + 10, (trained, greedy, rand, untrained)
    assert np.isfinite(np.asarray(metrics["return"])[-1])
