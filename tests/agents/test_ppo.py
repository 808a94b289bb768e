"""PPO: GAE maths against a plain loop, and a must-learn run on Spectrum ``constant`` (DESIGN §4)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.agents.evaluate import evaluate
from realax.agents.ppo import PPOConfig, gae, make_train


def gae_loop(rewards, values, next_values, terminated, dones, gamma, lam):
    """Reference: one environment at a time, backwards, bootstrapping from V(final_obs) unless terminated."""
    T, N = rewards.shape
    adv = np.zeros((T, N))
    for n in range(N):
        running = 0.0
        for t in reversed(range(T)):
            if dones[t, n]:
                running = 0.0  # nothing flows back across an episode boundary
            bootstrap = 0.0 if terminated[t, n] else gamma * next_values[t, n]
            delta = rewards[t, n] + bootstrap - values[t, n]
            running = delta + gamma * lam * running
            adv[t, n] = running
    return adv


def test_gae_matches_loop_with_termination_and_truncation():
    rng = np.random.default_rng(0)
    T, N = 12, 3
    rewards, values = rng.normal(size=(T, N)), rng.normal(size=(T, N))
    next_values = np.concatenate([values[1:], rng.normal(size=(1, N))])
    terminated = np.zeros((T, N), bool)
    truncated = np.zeros((T, N), bool)
    terminated[3, 0] = True
    truncated[7, 0] = True
    truncated[5, 1] = True
    terminated[10, 2] = True
    # at a truncation the next value is V(final_obs), not the value of the reset observation at t+1
    next_values[7, 0], next_values[5, 1] = 5.0, -3.0
    dones = terminated | truncated
    adv, targets = gae(rewards, values, next_values, terminated, dones, 0.9, 0.8)
    expected = gae_loop(rewards, values, next_values, terminated, dones, 0.9, 0.8)
    np.testing.assert_allclose(adv, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(targets, expected + values, rtol=1e-5, atol=1e-5)
    # the truncated step bootstraps: A = r + gamma V(final_obs) - V
    assert adv[7, 0] == pytest.approx(rewards[7, 0] + 0.9 * 5.0 - values[7, 0], abs=1e-5)
    assert adv[3, 0] == pytest.approx(rewards[3, 0] - values[3, 0], abs=1e-5)


def test_config_derived_quantities():
    c = PPOConfig(num_envs=64, num_steps=128, total_timesteps=500_000)
    assert c.num_updates == 500_000 // (64 * 128)
    assert c.minibatch_size == 64 * 128 // 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 1.0


def test_ppo_learns_constant_vmapped_over_seeds():
    """The CLI's way: vmap init/step over seed keys, then greedy evaluation; optimum is 100 per episode."""
    env, params = realax.make("realax/Spectrum-v0", scenario="constant")
    config = PPOConfig(num_envs=16, num_steps=64, total_timesteps=30_000, updates_per_chunk=10, num_seeds=2)
    trainer = make_train(config, env, params)
    carry = jax.jit(jax.vmap(trainer.init))(jax.random.split(jax.random.key(0), config.num_seeds))
    step = jax.jit(jax.vmap(trainer.step))
    for _ in range(trainer.num_chunks):
        carry, metrics = step(carry)
    assert metrics["return"].shape == (config.num_seeds, config.updates_per_chunk)
    assert int(metrics["env_steps"][0, -1]) == trainer.num_chunks * config.updates_per_chunk * 16 * 64
    returns = jax.jit(jax.vmap(lambda c, k: evaluate(env, params, trainer.policy(c), k, 4)))(
        carry, jax.random.split(jax.random.key(1), config.num_seeds))
    assert returns.shape == (config.num_seeds, 4)
    assert float(returns.mean(axis=1).min()) >= 90.0, returns


def test_train_matches_chunked_steps():
    """``train`` is ``init`` then ``num_chunks`` ``step`` calls, with metrics flattened to updates."""
    env, params = realax.make("realax/Spectrum-v0", scenario="constant", history=1)
    config = PPOConfig(num_envs=4, num_steps=8, total_timesteps=4 * 8 * 3, updates_per_chunk=2)
    trainer = make_train(config, env, params)
    carry, metrics = trainer.train(jax.random.key(3))
    assert metrics["return"].shape == (trainer.num_chunks * 2,)
    c = jax.jit(trainer.init)(jax.random.key(3))
    step = jax.jit(trainer.step)  # jitted like ``train``'s scan body (unjitted, each op compiles on its own)
    for _ in range(trainer.num_chunks):
        c, _ = step(c)
    leaves = jax.tree.leaves(jax.tree.map(lambda a, b: jnp.allclose(a, b, atol=1e-5),
                                          carry.train_state.params, c.train_state.params))
    assert all(bool(x) for x in leaves)
