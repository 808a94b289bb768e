"""Sim2Rec's LTS family: the NPE/satisfaction update and engagement by hand, the action-to-document map, domain
selection (train domains, held-out 14, vmapped families), hidden user draws, bad input and the baselines."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax import baselines
from realax.baselines import recsys_sim2rec
from realax.envs.recsys import Sim2Rec
from realax.envs.recsys.sim2rec import TRAIN_DOMAINS, check_params, clickbait_of
from realax.errors import RealaxError

#: no engagement noise, so one step is exact arithmetic
EXACT = dict(choc_std=0.0, kale_std=0.0)


@functools.cache
def env_for(domain: str = "train") -> Sim2Rec:
    return Sim2Rec(domain=domain)


@functools.cache
def step_fn(domain: str = "train"):
    """``step_env`` jitted once per env."""
    return jax.jit(env_for(domain).step_env)


@functools.cache
def reset_fn(domain: str = "train"):
    return jax.jit(env_for(domain).reset_env)


@functools.cache
def resets(domain: str, n: int = 256):
    """``n`` reset states (one vmapped, jitted reset)."""
    env = env_for(domain)
    _, s = jax.jit(jax.vmap(env.reset_env, in_axes=(0, None)))(jax.random.split(jax.random.key(0), n),
                                                               env.default_params)
    return s


def user(md=0.8, sens=0.5, choc=14.0, npe=None):
    """A reset state with a chosen hidden user (NPE at its start value ``0.5 / (1 - md)`` unless given)."""
    _, s = reset_fn()(jax.random.key(1), env_for().default_params)
    npe = 0.5 / (1 - md) if npe is None else npe
    sat = 1 / (1 + math.exp(-sens * npe))
    f = lambda x: jnp.float32(x)  # noqa: E731
    return s.replace(memory_discount=f(md), sensitivity=f(sens), choc_mean=f(choc), npe=f(npe), satisfaction=f(sat))


def test_choc_and_kale_steps_update_npe_satisfaction_and_engagement_by_hand():
    env = env_for()
    params = env.default_params.replace(**EXACT)
    s = user(md=0.8, sens=0.5, choc=14.0)  # NPE0 = 0.5 / 0.2 = 2.5, SAT0 = sigmoid(1.25) = 0.77730
    sat0 = 1 / (1 + math.exp(-1.25))
    # a = 1 is document 29 (clickbait 29/30); a = -1 document 0 (pure kale)
    obs, s_choc, r_choc, *_ , info = step_fn()(jax.random.key(2), s, jnp.array([1.0]), params)
    c = 29 / 30
    npe = 0.8 * 2.5 - 2 * (c - 0.5)  # 1.06667
    np.testing.assert_allclose(float(s_choc.npe), npe, rtol=1e-6)
    np.testing.assert_allclose(float(s_choc.satisfaction), 1 / (1 + math.exp(-0.5 * npe)), rtol=1e-6)
    # the response uses the satisfaction before the update (RecSim's order)
    np.testing.assert_allclose(float(r_choc), (c * 14 + (1 - c) * 4) * sat0, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(obs)[1:], [1.0, float(r_choc)], rtol=1e-6)
    assert float(info["clickbait"]) == pytest.approx(c) and float(info["npe"]) == pytest.approx(npe, rel=1e-6)

    _, s_kale, r_kale, *_ = step_fn()(jax.random.key(2), s, jnp.array([-1.0]), params)
    np.testing.assert_allclose(float(s_kale.npe), 0.8 * 2.5 + 1.0, rtol=1e-6)  # 3.0
    np.testing.assert_allclose(float(r_kale), 4 * sat0, rtol=1e-5)
    assert float(r_choc) > float(r_kale) and float(s_choc.satisfaction) < float(s_kale.satisfaction)


def test_more_clickbait_lowers_npe_and_satisfaction_and_later_engagement():
    env = env_for()
    params = env.default_params.replace(**EXACT)
    actions = jnp.linspace(-1.0, 1.0, 9)[:, None]
    start = user()  # built outside the trace: constructing the env inside it would stage its constants

    def ten_steps(a):
        def body(s, k):
            _, s, r, *_ = env.step_env(k, s, a, params)
            return s, r
        s, r = jax.lax.scan(body, start, jax.random.split(jax.random.key(3), 10))
        return s.npe, s.satisfaction, r

    npe, sat, rewards = jax.jit(jax.vmap(ten_steps))(actions)
    assert np.all(np.diff(np.asarray(npe)) < 0) and np.all(np.diff(np.asarray(sat)) < 0)
    # the immediate gain of chocolate fades: pure kale's 10th engagement beats pure chocolate's
    assert float(rewards[0, -1]) > float(rewards[-1, -1]) and float(rewards[-1, 0]) > float(rewards[0, 0])


def test_action_maps_to_thirty_documents_and_bad_actions_are_counted():
    assert [float(clickbait_of(jnp.float32(a), 30)) for a in (-1.0, 0.0, 1.0, 0.999)] == pytest.approx(
        [0.0, 0.5, 29 / 30, 29 / 30])
    env = env_for()
    s = user()
    outs = {str(a): step_fn()(jax.random.key(4), s, jnp.array([a], jnp.float32), env.default_params)
            for a in (0.0, 1.0, 1.5, float("nan"))}
    assert int(outs["0.0"][5]["invalid_action"]) == 0 and int(outs["1.0"][5]["invalid_action"]) == 0
    assert int(outs["1.5"][5]["invalid_action"]) == 1 and float(outs["1.5"][5]["clickbait"]) == pytest.approx(29 / 30)
    assert int(outs["nan"][5]["invalid_action"]) == 1
    np.testing.assert_array_equal(np.asarray(outs["nan"][0]), np.asarray(outs["0.0"][0]))  # the no-op, 0.0


def test_train_domains_exclude_the_held_out_14_and_its_neighbours():
    assert TRAIN_DOMAINS == (6, 7, 8, 9, 19, 20, 21)
    train = np.asarray(resets("train").choc_mean)
    assert set(np.unique(train)) == set(float(d) for d in TRAIN_DOMAINS)  # every one drawn, nothing else
    test = resets("test")
    np.testing.assert_array_equal(np.asarray(test.choc_mean), 14.0)
    proxy_error = np.asarray(test.proxy) - 14.0  # the observed proxy ~ N(choc_mean, 3)
    assert abs(proxy_error.mean()) < 0.6 and 2.6 < proxy_error.std() < 3.4
    obs = jax.jit(jax.vmap(env_for("test").get_obs, in_axes=(0, None)))(test, env_for("test").default_params)
    np.testing.assert_array_equal(np.asarray(obs[:, 0]), np.asarray(test.proxy))
    np.testing.assert_array_equal(np.asarray(obs[:, 1:]), 0.0)  # no response before the first step


def test_hidden_users_are_drawn_in_their_ranges_and_start_at_npe0():
    s = resets("train")
    md, sens = np.asarray(s.memory_discount), np.asarray(s.sensitivity)
    assert md.min() >= 0.7 and md.max() <= 0.9 and md.std() > 0.04
    assert sens.min() >= 0.4 and sens.max() <= 0.6 and sens.std() > 0.04
    np.testing.assert_allclose(np.asarray(s.npe), 0.5 / (1 - md), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(s.satisfaction), 1 / (1 + np.exp(-sens * 0.5 / (1 - md))), rtol=1e-5)


def test_a_family_of_domains_is_one_vmap_over_params():
    env = env_for()

    def family_resets(values, keys):
        return jax.vmap(env.reset_env)(keys, jax.vmap(env.for_domain)(values))[1]

    s = jax.jit(family_resets)(jnp.array([6.0, 14.0, 21.0]), jax.random.split(jax.random.key(5), 3))
    np.testing.assert_array_equal(np.asarray(s.choc_mean), [6.0, 14.0, 21.0])


def test_bad_input_names_the_field():
    with pytest.raises(RealaxError, match=r"domain must be one of \['train', 'test', 'all'\], got 'heldout'"):
        Sim2Rec(domain="heldout")
    with pytest.raises(RealaxError, match="max_steps must be in"):
        realax.make("realax/Sim2Rec-v0", max_steps=0)
    p = env_for().default_params
    for bad, field in ((dict(memory_discount_high=1.0), r"memory_discount_high must be a number in \[0.0, 1.0\)"),
                       (dict(memory_discount_low=0.95), "memory_discount_low .* must be <= memory_discount_high"),
                       (dict(domain_probs=-p.domain_probs), "domain_probs must be >= 0"),
                       (dict(domain_probs=jnp.ones(3)), "domain_probs must have the shape of choc_means"),
                       (dict(kale_std=float("nan")), "kale_std must be a number"),
                       (dict(engagement_low=5.0, engagement_high=1.0), "engagement_low")):
        with pytest.raises(RealaxError, match=field):
            check_params(p.replace(**bad))


def test_oracle_plans_match_a_python_loop_and_beat_myopic_and_random():
    env, params = realax.make("realax/Sim2Rec-v0", domain="test")
    s = user(md=0.75, sens=0.55, choc=14.0).replace(t=jnp.int32(130))  # ten steps left
    values = np.asarray(jax.jit(lambda st: recsys_sim2rec.plan_values(st, params, 140))(s))
    for i in (0, 12, 29):
        c, npe, total = i / 30, 0.5 / 0.25, 0.0
        for _ in range(10):
            total += (c * 14 + (1 - c) * 4) / (1 + math.exp(-0.55 * npe))
            npe = 0.75 * npe - 2 * (c - 0.5)
        assert values[i] == pytest.approx(total, rel=1e-5)
    # myopic reads the proxy: chocolate when it says the domain beats kale
    act = baselines.get("myopic", env, params)
    assert float(act(None, jnp.array([9.0, 0.0, 0.0]))[0]) == 1.0 and float(act(None, jnp.array([3.0, 0, 0]))[0]) == -1.0
    # one compiled rollout for the three policies (vmapped over which one acts), 16 users, 40 steps
    short = params.replace(max_steps=40)
    policies = [baselines.get(n, env, short) for n in ("random", "myopic")] + [recsys_sim2rec.oracle(env, short)]

    def episode(k, which):
        obs, s = env.reset_env(k, short)

        def body(c, k):
            ka, ks = jax.random.split(k)
            a = jnp.stack([policies[0](ka, c[0]), policies[1](ka, c[0]), policies[2](ka, c[0], c[1])])[which]
            o, s, r, *_ = env.step_env(ks, c[1], a, short)  # 40 steps: one episode, no reset needed
            return (o, s), r
        return jax.lax.scan(body, (obs, s), jax.random.split(k, 40))[1].sum()

    keys = jax.random.split(jax.random.key(0), 16)
    random, myopic, oracle = np.asarray(jax.jit(jax.vmap(jax.vmap(episode, in_axes=(0, None)), in_axes=(None, 0)))(
        keys, jnp.arange(3))).mean(axis=1)
    assert oracle > random > myopic  # measured 218, 204, 90
