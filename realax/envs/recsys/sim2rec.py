"""``realax/Sim2Rec-v0``: the long-term-satisfaction (choc/kale) user family of Sim2Rec, with held-out domains.

Anchor: Chen, He, Yu, Li, Qin, Shang, Ye, Ma, "Sim2Rec: A Simulator-based Decision-making Approach to Optimize
Real-World Long-term User Engagement in Sequential Recommender Systems", ICDE 2023 (arXiv 2305.04832); code
github ``xionghuichen/Sim2Rec``, folder ``lts/`` (research note ``amod-recsys.md`` §2a, read from
``lts/src/long_term_satisfaction.py``, ``lts/src/multi_user_env.py``, ``lts/src/config.py`` and
``lts/src/run_lts.py``). Sim2Rec's env is Google RecSim's choc/kale "long-term satisfaction" (LTS) model
(``recsim/environments/long_term_satisfaction.py``) with per-user hidden parameters and a domain parameter.

The model, each fact with its source (``[code]`` = Sim2Rec's ``lts/src`` files above, ``[recsim]`` = RecSim's
LTS module, ``[ours]`` = chosen here where the note is silent):

- Documents: ``num_docs`` = 30, clickbait score ``c = i / 30`` for ``i = 0..29`` (1 = pure "chocolate",
  0 = pure "kale") [code]. Slate of one; the user always clicks [code].
- Action: one number in [-1, 1] mapped to a document [code]; the map ``i = clip(floor((a + 1) / 2 * 30), 0, 29)``
  is [ours]. Out-of-range values are clipped, NaN/inf replaced by the no-op 0.0 (``i = 15``); both are
  counted in ``info["invalid_action"]``.
- Hidden user state: net positive exposure ``NPE``, starting at ``NPE0 = 0.5 / (1 - md)`` [code]; satisfaction
  ``SAT = sigmoid(sens * NPE)`` [code, recsim].
- Per-user hidden parameters, drawn at reset: memory discount ``md ~ U[0.7, 0.9]``, sensitivity
  ``sens ~ U[0.4, 0.6]`` [code].
- Response (reward): engagement ``~ N((c * choc_mean + (1 - c) * kale_mean) * SAT, c * 0.01 + (1 - c) * 0.01)``,
  clipped to [0, 100] [code]; ``kale_mean = 4`` [code]. The satisfaction used is the one *before* this
  step's update: RecSim simulates the response, then updates the state [recsim].
- State update after the click: ``NPE <- md * NPE - 2 (c - 0.5) + N(0, innovation_std)``, ``innovation_std = 0``
  [code]; then ``SAT = sigmoid(sens * NPE)``.
- Domain parameter ``choc_mean`` [code]: domains are the integers in ``[14 - 8, 14 + 8)`` = 6..21; training
  domains exclude ``|choc_mean - 14| <= 4`` (``trans_level`` = 4), i.e. {6, 7, 8, 9, 19, 20, 21}; the held-out
  test domain is 14 [code].
- Observation per user: a noisy domain proxy ``gp ~ N(choc_mean, 3)`` (``std_level`` = 3) [code] and the last
  response ``[click, engagement]`` [code] -> ``float32 [3]`` (the proxy's space is the domain grid widened by
  6 standard deviations, which a draw never leaves). The proxy is drawn once per user at reset and
  held for the episode [ours: the note does not say whether it is redrawn; held, it identifies the domain
  only through the responses, which is what a context-aware policy must learn]. At reset the last response is
  ``[0, 0]`` [ours].
- Horizon: ``time_budget`` = 140 steps (the runner's default) [code]; here the time limit is truncation
  (DESIGN §2), whereas RecSim ends the episode when the budget runs out.
- Users: Sim2Rec steps ~62 users per domain per training batch (30,000 timesteps / 60 samples per user /
  8 domains) and evaluates on 750 users [code]. Here one env is one user (DESIGN: users are the batch
  axis), so a domain's users are a ``vmap`` with shared params: ``TRAIN_USERS_PER_DOMAIN`` and ``EVAL_USERS``
  record the code's counts for runners that reproduce its batches.

Options: ``domain="train"`` draws each episode's ``choc_mean`` uniformly from the training domains,
``"test"`` uses the held-out 14, ``"all"`` all sixteen; ``params.domain_probs`` over ``params.choc_means``
is the distribution, so ``for_domain(choc)`` (or a ``vmap`` of it) gives a family of single-domain params.

``info`` carries the latent state (never in the observation): ``npe``, ``satisfaction`` (after the step),
``memory_discount``, ``sensitivity``, ``choc_mean``, the chosen ``clickbait`` and ``invalid_action``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, Environment, EnvParams, StepResult, check_int
from realax.envs.sampling import uniforms
from realax.errors import RealaxError
from realax.spaces import Box

#: Sim2Rec's document count (clickbait scores 0, 1/30, ..., 29/30) [code]
NUM_DOCS = 30
#: the domain grid ``[14 - 8, 14 + 8)`` and the held-out domain with its exclusion radius ``trans_level`` [code]
DOMAIN_CENTRE, DOMAIN_RANGE, TRANS_LEVEL = 14, 8, 4
CHOC_MEANS = np.arange(DOMAIN_CENTRE - DOMAIN_RANGE, DOMAIN_CENTRE + DOMAIN_RANGE, dtype=np.float32)
TRAIN_DOMAINS = tuple(int(c) for c in CHOC_MEANS if abs(c - DOMAIN_CENTRE) > TRANS_LEVEL)
TEST_DOMAINS = (DOMAIN_CENTRE,)
DOMAINS = ("train", "test", "all")
#: users per domain in one training batch, and users of the evaluation env, in Sim2Rec's runner [code]
TRAIN_USERS_PER_DOMAIN, EVAL_USERS = 62, 750
#: the observed proxy's range around the domain grid, in standard deviations
PROXY_SIGMAS = 6.0
#: steps of the chosen clickbait / engagement / satisfaction kept for the picture
HISTORY = 40


@struct.dataclass(kw_only=True)
class Sim2RecParams(EnvParams):
    """Every behavioural constant of the LTS user (defaults: Sim2Rec's code, see the module docstring)."""

    max_steps: int = 140
    choc_means: jax.Array = struct.field(default_factory=lambda: jnp.asarray(CHOC_MEANS))
    """float32 [D]: the domain grid (``choc_mean`` values)."""
    domain_probs: jax.Array = struct.field(default_factory=lambda: _probs(TRAIN_DOMAINS))
    """float32 [D]: probability of each domain at reset (need not be normalised; sum > 0)."""
    kale_mean: float = 4.0
    choc_std: float = 0.01
    kale_std: float = 0.01
    engagement_low: float = 0.0
    engagement_high: float = 100.0
    memory_discount_low: float = 0.7
    memory_discount_high: float = 0.9
    sensitivity_low: float = 0.4
    sensitivity_high: float = 0.6
    npe_init: float = 0.5
    """``NPE0 = npe_init / (1 - md)``."""
    innovation_std: float = 0.0
    proxy_std: float = 3.0
    """Standard deviation of the observed domain proxy around ``choc_mean`` (``std_level``)."""
    num_docs: int = NUM_DOCS


def _probs(domains: tuple[int, ...]) -> jax.Array:
    return jnp.asarray(np.isin(CHOC_MEANS, np.asarray(domains, np.float32)).astype(np.float32))


@struct.dataclass
class Sim2RecState:
    t: jax.Array  # int32 []
    choc_mean: jax.Array  # float32 []: this episode's domain
    memory_discount: jax.Array  # float32 [] (hidden)
    sensitivity: jax.Array  # float32 [] (hidden)
    npe: jax.Array  # float32 [] (hidden)
    satisfaction: jax.Array  # float32 [] (hidden)
    proxy: jax.Array  # float32 []: the noisy domain proxy in the observation
    last_click: jax.Array  # float32 []
    last_engagement: jax.Array  # float32 []
    history: jax.Array  # float32 [HISTORY, 3]: clickbait, engagement, satisfaction, oldest first (last min(t, HISTORY) rows)


def normal(u1: jax.Array, u2: jax.Array) -> jax.Array:
    """A standard normal from two uniforms in [0, 1) (Box and Muller, 1958)."""
    return jnp.sqrt(-2.0 * jnp.log1p(-u1)) * jnp.cos(2.0 * jnp.pi * u2)


def clickbait_of(action: jax.Array, num_docs: Any) -> jax.Array:
    """``c = i / num_docs`` of the document ``i = clip(floor((a + 1) / 2 * num_docs), 0, num_docs - 1)``."""
    i = jnp.clip(jnp.floor((action + 1.0) * 0.5 * num_docs), 0, num_docs - 1)
    return i / num_docs


def expected_engagement(c: jax.Array, choc_mean: jax.Array, satisfaction: jax.Array, params: Sim2RecParams) -> jax.Array:
    """Mean engagement of clickbait ``c`` for a user of satisfaction ``satisfaction`` (before clipping)."""
    return (c * choc_mean + (1.0 - c) * params.kale_mean) * satisfaction


def next_npe(npe: jax.Array, c: jax.Array, md: jax.Array, innovation: jax.Array | float = 0.0) -> jax.Array:
    """``md * NPE - 2 (c - 0.5) + innovation``: more clickbait, lower NPE."""
    return md * npe - 2.0 * (c - 0.5) + innovation


def satisfaction_of(npe: jax.Array, sensitivity: jax.Array) -> jax.Array:
    return jax.nn.sigmoid(sensitivity * npe)


def check_params(params: Sim2RecParams, owner: str = "Sim2Rec") -> Sim2RecParams:
    """``params`` if every field is in range, else a ``RealaxError`` naming the field and the allowed range."""

    def scalar(name: str, low: float, high: float, open_high: bool = False) -> float:
        v = np.asarray(getattr(params, name), np.float64)
        if v.shape != () or not np.isfinite(v) or v < low or (v >= high if open_high else v > high):
            raise RealaxError(f"{owner}: {name} must be a number in [{low}, {high}{')' if open_high else ']'}, "
                              f"got {getattr(params, name)!r}")
        return float(v)

    check_int("max_steps", params.max_steps, 1, MAX_STEPS, owner)
    check_int("num_docs", params.num_docs, 1, 10**6, owner)
    means, probs = np.asarray(params.choc_means, np.float64), np.asarray(params.domain_probs, np.float64)
    if means.ndim != 1 or means.size == 0 or not np.all(np.isfinite(means)):
        raise RealaxError(f"{owner}: choc_means must be a non-empty 1-d array of finite numbers, got shape {means.shape}")
    if probs.shape != means.shape:
        raise RealaxError(f"{owner}: domain_probs must have the shape of choc_means {means.shape}, got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or probs.sum() <= 0:
        raise RealaxError(f"{owner}: domain_probs must be >= 0 with a positive sum, got {probs.tolist()}")
    for name in ("kale_mean", "choc_std", "kale_std", "proxy_std", "innovation_std"):
        scalar(name, 0.0, np.inf)
    scalar("npe_init", -1e6, 1e6)
    lo, hi = scalar("engagement_low", -1e9, 1e9), scalar("engagement_high", -1e9, 1e9)
    if lo > hi:
        raise RealaxError(f"{owner}: engagement_low ({lo}) must be <= engagement_high ({hi})")
    for pair in (("memory_discount_low", "memory_discount_high"), ("sensitivity_low", "sensitivity_high")):
        top = 1.0 if pair[0].startswith("memory") else np.inf
        a, b = (scalar(p, 0.0, top, open_high=top == 1.0) for p in pair)
        if a > b:
            raise RealaxError(f"{owner}: {pair[0]} ({a}) must be <= {pair[1]} ({b})")
    return params


class Sim2Rec(Environment[Sim2RecState, Sim2RecParams]):
    description = ("Sim2Rec's LTS recommender family (choc/kale clickbait, NPE, hidden user memory/sensitivity, "
                   "domain choc_mean with held-out 14)")
    noop_action = 0.0
    #: a saved agent trained on ``domain="train"`` may be evaluated on ``"test"`` (held-out) or ``"all"``
    transfer_options = ("domain",)

    def __init__(self, domain: str = "train", max_steps: int = 140):
        """``domain``: ``train`` (choc_mean drawn per episode from {6, 7, 8, 9, 19, 20, 21}), ``test`` (the
        held-out 14) or ``all`` (6..21); ``max_steps`` 1..2**30 (Sim2Rec's ``time_budget`` 140)."""
        if domain not in DOMAINS:
            raise RealaxError(f"Sim2Rec: domain must be one of {list(DOMAINS)}, got {domain!r}")
        self.domain = domain
        max_steps = check_int("max_steps", max_steps, 1, MAX_STEPS, "Sim2Rec")
        chosen = {"train": TRAIN_DOMAINS, "test": TEST_DOMAINS, "all": tuple(int(c) for c in CHOC_MEANS)}[domain]
        self._params = check_params(Sim2RecParams(max_steps=max_steps, domain_probs=_probs(chosen)))

    @property
    def default_params(self) -> Sim2RecParams:
        return self._params

    def for_domain(self, choc_mean: Any, params: Sim2RecParams | None = None) -> Sim2RecParams:
        """``params`` (default: this env's) with every episode in the one domain ``choc_mean`` (traceable:
        ``jax.vmap(env.for_domain)(values)`` is a family of domains)."""
        params = self._params if params is None else params
        return params.replace(choc_means=jnp.full_like(params.choc_means, choc_mean),
                              domain_probs=jnp.ones_like(params.domain_probs))

    @staticmethod
    def proxy_bounds(params: Sim2RecParams) -> tuple[Any, Any]:
        """The proxy's range: the domain grid widened by ``PROXY_SIGMAS`` standard deviations (a normal drawn
        from 24-bit uniforms by Box-Muller never leaves +-5.8, so nothing real is ever clipped)."""
        means = jnp.asarray(params.choc_means)
        return means.min() - PROXY_SIGMAS * params.proxy_std, means.max() + PROXY_SIGMAS * params.proxy_std

    def observation_space(self, params: Sim2RecParams | None = None) -> Box:
        p = self._params if params is None else params
        lo, hi = (float(x) for x in self.proxy_bounds(p))
        return Box(np.array([lo, 0.0, float(p.engagement_low)], np.float32),
                   np.array([hi, 1.0, float(p.engagement_high)], np.float32), (3,), jnp.float32)

    def action_space(self, params: Sim2RecParams | None = None) -> Box:
        return Box(-1.0, 1.0, (1,), jnp.float32)

    def get_obs(self, state: Sim2RecState, params: Sim2RecParams) -> jax.Array:
        proxy = jnp.clip(state.proxy, *self.proxy_bounds(params))
        return jnp.stack([proxy, state.last_click, state.last_engagement]).astype(jnp.float32)

    def reset_env(self, key: jax.Array, params: Sim2RecParams) -> tuple[jax.Array, Sim2RecState]:
        u = uniforms(key, (5,), salt=0x51A2C3)
        cdf = jnp.cumsum(params.domain_probs) / jnp.sum(params.domain_probs)
        d = jnp.minimum(jnp.sum(u[0] >= cdf), cdf.shape[0] - 1)
        choc = jnp.asarray(params.choc_means)[d].astype(jnp.float32)
        md = params.memory_discount_low + u[1] * (params.memory_discount_high - params.memory_discount_low)
        sens = params.sensitivity_low + u[2] * (params.sensitivity_high - params.sensitivity_low)
        npe = params.npe_init / (1.0 - md)
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        state = Sim2RecState(
            t=jnp.int32(0), choc_mean=choc, memory_discount=f32(md), sensitivity=f32(sens), npe=f32(npe),
            satisfaction=f32(satisfaction_of(npe, sens)), proxy=f32(choc + params.proxy_std * normal(u[3], u[4])),
            last_click=f32(0.0), last_engagement=f32(0.0), history=jnp.zeros((HISTORY, 3), jnp.float32))
        return self.get_obs(state, params), state

    def read_action(self, action: Any) -> tuple[jax.Array, jax.Array]:
        """``(a in [-1, 1], invalid)``: NaN/inf become the no-op 0.0, values outside [-1, 1] are clipped; both
        count as invalid. A wrong shape or non-numbers raise a ``RealaxError`` while tracing."""
        try:
            a = jnp.asarray(action, jnp.float32)
        except (TypeError, ValueError, OverflowError):
            raise RealaxError(f"action {action!r:.80} is not an array of numbers; expected shape (1,) in [-1, 1]") from None
        if a.shape not in ((1,), ()):
            raise RealaxError(f"action has shape {a.shape}; expected (1,) of numbers in [-1, 1]")
        a = a.reshape(())
        finite = jnp.isfinite(a)
        ok = finite & (a >= -1.0) & (a <= 1.0)
        return jnp.where(finite, jnp.clip(a, -1.0, 1.0), self.noop_action), (~ok).astype(jnp.int32)

    def step_env(self, key: jax.Array, state: Sim2RecState, action: Any, params: Sim2RecParams
                 ) -> StepResult[Sim2RecState]:
        a, invalid = self.read_action(action)
        c = clickbait_of(a, params.num_docs)
        u = uniforms(key, (4,), salt=0x7A3B19)
        mean = expected_engagement(c, state.choc_mean, state.satisfaction, params)
        std = c * params.choc_std + (1.0 - c) * params.kale_std
        engagement = jnp.clip(mean + std * normal(u[0], u[1]), params.engagement_low, params.engagement_high)
        npe = next_npe(state.npe, c, state.memory_discount, params.innovation_std * normal(u[2], u[3]))
        sat = satisfaction_of(npe, state.sensitivity)
        t = state.t + 1
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        row = jnp.stack([c, engagement, sat]).astype(jnp.float32)[None]
        state = Sim2RecState(t=t, choc_mean=state.choc_mean, memory_discount=state.memory_discount,
                             sensitivity=state.sensitivity, npe=f32(npe), satisfaction=f32(sat), proxy=state.proxy,
                             last_click=f32(1.0), last_engagement=f32(engagement),
                             history=jnp.concatenate([state.history[1:], row]))
        info = {"npe": state.npe, "satisfaction": state.satisfaction, "memory_discount": state.memory_discount,
                "sensitivity": state.sensitivity, "choc_mean": state.choc_mean, "clickbait": f32(c),
                "invalid_action": invalid}
        return self.get_obs(state, params), state, f32(engagement), jnp.bool_(False), t >= params.max_steps, info

    def render(self, state: Sim2RecState, params: Sim2RecParams | None = None, *, reward: Any = None,
               episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: the last chosen clickbait scores, engagements and satisfaction, with the
        hidden user and domain in the side panel (``realax.envs.recsys.render_sim2rec``)."""
        from realax.envs.recsys import render_sim2rec

        return render_sim2rec.draw(self, state, self._params if params is None else params, reward=reward,
                                   episode_return=episode_return)


__all__ = ["Sim2Rec", "Sim2RecParams", "Sim2RecState", "check_params", "clickbait_of", "expected_engagement",
           "next_npe", "satisfaction_of", "CHOC_MEANS", "TRAIN_DOMAINS", "TEST_DOMAINS", "NUM_DOCS",
           "TRAIN_USERS_PER_DOMAIN", "EVAL_USERS"]
