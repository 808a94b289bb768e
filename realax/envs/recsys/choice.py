"""User choice models over a slate: which item (if any) the user picks, as pure functions.

Every model returns RecSim's pair ``(scores [..., k], no_click_score [...])`` -- the unnormalised mass of each
slate position and of "no click" -- and ``normalize`` turns it into probabilities ``[..., k + 1]`` whose last
entry is the no-click probability; they sum to 1. ``sample_choice`` draws a position from them (``k`` means no
click). ``affinity`` is the user's score of each slated item (interest-evolution: the dot product of the
user's interests and the item's topic features), in slate order.

Facts, from RecSim (``recsim/choice_model.py`` of the ``recsim`` / ``recsim-no-tf`` package, v0.2.3):

- multinomial logit (``MultinomialLogitChoiceModel.score_documents``): the softmax of the affinities with
  the no-click option as one more logit, ``no_click_mass``;
- multinomial proportional (``MultinomialProportionalChoiceModel.score_documents``, the interest-evolution
  default): masses ``affinity - min_normalizer`` and ``no_click_mass - min_normalizer``, chosen in proportion
  (``NormalizableChoiceModel.choose_item``). RecSim asserts that no mass is negative; here a negative mass is
  clipped to 0 (inside ``jit`` nothing can raise);
- cascade (``CascadeChoiceModel._positional_normalization``): the user looks at the positions in order; at
  each one, still unclicked, the item is clicked with ``attention_prob * s_i``; the no-click mass is what is
  left, ``prod_i (1 - attention_prob * s_i)``. Note: the code applies the same ``attention_prob`` at every
  position (the ``attention_prob^i`` in its user-state comment is not what it computes). ``s_i`` is
  ``score_scaling * exp(affinity)`` (``ExponentialCascadeChoiceModel``) or ``score_scaling * (affinity -
  min_normalizer)`` (``ProportionalCascadeChoiceModel``); RecSim asserts ``s_i <= 1``, here it is clipped to
  ``[0, 1]``. ``cascade`` also takes a vector of per-position examination probabilities (position bias, as
  in the position-based model of Richardson et al., WWW 2007, ``PositionBasedModel`` in the same file);
- sampling (``NormalizableChoiceModel.choose_item``, ``numpy.random.choice``): one uniform ``u``, the first
  position whose cumulative probability exceeds ``u``.

``bernoulli_signals`` draws independent yes/no feedback signals (click, like, follow, ...) from their
probabilities, the multi-signal heads of KuaiSim-style simulators (``shared/research/amod-recsys.md`` §2c).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs import smallops as so
from realax.errors import RealaxError

#: the choice models ``SlateRec`` can use, by name
MODELS = ("proportional", "logit", "exponential_cascade", "proportional_cascade")


def logit(affinity: jax.Array, no_click_mass: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Multinomial logit: ``softmax([affinity, no_click_mass])`` split into ``(scores, no_click)``."""
    logits = jnp.concatenate([affinity, jnp.broadcast_to(no_click_mass, affinity.shape[:-1])[..., None]], -1)
    p = jax.nn.softmax(logits, axis=-1)
    return p[..., :-1], p[..., -1]


def proportional(affinity: jax.Array, no_click_mass: jax.Array, min_normalizer: jax.Array
                 ) -> tuple[jax.Array, jax.Array]:
    """Multinomial proportional: masses ``affinity - min_normalizer`` and ``no_click_mass - min_normalizer``
    (negative masses clipped to 0)."""
    scores = jnp.maximum(affinity - min_normalizer, 0.0)
    no_click = jnp.maximum(no_click_mass - min_normalizer, 0.0)
    return scores, jnp.broadcast_to(no_click, scores.shape[:-1])


def cascade(click_prob: jax.Array, examine: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Cascade with position bias: position ``i`` is clicked with probability ``examine_i * click_prob_i`` if
    no earlier one was; ``examine`` is a scalar (RecSim's ``attention_prob``) or one value per position.
    Returns ``(P(click at i) [..., k], P(no click) [...])``; both factors are clipped to ``[0, 1]``."""
    c = jnp.clip(jnp.broadcast_to(examine, click_prob.shape), 0.0, 1.0) * jnp.clip(click_prob, 0.0, 1.0)
    left = jnp.ones(c.shape[:-1], c.dtype)
    scores = []
    for i in range(c.shape[-1]):  # slates are short: unrolled, it fuses under vmap
        scores.append(left * c[..., i])
        left = left * (1.0 - c[..., i])
    return jnp.stack(scores, -1), left


def exponential_cascade(affinity: jax.Array, attention_prob: jax.Array, score_scaling: jax.Array
                        ) -> tuple[jax.Array, jax.Array]:
    """RecSim's exponential cascade: ``cascade(score_scaling * exp(affinity), attention_prob)``."""
    return cascade(score_scaling * jnp.exp(affinity), attention_prob)


def proportional_cascade(affinity: jax.Array, attention_prob: jax.Array, score_scaling: jax.Array,
                         min_normalizer: jax.Array) -> tuple[jax.Array, jax.Array]:
    """RecSim's proportional cascade: ``cascade(score_scaling * (affinity - min_normalizer), attention_prob)``."""
    return cascade(score_scaling * (affinity - min_normalizer), attention_prob)


def normalize(scores: jax.Array, no_click: jax.Array) -> jax.Array:
    """Probabilities ``[..., k + 1]`` (last: no click) in proportion to the masses; all-zero masses give
    certain no-click."""
    masses = jnp.concatenate([scores, no_click[..., None]], -1)
    total = so.sum_axis(masses, -1)[..., None]
    none = jnp.concatenate([jnp.zeros_like(scores), jnp.ones_like(no_click)[..., None]], -1)
    return jnp.where(total > 0, masses / jnp.where(total > 0, total, 1.0), none)


def sample_choice(u: jax.Array, probs: jax.Array) -> jax.Array:
    """``int32 [...]``: the position chosen by uniforms ``u [...]`` in [0, 1) from ``probs [..., k + 1]``
    (``k`` = no click): the number of cumulative probabilities (normalised by their total) at or below ``u``,
    as ``numpy.random.choice`` does."""
    n = probs.shape[-1]
    cdf = probs[..., 0]
    total = so.sum_axis(probs, -1)
    count = jnp.zeros(u.shape, jnp.int32)
    for i in range(n - 1):
        count = count + (cdf / total <= u).astype(jnp.int32)
        cdf = cdf + probs[..., i + 1]
    return count


def bernoulli_signals(u: jax.Array, probs: jax.Array) -> jax.Array:
    """``bool [..., m]``: independent signals, signal ``j`` on when ``u_j < probs_j`` (uniforms ``u`` in [0, 1))."""
    return u < jnp.clip(probs, 0.0, 1.0)


def check_probability(name: str, value: Any, owner: str = "") -> np.ndarray:
    """``value`` (a number or an array) as float32 if every entry is a finite number in [0, 1], else a
    ``RealaxError`` naming ``name``, the bad value and the allowed range."""
    where = f"{owner}: " if owner else ""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RealaxError(f"{where}{name} must be a probability in [0, 1], got {value!r:.80}") from None
    bad = ~np.isfinite(a) | (a < 0.0) | (a > 1.0)
    if np.any(bad):
        shown = a if a.ndim == 0 else a[bad][0]
        raise RealaxError(f"{where}{name} must be a probability in [0, 1], got {float(shown)!r}")
    return a.astype(np.float32)


__all__ = ["MODELS", "logit", "proportional", "cascade", "exponential_cascade", "proportional_cascade",
           "normalize", "sample_choice", "bernoulli_signals", "check_probability"]
