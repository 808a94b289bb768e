"""A2C: its loss by hand (the critic's value held fixed in the actor's term, smooth L1 for the critic), the
returns it regresses on against a plain loop, and a must-learn run: RL4AMOD's Dirichlet graph actor-critic
beats the equal-distribution baseline on a RoboTaxi grid city."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax import baselines
from realax.agents import a2c
from realax.agents.evaluate import evaluate
from realax.agents.ppo import gae
from tests.tuned import jit_tuned


def test_loss_by_hand():
    lp = jnp.array([-1.0, -0.5, -2.0])
    value = jnp.array([0.2, -0.1, 3.0])
    ret = jnp.array([1.0, -1.0, 0.5])
    c = a2c.A2CConfig(vf_coef=0.5, ent_coef=0.1)
    ent = jnp.array([1.0, 2.0, 3.0])
    loss, aux = a2c.a2c_loss(lp, ent, value, ret, c)
    adv = np.array([0.8, -0.9, -2.5])
    pg = -np.mean(np.array([-1.0, -0.5, -2.0]) * adv)
    huber = np.mean([0.5 * 0.8**2, 0.5 * 0.9**2, 2.5 - 0.5])  # |err| <= 1: err^2 / 2, else |err| - 1/2
    assert float(aux["policy_loss"]) == pytest.approx(pg)
    assert float(aux["value_loss"]) == pytest.approx(huber)
    assert float(loss) == pytest.approx(pg + 0.5 * huber - 0.1 * 2.0)
    # the actor's term does not move the critic: d loss / d value is the critic's term alone
    g = jax.grad(lambda v: a2c.a2c_loss(lp, ent, v, ret, c)[0])(value)
    np.testing.assert_allclose(g, 0.5 * np.clip(np.asarray(value - ret), -1, 1) / 3, rtol=1e-6)


def test_returns_are_discounted_sums_to_the_episode_end_or_the_bootstrap():
    """``gae`` with lambda 1 (what A2C regresses on): R_t = r_t + gamma R_{t+1} inside an episode, 0 after a
    termination, V(final_obs) at the rollout's end (the critic's values cancel out inside an episode)."""
    r = np.array([[1.0], [2.0], [3.0], [4.0]])
    term = np.array([[0], [1], [0], [0]], bool)
    v = np.array([[0.0], [9.0], [7.0], [9.0]])  # V(s_t); a new episode starts at t = 2
    nv = np.array([[9.0], [3.0], [9.0], [5.0]])  # V of the observation each step reaches (= V(s_t+1) inside)
    _, ret = gae(r, v, nv, term, term, 0.5, 1.0)
    np.testing.assert_allclose(np.asarray(ret)[:, 0], [1 + 0.5 * 2, 2, 3 + 0.5 * (4 + 0.5 * 5), 4 + 0.5 * 5])


def test_a2c_beats_equal_distribution_on_a_grid_city():
    # the task of the PPO test in test_distributions.py: uneven demand and a tight fleet
    env, params = realax.make("realax/RoboTaxi-v0", alpha=0.9, fleet_per_region=10)
    config = a2c.A2CConfig(num_envs=32, total_timesteps=100_000, lr=3e-3, reward_scale=1e-3, updates_per_chunk=10)
    trainer = a2c.make_train(config, env, params)
    carry, metrics = jit_tuned(trainer.train)(jax.random.key(0))
    assert metrics["return"].shape == (config.num_chunks * config.updates_per_chunk,)
    agent = float(jax.jit(lambda c, k: evaluate(env, params, trainer.policy(c), k, 32).mean())(carry, jax.random.key(1)))
    equal = float(jax.jit(lambda k: evaluate(env, params, baselines.get("equal_distribution", env, params), k, 32).mean())(
        jax.random.key(1)))
    # measured (jax 0.10.2, jit): +1.16 % (seed 0), +1.40 % (seed 1) at 100k steps; one update (640 steps) gives
    # +0.07 % and 60k steps at RL4AMOD's lr 1e-4 +0.06 %: an A2C that does not learn fails the 0.8 %
    assert agent > 1.008 * equal, (agent, equal)
