"""ShortVideo's CMDP: watch time, the Bernoulli signal heads, drift, boredom and satisfaction by hand; leave and
multi-day return probabilities and the absence they cause; the cost sign convention; the observation layout;
bad params; the baselines and the default thresholds binding for watch-time maximisation."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax import baselines
from realax.envs.recsys import ShortVideo
from realax.envs.recsys.short_video import (
    DEFAULT_THRESHOLDS,
    SIGNALS,
    leave_prob,
    match,
    return_days,
    return_prob,
    signal_probs,
    watch_fraction,
)
from realax.errors import RealaxError

sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
#: like always (bias +50), every other signal never (-50); no watch noise, no random leaving
DETERMINISTIC = dict(signal_bias=[-50.0, 50.0, -50.0, -50.0, -50.0], watch_noise=0.0, leave_base=0.0,
                     leave_dissatisfaction=0.0, leave_hate=0.0)


@functools.cache
def small() -> ShortVideo:
    return ShortVideo(num_candidates=3, num_topics=2, max_steps=60)


@functools.cache
def stepper():
    return jax.jit(small().step_env)


@functools.cache
def rollout():
    """``(states, rewards, infos)`` of ``step_env`` from a state, always showing candidate 0, one step per key."""
    env = small()

    def run(s, params, keys):
        def body(s, k):
            o = env.step_env(k, s, 0, params)
            return o[1], (o[1], o[2], o[5])
        return jax.lax.scan(body, s, keys)[1]

    return jax.jit(run)


@functools.cache
def resetter():
    return jax.jit(small().reset_env)


def state_with(params, **fields):
    """A reset state with interests [0.5, -0.5], boredom [1, 0] and three fixed candidates."""
    _, s = resetter()(jax.random.key(0), params)
    base = dict(interest=jnp.array([0.5, -0.5]), boredom=jnp.array([1.0, 0.0]),
                cand_topics=jnp.array([[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]]), cand_quality=jnp.array([0.7, 0.9, 0.2]),
                cand_length=jnp.array([40.0, 10.0, 100.0]) / 120.0)
    base.update(fields)
    return s.replace(**{k: jnp.asarray(v, jnp.float32) if k not in ("t", "return_slot") else jnp.int32(v)
                        for k, v in base.items()})


def hand_watch(params, u, b, v, q, d):
    e = float(np.dot(v, u) - params.boredom_weight * np.dot(v, b))
    z = params.watch_bias + params.watch_match * e + params.watch_quality * (q - 0.5) - params.watch_duration * math.log(
        d / params.duration_ref_s)
    return e, sig(z)


def test_one_request_watch_time_signals_and_user_updates_by_hand():
    env = small()
    params = env.make_params(**DETERMINISTIC)
    s = state_with(params)
    obs, s2, reward, term, trunc, info = stepper()(jax.random.key(1), s, 0, params)
    e, f = hand_watch(params, [0.5, -0.5], [1.0, 0.0], [0.8, 0.2], 0.7, 40.0)
    assert e == pytest.approx(0.14)  # 0.4 - 0.1 - 0.2 * 0.8
    assert float(info["watch_fraction"]) == pytest.approx(f, rel=1e-5)
    assert float(reward) == pytest.approx(f * 40.0 / 10.0, rel=1e-5) and float(info["watch_time_s"]) == pytest.approx(f * 40)
    np.testing.assert_array_equal(np.asarray(info["cost"]), [0, 1, 0, 0, 0])  # follow, like, comment, share, hate
    # lower bounds count signal - threshold, the upper bound (hate) threshold - signal
    th = DEFAULT_THRESHOLDS
    np.testing.assert_allclose(np.asarray(info["cost_margin"]), [-th[0], 1 - th[1], -th[2], -th[3], th[4]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(s2.interest), np.clip([0.5 + 0.1 * (f - 0.5) * 0.8, -0.5 + 0.1 * (f - 0.5) * 0.2],
                                                                -1, 1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(s2.boredom), [0.8 * 1.0 + f * 0.8, f * 0.2], rtol=1e-5)
    assert float(s2.satisfaction) == pytest.approx(0.8 * 0.5 + 0.2 * f, rel=1e-5)
    np.testing.assert_allclose(np.asarray(s2.profile), [0.1 * f * 0.8, 0.1 * f * 0.2], rtol=1e-5)
    assert bool(s2.present) and not bool(info["left"]) and not bool(term) and not bool(trunc)
    assert int(s2.requests) == 1 and int(s2.session_step) == 1 and float(s2.last_watch) == pytest.approx(f, rel=1e-5)
    # the latent user (after the step) is in info, never in the observation
    np.testing.assert_array_equal(np.asarray(info["interest"]), np.asarray(s2.interest))
    assert float(info["satisfaction"]) == float(s2.satisfaction)
    parts = env.split_obs(obs)
    np.testing.assert_allclose(np.asarray(parts["profile"]), np.asarray(s2.profile), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(parts["last_signals"]), [0, 1, 0, 0, 0])
    np.testing.assert_allclose(np.asarray(parts["candidates"][:, 2]), np.asarray(s2.cand_quality))
    np.testing.assert_array_equal(np.asarray(parts["candidates"][:, 3]), np.asarray(s2.cand_length))
    assert float(parts["present"]) == 1.0 and float(parts["day_phase"]) == pytest.approx(0.1)
    assert float(parts["progress"]) == pytest.approx(1 / 60)


def test_signal_heads_are_independent_bernoullis_with_the_stated_probabilities():
    params = small().default_params
    e, q, f = 0.3, 0.8, 0.6
    p = np.asarray(signal_probs(jnp.float32(e), jnp.float32(q), jnp.float32(f), params))
    expected = [sig(b + m * e + w_q * (q - 0.5) + w_f * f) for b, m, w_q, w_f in
                zip((-5.5, -4.5, -5.5, -5.5, -4.5), (2.0, 1.5, 1.0, 1.5, -2.5), (1.5, 2.0, 1.0, 2.0, -2.0),
                    (1.5, 1.5, 1.0, 1.0, -1.0), strict=True)]
    np.testing.assert_allclose(p, expected, rtol=1e-5)
    assert np.all(np.diff(np.asarray(signal_probs(jnp.linspace(-1, 1, 5), q, f, params))[:, 1]) > 0)  # like rises
    assert np.all(np.diff(np.asarray(signal_probs(jnp.linspace(-1, 1, 5), q, f, params))[:, 4]) < 0)  # hate falls
    # drawn per step: the empirical like/hate rates of one fixed request match their probabilities
    env = small()
    s = state_with(params)
    keys = jax.random.split(jax.random.key(2), 4000)
    costs, probs = jax.jit(jax.vmap(lambda k: (lambda o: (o[5]["cost"], o[5]["signal_probs"]))(
        env.step_env(k, s, 1, params))))(keys)
    rate, mean_p = np.asarray(costs).mean(0), np.asarray(probs).mean(0)
    assert np.all(np.abs(rate - mean_p) < 4 * np.sqrt(mean_p * (1 - mean_p) / 4000) + 1e-3)


def test_leave_and_return_probabilities_by_hand():
    params = small().default_params
    assert float(leave_prob(jnp.float32(0.3), jnp.float32(1.0), params)) == pytest.approx(0.02 + 0.15 * 0.7 + 0.3)
    assert float(leave_prob(jnp.float32(0.9), jnp.float32(0.0), params)) == pytest.approx(0.02 + 0.15 * 0.1)
    assert float(return_prob(jnp.float32(0.2), params)) == pytest.approx(0.6 + 0.8 * (0.2 - 0.5))
    assert float(return_prob(jnp.float32(1.0), params)) == pytest.approx(0.999)  # KuaiSim's clamp
    assert float(return_prob(jnp.float32(0.0), params.replace(return_bias=0.0))) == pytest.approx(0.001)
    # the gap is a geometric on 1..G: P(k) = p (1-p)^(k-1) / (1 - (1-p)^G); inverse CDF on a grid of uniforms
    p, G, n = 0.36, 10, 100_000
    u = (jnp.arange(n, dtype=jnp.float32) + 0.5) / n
    days = np.asarray(jax.jit(return_days, static_argnums=2)(u, jnp.float32(p), G))
    pmf = np.array([p * (1 - p) ** (k - 1) for k in range(1, G + 1)]) / (1 - (1 - p) ** G)
    np.testing.assert_allclose(np.bincount(days, minlength=G + 1)[1:] / n, pmf, atol=2e-4)
    assert days.min() == 1 and days.max() == G


def test_leaving_makes_the_user_absent_until_the_return_day():
    env = small()
    # every session is one request; the user comes back the next day (P(gap = 1) = 0.999)
    params = env.make_params(**{**DETERMINISTIC, "leave_base": 1.0, "return_bias": 0.999, "return_satisfaction": 0.0})
    s = state_with(params)

    states, rewards, info = rollout()(s, params, jax.random.split(jax.random.key(3), 40))
    gap = int(info["return_days"][0])
    assert bool(info["left"][0]) and 1 <= gap <= 10 and int(states.return_slot[0]) == gap * 10
    _, f = hand_watch(params, [0.5, -0.5], [1.0, 0.0], [0.8, 0.2], 0.7, 40.0)
    np.testing.assert_allclose(np.asarray(states.boredom[0]), (np.array([0.8, 0.0]) + f * np.array([0.8, 0.2]))
                               * 0.2 ** gap, rtol=1e-5)  # recovered while away
    present = np.asarray(info["present"])
    back = gap * 10  # the first slot of the return day
    assert gap == 1 and present[0] and not present[1:back].any() and present[back]
    np.testing.assert_array_equal(np.asarray(rewards[1:back]), 0.0)
    np.testing.assert_array_equal(np.asarray(info["cost"][1:back]), 0.0)
    np.testing.assert_array_equal(np.asarray(info["cost_margin"][1:back]), 0.0)
    # nothing happens to an absent user
    np.testing.assert_array_equal(np.asarray(states.interest[1:back]), np.asarray(states.interest[0])[None].repeat(back - 1, 0))
    assert int(states.session[back - 1]) == 1 and int(states.session_step[back - 1]) == 0
    assert bool(states.present[back - 1]) and float(rewards[back]) > 0


def test_a_session_ends_at_the_last_slot_of_the_day():
    env = small()
    params = env.make_params(**DETERMINISTIC)
    _, s, *_, info = stepper()(jax.random.key(4), state_with(params, t=9, return_slot=0), 0, params)
    assert bool(info["left"]) and int(s.t) == 10 and int(s.return_slot) == 10 * int(info["return_days"])
    _, s, *_, info = stepper()(jax.random.key(4), state_with(params, t=8, return_slot=0), 0, params)
    assert not bool(info["left"]) and bool(s.present)


def test_bad_params_are_refused_naming_the_field():
    with pytest.raises(RealaxError, match=r"thresholds must have 5 entries, one per signal \['follow'"):
        ShortVideo(thresholds=(0.1, 0.2))
    with pytest.raises(RealaxError, match="thresholds must have 5 entries"):
        realax.make("realax/ShortVideo-v0", thresholds="0.1,0.1,0.1,0.1")
    with pytest.raises(RealaxError, match=r"thresholds are per-request rates and must be in \[0, 1\]"):
        ShortVideo(thresholds=(0.1, 0.1, 0.1, 0.1, 1.5))
    with pytest.raises(RealaxError, match="thresholds must be 5 numbers"):
        ShortVideo(thresholds="a,b")
    _, params = realax.make("realax/ShortVideo-v0", thresholds="0.01, 0.02, 0.03, 0.04, 0.05")
    np.testing.assert_allclose(np.asarray(params.thresholds), [0.01, 0.02, 0.03, 0.04, 0.05], rtol=1e-6)
    env = small()
    for bad, message in ((dict(leave_base=1.5), r"leave_base is a probability and must be in \[0, 1\], got 1.5"),
                         (dict(return_bias=-0.1), "return_bias is a probability"),
                         (dict(topic_mix=float("nan")), "topic_mix must be a finite number"),
                         (dict(signal_bias=[0.0] * 4), "signal_bias must have 5 entries"),
                         (dict(watch_noise=-1.0), "watch_noise must be >= 0"),
                         (dict(duration_min_s=0.0), "duration_min_s must be > 0"),
                         (dict(day_slots=0), r"day_slots must be in 1\.\."),
                         (dict(bogus=1), "params have no field 'bogus'")):
        with pytest.raises(RealaxError, match=message):
            env.make_params(**bad)
    flipped = env.make_params(lower_bound=[True, True, True, True, True], thresholds=[0.0, 0.0, 0.0, 0.0, 0.5])
    assert np.asarray(flipped.lower_bound).dtype == bool and float(flipped.thresholds[4]) == 0.5
    with pytest.raises(RealaxError, match="lower_bound must have 5 entries"):
        env.make_params(lower_bound=[True])
    for bad, message in ((dict(num_candidates=1), r"num_candidates must be in 2\.\.256"),
                         (dict(num_topics=0), r"num_topics must be in 1\.\.64")):
        with pytest.raises(RealaxError, match=message):
            ShortVideo(**bad)


def test_baselines_pick_by_their_own_estimate():
    env = small()
    params = env.default_params
    s = state_with(params, profile=jnp.array([0.6, 0.1]))
    obs = jax.jit(env.get_obs)(s, params)
    watch = np.asarray(jax.jit(env.expected_watch_s)(s, params))
    expected = []
    for c, (v, q, d) in enumerate(zip([[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]], [0.7, 0.9, 0.2], [40.0, 10.0, 100.0], strict=True)):
        expected.append(hand_watch(params, [0.5, -0.5], [1.0, 0.0], v, q, d)[1] * d)
        assert watch[c] == pytest.approx(expected[-1], rel=1e-5)
    assert int(jax.jit(baselines.get("oracle", env, params))(None, obs, s)) == int(np.argmax(expected))
    # myopic: match estimated from the observed profile, 2 cos(h, v) - 1
    h = np.array([0.6, 0.1])
    guesses = []
    for v, q, d in zip([[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]], [0.7, 0.9, 0.2], [40.0, 10.0, 100.0], strict=True):
        e_hat = 2 * np.dot(h, v) / (np.linalg.norm(h) * np.linalg.norm(v)) - 1
        z = params.watch_bias + params.watch_match * e_hat + params.watch_quality * (q - 0.5) - params.watch_duration * math.log(
            d / params.duration_ref_s)
        guesses.append(sig(z) * d)
    assert int(jax.jit(baselines.get("myopic", env, params))(None, obs)) == int(np.argmax(guesses))


def test_default_thresholds_bind_for_watch_time_maximisation_but_can_be_met():
    """The CMDP is worth solving: the watch-time oracle leaves some signal below its threshold, while a latent
    policy that favours the signals meets every threshold (the calibration in the module docstring)."""
    env, params = realax.make("realax/ShortVideo-v0")

    def favour_signals(key, obs, state):
        e = match(state.interest, state.boredom, state.cand_topics, params)
        f = watch_fraction(e, state.cand_quality, state.cand_length * params.duration_max_s, params)
        p = signal_probs(e, state.cand_quality, f, params)
        return jnp.argmax(p @ jnp.array([1.0, 1.0, 1.0, 1.0, -1.0])).astype(jnp.int32)

    oracle_policy = baselines.get("oracle", env, params)

    def episode(k, use_oracle):  # one compiled rollout for both policies
        obs, s = env.reset_env(k, params)

        def body(c, k):  # 200 steps: one episode, no reset needed
            ka, ks = jax.random.split(k)
            a = jnp.where(use_oracle, oracle_policy(ka, c[0], c[1]), favour_signals(ka, c[0], c[1]))
            o, s, r, _, _, info = env.step_env(ks, c[1], a, params)
            return (o, s), (info["cost"], info["present"])
        return jax.lax.scan(body, (obs, s), jax.random.split(k, 200))[1]

    keys = jax.random.split(jax.random.key(0), 64)
    cost, present = jax.jit(jax.vmap(jax.vmap(episode, in_axes=(0, None)), in_axes=(None, 0)))(
        keys, jnp.array([True, False]))
    oracle, favour = np.asarray(cost.sum((1, 2))) / np.asarray(present.sum((1, 2)))[:, None]
    th, lower = np.asarray(params.thresholds), np.asarray(params.lower_bound)
    met = lambda r: np.where(lower, np.asarray(r) >= th, np.asarray(r) <= th)  # noqa: E731
    assert not met(oracle).all(), dict(zip(SIGNALS, np.asarray(oracle), strict=True))
    assert met(favour).all(), dict(zip(SIGNALS, np.asarray(favour), strict=True))
