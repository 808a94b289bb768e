"""ShortVideo baselines: a myopic greedy policy on what is observed and a myopic oracle on the latent user.

- ``myopic``: the candidate with the highest expected watch time (the reward) from observed features only. The
  user's interest is unknown, so the match is estimated from the observed consumption profile ``h``:
  ``e_hat = 2 cos(h, v) - 1`` (0 while ``h`` is empty), and the watch model (``short_video.watch_fraction``,
  whose constants are public params) gives ``E[watch] = f(e_hat, q, d) d``.
- ``oracle``: reads the latent interests and boredom (``state``) and shows the candidate with the highest true
  expected watch time (``ShortVideo.expected_watch_s``). Myopic and unconstrained: it shows how much watch time
  the constraints cost, and which signals pure watch-time maximisation leaves below their thresholds.
- ``random`` (``realax.baselines``): a uniform candidate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.envs.recsys.short_video import ShortVideo, watch_fraction


def _env(env) -> ShortVideo:
    return env.unwrapped


def estimated_match(profile: jax.Array, topics: jax.Array) -> jax.Array:
    """``[C]``: ``2 cos(h, v) - 1`` for the profile ``h [K]`` and candidate mixtures ``topics [C, K]``; 0 when
    ``h`` is empty."""
    norm = jnp.linalg.norm(profile)
    cos = topics @ profile / jnp.maximum(jnp.linalg.norm(topics, axis=1) * norm, 1e-12)
    return jnp.where(norm > 1e-6, 2.0 * cos - 1.0, 0.0)


def myopic(env, params):
    sv = _env(env)

    def act(key, obs):
        parts = sv.split_obs(obs)
        cands = parts["candidates"]
        topics, quality = cands[:, :sv.num_topics], cands[:, sv.num_topics]
        duration = cands[:, sv.num_topics + 1] * params.duration_max_s
        e_hat = estimated_match(parts["profile"], topics)
        return jnp.argmax(watch_fraction(e_hat, quality, duration, params) * duration).astype(jnp.int32)

    return act


def oracle(env, params):
    sv = _env(env)

    def act(key, obs, state):
        return jnp.argmax(sv.expected_watch_s(state, params)).astype(jnp.int32)

    return act


#: the baselines ``realax.register(..., baselines="realax.baselines.recsys_short_video")`` declares
BASELINES = {"myopic": myopic, "oracle": oracle}
