"""SlateRec baselines: random, popularity, myopic greedy and an oracle that reads the latent user.

- ``random``: ``k`` distinct candidates uniformly at random (RecSim's ``RandomAgent``: shuffle, take ``k``).
- ``popularity``: the ``k`` candidates whose topic has the highest mean document quality (the catalogue's
  prior, ``params.topic_quality_mean``; the same for every user; equal means: lower index first).
- ``greedy`` (myopic, observable features only): the highest expected immediate reward. The reward is the
  watch time of a click, so this is the slate most likely to be clicked; the user's interests are latent,
  so each topic's click probability is estimated from the session history in the observation -- clicks /
  impressions of the topic, smoothed towards the choice model's probability for an average user (affinity
  0) with a weight of two impressions -- and the ``k`` candidates of the best estimates are slated (ties
  broken at random).
- ``oracle`` (reads ``state``: the user's interests and time budget, the candidates' qualities and lengths):
  the slate with the best expected watch time per minute of time budget it costs, under the env's own choice
  model -- a static user's session return is about the budget times that ratio (renewal reward), which is
  what a long session needs rather than the next click alone (a click on low quality costs up to 7 minutes,
  on high quality under 1). Every ordered slate is tried when there are at most ``EXHAUSTIVE`` of them (2 of
  10: 90); otherwise the slate is built position by position, each position taking the candidate that
  maximises the ratio of the slate so far.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from realax.envs.recsys import interest_evolution as ie
from realax.envs.recsys.slate import SlateParams, SlateRec, SlateState
from realax.envs.sampling import uniforms

#: the most ordered slates the oracle compares one by one
EXHAUSTIVE = 2048


def _inner(env: Any) -> SlateRec:
    inner = env.unwrapped
    if not isinstance(inner, SlateRec):
        raise TypeError(f"SlateRec baselines need a SlateRec env, got {type(inner).__name__}")
    return inner


def candidate_topics(env: SlateRec, obs: jax.Array) -> jax.Array:
    """``int32 [C]``: each candidate's topic, read from the observation's one-hot block."""
    C, T = env.num_candidates, env.num_topics
    return jnp.argmax(obs[: C * T].reshape(C, T), axis=-1).astype(jnp.int32)


def top(score: jax.Array, k: int) -> jax.Array:
    """``int32 [k]``: the indices of the ``k`` largest scores, best first (equal scores: lower index first)."""
    return jax.lax.top_k(score, k)[1].astype(jnp.int32)


def random(env: Any, params: SlateParams) -> Callable:
    inner = _inner(env)
    # the k largest of C uniforms are at a uniformly random ordered k-subset (as ``Slate.sample``, cheaper bits)
    return lambda key, obs: top(uniforms(key, (inner.num_candidates,)), inner.slate_size)


def popularity(env: Any, params: SlateParams) -> Callable:
    inner = _inner(env)
    return lambda key, obs: top(params.topic_quality_mean[candidate_topics(inner, obs)], inner.slate_size)


def topic_click_estimate(env: SlateRec, obs: jax.Array, params: SlateParams) -> jax.Array:
    """``[T]``: each topic's estimated click probability from the session's clicks and impressions."""
    T, k = env.num_topics, env.slate_size
    prior = env.click_probs(jnp.zeros(T), jnp.zeros(k, jnp.int32), params)[0]  # average user, one position
    impressions, clicks = obs[-2 * T: -T], obs[-T:]
    return (clicks + 2.0 * prior) / (impressions + 2.0)


def greedy(env: Any, params: SlateParams) -> Callable:
    inner = _inner(env)

    def policy(key: jax.Array, obs: jax.Array) -> jax.Array:
        est = topic_click_estimate(inner, obs, params)[candidate_topics(inner, obs)]
        noise = 1e-4 * uniforms(key, est.shape)  # ties (unseen topics) broken at random
        return top(est + noise, inner.slate_size)

    return policy


def slate_value(env: SlateRec, state: SlateState, params: SlateParams, slate: jax.Array) -> jax.Array:
    """Expected watch time per expected minute of time budget of showing ``slate`` (indices, any length
    ``<= k``) to the user in ``state``, under the env's choice model and budget rule."""
    topic = state.doc_topic[slate]
    aff = state.interests[topic]
    probs = env.click_probs(state.interests, topic, params)
    watched = ie.watch_time(state.time_budget, state.doc_length[slate])
    alone = jax.vmap(lambda a: env._scores(a[None], params)[0][0])(aff)  # noqa: SLF001 (the env's choice model)
    utility = params.user_quality_factor * alone + params.document_quality_factor * state.doc_quality[slate]
    cost_click = watched - params.user_update_alpha * watched * utility
    reward = jnp.sum(probs[:-1] * watched)
    cost = jnp.sum(probs[:-1] * cost_click) + probs[-1] * params.step_penalty
    return reward / jnp.maximum(cost, 1e-6)


def oracle(env: Any, params: SlateParams) -> Callable:
    inner = _inner(env)
    C, k = inner.num_candidates, inner.slate_size

    if math.perm(C, k) <= EXHAUSTIVE:
        slates = jnp.asarray(list(itertools.permutations(range(C), k)), jnp.int32)

        def every(key: jax.Array, obs: jax.Array, state: SlateState) -> jax.Array:
            return slates[jnp.argmax(jax.vmap(lambda s: slate_value(inner, state, params, s))(slates))]

        return every

    def policy(key: jax.Array, obs: jax.Array, state: SlateState) -> jax.Array:
        chosen = jnp.zeros((0,), jnp.int32)
        free = jnp.ones(C, bool)
        for _ in range(k):  # static: one more position each time
            trial = jnp.concatenate([jnp.broadcast_to(chosen, (C, chosen.shape[0])), jnp.arange(C)[:, None]], 1)
            value = jax.vmap(lambda s: slate_value(inner, state, params, s))(trial.astype(jnp.int32))
            best = jnp.argmax(jnp.where(free, value, -jnp.inf)).astype(jnp.int32)
            chosen = jnp.concatenate([chosen, best[None]])
            free = free & (jnp.arange(C) != best)
        return chosen

    return policy


#: the baselines ``realax.register(..., baselines="realax.baselines.recsys")`` declares (``random`` replaces
#: the generic one: it already draws distinct items, from the ``Slate`` space)
BASELINES = {"random": random, "popularity": popularity, "greedy": greedy, "oracle": oracle}

__all__ = ["BASELINES", "random", "popularity", "greedy", "oracle", "slate_value", "topic_click_estimate",
           "candidate_topics", "top"]
