"""What every learner returns (``Trainer``) and the episode returns it tracks while training.

Running returns follow purejaxrl's ``LogWrapper`` idea (``luchris429/purejaxrl``, ``wrappers.py``): each
parallel env carries its running return and length; when an episode ends they are reported and reset. Here
this lives in the training carry instead of a wrapper, because realax environments autoreset inside ``step``
(DESIGN §2).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Trainer(NamedTuple):
    """What ``make_train`` of every agent returns (the CLI relies on exactly these fields).

    ``init(key) -> carry`` and ``step(carry) -> (carry, metrics)`` are pure and vmappable over seeds;
    ``step`` runs ``updates_per_chunk`` updates and its metrics have that leading axis. ``num_chunks``
    steps make the whole run; ``train(key)`` does all of them in one jitted call. ``policy(carry)`` is the
    greedy policy ``fn(key, obs) -> action`` for one unbatched observation (a ``RecurrentPolicy`` for agents
    with memory).

    A run in ``stages`` (chunks per stage, summing to ``num_chunks``) is a learner whose stages are different
    programs, e.g. TSCAC's auxiliary policies first, then its main policy: its ``step(carry, stage)`` takes
    the stage index, a static int, so each stage compiles once and runs only its own work (a ``lax.cond`` on
    the update count would run both branches once the seeds are vmapped). ``stage_step(stage_of(k))`` is the
    step of chunk ``k``; the carry and the metrics' keys are the same in every stage.
    """

    init: Callable[[jax.Array], Any]
    step: Callable[..., tuple[Any, dict]]
    num_chunks: int
    policy: Callable[[Any], Callable[[jax.Array, Any], jax.Array]]
    train: Callable[[jax.Array], tuple[Any, dict]]
    stages: tuple[int, ...] = ()

    def stage_of(self, chunk: int) -> int:
        """The stage (0-based) of the 0-based chunk ``chunk``; 0 for a one-stage run."""
        return int(np.searchsorted(np.cumsum(self.stages), chunk, side="right")) if self.stages else 0

    def stage_step(self, stage: int) -> Callable[[Any], tuple[Any, dict]]:
        """``step(carry) -> (carry, metrics)`` of one stage (``step`` itself for a one-stage run)."""
        return functools.partial(self.step, stage=stage) if self.stages else self.step


def make_trainer(init, step, num_chunks: int, policy, stages: tuple[int, ...] = ()) -> Trainer:
    """Completes a ``Trainer`` with ``train``: ``init`` then ``num_chunks`` scanned ``step`` calls (stage by stage
    when ``stages`` is given), jitted; metrics come back with one leading axis of ``num_chunks *
    updates_per_chunk`` updates."""
    stages = tuple(int(n) for n in stages)
    if stages and sum(stages) != num_chunks:
        raise ValueError(f"stages {stages} must add up to num_chunks = {num_chunks}")
    trainer = Trainer(init=init, step=step, num_chunks=num_chunks, policy=policy, train=None, stages=stages)

    @jax.jit
    def train(key):
        carry, parts = init(key), []
        for stage, chunks in enumerate(stages or (num_chunks,)):
            fn = trainer.stage_step(stage)
            carry, metrics = jax.lax.scan(lambda c, _, fn=fn: fn(c), carry, None, chunks)
            parts.append(metrics)
        metrics = jax.tree.map(lambda *m: jnp.concatenate(m), *parts)
        return carry, jax.tree.map(lambda m: m.reshape(-1, *m.shape[2:]), metrics)

    return trainer._replace(train=train)


class RolloutBudget:
    """The run's arithmetic for configs (frozen dataclasses) with ``num_envs``, ``num_steps``,
    ``total_timesteps`` and ``updates_per_chunk``: each update steps every env ``num_steps`` times."""

    num_envs: int
    num_steps: int
    total_timesteps: int
    updates_per_chunk: int

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return max(1, self.total_timesteps // self.env_steps_per_update)

    @property
    def num_chunks(self) -> int:
        return math.ceil(self.num_updates / self.updates_per_chunk)


def epsilon_schedule(config) -> Callable[[jax.Array], jax.Array]:
    """``eps(update)``: ``config.eps_start`` decaying linearly to ``config.eps_end`` over the first
    ``config.eps_fraction`` of ``config.num_updates``, then held (CleanRL's ``linear_schedule``)."""
    c = config
    decay = max(1.0, c.eps_fraction * c.num_updates)
    return lambda update: c.eps_start + jnp.minimum(update / decay, 1.0) * (c.eps_end - c.eps_start)


class RunningReturns(NamedTuple):
    """Per-env running return/length and the mean return of the last batch of finished episodes."""

    ep_return: jax.Array  # float32 [num_envs]
    ep_length: jax.Array  # int32 [num_envs]
    last_return: jax.Array  # float32 []; NaN until an episode has finished
    last_length: jax.Array  # float32 []

    @classmethod
    def zeros(cls, num_envs: int) -> "RunningReturns":
        return cls(jnp.zeros(num_envs), jnp.zeros(num_envs, jnp.int32), jnp.float32(jnp.nan), jnp.float32(jnp.nan))

    def record(self, reward: jax.Array, done: jax.Array) -> tuple["RunningReturns", jax.Array, jax.Array]:
        """One vectorised step: ``(stats, finished_return [num_envs], finished_length [num_envs])``;
        the finished values are meaningful where ``done``."""
        ret, length = self.ep_return + reward, self.ep_length + 1
        stats = self._replace(ep_return=jnp.where(done, 0.0, ret), ep_length=jnp.where(done, 0, length))
        return stats, ret, length

    def summarise(self, done: jax.Array, returns: jax.Array, lengths: jax.Array) -> "RunningReturns":
        """Mean over the episodes that finished in an update (any shape); keeps the previous value if none."""
        n = done.sum()
        mean = lambda x: jnp.where(n > 0, jnp.where(done, x, 0).sum() / jnp.maximum(n, 1), jnp.nan)
        return self._replace(last_return=jnp.where(n > 0, mean(returns), self.last_return),
                             last_length=jnp.where(n > 0, mean(lengths.astype(jnp.float32)), self.last_length))
