"""Policy distributions against SciPy, the head chosen from the action space, and continuous-action PPO:
the Dirichlet graph policy beats the equal-distribution baseline on a RoboTaxi grid city."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import realax
from realax import baselines
from realax.agents import distributions as D
from realax.agents import ppo
from realax.agents.evaluate import evaluate
from realax.agents.networks import ActorCritic, GraphActorCritic, ItemActorCritic, actor_critic_for
from realax.errors import RealaxError
from realax.spaces import Box, Discrete, Simplex, Slate
from tests.tuned import jit_tuned


def test_dirichlet_matches_scipy():
    alpha = np.array([0.7, 2.0, 3.5, 1.2], np.float32)
    d = D.Dirichlet(jnp.asarray(alpha))
    x = np.asarray(d.sample(jax.random.key(0)), np.float64)
    assert abs(x.sum() - 1) < 1e-5 and np.all(x > 0)
    x = x / x.sum()
    np.testing.assert_allclose(float(d.log_prob(jnp.asarray(x, jnp.float32))), stats.dirichlet.logpdf(x, alpha), rtol=1e-4)
    np.testing.assert_allclose(float(d.entropy()), stats.dirichlet.entropy(alpha), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(d.mode()), alpha / alpha.sum(), rtol=1e-6)
    samples = np.asarray(jax.vmap(d.sample)(jax.random.split(jax.random.key(1), 20000)))
    np.testing.assert_allclose(samples.mean(0), alpha / alpha.sum(), atol=0.01)


def test_gaussian_and_categorical_match_scipy():
    space = Box(-1.0, 1.0, (3,))
    head = jnp.array([0.2, -0.5, 3.0, np.log(0.5), 0.0, np.log(2.0)], jnp.float32)
    g = D.make(space, head)
    x = np.array([0.1, 0.3, -0.2], np.float32)
    ref = stats.norm.logpdf(x, [0.2, -0.5, 3.0], [0.5, 1.0, 2.0]).sum()
    np.testing.assert_allclose(float(g.log_prob(jnp.asarray(x))), ref, rtol=1e-5)
    np.testing.assert_allclose(float(g.entropy()), stats.norm.entropy(0, [0.5, 1.0, 2.0]).sum(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(g.mode()), [0.2, -0.5, 1.0])  # clipped into the box
    c = D.make(Discrete(3), jnp.log(jnp.array([0.2, 0.5, 0.3])))
    np.testing.assert_allclose(float(c.log_prob(jnp.int32(1))), np.log(0.5), rtol=1e-5)
    assert int(c.mode()) == 1
    assert isinstance(D.make(Simplex(3), jnp.zeros(3)), D.Dirichlet)
    with pytest.raises(RealaxError, match="no policy distribution"):
        D.head_size(Box(0.0, 1.0, (2, 2)))


def test_network_follows_the_action_space():
    env, params = realax.make("realax/RoboTaxi-v0")
    assert isinstance(env.action_space(params), Simplex)
    assert isinstance(actor_critic_for(env, params), GraphActorCritic)
    assert isinstance(actor_critic_for(env, params, graph=False), ActorCritic)
    net = actor_critic_for(env, params, hidden=16)
    obs, _ = env.reset(jax.random.key(0), params)
    head, value = net.apply(net.init(jax.random.key(1), obs), obs)
    assert head.shape == env.action_space(params).shape and value.shape == ()


def test_item_network_scores_every_candidate_with_the_same_weights():
    env, params = realax.make("realax/ShortVideo-v0", num_candidates=5)
    net = actor_critic_for(env, params, hidden=16)
    assert isinstance(net, ItemActorCritic) and (net.items, net.item_features) == (5, 8)
    assert isinstance(actor_critic_for(env, params, graph=False), ActorCritic)
    obs, _ = env.reset(jax.random.key(0), params)
    weights = net.init(jax.random.key(1), obs)
    weights = jax.tree.map(lambda w: w * 50.0, weights)  # away from the near-zero initial logits
    logits, value = net.apply(weights, obs)
    assert logits.shape == (5,) and value.shape == ()
    order = np.array([3, 0, 4, 1, 2])
    cands = obs[:40].reshape(5, 8)[order].reshape(-1)
    permuted = jnp.concatenate([cands, obs[40:]])
    logits_p, _ = net.apply(weights, permuted)
    np.testing.assert_allclose(np.asarray(logits_p), np.asarray(logits)[order], rtol=1e-5, atol=1e-5)
    assert float(jnp.ptp(logits)) > 1e-3  # the candidates are told apart, not scored alike
    # the batch axes are kept
    batch = jnp.stack([obs, permuted])
    np.testing.assert_allclose(np.asarray(net.apply(weights, batch)[0][1]), np.asarray(logits_p), rtol=1e-5, atol=1e-5)
    slate_env, slate_params = realax.make("realax/SlateRec-v0")  # a slate is scored item by item too
    slate_net = actor_critic_for(slate_env, slate_params, hidden=16)
    assert isinstance(slate_net, ItemActorCritic) and (slate_net.items, slate_net.item_features) == (10, 20)


def test_dirichlet_ppo_beats_equal_distribution_on_a_grid_city():
    # uneven demand (regions' demand scaled by U[0.1, 1.9]) and a tight fleet, so where the cars wait matters
    env, params = realax.make("realax/RoboTaxi-v0", alpha=0.9, fleet_per_region=10)
    config = ppo.PPOConfig(num_envs=32, num_steps=20, total_timesteps=60_000, hidden=32, ent_coef=0.0, gamma=0.97,
                           reward_scale=1e-3, updates_per_chunk=10)
    trainer = ppo.make_train(config, env, params)
    carry, _ = jit_tuned(trainer.train)(jax.random.key(0))
    agent = float(jax.jit(lambda c, k: evaluate(env, params, trainer.policy(c), k, 32).mean())(carry, jax.random.key(1)))
    equal = float(jax.jit(lambda k: evaluate(env, params, baselines.get("equal_distribution", env, params), k, 32).mean())(
        jax.random.key(1)))
    # measured (jax 0.10.2, backend level 0): 4383 vs 4249 (+3.2 %) at 60k steps (4379 at XLA's default level);
    # +1.9 % at 40k, +3.6 % at 100k; one update (640 steps) gives +0.06 %: a PPO that does not learn fails the 2 %
    assert agent > 1.02 * equal, (agent, equal)


def test_plackett_luce_slates_by_hand_and_by_sampling():
    logits = jnp.log(jnp.array([1.0, 2.0, 3.0, 4.0]))
    d = D.make(Slate(4, 2), logits)
    # P(3 then 1) = 4/10 * 2/6
    assert float(jnp.exp(d.log_prob(jnp.array([3, 1])))) == pytest.approx(0.4 * 2 / 6, rel=1e-5)
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]
    total = sum(float(jnp.exp(d.log_prob(jnp.array(p)))) for p in pairs)
    assert total == pytest.approx(1.0, rel=1e-5)  # a distribution over the 12 ordered pairs
    assert d.mode().tolist() == [3, 2]
    draws = np.asarray(jax.vmap(d.sample)(jax.random.split(jax.random.key(0), 40_000)))
    assert (draws[:, 0] != draws[:, 1]).all()
    freq = {p: np.mean((draws[:, 0] == p[0]) & (draws[:, 1] == p[1])) for p in pairs}
    for p in pairs:  # the Gumbel-top-k draws follow log_prob (4 sd of a binomial over 40,000)
        q = float(jnp.exp(d.log_prob(jnp.array(p))))
        assert abs(freq[p] - q) < 4 * np.sqrt(q * (1 - q) / 40_000), p
    one = D.make(Slate(4, 1), logits)  # one pick: the categorical's entropy exactly
    assert float(one.entropy()) == pytest.approx(float(D.Categorical(logits).entropy()), rel=1e-6)


def test_plackett_luce_gradients_are_finite():
    # the items picked before a position have log-probability -inf there; PPO differentiates the entropy and
    # the log-probability, and a NaN gradient (0 * -inf) turns every weight into NaN after one update
    logits = jnp.array([0.3, -1.0, 2.0, 0.5, 0.0])

    def objective(x):
        d = D.make(Slate(5, 3), x)
        return d.entropy() + d.log_prob(jnp.array([2, 0, 4]))

    grad = np.asarray(jax.grad(objective)(logits))
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0, grad
