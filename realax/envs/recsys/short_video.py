"""``realax/ShortVideo-v0``: short-video recommendation as a constrained MDP (watch time under auxiliary-signal
constraints), the setting of two-stage constrained actor-critic (TSCAC).

Anchors (research notes ``amod-recsys.md`` §2b-§3 and ``papers-uav-agv-tscac.md``):

- Cai et al., "Two-Stage Constrained Actor-Critic for Short Video Recommendation", WWW 2023 (arXiv 2302.01680),
  official code ``AIDefender/TSCAC`` [tscac]: the CMDP maximises watch time subject to each auxiliary signal's
  expected cumulative value being at least a threshold, ``E[V_i] >= C_i`` (Follow, Like, Comment, Collect,
  Share); its offline simulator (KuaiRand logs) records ``[click, like, follow, comment, forward, hate,
  play_time_ms / 10000]``, i.e. watch time in units of 10 s; no numeric threshold is reported. KuaiRand's
  positive rates: like 1.61 %, comment 0.24 %, hate 0.048 %.
- KuaiSim (Zhao et al. 2023, github ``Applied-Machine-Learning-Lab/KuaiSim``) [kuaisim]: independent Bernoulli
  heads per feedback type; the retention model's return day is a geometric distribution truncated to 1..10
  days whose parameter is clamped to [0.001, 0.999] (bias 0.4, feedback weight 0.1 in its script).
- RecSim interest evolution (Ie et al. 2019) [recsim]: topic interests that drift towards consumed items.

KuaiRand cannot be downloaded here, so the user and item models are analytic and every constant is ours
(``[ours]``), chosen so that the constraints bind: long videos earn the most watch time, while the auxiliary
signals favour short, high-quality, well-matched videos watched to the end.

**Items** (``K`` topics; ``C`` candidates drawn afresh every step, the corpus is the item distribution): a topic
mixture ``v = (1 - topic_mix) onehot(k) + topic_mix w`` with ``k`` uniform and ``w ~ Dirichlet(1)``; quality
``q ~ U[quality_low, quality_high]``; duration ``d`` log-uniform on ``[duration_min_s, duration_max_s]``. All
three are observed.

**User** (latent, in ``info`` only): interests ``u in [-1, 1]^K`` (uniform times ``interest_scale`` at reset),
per-topic boredom ``b >= 0``, satisfaction ``s in [0, 1]``.

**One request** (the user in the app, the agent picks candidate ``a``), in order:

1. match ``e = u . v - boredom_weight * (b . v)``;
2. watch fraction ``f = clip(sigmoid(watch_bias + watch_match e + watch_quality (q - 0.5)
   - watch_duration log(d / duration_ref_s)) + watch_noise N(0, 1), 0, 1)``; watch time ``f d`` seconds;
   **reward** ``= f d / watch_time_unit_s`` (10 s, as TSCAC's code);
3. signals follow, like, comment, share, hate: independent Bernoullis [kuaisim] with
   ``p_i = sigmoid(signal_bias_i + signal_match_i e + signal_quality_i (q - 0.5) + signal_watch_i f)``;
4. drift [recsim-like]: ``u <- clip(u + drift_rate (f - drift_pivot) v, -1, 1)``; boredom
   ``b <- boredom_decay b + f v``; satisfaction ``s <- clip(satisfaction_memory s + (1 - satisfaction_memory)
   (f - satisfaction_hate hate), 0, 1)``; the observed profile ``h <- profile_memory h + (1 - profile_memory) f v``;
5. leave: with probability ``p_leave = clip(leave_base + leave_dissatisfaction (1 - s) + leave_hate hate, 0, 1)``,
   and always at the last slot of a day, the session ends;
6. return: the user comes back ``g`` days later, ``g`` on 1..``max_return_days`` with ``P(g = k)`` proportional to
   ``p (1 - p)^(k - 1)``, ``p = clip(return_bias + return_satisfaction (s - 0.5), 0.001, 0.999)`` [kuaisim's
   truncated geometric and clamp, with satisfaction as the feedback term]; boredom decays by
   ``boredom_day_decay ** g`` while away.

**Time and episodes** (our choice): a step is a time slot of the app, ``day_slots`` slots a day; the episode is a
window of ``max_steps`` slots (default 200 = 20 days of 10) ending by truncation only. While the user is away the
step's action is ignored, the reward and signals are 0 and ``present`` is 0 in the observation and ``info``.
Sessions and days are counters in the state, so leaving early and coming back late cost watch time inside the
window: retention is part of the objective, not a separate metric.

**Constraints** (the sign convention the constrained agents read): ``info["cost"]`` is the vector of this step's
signals ``[follow, like, comment, share, hate]`` in {0, 1} (0 while away). ``params.thresholds`` are per-request
rates and ``params.lower_bound`` says which way each constraint points: True (follow, like, comment, share,
TSCAC's ``E[V_i] >= C_i``) means the signal's rate over the episode's requests must be at least its threshold,
False (hate) at most. ``info["cost_margin"] = present * sense * (signal - threshold)`` with ``sense = +1`` for
lower bounds and ``-1`` for upper bounds: every constraint holds when the episode sum of its margin is >= 0.

**Calibration** (256 users, default params, per-request rates of follow / like / comment / share / hate, and the
episode's watch time in 10 s units, mean +- sd): random 0.024 / 0.051 / 0.011 / 0.014 / 0.018, 116 +- 89; ``myopic``
(observed profile) 0.034 / 0.074 / 0.013 / 0.020 / 0.008, 260 +- 180; ``oracle`` (true expected watch time)
0.039 / 0.078 / 0.015 / 0.021 / 0.004, 403 +- 225, the user present in 48 % of the slots; a latent policy
maximising the summed signal probabilities (hate counted negative) 0.072 / 0.148 / 0.023 / 0.041 / 0.001,
386 +- 129, present 68 %. The default thresholds lie between the last two: the watch-time oracle violates
follow, like, comment and share.

``info``: ``cost``, ``cost_margin`` (above); ``watch_time_s``, ``watch_fraction``, ``present``, ``left`` (the session
ended this step), ``return_days`` (the gap drawn when it did, else 0), ``leave_prob``, ``return_prob``,
``signal_probs [5]``, ``invalid_action``; and the latent user after the step (``interest``, ``boredom``,
``satisfaction``), for oracles and analysis only.

**Observation** ``float32 [C (K + 2) + K + 9]`` in [0, 1] (``split_obs`` names the parts): per candidate its
topic mixture, quality and duration / ``duration_max_s``; then the profile ``h`` (K), the last watch fraction,
the last signals (5), ``present``, the slot within the day / ``day_slots`` and ``t / max_steps``.
**Action** ``Discrete(C)``: the candidate to show; an invalid one becomes candidate 0 and is counted in
``info["invalid_action"]``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, Environment, EnvParams, StepResult, check_int, discrete_action
from realax.envs.sampling import uniforms
from realax.errors import RealaxError
from realax.spaces import Box, Discrete

SIGNALS = ("follow", "like", "comment", "share", "hate")
NUM_SIGNALS = len(SIGNALS)
#: which signals must stay at or above their threshold (TSCAC's interactions); hate must stay at or below
LOWER_BOUND = (True, True, True, True, False)
#: per-request rate thresholds [ours], set between the rates of the watch-time oracle and of a policy that
#: favours the signals (module docstring, "Calibration"): watch-time maximisation violates four, all can be met
DEFAULT_THRESHOLDS = (0.05, 0.10, 0.018, 0.03, 0.006)
#: the signal heads' defaults, in ``SIGNALS`` order [ours]: base rates near KuaiRand's at a poor match, a few
#: percent at a good one (raised from its 0.24 % comments / 0.048 % hates so that small runs see them)
SIGNAL_BIAS = (-5.5, -4.5, -5.5, -5.5, -4.5)
SIGNAL_MATCH = (2.0, 1.5, 1.0, 1.5, -2.5)
SIGNAL_QUALITY = (1.5, 2.0, 1.0, 2.0, -2.0)
SIGNAL_WATCH = (1.5, 1.5, 1.0, 1.0, -1.0)
#: fields that are probabilities (or rates, or memory factors) and must lie in [0, 1]
UNIT_FIELDS = ("topic_mix", "quality_low", "quality_high", "initial_satisfaction", "drift_pivot", "boredom_decay",
               "boredom_day_decay", "satisfaction_memory", "profile_memory", "leave_base", "leave_dissatisfaction",
               "leave_hate", "return_bias")
#: fields that must be finite and >= 0
NONNEGATIVE_FIELDS = ("interest_scale", "watch_noise", "watch_duration", "drift_rate", "boredom_weight",
                      "satisfaction_hate", "return_satisfaction")
POSITIVE_FIELDS = ("duration_min_s", "duration_max_s", "duration_ref_s", "watch_time_unit_s")
FINITE_FIELDS = ("watch_bias", "watch_match", "watch_quality")
VECTOR_FIELDS = ("signal_bias", "signal_match", "signal_quality", "signal_watch", "thresholds")


def _vec(values: tuple[float, ...]) -> Any:
    return struct.field(default_factory=lambda: jnp.asarray(values, jnp.float32))


@struct.dataclass(kw_only=True)
class ShortVideoParams(EnvParams):
    """Every behavioural constant (module docstring: what each does); vectors are ``[5]`` in ``SIGNALS`` order."""

    max_steps: int = 200
    day_slots: int = 10
    """Time slots in a day; a session ends at the last slot of its day at the latest."""
    topic_mix: float = 0.3
    quality_low: float = 0.0
    quality_high: float = 1.0
    duration_min_s: float = 5.0
    duration_max_s: float = 120.0
    interest_scale: float = 1.0
    initial_satisfaction: float = 0.5
    watch_bias: float = 0.0
    watch_match: float = 3.0
    watch_quality: float = 2.0
    watch_duration: float = 0.7
    duration_ref_s: float = 20.0
    watch_noise: float = 0.1
    watch_time_unit_s: float = 10.0
    signal_bias: jax.Array = _vec(SIGNAL_BIAS)
    signal_match: jax.Array = _vec(SIGNAL_MATCH)
    signal_quality: jax.Array = _vec(SIGNAL_QUALITY)
    signal_watch: jax.Array = _vec(SIGNAL_WATCH)
    thresholds: jax.Array = _vec(DEFAULT_THRESHOLDS)
    lower_bound: jax.Array = struct.field(default_factory=lambda: jnp.asarray(LOWER_BOUND))
    drift_rate: float = 0.1
    drift_pivot: float = 0.5
    boredom_decay: float = 0.8
    boredom_weight: float = 0.2
    boredom_day_decay: float = 0.2
    satisfaction_memory: float = 0.8
    satisfaction_hate: float = 1.0
    profile_memory: float = 0.9
    leave_base: float = 0.02
    leave_dissatisfaction: float = 0.15
    leave_hate: float = 0.3
    return_bias: float = 0.6
    return_satisfaction: float = 0.8
    max_return_days: int = 10


@struct.dataclass
class ShortVideoState:
    t: jax.Array  # int32 []: the slot
    present: jax.Array  # bool []: the user is in the app at slot t
    return_slot: jax.Array  # int32 []: the slot the user is (or was) back at
    session: jax.Array  # int32 []: sessions started before the current one
    session_step: jax.Array  # int32 []: requests served in the current session
    last_gap: jax.Array  # int32 []: days away after the last session (0 before any)
    interest: jax.Array  # float32 [K] (latent)
    boredom: jax.Array  # float32 [K] (latent)
    satisfaction: jax.Array  # float32 [] (latent)
    cand_topics: jax.Array  # float32 [C, K]
    cand_quality: jax.Array  # float32 [C]
    cand_length: jax.Array  # float32 [C]: duration / duration_max_s (observed as it is, so jit and eager agree)
    profile: jax.Array  # float32 [K]: observed consumption profile
    last_watch: jax.Array  # float32 []
    last_signals: jax.Array  # float32 [5]
    requests: jax.Array  # int32 []: requests served this episode
    signal_counts: jax.Array  # float32 [5]: signals this episode
    watch_total_s: jax.Array  # float32 []: watch time this episode


def check_params(params: ShortVideoParams, owner: str = "ShortVideo") -> ShortVideoParams:
    """``params`` if every field has its shape and range, else a ``RealaxError`` naming the field."""
    for name in VECTOR_FIELDS + ("lower_bound",):
        v = np.asarray(getattr(params, name))
        if v.shape != (NUM_SIGNALS,):
            raise RealaxError(f"{owner}: {name} must have {NUM_SIGNALS} entries, one per signal {list(SIGNALS)}, "
                              f"got shape {v.shape}")
        if name != "lower_bound" and not np.all(np.isfinite(v.astype(np.float64))):
            raise RealaxError(f"{owner}: {name} must be finite, got {v.tolist()}")
    th = np.asarray(params.thresholds, np.float64)
    if np.any((th < 0) | (th > 1)):
        raise RealaxError(f"{owner}: thresholds are per-request rates and must be in [0, 1], got {th.tolist()}")

    def scalar(name: str) -> float:
        v = np.asarray(getattr(params, name), np.float64)
        if v.shape != () or not np.isfinite(v):
            raise RealaxError(f"{owner}: {name} must be a finite number, got {getattr(params, name)!r}")
        return float(v)

    for name in UNIT_FIELDS:
        if not 0.0 <= scalar(name) <= 1.0:
            raise RealaxError(f"{owner}: {name} is a probability and must be in [0, 1], got {scalar(name)!r}")
    for name in NONNEGATIVE_FIELDS:
        if scalar(name) < 0:
            raise RealaxError(f"{owner}: {name} must be >= 0, got {scalar(name)!r}")
    for name in POSITIVE_FIELDS:
        if scalar(name) <= 0:
            raise RealaxError(f"{owner}: {name} must be > 0, got {scalar(name)!r}")
    for name in FINITE_FIELDS:
        scalar(name)
    if params.quality_low > params.quality_high:
        raise RealaxError(f"{owner}: quality_low ({params.quality_low}) must be <= quality_high ({params.quality_high})")
    if params.duration_min_s > params.duration_max_s:
        raise RealaxError(f"{owner}: duration_min_s ({params.duration_min_s}) must be <= duration_max_s "
                          f"({params.duration_max_s})")
    check_int("max_steps", params.max_steps, 1, MAX_STEPS, owner)
    check_int("day_slots", params.day_slots, 1, MAX_STEPS, owner)
    check_int("max_return_days", params.max_return_days, 1, 3650, owner)
    return params


def _thresholds(value: Any) -> tuple[float, ...]:
    """``thresholds`` given as numbers or comma-separated text, as a tuple of floats (shape checked later)."""
    if isinstance(value, str):
        try:
            return tuple(float(x) for x in value.replace(";", ",").split(",") if x.strip())
        except ValueError:
            raise RealaxError(f"ShortVideo: thresholds must be {NUM_SIGNALS} numbers in [0, 1] "
                              f"({', '.join(SIGNALS)}), got {value!r}") from None
    try:
        arr = np.asarray(value, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise RealaxError(f"ShortVideo: thresholds must be {NUM_SIGNALS} numbers in [0, 1], got {value!r}") from None
    return tuple(float(x) for x in arr)


# -- the model's pieces, pure functions (tests compute them by hand) --------------------------------------------
def match(interest: jax.Array, boredom: jax.Array, topics: jax.Array, params: ShortVideoParams) -> jax.Array:
    """``e = u . v - boredom_weight (b . v)`` for topic mixtures ``topics [..., K]``."""
    return topics @ interest - params.boredom_weight * (topics @ boredom)


def watch_fraction(e: jax.Array, quality: jax.Array, duration_s: jax.Array, params: ShortVideoParams) -> jax.Array:
    """The mean watch fraction (before noise) of items of match ``e``, quality and duration."""
    z = (params.watch_bias + params.watch_match * e + params.watch_quality * (quality - 0.5)
         - params.watch_duration * jnp.log(duration_s / params.duration_ref_s))
    return jax.nn.sigmoid(z)


def signal_probs(e: jax.Array, quality: jax.Array, fraction: jax.Array, params: ShortVideoParams) -> jax.Array:
    """``[..., 5]`` probabilities of follow, like, comment, share and hate (independent Bernoulli heads)."""
    e, quality, fraction = (jnp.asarray(x)[..., None] for x in (e, quality, fraction))
    return jax.nn.sigmoid(params.signal_bias + params.signal_match * e + params.signal_quality * (quality - 0.5)
                          + params.signal_watch * fraction)


def leave_prob(satisfaction: jax.Array, hate: jax.Array, params: ShortVideoParams) -> jax.Array:
    return jnp.clip(params.leave_base + params.leave_dissatisfaction * (1.0 - satisfaction) + params.leave_hate * hate,
                    0.0, 1.0)


def return_prob(satisfaction: jax.Array, params: ShortVideoParams) -> jax.Array:
    """The geometric parameter of the return gap, clamped to [0.001, 0.999] as KuaiSim's."""
    return jnp.clip(params.return_bias + params.return_satisfaction * (satisfaction - 0.5), 0.001, 0.999)


def return_days(u: jax.Array, p: jax.Array, max_days: Any) -> jax.Array:
    """``int32`` gap in days from a uniform ``u in [0, 1)``: the inverse CDF of the geometric distribution on
    ``1..max_days`` with ``P(k)`` proportional to ``p (1 - p)^(k - 1)``."""
    q = 1.0 - p
    mass = 1.0 - q ** jnp.asarray(max_days, jnp.float32)
    k = jnp.ceil(jnp.log1p(-u * mass) / jnp.log(q) - 1e-6)
    return jnp.clip(k, 1, max_days).astype(jnp.int32)


def normal(u1: jax.Array, u2: jax.Array) -> jax.Array:
    """A standard normal from two uniforms in [0, 1) (Box and Muller, 1958)."""
    return jnp.sqrt(-2.0 * jnp.log1p(-u1)) * jnp.cos(2.0 * jnp.pi * u2)


class ShortVideo(Environment[ShortVideoState, ShortVideoParams]):
    description = ("Short-video recommendation CMDP (TSCAC): watch-time reward, follow/like/comment/share/hate "
                   "constraint signals, drifting interests, boredom, session leave and multi-day return")
    noop_action = 0
    #: the names of ``info["cost"]``'s entries, in order
    signals = SIGNALS

    def __init__(self, num_candidates: int = 8, num_topics: int = 6, max_steps: int = 200,
                 thresholds: tuple[float, ...] | str | None = None):
        """``num_candidates`` 2..256 videos per request; ``num_topics`` 1..64; ``max_steps`` 1..2**30 slots
        (default 20 days of 10); ``thresholds``: five per-request rates in [0, 1] for follow, like, comment,
        share, hate (numbers or comma-separated text; default ``DEFAULT_THRESHOLDS``)."""
        self.num_candidates = check_int("num_candidates", num_candidates, 2, 256, "ShortVideo")
        self.num_topics = check_int("num_topics", num_topics, 1, 64, "ShortVideo")
        max_steps = check_int("max_steps", max_steps, 1, MAX_STEPS, "ShortVideo")
        params = ShortVideoParams(max_steps=max_steps)
        if thresholds is not None:
            params = params.replace(thresholds=jnp.asarray(_thresholds(thresholds), jnp.float32))
        self._params = check_params(params)

    def make_params(self, **fields: Any) -> ShortVideoParams:
        """This env's params with ``fields`` replaced, checked (``check_params``); an unknown field is refused."""
        known = set(ShortVideoParams.__dataclass_fields__)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise RealaxError(f"ShortVideo: params have no field {unknown[0]!r}; known: {', '.join(sorted(known))}")
        fields = {k: (jnp.asarray(v, jnp.float32) if k in VECTOR_FIELDS else jnp.asarray(v, bool) if k == "lower_bound"
                      else v) for k, v in fields.items()}
        return check_params(self._params.replace(**fields))

    @property
    def default_params(self) -> ShortVideoParams:
        return self._params

    @property
    def obs_size(self) -> int:
        C, K = self.num_candidates, self.num_topics
        return C * (K + 2) + K + 1 + NUM_SIGNALS + 3

    def observation_space(self, params: ShortVideoParams | None = None) -> Box:
        return Box(0.0, 1.0, (self.obs_size,), jnp.float32)

    def action_space(self, params: ShortVideoParams | None = None) -> Discrete:
        return Discrete(self.num_candidates)

    def items(self, params: ShortVideoParams | None = None) -> tuple[int, int]:
        """The observation as candidate items and a context, for item-scoring policies
        (``realax.agents.networks.ItemActorCritic``): ``C`` candidates of ``K + 2`` features each come first."""
        return self.num_candidates, self.num_topics + 2

    def split_obs(self, obs: jax.Array) -> dict[str, jax.Array]:
        """The named parts of observations ``[..., obs_size]``: ``candidates [..., C, K + 2]`` (topic mixture,
        quality, duration / duration_max_s), ``profile [..., K]``, ``last_watch``, ``last_signals [..., 5]``,
        ``present``, ``day_phase``, ``progress``."""
        C, K = self.num_candidates, self.num_topics
        n = C * (K + 2)
        lead = obs.shape[:-1]
        rest = obs[..., n:]
        return {"candidates": obs[..., :n].reshape(*lead, C, K + 2), "profile": rest[..., :K],
                "last_watch": rest[..., K], "last_signals": rest[..., K + 1:K + 1 + NUM_SIGNALS],
                "present": rest[..., K + 1 + NUM_SIGNALS], "day_phase": rest[..., K + 2 + NUM_SIGNALS],
                "progress": rest[..., K + 3 + NUM_SIGNALS]}

    def get_obs(self, state: ShortVideoState, params: ShortVideoParams) -> jax.Array:
        cands = jnp.concatenate([state.cand_topics, state.cand_quality[:, None],
                                 state.cand_length[:, None]], axis=1)
        user = jnp.concatenate([state.profile, state.last_watch[None], state.last_signals,
                                jnp.stack([state.present.astype(jnp.float32),
                                           (state.t % params.day_slots) / params.day_slots,
                                           jnp.minimum(state.t / params.max_steps, 1.0)])])
        return jnp.clip(jnp.concatenate([cands.reshape(-1), user]), 0.0, 1.0).astype(jnp.float32)

    def candidates(self, key: jax.Array, params: ShortVideoParams) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(topics [C, K], quality [C], length [C])`` of a fresh candidate set (length: duration / duration_max_s)."""
        C, K = self.num_candidates, self.num_topics
        u = uniforms(key, (C, K + 3), salt=0x2F6B41)
        primary = jax.nn.one_hot(jnp.minimum(jnp.floor(u[:, 0] * K), K - 1).astype(jnp.int32), K)
        expo = -jnp.log1p(-u[:, 1:K + 1])
        mixture = expo / jnp.maximum(expo.sum(axis=1, keepdims=True), 1e-12)  # Dirichlet(1)
        topics = (1.0 - params.topic_mix) * primary + params.topic_mix * mixture
        quality = params.quality_low + u[:, K + 1] * (params.quality_high - params.quality_low)
        lo, hi = jnp.log(params.duration_min_s), jnp.log(params.duration_max_s)
        duration = jnp.exp(lo + u[:, K + 2] * (hi - lo))
        return topics.astype(jnp.float32), quality.astype(jnp.float32), jnp.minimum(duration / params.duration_max_s, 1.0)

    def reset_env(self, key: jax.Array, params: ShortVideoParams) -> tuple[jax.Array, ShortVideoState]:
        K = self.num_topics
        interest = params.interest_scale * (2.0 * uniforms(key, (K,), salt=0x1B873593) - 1.0)
        topics, quality, length = self.candidates(key, params)
        i0, f0 = jnp.int32(0), jnp.float32(0.0)
        state = ShortVideoState(
            t=i0, present=jnp.bool_(True), return_slot=i0, session=i0, session_step=i0, last_gap=i0,
            interest=jnp.clip(interest, -1.0, 1.0).astype(jnp.float32), boredom=jnp.zeros(K, jnp.float32),
            satisfaction=jnp.asarray(params.initial_satisfaction, jnp.float32), cand_topics=topics,
            cand_quality=quality, cand_length=length, profile=jnp.zeros(K, jnp.float32), last_watch=f0,
            last_signals=jnp.zeros(NUM_SIGNALS, jnp.float32), requests=i0,
            signal_counts=jnp.zeros(NUM_SIGNALS, jnp.float32), watch_total_s=f0)
        return self.get_obs(state, params), state

    def expected_watch_s(self, state: ShortVideoState, params: ShortVideoParams) -> jax.Array:
        """``[C]`` mean watch seconds of each candidate under the true (latent) user: what the oracle reads."""
        e = match(state.interest, state.boredom, state.cand_topics, params)
        seconds = state.cand_length * params.duration_max_s
        return watch_fraction(e, state.cand_quality, seconds, params) * seconds

    def step_env(self, key: jax.Array, state: ShortVideoState, action: Any, params: ShortVideoParams
                 ) -> StepResult[ShortVideoState]:
        a, invalid = discrete_action(action, self.num_candidates, self.noop_action)
        u = uniforms(key, (4 + NUM_SIGNALS,), salt=0x5BD1E995)  # an independent stream of the key (salt)
        here = state.present
        v, q, d = state.cand_topics[a], state.cand_quality[a], state.cand_length[a] * params.duration_max_s
        e = match(state.interest, state.boredom, v, params)
        mean_f = watch_fraction(e, q, d, params)
        f = jnp.clip(mean_f + params.watch_noise * normal(u[0], u[1]), 0.0, 1.0)
        probs = signal_probs(e, q, f, params)
        signals = (u[4:] < probs).astype(jnp.float32) * here
        hate = signals[SIGNALS.index("hate")]

        interest = jnp.clip(state.interest + params.drift_rate * (f - params.drift_pivot) * v, -1.0, 1.0)
        boredom = params.boredom_decay * state.boredom + f * v
        sat = jnp.clip(params.satisfaction_memory * state.satisfaction
                       + (1.0 - params.satisfaction_memory) * (f - params.satisfaction_hate * hate), 0.0, 1.0)
        profile = params.profile_memory * state.profile + (1.0 - params.profile_memory) * f * v
        p_leave = leave_prob(sat, hate, params)
        day_end = (state.t + 1) % params.day_slots == 0
        leave = here & ((u[2] < p_leave) | day_end)
        p_return = return_prob(sat, params)
        gap = return_days(u[3], p_return, params.max_return_days)
        boredom = jnp.where(leave, boredom * params.boredom_day_decay ** gap.astype(jnp.float32), boredom)

        t = state.t + 1
        return_slot = jnp.where(leave, (state.t // params.day_slots + gap) * params.day_slots, state.return_slot)
        present = t >= return_slot
        new_session = present & (leave | ~here)
        keep = lambda new, old: jnp.where(here, new, old)  # noqa: E731  (nothing happens to an absent user)
        watch_s = f * d * here
        topics, quality, length = self.candidates(key, params)
        state = ShortVideoState(
            t=t, present=present, return_slot=return_slot.astype(jnp.int32),
            session=state.session + new_session, session_step=jnp.where(new_session, 0, state.session_step + here),
            last_gap=jnp.where(leave, gap, state.last_gap), interest=keep(interest, state.interest),
            boredom=keep(boredom, state.boredom), satisfaction=keep(sat, state.satisfaction),
            cand_topics=topics, cand_quality=quality, cand_length=length, profile=keep(profile, state.profile),
            last_watch=keep(f, state.last_watch), last_signals=keep(signals, state.last_signals),
            requests=state.requests + here, signal_counts=state.signal_counts + signals,
            watch_total_s=state.watch_total_s + watch_s)
        sense = jnp.where(params.lower_bound, 1.0, -1.0)
        info = {"cost": signals, "cost_margin": (here * sense * (signals - params.thresholds)).astype(jnp.float32),
                "watch_time_s": watch_s.astype(jnp.float32), "watch_fraction": f * here,
                "present": here, "left": leave, "return_days": jnp.where(leave, gap, 0),
                "leave_prob": p_leave * here, "return_prob": p_return * here, "signal_probs": probs * here,
                "interest": state.interest, "boredom": state.boredom, "satisfaction": state.satisfaction,
                "invalid_action": invalid}
        reward = (watch_s / params.watch_time_unit_s).astype(jnp.float32)
        return self.get_obs(state, params), state, reward, jnp.bool_(False), t >= params.max_steps, info

    def render(self, state: ShortVideoState, params: ShortVideoParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the user's interests and profile by topic, the candidates, and the signal
        rates so far against the thresholds (``realax.envs.recsys.render_short_video``)."""
        from realax.envs.recsys import render_short_video

        return render_short_video.draw(self, state, self._params if params is None else params, reward=reward,
                                       episode_return=episode_return)


__all__ = ["ShortVideo", "ShortVideoParams", "ShortVideoState", "SIGNALS", "LOWER_BOUND", "DEFAULT_THRESHOLDS",
           "check_params", "match", "watch_fraction", "signal_probs", "leave_prob", "return_prob", "return_days"]
