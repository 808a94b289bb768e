"""Sim2Rec (LTS) baselines: a myopic greedy policy on what is observed and an oracle that reads the hidden user.

- ``myopic``: the highest expected immediate engagement from the observation. The mean engagement is
  ``(c choc_mean + (1 - c) kale_mean) SAT`` with this step's SAT fixed by the past, so the best immediate
  choice is pure chocolate (``a = 1``, clickbait 29/30) when the observed domain proxy exceeds ``kale_mean``,
  else pure kale (``a = -1``). It ignores what clickbait does to satisfaction.
- ``oracle``: knows the domain, the user's memory discount, sensitivity and NPE (``state``), and plans:
  for each of the ``num_docs`` documents it simulates showing that document for the rest of the episode
  (the expected engagement, the deterministic NPE update) and shows the first document of the best plan;
  recomputed every step (receding horizon over constant plans). Exact when ``innovation_std = 0``
  (Sim2Rec's setting).
- ``random`` (``realax.baselines``): uniform in [-1, 1].

Measured episode returns (128 users, 140 steps, mean +- sd): train domains random 624 +- 228, myopic 218 +- 148,
oracle 720 +- 204; held-out domain 14 random 662 +- 30, myopic 213 +- 92, oracle 736 +- 65 (showing pure kale
every step: 610 and 648).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.envs.recsys.sim2rec import expected_engagement, next_npe, satisfaction_of


def action_of_doc(i: jax.Array, num_docs) -> jax.Array:
    """``[1]`` an action in [-1, 1] at the centre of document ``i``'s interval."""
    return jnp.reshape(2.0 * (i + 0.5) / num_docs - 1.0, (1,)).astype(jnp.float32)


def myopic(env, params):
    def act(key, obs):
        best = obs[0] > params.kale_mean
        return jnp.where(best, 1.0, -1.0).reshape(1).astype(jnp.float32)

    return act


def plan_values(state, params, horizon: int) -> jax.Array:
    """``[num_docs]``: expected engagement over the rest of the episode of showing document ``i`` every step."""
    c = jnp.arange(int(params.num_docs), dtype=jnp.float32) / params.num_docs
    steps = jnp.arange(horizon)
    remaining = params.max_steps - state.t

    def body(carry, k):
        npe, total = carry
        sat = satisfaction_of(npe, state.sensitivity)
        gain = jnp.clip(expected_engagement(c, state.choc_mean, sat, params), params.engagement_low,
                        params.engagement_high)
        total = total + jnp.where(k < remaining, gain, 0.0)
        return (next_npe(npe, c, state.memory_discount), total), None

    (_, total), _ = jax.lax.scan(body, (jnp.full_like(c, state.npe), jnp.zeros_like(c)), steps)
    return total


def oracle(env, params):
    horizon = int(params.max_steps)

    def act(key, obs, state):
        return action_of_doc(jnp.argmax(plan_values(state, params, horizon)), params.num_docs)

    return act


#: the baselines ``realax.register(..., baselines="realax.baselines.recsys_sim2rec")`` declares
BASELINES = {"myopic": myopic, "oracle": oracle}
