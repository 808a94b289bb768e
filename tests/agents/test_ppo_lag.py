"""PPO-Lagrangian: the multiplier step, GAE per constraint against a plain loop, the env check, and one run on
``constrained_envs.Tempt`` (one compiled program): starting at lambda = 0 the constraint is violated, the
multiplier of the violated constraint rises by the projected step and the violation falls; the multiplier of
a constraint that always holds stays 0."""

import constrained_envs as ce
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_ppo import gae_loop

from realax.agents.algorithms import make_config, make_trainer
from realax.agents.constraints import constraint_count, margins, signal_gae, update_multipliers
from realax.agents.networks import actor_critic_for
from realax.errors import RealaxError

#: small settings (also test_tscac's)
SMALL = dict(num_envs=8, num_steps=16, total_timesteps=8 * 16 * 40, num_minibatches=2, update_epochs=2, hidden=16,
             lr=3e-3, ent_coef=0.01, updates_per_chunk=40)
LAMBDA_LR = 0.5


def test_multiplier_rises_while_violated_and_falls_to_zero_when_satisfied():
    step = jax.jit(update_multipliers, static_argnums=2)
    lam, seen = jnp.zeros(2), []
    for margin in ([-0.2, 0.1], [-0.2, 0.1], [0.1, 0.1], [0.5, 0.1], [0.5, 0.1]):
        lam = step(lam, jnp.asarray(margin), 2.0)
        seen.append(np.asarray(lam))
    seen = np.array(seen)
    np.testing.assert_allclose(seen[:, 0], [0.4, 0.8, 0.6, 0.0, 0.0], atol=1e-6)  # projected at 0, never negative
    np.testing.assert_array_equal(seen[:, 1], 0.0)  # a constraint that holds never gets a multiplier


def test_signal_gae_matches_loops_with_a_discount_per_signal():
    rng = np.random.default_rng(3)
    T, N, M = 9, 2, 3
    r, v = rng.normal(size=(T, N, M)), rng.normal(size=(T, N, M))
    next_v = np.concatenate([v[1:], rng.normal(size=(1, N, M))])
    terminated, truncated = np.zeros((T, N), bool), np.zeros((T, N), bool)
    terminated[4, 0] = truncated[6, 1] = True
    dones = terminated | truncated
    gammas = np.array([0.5, 0.9, 0.99])
    adv, targets = signal_gae(r, v, next_v, terminated, dones, gammas, 0.8)
    for i, g in enumerate(gammas):
        expected = gae_loop(r[..., i], v[..., i], next_v[..., i], terminated, dones, g, 0.8)
        np.testing.assert_allclose(adv[..., i], expected, atol=1e-5)
    np.testing.assert_allclose(targets, adv + v, atol=1e-5)


def test_env_without_constraints_is_refused_naming_the_entry():
    env = ce.NoCost()
    config = make_config("ppo_lag", {})
    with pytest.raises(RealaxError, match=r"info\['cost_margin'\].*cost_key=cost --set cost_limit"):
        make_trainer("ppo_lag", config, env, env.default_params)
    # the same env trains on its cost with a per-step limit: one constraint, margin = limit - cost
    limited = make_config("ppo_lag", {"cost_key": "cost", "cost_limit": "0.5"})
    assert constraint_count("ppo_lag", env, env.default_params, limited) == 1
    np.testing.assert_allclose(margins(jnp.array([[0.0, 1.0]]), limited), [[[0.5], [-0.5]]])
    with pytest.raises(RealaxError, match="ppo_lag.*info\\['nothing'\\]"):
        constraint_count("ppo_lag", env, env.default_params, make_config("ppo_lag", {"cost_key": "nothing"}))


def p_tempt(net, net_params) -> float:
    """The probability of a tempting action (the observation is constant)."""
    logits, _ = net.apply(net_params, jnp.zeros((1,)))
    return float(jax.nn.softmax(logits)[:2].sum())


@pytest.fixture(scope="module")
def run():
    """One seed, not vmapped: the smallest program to compile (compilation is most of this module's time)."""
    env = ce.Tempt()
    params = env.default_params
    trainer = make_trainer("ppo_lag", make_config("ppo_lag", {**SMALL, "lambda_lr": LAMBDA_LR}), env, params)
    carry, metrics = trainer.train(jax.random.key(0))
    net = actor_critic_for(env, params, SMALL["hidden"])
    return {"metrics": jax.device_get(metrics), "carry": carry, "p": p_tempt(net, carry.train_state.params["agent"])}


def test_violation_falls_from_its_level_at_lambda_zero(run):
    """Each run starts at lambda = 0 from the uniform policy, which violates constraint 0 (mean margin -1/6;
    learning the reward alone drives it to -0.5); the multiplier brings it back to (about) 0."""
    first = run["metrics"]["margin_tempt"][:3].mean()
    assert first < -0.08, first  # the first batches, near the uniform policy, lambda near 0
    final = 0.5 - run["p"]  # the expected per-step margin of the final policy
    assert final > -0.06, final
    assert final > first + 0.08


def test_multipliers_follow_the_measured_margins(run):
    m = run["metrics"]
    lam, margin = m["lambda_tempt"], m["margin_tempt"]  # [updates]
    assert lam.max() > 0.3, lam.max()  # rose while the constraint was violated
    assert np.all(m["lambda_slack"] == 0.0)  # the slack constraint's never did
    previous = np.concatenate([[0.0], lam[:-1]])
    np.testing.assert_allclose(lam, np.maximum(previous - LAMBDA_LR * margin, 0.0), atol=1e-5)
    np.testing.assert_allclose(run["carry"].multipliers[0], lam[-1], atol=1e-6)
