"""Action distributions for policy-gradient agents, chosen from the action space.

- ``Discrete`` -> categorical over logits;
- ``Slate`` (``k`` distinct items of ``n``, in order) -> Plackett-Luce over ``n`` item scores;
- ``Simplex`` (a distribution over ``n`` places, e.g. RoboTaxi's desired fleet distribution) -> Dirichlet
  with concentrations ``softplus(x) + MIN_CONCENTRATION``, RL4AMOD's actor (Tresca et al. 2025,
  ``StanfordASL/RL4AMOD`` ``src/algos/a2c_gnn.py``: ``softplus`` concentrations, the greedy action the mean
  ``alpha / sum(alpha)``);
- any other ``Box`` -> diagonal Gaussian with a state-independent log standard deviation (the PPO continuous
  control set-up of Schulman et al. 2017 and of purejaxrl's ``ppo_continuous_action.py``), the greedy action
  its mean clipped into the box.

Each distribution is a small pytree-free helper built from the network's raw head output ``x [..., k]``:
``head_size(space)`` gives ``k`` (twice that for the Gaussian: mean, then log-std); ``make(space, x)`` gives an
object with ``sample``, ``log_prob``, ``entropy`` and ``mode``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln

from realax.errors import RealaxError
from realax.spaces import Box, Discrete, Simplex, Slate, Space

#: lower bound of a Dirichlet concentration (keeps log-probabilities finite at initialisation)
MIN_CONCENTRATION = 1e-3


@dataclasses.dataclass(frozen=True)
class Categorical:
    logits: jax.Array

    def sample(self, key):
        return jax.random.categorical(key, self.logits).astype(jnp.int32)

    def log_prob(self, a):
        return jnp.take_along_axis(jax.nn.log_softmax(self.logits), a[..., None].astype(jnp.int32), -1)[..., 0]

    def entropy(self):
        logp = jax.nn.log_softmax(self.logits)
        return -(jnp.exp(logp) * logp).sum(-1)

    def mode(self):
        return jnp.argmax(self.logits, -1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class PlackettLuce:
    """An ordered slate of ``k`` distinct items drawn one after another without replacement, each with
    probability ``softmax`` of the scores of the items left (Plackett 1975, Luce 1959), the usual ranking
    policy for slates. ``sample`` uses the Gumbel-top-k trick (Kool, van Hoof & Welling, ICML 2019: the ``k``
    largest of ``scores + Gumbel noise``, in order, are an exact sample). The entropy of a slate has no closed
    form: ``entropy`` is the sum over positions of the entropy of each pick along the most likely slate, an
    approximation (exact for ``k = 1``) that serves as PPO's exploration bonus."""

    logits: jax.Array  # [..., n] scores
    k: int

    def sample(self, key):
        g = jax.random.gumbel(key, self.logits.shape)
        return jax.lax.top_k(self.logits + g, self.k)[1].astype(jnp.int32)

    def _steps(self, slate):
        """Log-softmax of every pick over the items left before it: ``[..., k, n]``."""
        n = self.logits.shape[-1]
        taken = jax.nn.one_hot(slate, n, dtype=bool)  # [..., k, n]
        before = jnp.cumsum(taken, axis=-2) - taken  # items picked at earlier positions
        masked = jnp.where(before > 0, -jnp.inf, self.logits[..., None, :])
        return jax.nn.log_softmax(masked, axis=-1)

    def log_prob(self, slate):
        logp = self._steps(slate)
        return jnp.take_along_axis(logp, slate[..., None].astype(jnp.int32), -1)[..., 0].sum(-1)

    def entropy(self):
        logp = self._steps(self.mode())
        p = jnp.exp(logp)
        # the items already picked have logp = -inf: zero them before the product, not after, or the
        # product's gradient (0 * -inf) is NaN and one PPO update turns every weight into NaN
        return -(p * jnp.where(p > 0, logp, 0.0)).sum((-2, -1))

    def mode(self):
        return jax.lax.top_k(self.logits, self.k)[1].astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class Dirichlet:
    alpha: jax.Array  # [..., n] > 0

    def sample(self, key):
        x = jax.random.dirichlet(key, self.alpha)
        return jnp.clip(x, 1e-12, 1.0)  # log_prob needs log x finite

    def log_prob(self, x):
        a = self.alpha
        x = jnp.clip(x, 1e-12, 1.0)
        return gammaln(a.sum(-1)) - gammaln(a).sum(-1) + ((a - 1.0) * jnp.log(x)).sum(-1)

    def entropy(self):
        a, n = self.alpha, self.alpha.shape[-1]
        a0 = a.sum(-1)
        log_beta = gammaln(a).sum(-1) - gammaln(a0)
        return log_beta + (a0 - n) * digamma(a0) - ((a - 1.0) * digamma(a)).sum(-1)

    def mode(self):  # the mean: RL4AMOD's deterministic action
        return self.alpha / self.alpha.sum(-1, keepdims=True)

    def sample_and_log_prob(self, key):
        """A reparameterised draw (``jax.random.dirichlet`` differentiates through its gamma draws, implicit
        reparameterisation) and its log-density."""
        x = self.sample(key)
        return x, self.log_prob(x)


@dataclasses.dataclass(frozen=True)
class Gaussian:
    mean: jax.Array
    log_std: jax.Array
    low: jax.Array
    high: jax.Array

    def sample(self, key):
        return self.mean + jnp.exp(self.log_std) * jax.random.normal(key, self.mean.shape)

    def log_prob(self, x):
        z = (x - self.mean) * jnp.exp(-self.log_std)
        return (-0.5 * z * z - self.log_std - 0.5 * jnp.log(2 * jnp.pi)).sum(-1)

    def entropy(self):
        return jnp.broadcast_to(self.log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), self.mean.shape).sum(-1)

    def mode(self):
        return jnp.clip(self.mean, self.low, self.high)


@dataclasses.dataclass(frozen=True)
class TanhGaussian:
    """A diagonal Gaussian over ``u`` squashed into the box ``[low, high]`` by ``a = low + (tanh(u) + 1)/2 ·
    (high - low)``: SAC's policy for bounded actions (Haarnoja et al., "Soft Actor-Critic", ICML 2018,
    appendix C: ``log pi(a) = log N(u) - sum log |da/du|``, with ``1e-6`` inside the log as in their code).
    ``sample_and_log_prob`` is reparameterised (differentiable in ``mean`` and ``log_std``); the greedy
    action is the squashed mean."""

    mean: jax.Array
    log_std: jax.Array
    low: jax.Array
    high: jax.Array

    def _squash(self, u):
        return self.low + (jnp.tanh(u) + 1.0) / 2.0 * (self.high - self.low)

    def sample_and_log_prob(self, key):
        z = jax.random.normal(key, self.mean.shape)
        u = self.mean + jnp.exp(self.log_std) * z
        normal = (-0.5 * z * z - self.log_std - 0.5 * jnp.log(2 * jnp.pi)).sum(-1)
        log_det = (jnp.log(1.0 - jnp.tanh(u) ** 2 + 1e-6) + jnp.log((self.high - self.low) / 2.0)).sum(-1)
        return self._squash(u), normal - log_det

    def mode(self):
        return self._squash(self.mean)


def head_size(space: Space) -> int:
    """Outputs of the policy head for ``space``."""
    if isinstance(space, Discrete):
        return int(space.n)
    if isinstance(space, Slate):
        return int(space.num_items)
    if isinstance(space, Box) and len(space.shape) == 1:
        return int(space.shape[0])
    raise RealaxError(f"no policy distribution for {space}: Discrete, Slate, Simplex or a 1-D Box are supported")


def is_gaussian(space: Space) -> bool:
    """Whether ``space`` gets the Gaussian head (mean then log-std: ``2 * head_size`` network outputs)."""
    return isinstance(space, Box) and not isinstance(space, Simplex)


def make(space: Space, x: jax.Array):
    """The distribution of ``space`` from the head output ``x [..., head_size]``."""
    if isinstance(space, Discrete):
        return Categorical(x)
    if isinstance(space, Slate):
        return PlackettLuce(x, space.k)
    if isinstance(space, Simplex):
        return Dirichlet(jax.nn.softplus(x) + MIN_CONCENTRATION)
    if isinstance(space, Box):
        low, high = jnp.asarray(space.low, jnp.float32), jnp.asarray(space.high, jnp.float32)
        mean, log_std = jnp.split(x, 2, axis=-1)
        return Gaussian(mean, log_std, low, high)
    raise RealaxError(f"no policy distribution for {space}")
