"""The maths of value decomposition: VDN's sum, QMIX's monotone mixer, double-Q next values over legal
actions, and λ-returns of a sequence.

- VDN (Sunehag et al., "Value-Decomposition Networks For Cooperative Multi-Agent Learning", AAMAS 2018):
  ``Q_tot = sum_i Q_i``.
- QMIX (Rashid et al., "QMIX: Monotonic Value Function Factorisation for Deep Multi-Agent Reinforcement
  Learning", ICML 2018, §4.2 and Fig. 2): ``Q_tot = elu(q · W1 + b1) · w2 + b2`` where ``W1 [A, E]``, ``b1 [E]``,
  ``w2 [E]`` and ``b2`` come from hypernetworks of the global state ``s``; the absolute value of ``W1`` and
  ``w2`` makes ``d Q_tot / d Q_i >= 0`` (``elu`` is increasing), so the per-agent greedy actions are the greedy
  joint action. As JaxMARL's ``baselines/QLearning/qmix_rnn.py`` (Rutherford et al. 2024): the weight
  hypernetworks have one ReLU hidden layer, ``b1`` is linear in ``s``, ``b2`` has one ReLU hidden layer of
  width ``E``. Every kernel is orthogonal with gain ``init_scale``, as JaxMARL's
  (``realax.agents.networks.orthogonal``: flax's draws, each QR factorised on its own under ``vmap``, which
  avoids jaxlib 0.10's batched-LAPACK deadlock on CPU).
- Double Q-learning (van Hasselt et al., AAAI 2016): the online network picks the next action, the target
  network values it; actions the env's mask forbids are never picked.
- λ-returns (Sutton & Barto 2018, §12.1; PyMARL2's TD(λ) targets, Hu et al. 2021):
  ``G_t = r_t + γ (1 - term_t) [(1 - λ) V'_t + λ G_{t+1}]``, with ``G_{t+1}`` replaced by ``V'_t`` where an
  episode or the sequence ends; ``λ = 0`` is the one-step target.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from realax.agents.multi import masked_logits
from realax.agents.networks import orthogonal
from realax.agents.ppo import gae


def vdn(q: jax.Array) -> jax.Array:
    """``Q_tot [...]`` of agent values ``q [..., A]``: their sum."""
    return q.sum(-1)


class QMixer(nn.Module):
    """QMIX's mixing network: ``(q [..., A], state [..., S]) -> Q_tot [...]``, monotone in every ``q_i``."""

    embed: int = 64
    hypernet_hidden: int = 256
    init_scale: float = 0.001

    def _dense(self, n: int) -> nn.Dense:
        return nn.Dense(n, kernel_init=orthogonal(self.init_scale))

    def _hyper(self, s: jax.Array, hidden: int, out: int) -> jax.Array:
        return self._dense(out)(nn.relu(self._dense(hidden)(s)))

    @nn.compact
    def __call__(self, q: jax.Array, state: jax.Array) -> jax.Array:
        num_agents = q.shape[-1]
        w1 = jnp.abs(self._hyper(state, self.hypernet_hidden, num_agents * self.embed))
        w1 = w1.reshape(*w1.shape[:-1], num_agents, self.embed)
        b1 = self._dense(self.embed)(state)
        w2 = jnp.abs(self._hyper(state, self.hypernet_hidden, self.embed))
        b2 = self._hyper(state, self.embed, 1)[..., 0]
        hidden = nn.elu(jnp.einsum("...a,...ae->...e", q.astype(w1.dtype), w1) + b1)
        return (hidden * w2).sum(-1) + b2


def double_q_next(q_online: jax.Array, q_target: jax.Array, mask: jax.Array) -> jax.Array:
    """``[...]``: the target network's value ``q_target [..., n]`` of the online network's greedy action among
    the legal ones (``mask`` bool ``[..., n]``; every row needs one legal action)."""
    best = jnp.argmax(masked_logits(q_online, mask), -1)
    return jnp.take_along_axis(q_target, best[..., None], -1)[..., 0]


def lambda_returns(reward: jax.Array, next_value: jax.Array, terminated: jax.Array, done: jax.Array,
                   gamma: float, lam: float) -> jax.Array:
    """λ-returns over time-major ``[T, ...]`` arrays (see the module docstring). ``next_value[t]`` is the value of
    the observation transition ``t`` reached before any reset; ``terminated[t]`` drops it, ``done[t]``
    (terminated or truncated) stops the return flowing back across the episode's end. This is GAE's value
    target (``realax.agents.ppo.gae``) with the value of ``s_t`` taken as ``next_value[t - 1]``, which it is
    wherever an episode continues; the GAE recursion then telescopes into the λ-return."""
    value = jnp.concatenate([jnp.zeros_like(next_value[:1]), next_value[:-1]])
    return gae(reward, value, next_value, terminated, done, gamma, lam)[1]
