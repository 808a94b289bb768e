"""The cost-vector convention of realax's constrained learners (``ppo_lag``, ``tscac``) and the pieces they share.

The problem is a constrained MDP (Altman, "Constrained Markov Decision Processes", 1999): maximise the expected
return subject to ``M`` expected-cumulative constraints. realax states each constraint as a *margin*:

- **The convention** (``realax.core.COST_MARGIN``): the env reports ``info["cost_margin"]``, a float vector
  ``[M]`` per step (a scalar is one constraint), such that constraint ``i`` holds when the expected episode sum
  of ``margin_i`` is ``>= 0``. The env folds its thresholds and directions in, so a learner needs nothing else.
  Example: ``realax/ShortVideo-v0`` has ``margin_i = present * sense_i * (signal_i - threshold_i)``, whose
  episode sum is ``>= 0`` exactly when signal ``i``'s per-request rate is on the right side of its threshold.
- **Costs with a limit**: an env that reports only a cost to keep low (``info["cost"]``, e.g. the
  ``SafetyCost`` wrapper) is trained with ``cost_key="cost"`` and ``cost_limit=d``: the margin is ``d -
  cost``, i.e. the constraint is "the mean cost per step is at most ``d``" (an episode budget ``B`` over ``T``
  steps is ``d = B / T``).
- An env without the entry is refused when the learner is built, with a ``RealaxError`` naming the missing
  key and the entries the env does report.

Every learner estimates each constraint's value with its own critic over the margin stream (one output per
constraint, ``realax.agents.networks.ValueHeads``), by GAE as PPO's reward (``signal_gae``). Constraint names,
for metrics, come from the env's ``signals`` attribute when it has one of the right length (ShortVideo's
``("follow", "like", "comment", "share", "hate")``), else ``c0, c1, ...``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from realax.agents.ppo import PPOConfig, gae
from realax.core import COST_MARGIN
from realax.errors import RealaxError

#: the most constraints a learner accepts (one critic output and one multiplier or policy each)
MAX_CONSTRAINTS = 64


@dataclasses.dataclass(frozen=True)
class ConstrainedConfig(PPOConfig):
    """PPO's settings plus where the constraints are read from (module docstring)."""

    cost_key: str = COST_MARGIN
    """The ``info`` entry holding the per-step constraint vector ``[M]`` (or a scalar)."""
    cost_limit: float | None = None
    """None: the entry is a margin (each constraint holds when its episode sum is >= 0). A number ``d``: the entry
    is a cost to keep low and the margin is ``d - cost`` (mean cost per step at most ``d``)."""

    def __post_init__(self):
        super().__post_init__()
        if not self.cost_key:
            raise RealaxError(f"{type(self).__name__}.cost_key must name an info entry, got {self.cost_key!r}")


def probe_info(env: Any, params: Any) -> dict[str, jax.ShapeDtypeStruct]:
    """The shapes and dtypes of ``env``'s ``info`` for one step (nothing is run: ``jax.eval_shape``)."""

    def one(key):
        _, state = env.reset(key, params)
        return env.step(key, state, env.action_space(params).sample(key), params)[5]

    return jax.eval_shape(one, jax.random.key(0))


def constraint_count(algo: str, env: Any, params: Any, c: ConstrainedConfig) -> int:
    """``M``, the number of constraints ``env`` reports in ``info[c.cost_key]``; a ``RealaxError`` naming what is
    missing when the entry is absent or not a scalar/vector of numbers."""
    info = probe_info(env, params)
    name = type(getattr(env, "unwrapped", env)).__name__
    if c.cost_key not in info:
        hint = ("; it reports info['cost']: train on it as a cost with a per-step limit, --set cost_key=cost "
                "--set cost_limit=D" if "cost" in info and c.cost_key != "cost" else "")
        raise RealaxError(f"{algo} needs a constraint vector in info[{c.cost_key!r}] (realax.core.COST_MARGIN: "
                          f"one margin per constraint, each constraint holding when its episode sum is >= 0); "
                          f"{name} reports no {c.cost_key!r} (its info has {sorted(info)}){hint}")
    entry = info[c.cost_key]
    if entry.ndim > 1 or not (jnp.issubdtype(entry.dtype, jnp.number) or entry.dtype == jnp.bool_):
        raise RealaxError(f"{algo}: info[{c.cost_key!r}] of {name} must be a number or a vector of numbers (one per "
                          f"constraint), got shape {entry.shape} and dtype {entry.dtype}")
    m = 1 if entry.ndim == 0 else int(entry.shape[0])
    if not 1 <= m <= MAX_CONSTRAINTS:
        raise RealaxError(f"{algo}: info[{c.cost_key!r}] of {name} has {m} entries; 1..{MAX_CONSTRAINTS} constraints "
                          f"are supported")
    return m


def signal_names(env: Any, m: int) -> tuple[str, ...]:
    """The constraints' names for metrics: ``env.signals`` when it has ``m`` entries, else ``c0 .. c{m-1}``."""
    names = getattr(getattr(env, "unwrapped", env), "signals", None)
    if isinstance(names, (tuple, list)) and len(names) == m and all(isinstance(n, str) for n in names):
        return tuple(names)
    return tuple(f"c{i}" for i in range(m))


def margins(entry: jax.Array, c: ConstrainedConfig) -> jax.Array:
    """``float32 [T, N, M]`` margins from a rollout's ``info[c.cost_key]`` (``[T, N]`` or ``[T, N, M]``): the
    entry itself, or ``c.cost_limit - cost`` when a limit is set."""
    x = jnp.asarray(entry, jnp.float32)
    x = x.reshape(*x.shape[:2], -1)
    return x if c.cost_limit is None else c.cost_limit - x


def signal_gae(signals: jax.Array, values: jax.Array, next_values: jax.Array, terminated: jax.Array,
               dones: jax.Array, gammas: jax.Array, lam: float) -> tuple[jax.Array, jax.Array]:
    """PPO's ``gae`` for every signal of ``[T, N, M]`` arrays at once (``terminated``/``dones`` are ``[T, N]``),
    signal ``i`` discounted by ``gammas[i]``: ``(advantages, targets)``, each ``[T, N, M]``."""
    gammas = jnp.broadcast_to(jnp.asarray(gammas, jnp.float32), signals.shape[-1:])
    per_signal = jax.vmap(gae, in_axes=(-1, -1, -1, None, None, 0, None), out_axes=-1)
    return per_signal(signals, values, next_values, terminated, dones, gammas, lam)


def update_multipliers(multipliers: jax.Array, margin: jax.Array, lr: float) -> jax.Array:
    """One projected gradient step of the Lagrange multipliers ``lambda >= 0`` of ``max_pi min_lambda J_r +
    lambda . J_m``: ``lambda <- max(0, lambda - lr J_m)``, ``J_m`` the constraints' estimated values (``margin``,
    ``[M]``). A violated constraint (``J_m < 0``) raises its multiplier, a satisfied one lowers it to 0 at
    most (Tessler et al., "Reward Constrained Policy Optimization", ICLR 2019: the multiplier step projected onto
    ``lambda >= 0``)."""
    return jnp.maximum(multipliers - lr * margin, 0.0)

