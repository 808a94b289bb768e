"""SAC: its critic target against a plain loop, the temperature update by hand and in a run, the squashed
Gaussian's log-density by the change of variables, reparameterised draws, a clear error for actions it
cannot train, and must-learn runs: RL4AMOD's Dirichlet graph SAC beats equal distribution on a RoboTaxi grid
city, and the box policy learns the 1-D ``Reach`` task."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.scipy.stats import norm

import realax
from realax import baselines
from realax.agents import distributions, sac
from realax.agents.evaluate import evaluate
from realax.agents.networks import GraphActor
from realax.errors import RealaxError
from tests.agents.offline_envs import Reach, reach_expert
from tests.tuned import jit_tuned


def test_soft_target_against_a_loop():
    rng = np.random.default_rng(0)
    r, term, logp = rng.normal(size=5), np.array([0, 1, 0, 0, 1.0]), rng.normal(size=5)
    q_next = rng.normal(size=(2, 5))
    got = sac.soft_target(jnp.asarray(r), jnp.asarray(term), jnp.asarray(q_next), jnp.asarray(logp), 0.3, 0.9)
    want = []
    for i in range(5):
        soft_value = min(q_next[0, i], q_next[1, i]) - 0.3 * logp[i]
        want.append(r[i] + (0.0 if term[i] else 0.9 * soft_value))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)


def test_temperature_loss_and_one_adam_step_by_hand():
    logp = jnp.array([1.0, 3.0])  # entropy -2 on average
    loss = sac.temperature_loss(jnp.float32(0.5), logp, -1.0)  # target entropy -1: the policy is below it
    assert float(loss) == pytest.approx(-0.5 * (0.0 + 2.0) / 2)
    g = jax.grad(sac.temperature_loss)(jnp.float32(0.5), logp, -1.0)
    assert float(g) == pytest.approx(-1.0)  # -mean(logp + target): negative, so log alpha rises
    # Adam's first step is lr · sign(gradient) (bias-corrected moments): log alpha 0.5 -> 0.5 + 1e-3
    tx = optax.adam(1e-3)
    upd, _ = tx.update(g, tx.init(jnp.float32(0.5)))
    assert float(jnp.float32(0.5) + upd) == pytest.approx(0.501, abs=1e-6)
    # above the target the gradient turns: alpha falls
    assert float(jax.grad(sac.temperature_loss)(jnp.float32(0.5), jnp.array([-3.0, -1.0]), -1.0)) > 0


@pytest.mark.parametrize("target, rises", [(5.0, True), (-5.0, False)])
def test_temperature_follows_the_target_in_a_run(target, rises):
    """The tanh-Gaussian on [-1, 1] has entropy at most log 2: a target of 5 is out of reach (alpha keeps
    rising), one of -5 is exceeded (alpha falls)."""
    env = Reach()
    c = sac.SACConfig(num_envs=4, total_timesteps=800, hidden=32, batch_size=32, learning_starts=64,
                      auto_alpha=True, target_entropy=target, alpha=0.3, updates_per_chunk=200)
    _, m = sac.make_train(c, env, env.default_params).train(jax.random.key(0))
    alpha = np.asarray(m["alpha"])
    assert alpha[0] == pytest.approx(0.3, rel=1e-6)
    assert (alpha[-1] > 0.3 * 1.05) if rises else (alpha[-1] < 0.3 / 1.05), alpha[-1]


def test_tanh_gaussian_log_density_is_the_change_of_variables():
    low, high = jnp.array([-2.0, 0.0]), jnp.array([2.0, 4.0])
    d = distributions.TanhGaussian(jnp.array([0.3, -0.5]), jnp.array([-0.2, 0.4]), low, high)
    a, logp = d.sample_and_log_prob(jax.random.key(3))
    assert np.all((np.asarray(a) >= np.asarray(low)) & (np.asarray(a) <= np.asarray(high)))
    u = jnp.arctanh((a - low) / (high - low) * 2.0 - 1.0)  # the Gaussian draw behind a
    dadu = (1.0 - jnp.tanh(u) ** 2) * (high - low) / 2.0
    want = (norm.logpdf(u, d.mean, jnp.exp(d.log_std)) - jnp.log(dadu)).sum()
    assert float(logp) == pytest.approx(float(want), abs=1e-3)
    np.testing.assert_allclose(np.asarray(d.mode()), np.asarray(low + (jnp.tanh(d.mean) + 1) / 2 * (high - low)))


@pytest.mark.parametrize("dist", [
    lambda p: distributions.Dirichlet(jax.nn.softplus(p) + 0.1),
    lambda p: distributions.TanhGaussian(p, jnp.full(3, -0.5), -jnp.ones(3), jnp.ones(3)),
], ids=["dirichlet", "tanh_gaussian"])
def test_draws_are_reparameterised(dist):
    """The actor's loss reaches the parameters through the action drawn: its gradient is finite and non-zero."""
    f = lambda p: (dist(p).sample_and_log_prob(jax.random.key(0))[0] * jnp.array([1.0, -2.0, 0.5])).sum()
    g = np.asarray(jax.grad(f)(jnp.array([0.2, -0.3, 0.7])))
    assert np.all(np.isfinite(g)) and np.abs(g).max() > 1e-3, g


def test_refuses_discrete_actions_and_an_unreachable_dirichlet_target():
    env, params = realax.make("realax/Spectrum-v0", scenario="constant")
    with pytest.raises(RealaxError, match="sac needs continuous"):
        sac.make_train(sac.SACConfig(), env, params)
    env, params = realax.make("realax/RoboTaxi-v0")
    with pytest.raises(RealaxError, match=r"target_entropy.*at most -log\(15!\)"):
        sac.make_train(sac.SACConfig(auto_alpha=True), env, params)
    assert math.isclose(-math.lgamma(16) / 16, -1.7445, abs_tol=1e-3)
    sac.make_train(sac.SACConfig(auto_alpha=True, target_entropy=-2.0), env, params)  # below the bound: accepted


def test_graph_sac_beats_equal_distribution_on_a_grid_city():
    # the task of the A2C and PPO must-learn tests: uneven demand and a tight fleet
    env, params = realax.make("realax/RoboTaxi-v0", alpha=0.9, fleet_per_region=10)
    c = sac.SACConfig(num_envs=8, total_timesteps=10_000, hidden=64, reward_scale=0.1, updates_per_chunk=500)
    trainer = sac.make_train(c, env, params)
    carry, metrics = jit_tuned(trainer.train)(jax.random.key(0))
    assert isinstance(sac.networks(env, params, c.hidden, c.graph)[0], GraphActor)
    agent = float(jit_tuned(lambda cr, k: evaluate(env, params, trainer.policy(cr), k, 32).mean())(carry, jax.random.key(1)))
    equal = float(jit_tuned(lambda k: evaluate(env, params, baselines.get("equal_distribution", env, params), k, 32).mean())(
        jax.random.key(1)))
    # measured (jax 0.10.2, the suite's flags): +2.4 % (seed 0), +1.7 % (seed 1) at these 10k steps, +3.0 % at
    # 20k; with no gradient step (learning_starts past the run) -0.3 %: a SAC that does not learn fails the 0.8 %
    assert agent > 1.008 * equal, (agent, equal)


def test_box_sac_learns_reach():
    env = Reach()
    params = env.default_params
    c = sac.SACConfig(num_envs=4, total_timesteps=4000, hidden=64, reward_scale=1.0, learning_starts=200,
                      updates_per_chunk=500)
    trainer = sac.make_train(c, env, params)
    carry, _ = jit_tuned(trainer.train)(jax.random.key(0))
    agent = float(evaluate(env, params, trainer.policy(carry), jax.random.key(1), 64).mean())
    expert = float(evaluate(env, params, reach_expert(env, params), jax.random.key(1), 64).mean())
    # measured: 8.70 (expert 9.15, uniform random actions 3.61; no gradient step 3.94; 1,000 steps 6.78)
    assert agent > 0.9 * expert, (agent, expert)
