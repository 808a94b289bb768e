"""RecSim's interest-evolution user and document models, as pure functions of arrays.

Facts from ``recsim/environments/interest_evolution.py`` of the ``recsim`` / ``recsim-no-tf`` package
(v0.2.3), the function or class named beside each; the defaults are those of its ``create_environment``
(``UtilityModelVideoSampler`` documents, ``UtilityModelUserSampler`` users, ``IEvUserModel`` with the
multinomial proportional choice model):

Documents (``UtilityModelVideoSampler``)
  - ``num_topics`` = 20 clusters (``IEvVideo.NUM_FEATURES``); a document's topic is uniform over them and its
    features are the topic's one-hot vector.
  - quality ~ Normal(mean of its topic, 0.1) -- the code calls 0.1 a variance but passes it to
    ``rng.normal`` as the standard deviation, so it is the standard deviation;
  - topic means: ``linspace(-3, 0, int(0.7 T))`` ("trashy") followed by ``linspace(0, 3, int(0.3 T))``
    ("nutritious") -- for T = 20, 14 means from -3 to 0 then 6 from 0 to 3 (0 appears twice). Here the
    nutritious count is ``T - int(0.7 T)`` so that every topic has a mean for any T (the same for T = 20);
  - video length 4 minutes for every document (``IEvVideoSampler``, the other sampler, draws
    Normal(4.3, 1) capped at ``IEvVideo.MAX_VIDEO_LENGTH`` = 100: ``video_length_std`` > 0 gives that form,
    floored at 0 here).

Users (``UtilityModelUserSampler.sample_user``)
  - interests ~ Uniform(-1, 1) per topic; time budget 200 minutes; step penalty 0.5; no-click mass 1;
    ``min_normalizer`` -1; ``score_scaling`` 0.05 and ``attention_prob`` 0.65 (used by the cascade models);
    ``user_quality_factor`` 0, ``document_quality_factor`` 1; ``user_update_alpha`` = 0.9 / 3.4.
  - affinity of a document: ``interests . features`` (``IEvUserState.score_document``).

Response and transition (``IEvUserModel``)
  - a clicked document is watched for ``min(time_budget, video_length)`` (``_generate_click_response``);
    the reward is the watch time of the clicked document (``clicked_watchtime_reward``);
  - interest update on a click (``update_state``): step size ``alpha = -(y / x) |interests| + y`` with
    ``x = alpha_x_intercept`` = 1 and ``y = alpha_y_intercept`` = 0.3 (``compute_alpha``); ``update = alpha *
    features * (features - interests)``; with probability ``(interests + 1) / 2 . features`` the interests
    move by ``+update`` (towards the document), otherwise by ``-update``; then clipped to [-1, 1];
  - time budget on a click: ``- watch_time + user_update_alpha * watch_time * utility`` with ``utility =
    user_quality_factor * expected_utility + document_quality_factor * quality``, where ``expected_utility``
    is the choice model's score of the document alone; without a click: ``- step_penalty``;
  - the session ends when the time budget is at or below 0 (``is_terminal``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs import smallops as so

#: RecSim's interest-evolution sizes and constants (see the module docstring for where each comes from)
NUM_TOPICS = 20
MAX_VIDEO_LENGTH = 100.0
TRASHY_FRACTION = 0.7


def topic_quality_means(num_topics: int = NUM_TOPICS, min_utility: float = -3.0, max_utility: float = 3.0,
                        trashy_fraction: float = TRASHY_FRACTION) -> np.ndarray:
    """``float32 [T]``: RecSim's mean quality of each topic -- ``int(trashy_fraction * T)`` means spaced from
    ``min_utility`` to 0, then the rest from 0 to ``max_utility``."""
    trashy = int(num_topics * trashy_fraction)
    return np.concatenate([np.linspace(min_utility, 0.0, trashy),
                           np.linspace(0.0, max_utility, num_topics - trashy)]).astype(np.float32)


def normals(u: jax.Array, n: int) -> jax.Array:
    """``n`` independent standard normals from ``2 * ceil(n / 2)`` uniforms ``u`` in [0, 1) (Box and Muller,
    1958): each pair gives ``r cos(2 pi u2)`` and ``r sin(2 pi u2)``, the sine taken as ``+-sqrt(1 - cos^2)``
    (positive for ``u2 < 1/2``), so a pair costs one log, one cosine and two square roots."""
    half = (n + 1) // 2
    u1, u2 = u[:half], u[half: 2 * half]
    r = jnp.sqrt(-2.0 * jnp.log1p(-u1))
    c = jnp.cos(2 * jnp.pi * u2)
    sin = jnp.where(u2 < 0.5, 1.0, -1.0) * jnp.sqrt(jnp.maximum(1.0 - c * c, 0.0))
    return jnp.concatenate([r * c, r * sin])[:n]


def sample_interests(u: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    """Interests ``Uniform(low, high)`` from uniforms ``u [..., T]`` in [0, 1)."""
    return low + (high - low) * u


def document_uniforms(num_documents: int) -> int:
    """How many uniforms ``sample_documents`` takes for ``num_documents`` documents."""
    return num_documents + 4 * ((num_documents + 1) // 2)


def sample_documents(u: jax.Array, quality_mean: jax.Array, quality_std: jax.Array, video_length: jax.Array,
                     video_length_std: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(topic int32 [C], quality [C], length [C])`` of ``C`` documents from ``document_uniforms(C)`` uniforms
    ``u``: a topic uniform over the ``T = len(quality_mean)`` topics, quality ``Normal(quality_mean[topic],
    quality_std)``, length ``Normal(video_length, video_length_std)`` within ``[0, MAX_VIDEO_LENGTH]``
    (exactly ``video_length`` when the standard deviation is 0: the normals are then not drawn)."""
    num_topics = quality_mean.shape[-1]
    C = u.shape[0] // 3 if u.shape[0] % 3 == 0 else (u.shape[0] - 2) // 3  # inverse of document_uniforms
    if document_uniforms(C) != u.shape[0]:
        raise ValueError(f"sample_documents: {u.shape[0]} uniforms is no document_uniforms(C) for any C")
    pairs = 2 * ((C + 1) // 2)
    topic = jnp.minimum((u[:C] * num_topics).astype(jnp.int32), num_topics - 1)
    quality = jnp.take(quality_mean, topic) + quality_std * normals(u[C: C + pairs], C)
    spread = jnp.clip(video_length + video_length_std * normals(u[C + pairs:], C), 0.0, MAX_VIDEO_LENGTH)
    length = jnp.where(video_length_std > 0, spread, jnp.broadcast_to(video_length, (C,)))
    return topic, quality, length


def affinity(interests: jax.Array, features: jax.Array) -> jax.Array:
    """``interests . features`` over the last axis (RecSim's ``score_document``)."""
    return so.sum_axis(interests * features, -1)


def step_size(interests: jax.Array, x_intercept: jax.Array, y_intercept: jax.Array) -> jax.Array:
    """RecSim's ``compute_alpha``: ``-(y / x) |interests| + y``, the largest (``y``) at indifference and 0 at
    ``|interest| = x``."""
    return (-y_intercept / x_intercept) * jnp.abs(interests) + y_intercept


def update_interests(interests: jax.Array, features: jax.Array, u: jax.Array, x_intercept: jax.Array,
                     y_intercept: jax.Array) -> jax.Array:
    """Interests ``[T]`` after consuming a document with ``features [T]``; uniform ``u`` decides the direction
    (towards the document when ``u < (interests + 1) / 2 . features``)."""
    update = step_size(interests, x_intercept, y_intercept) * features * (features - interests)
    towards = u < affinity((interests + 1.0) / 2.0, features)
    return jnp.clip(jnp.where(towards, interests + update, interests - update), -1.0, 1.0)


def watch_time(time_budget: jax.Array, video_length: jax.Array) -> jax.Array:
    """Minutes a clicked video is watched: ``min(time_budget, video_length)``."""
    return jnp.minimum(time_budget, video_length)


def update_budget(time_budget: jax.Array, clicked: jax.Array, watched: jax.Array, quality: jax.Array,
                  expected_utility: jax.Array, step_penalty: jax.Array, user_update_alpha: jax.Array,
                  user_quality_factor: jax.Array, document_quality_factor: jax.Array) -> jax.Array:
    """The time budget after a step: a click costs the watch time and refunds ``user_update_alpha *
    watched * utility``; no click costs ``step_penalty``."""
    utility = user_quality_factor * expected_utility + document_quality_factor * quality
    after_click = time_budget - watched + user_update_alpha * watched * utility
    return jnp.where(clicked, after_click, time_budget - step_penalty)


def session_over(time_budget: jax.Array) -> jax.Array:
    """Whether the user leaves: the time budget is at or below 0."""
    return time_budget <= 0.0


__all__ = ["NUM_TOPICS", "MAX_VIDEO_LENGTH", "topic_quality_means", "normals", "sample_interests",
           "document_uniforms", "sample_documents", "affinity", "step_size", "update_interests", "watch_time", "update_budget",
           "session_over"]
