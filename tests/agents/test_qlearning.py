"""Tabular Q-learning: indexing, must-learn on Spectrum ``constant``, and RFRL Gym's hopper finding that
one frame is not enough (Rosen et al., ICMLA 2023) while two frames make the hopper Markovian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.agents.evaluate import evaluate
from realax.agents.qlearning import QConfig, make_indexer, make_train
from realax.errors import RealaxError
from realax.spaces import Box, Discrete, MultiDiscrete

SEEDS = (0, 1, 2)


def greedy_returns(scenario: str, history: int, total_timesteps: int = 40_000) -> np.ndarray:
    """Mean greedy return per seed, the seeds trained in one vmapped call."""
    env, params = realax.make("realax/Spectrum-v0", scenario=scenario, history=history)
    trainer = make_train(QConfig(total_timesteps=total_timesteps, num_seeds=len(SEEDS)), env, params)
    carry, _ = jax.jit(jax.vmap(trainer.train))(jnp.stack([jax.random.key(s) for s in SEEDS]))
    returns = jax.jit(jax.vmap(lambda c, k: evaluate(env, params, trainer.policy(c), k, 3)))(
        carry, jax.random.split(jax.random.key(7), len(SEEDS)))
    return np.asarray(returns.mean(axis=1))


def test_exact_index_is_a_bijection():
    space = Box(0, 2, (2, 3), jnp.int8)
    index, rows = make_indexer(space, 1000)
    assert rows == 3**6
    grid = np.stack(np.meshgrid(*[np.arange(3)] * 6, indexing="ij"), -1).reshape(-1, 2, 3).astype(np.int8)
    idx = np.asarray(jax.vmap(index)(jnp.asarray(grid)))
    assert sorted(idx.tolist()) == list(range(rows))
    assert make_indexer(Discrete(5), 100)[1] == 5
    assert make_indexer(MultiDiscrete([2, 3]), 100)[1] == 6


def test_hashed_index_in_range_and_spread():
    space = Box(0, 2, (8, 10), jnp.int8)
    index, rows = make_indexer(space, 2**12)
    assert rows == 2**12
    obs = jax.vmap(space.sample)(jax.random.split(jax.random.key(0), 500))
    idx = np.asarray(jax.vmap(index)(obs))
    assert idx.min() >= 0 and idx.max() < rows
    assert len(set(idx.tolist())) > 450  # few collisions among 500 random observations in 4096 rows


def test_rejects_float_observations():
    with pytest.raises(RealaxError, match="integer observations"):
        make_indexer(Box(0.0, 1.0, (3,)), 100)


def test_learns_constant():
    assert greedy_returns("constant", 1).min() >= 90.0


def test_hopper_one_frame_is_not_markovian():
    """ch4, ch4, ch5 seen one frame at a time: after ch4 the next channel is a coin flip, so the best
    table policy scores about 33 (RFRL Gym, Rosen et al. 2023)."""
    assert greedy_returns("hopper", 1).max() <= 50.0


def test_hopper_two_frames_learned():
    assert greedy_returns("hopper", 2).min() >= 95.0
