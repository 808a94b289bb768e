"""``realax/SlateRec-v0``: RecSim's interest-evolution environment, one user per env, batched by ``vmap``.

Anchor: Ie et al., "RecSim: A Configurable Simulation Platform for Recommender Systems" (arXiv 1909.04847),
and its code, the ``recsim`` package (``recsim-no-tf`` 0.2.3): ``environments/interest_evolution.py``
(``create_environment``: ``IEvUserModel`` + ``UtilityModelVideoSampler`` + ``MultinomialProportionalChoiceModel``,
reward ``clicked_watchtime_reward``), ``simulator/environment.py`` (``SingleUserEnvironment.step``: respond,
update the user, resample the candidates). The user, document and choice facts, each with its source, are in
``interest_evolution`` and ``choice``; ``benchmarks/recsys_parity.py`` checks episode returns and lengths
against the package.

One step, in order:

1. the action, ``k`` distinct indices into the ``C`` candidates (``Slate`` space), is repaired inside ``jit``:
   an entry that is not a whole number in ``0..C-1`` or repeats an earlier valid entry is replaced by the
   lowest candidate index not otherwise on the slate, and flagged in ``info["invalid_action"] [k]``;
2. the user scores the slated documents (``interests . topic one-hot``) and chooses one or none with the
   choice model (``choice``: RecSim's multinomial proportional by default);
3. a click: the document is watched ``min(time budget, length)`` minutes -- the reward; the interests move
   towards or away from its topic; the budget pays the watch time and gets back ``user_update_alpha *
   watched * quality``. No click: the budget pays ``step_penalty``;
4. ``C`` new candidates are drawn (RecSim's ``resample_documents=True``).

The episode terminates when the time budget is at or below 0 (the user leaves) and is truncated at
``max_steps`` (default 1000: RecSim has no step limit, and every step costs at least 0.5 minutes without a
click, 4 - 1.06 q with one, so under the default params a session of 200 minutes ends long before).

Observation ``float32 [C*T + k*(3+T) + 2T]`` (``T`` topics), what a platform sees -- the user's interests and
time budget are latent, shown only in ``info``:

- ``C x T``: each candidate's topic one-hot (RecSim's document features);
- ``k x (3 + T)``: the last slate, per position: clicked (0/1), minutes watched, quality (RecSim reports it
  for every slated document), topic one-hot (all zero before the first step);
- ``2 x T``: this session's impressions and clicks per topic (the user's observable history).

``info``: ``invalid_action [k]``, ``choice`` (position clicked, ``k`` = none), ``clicked``, ``watch_time``,
``quality`` (of the clicked document, 0 without a click), ``click_probs [k+1]`` (last: no click), and the
latent ``interests [T]`` and ``time_budget`` after the step.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, Environment, EnvParams, StepResult, check_int
from realax.envs import smallops as so
from realax.envs.recsys import choice as ch
from realax.envs.recsys import interest_evolution as ie
from realax.envs.sampling import uniforms
from realax.errors import RealaxError
from realax.spaces import Box, Slate

#: RecSim's ``create_environment`` defaults (see ``interest_evolution``); slate 2 of 10 candidates as in
#: RLlib's tuned RecSim examples (``rllib/tuned_examples/slateq``)
DEFAULTS: dict[str, float] = dict(
    time_budget=200.0, step_penalty=0.5, no_click_mass=1.0, min_normalizer=-1.0, score_scaling=0.05,
    attention_prob=0.65, user_quality_factor=0.0, document_quality_factor=1.0, user_update_alpha=0.9 / 3.4,
    alpha_x_intercept=1.0, alpha_y_intercept=0.3, interest_low=-1.0, interest_high=1.0, quality_std=0.1,
    video_length=4.0, video_length_std=0.0)
DEFAULT_MAX_STEPS = 1000
#: bounds of the response part of the observation (RecSim's ``IEvResponse.response_space``)
QUALITY_BOUND = 100.0


@struct.dataclass(kw_only=True)
class SlateParams(EnvParams):
    """Every behavioural constant of the user and document models (RecSim's defaults in ``DEFAULTS``)."""

    time_budget: jax.Array  # minutes of a session at the start
    step_penalty: jax.Array  # minutes a slate without a click costs
    no_click_mass: jax.Array  # the no-click option's score (logit for ``choice="logit"``)
    min_normalizer: jax.Array  # subtracted from every score by the proportional models (<= 0)
    score_scaling: jax.Array  # cascade models: score -> click probability factor
    attention_prob: jax.Array  # cascade models: probability of examining each position
    user_quality_factor: jax.Array  # weight of the expected utility in the budget refund
    document_quality_factor: jax.Array  # weight of the document quality in the budget refund
    user_update_alpha: jax.Array  # fraction of watch time x utility refunded to the budget
    alpha_x_intercept: jax.Array  # interest step size: |interest| at which it reaches 0
    alpha_y_intercept: jax.Array  # interest step size at interest 0
    interest_low: jax.Array  # user interests ~ Uniform(interest_low, interest_high)
    interest_high: jax.Array
    topic_quality_mean: jax.Array  # float32 [T]: mean quality of each topic's documents
    quality_std: jax.Array  # document quality ~ Normal(topic mean, quality_std)
    video_length: jax.Array  # minutes; length ~ Normal(video_length, video_length_std) in [0, 100]
    video_length_std: jax.Array


@struct.dataclass
class SlateState:
    t: jax.Array  # int32 []
    interests: jax.Array  # float32 [T], latent
    time_budget: jax.Array  # float32 [], latent
    doc_topic: jax.Array  # int32 [C]
    doc_quality: jax.Array  # float32 [C], not observed before the document is shown
    doc_length: jax.Array  # float32 [C]
    last_topic: jax.Array  # int32 [k], -1 before the first step
    last_click: jax.Array  # bool [k]
    last_watch: jax.Array  # float32 [k]
    last_quality: jax.Array  # float32 [k]
    impressions: jax.Array  # float32 [T]: documents of each topic shown this session
    clicks: jax.Array  # float32 [T]: documents of each topic clicked this session


def repair_slate(action: Any, num_candidates: int, slate_size: int) -> tuple[jax.Array, jax.Array]:
    """``(slate int32 [k], invalid int32 [k])``: the rule inside ``jit`` for a slate of ``k`` distinct indices
    in ``0..C-1``. An entry that is not a whole number in range (fractions, NaN, infinities) or that repeats
    an earlier valid entry is invalid; invalid positions, in order, get the lowest indices not held by a valid
    entry. All-invalid gives ``[0, 1, ..., k-1]`` (the no-op). The shape and dtype are static: a wrong one
    is a ``RealaxError`` while tracing."""
    C, k = num_candidates, slate_size
    try:
        a = jnp.asarray(action)
    except (TypeError, ValueError, OverflowError):
        raise RealaxError(f"action {action!r:.80} is not an array of numbers; expected a slate of shape ({k},) "
                          f"of distinct integers in 0..{C - 1}") from None
    if a.shape != (k,):
        raise RealaxError(f"action has shape {a.shape}; expected a slate of shape ({k},) of distinct integers "
                          f"in 0..{C - 1}")
    if jnp.issubdtype(a.dtype, jnp.floating):
        ok = jnp.isfinite(a) & (a == jnp.floor(a)) & (a >= 0) & (a < C)
    elif jnp.issubdtype(a.dtype, jnp.integer) or a.dtype == jnp.bool_:
        ok = (a >= 0) & (a < C)
    else:
        raise RealaxError(f"action has dtype {a.dtype}; expected distinct integers in 0..{C - 1}")
    idx = jnp.where(ok, a, 0).astype(jnp.int32)
    keep = [ok[0]]
    for i in range(1, k):
        repeat = jnp.zeros((), bool)
        for j in range(i):
            repeat = repeat | (keep[j] & (idx[j] == idx[i]))
        keep.append(ok[i] & ~repeat)
    cand = jnp.arange(C, dtype=jnp.int32)
    taken = jnp.zeros(C, bool)
    for i in range(k):
        taken = taken | (keep[i] & (cand == idx[i]))
    slate = []
    for i in range(k):  # invalid positions take the lowest free indices, in order
        fill = so.argmin_last(jnp.where(taken, C, cand))
        pick = jnp.where(keep[i], idx[i], fill)
        taken = taken | (~keep[i] & (cand == fill))
        slate.append(pick)
    keep_arr = jnp.stack(keep)
    return jnp.stack(slate).astype(jnp.int32), (~keep_arr).astype(jnp.int32)


def choice_scores(model: str) -> Callable[[jax.Array, SlateParams], tuple[jax.Array, jax.Array]]:
    """``scores(affinity [..., k], params) -> (scores, no_click)`` of a choice model named in ``choice.MODELS``."""
    table: dict[str, Callable[[jax.Array, SlateParams], tuple[jax.Array, jax.Array]]] = {
        "proportional": lambda a, p: ch.proportional(a, p.no_click_mass, p.min_normalizer),
        "logit": lambda a, p: ch.logit(a, p.no_click_mass),
        "exponential_cascade": lambda a, p: ch.exponential_cascade(a, p.attention_prob, p.score_scaling),
        "proportional_cascade": lambda a, p: ch.proportional_cascade(a, p.attention_prob, p.score_scaling,
                                                                     p.min_normalizer),
    }
    return table[model]


class SlateRec(Environment[SlateState, SlateParams]):
    description = "RecSim interest evolution: slates of k from C candidates, watch-time reward, time budget (JAX)"

    def __init__(self, num_candidates: int = 10, slate_size: int = 2, num_topics: int = ie.NUM_TOPICS,
                 choice: str = "proportional", max_steps: int | None = None, time_budget: float | None = None):
        """``num_candidates`` C in 1..1024 (fresh every step); ``slate_size`` k in 1..C; ``num_topics`` T in
        2..256; ``choice`` one of ``choice.MODELS``; ``max_steps`` None (1000) or 1..2**30; ``time_budget``
        None (RecSim's 200 minutes) or a positive number of minutes. Every other constant is a field of
        ``SlateParams``: build variants with ``make_params``."""
        self.num_candidates = check_int("num_candidates", num_candidates, 1, 1024, "SlateRec")
        self.slate_size = check_int("slate_size", slate_size, 1, self.num_candidates, "SlateRec")
        self.num_topics = check_int("num_topics", num_topics, 2, 256, "SlateRec")
        if choice not in ch.MODELS:
            raise RealaxError(f"SlateRec: choice must be one of {list(ch.MODELS)}, got {choice!r}")
        self.choice = choice
        self._scores = choice_scores(choice)
        steps = DEFAULT_MAX_STEPS if max_steps is None else check_int("max_steps", max_steps, 1, MAX_STEPS, "SlateRec")
        overrides: dict[str, Any] = {} if time_budget is None else {"time_budget": time_budget}
        self._params = self.make_params(max_steps=steps, **overrides)
        self.noop_action = np.arange(self.slate_size, dtype=np.int32)  # type: ignore[assignment]  # a slate

    # -- parameters -----------------------------------------------------------------------------------
    def make_params(self, **overrides: Any) -> SlateParams:
        """``SlateParams`` with RecSim's defaults and ``overrides`` (field names of ``SlateParams``), checked:
        a ``RealaxError`` names an unknown field or a value outside its range."""
        fields = set(DEFAULTS) | {"max_steps", "topic_quality_mean"}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise RealaxError(f"SlateRec: unknown parameter(s) {unknown}; known: {sorted(fields)}")
        values: dict[str, Any] = {**DEFAULTS, "max_steps": DEFAULT_MAX_STEPS,
                                  "topic_quality_mean": ie.topic_quality_means(self.num_topics), **overrides}
        out: dict[str, Any] = {"max_steps": check_int("max_steps", values.pop("max_steps"), 1, MAX_STEPS, "SlateRec")}
        means = np.asarray(values.pop("topic_quality_mean"), np.float64)
        if means.shape != (self.num_topics,) or not np.all(np.isfinite(means)):
            raise RealaxError(f"SlateRec: topic_quality_mean must be {self.num_topics} finite numbers (one per "
                              f"topic), got shape {means.shape}")
        out["topic_quality_mean"] = jnp.asarray(means, jnp.float32)
        for name, value in values.items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise RealaxError(f"SlateRec: {name} must be a number, got {value!r:.80}") from None
            if not np.isfinite(v):
                raise RealaxError(f"SlateRec: {name} must be finite, got {value!r}")
            out[name] = v
        ch.check_probability("attention_prob", out["attention_prob"], "SlateRec")
        rules = [("time_budget", out["time_budget"] > 0, "> 0 (minutes)"),
                 ("step_penalty", out["step_penalty"] >= 0, ">= 0 (minutes)"),
                 ("min_normalizer", out["min_normalizer"] <= 0, "<= 0"),
                 ("score_scaling", out["score_scaling"] >= 0, ">= 0"),
                 ("alpha_x_intercept", out["alpha_x_intercept"] > 0, "> 0"),
                 ("interest_low", -1 <= out["interest_low"] <= out["interest_high"] <= 1,
                  "in [-1, interest_high] with interest_high <= 1"),
                 ("quality_std", out["quality_std"] >= 0, ">= 0"),
                 ("video_length", 0 < out["video_length"] <= ie.MAX_VIDEO_LENGTH, f"in (0, {ie.MAX_VIDEO_LENGTH:g}]"),
                 ("video_length_std", out["video_length_std"] >= 0, ">= 0")]
        for name, ok, allowed in rules:
            if not ok:
                raise RealaxError(f"SlateRec: {name} must be {allowed}, got {out[name]!r}")
        if self.choice == "proportional" and out["no_click_mass"] < out["min_normalizer"]:
            raise RealaxError(f"SlateRec: no_click_mass must be >= min_normalizer ({out['min_normalizer']}) for the "
                              f"proportional choice model (a negative mass), got {out['no_click_mass']!r}")
        return SlateParams(**{n: (v if n == "max_steps" or n == "topic_quality_mean" else jnp.float32(v))
                              for n, v in out.items()})

    @property
    def default_params(self) -> SlateParams:
        return self._params

    # -- spaces ---------------------------------------------------------------------------------------
    @property
    def obs_size(self) -> int:
        C, k, T = self.num_candidates, self.slate_size, self.num_topics
        return C * T + k * (3 + T) + 2 * T

    def observation_space(self, params: SlateParams | None = None) -> Box:
        C, k, T = self.num_candidates, self.slate_size, self.num_topics
        slot = np.concatenate([[1.0, ie.MAX_VIDEO_LENGTH, QUALITY_BOUND], np.ones(T)])
        low_slot = np.concatenate([[0.0, 0.0, -QUALITY_BOUND], np.zeros(T)])
        history = float(k) * MAX_STEPS
        high = np.concatenate([np.ones(C * T), np.tile(slot, k), np.full(2 * T, history)])
        low = np.concatenate([np.zeros(C * T), np.tile(low_slot, k), np.zeros(2 * T)])
        return Box(low, high, (self.obs_size,), jnp.float32)

    def action_space(self, params: SlateParams | None = None) -> Slate:
        return Slate(self.num_candidates, self.slate_size)

    def items(self, params: SlateParams | None = None) -> tuple[int, int]:
        """The observation as candidate items and a context, for item-scoring policies
        (``realax.agents.networks.ItemActorCritic``): ``C`` candidates of ``T`` features each come first."""
        return self.num_candidates, self.num_topics

    def action_mask(self, state: SlateState, params: SlateParams, chosen: jax.Array | None = None) -> jax.Array:
        """``bool [k, C]``: which candidates may go at each slate position. Every candidate exists every step;
        with ``chosen int32 [k]`` (a partly built slate, -1 = not chosen yet), the candidates chosen at the
        other positions are masked out of each position (for policies that pick position by position)."""
        C, k = self.num_candidates, self.slate_size
        if chosen is None:
            return jnp.ones((k, C), bool)
        chosen = jnp.asarray(chosen, jnp.int32)
        held = chosen[:, None] == jnp.arange(C)[None, :]  # [k, C]
        others = held.any(0)[None, :] & ~held
        return ~others

    # -- observations ---------------------------------------------------------------------------------
    def get_obs(self, state: SlateState, params: SlateParams) -> jax.Array:
        T = self.num_topics
        topics = jnp.arange(T, dtype=jnp.int32)
        docs = (state.doc_topic[:, None] == topics).astype(jnp.float32).reshape(-1)
        slot = jnp.concatenate([state.last_click[:, None].astype(jnp.float32), state.last_watch[:, None],
                                jnp.clip(state.last_quality, -QUALITY_BOUND, QUALITY_BOUND)[:, None],
                                (state.last_topic[:, None] == topics).astype(jnp.float32)], axis=1).reshape(-1)
        return jnp.concatenate([docs, slot, state.impressions, state.clicks]).astype(jnp.float32)

    # -- dynamics -------------------------------------------------------------------------------------
    def _documents(self, u: jax.Array, params: SlateParams) -> tuple[jax.Array, jax.Array, jax.Array]:
        return ie.sample_documents(u, params.topic_quality_mean,
                                   params.quality_std, params.video_length, params.video_length_std)

    def reset_env(self, key: jax.Array, params: SlateParams) -> tuple[jax.Array, SlateState]:
        C, k, T = self.num_candidates, self.slate_size, self.num_topics
        u = uniforms(key, (T + ie.document_uniforms(C),))
        topic, quality, length = self._documents(u[T:], params)
        zeros_k = jnp.zeros(k, jnp.float32)
        state = SlateState(t=jnp.int32(0), interests=ie.sample_interests(u[:T], params.interest_low, params.interest_high),
                           time_budget=jnp.asarray(params.time_budget, jnp.float32), doc_topic=topic,
                           doc_quality=quality, doc_length=length, last_topic=jnp.full(k, -1, jnp.int32),
                           last_click=jnp.zeros(k, bool), last_watch=zeros_k, last_quality=zeros_k,
                           impressions=jnp.zeros(T, jnp.float32), clicks=jnp.zeros(T, jnp.float32))
        return self.get_obs(state, params), state

    def click_probs(self, interests: jax.Array, topics: jax.Array, params: SlateParams) -> jax.Array:
        """``[..., k + 1]``: the choice model's probabilities for slated ``topics [..., k]`` (last: no click)."""
        return ch.normalize(*self._scores(jnp.take(interests, topics), params))

    def step_env(self, key: jax.Array, state: SlateState, action: Any, params: SlateParams) -> StepResult[SlateState]:
        C, k, T = self.num_candidates, self.slate_size, self.num_topics
        slate, invalid = repair_slate(action, C, k)
        u = uniforms(key, (2 + ie.document_uniforms(C),))
        topic, quality, length = state.doc_topic[slate], state.doc_quality[slate], state.doc_length[slate]
        aff = jnp.take(state.interests, topic)  # interests . one-hot(topic)
        probs = ch.normalize(*self._scores(aff, params))
        pick = ch.sample_choice(u[0], probs)
        clicked = pick < k
        at = jnp.arange(k) == pick  # [k]: the clicked position (none without a click)
        topics = jnp.arange(T, dtype=jnp.int32)
        onehot = topic[:, None] == topics  # [k, T]
        features = so.any_axis(onehot & at[:, None], 0).astype(jnp.float32)  # [T]
        q = so.sum_axis(jnp.where(at, quality, 0.0))
        watched = jnp.where(clicked, ie.watch_time(state.time_budget, so.sum_axis(jnp.where(at, length, 0.0))), 0.0)
        alone, _ = self._scores(so.sum_axis(jnp.where(at, aff, 0.0))[None], params)  # the clicked one's score alone
        interests = jnp.where(clicked, ie.update_interests(state.interests, features, u[1], params.alpha_x_intercept,
                                                           params.alpha_y_intercept), state.interests)
        budget = ie.update_budget(state.time_budget, clicked, watched, q, alone[0], params.step_penalty,
                                  params.user_update_alpha, params.user_quality_factor, params.document_quality_factor)
        new_topic, new_quality, new_length = self._documents(u[2:], params)
        t = state.t + 1
        state = SlateState(t=t, interests=interests, time_budget=budget, doc_topic=new_topic, doc_quality=new_quality,
                           doc_length=new_length, last_topic=topic, last_click=at,
                           last_watch=jnp.where(at, watched, 0.0), last_quality=quality,
                           impressions=state.impressions + so.sum_axis(onehot.astype(jnp.float32), 0),
                           clicks=state.clicks + features)
        terminated = ie.session_over(budget)
        truncated = (t >= params.max_steps) & ~terminated
        info = {"invalid_action": invalid, "choice": pick, "clicked": clicked, "watch_time": watched,
                "quality": jnp.where(clicked, q, 0.0), "click_probs": probs, "interests": interests,
                "time_budget": budget}
        return self.get_obs(state, params), state, watched.astype(jnp.float32), terminated, truncated, info

    def render(self, state: SlateState, params: SlateParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the user's (latent) interest per topic, this step's candidates by topic and
        quality, the last slate and its click, and the budget (``realax.envs.recsys.render``)."""
        from realax.envs.recsys import render

        return render.draw(self, state, self._params if params is None else params, reward=reward,
                           episode_return=episode_return)


__all__ = ["SlateRec", "SlateParams", "SlateState", "DEFAULTS", "repair_slate", "choice_scores"]
