"""Episodes in memory: flat transitions in episode order, with terminations and truncations apart.

The layout is NeoRL's and D4RL's (one row per transition, ``next_observations`` explicit); Minari's
per-episode ``observations`` of length T+1 are ``observations[s:e]`` plus ``next_observations[e-1]``.
Multi-agent data keep the agent axis: ``observations [N, A, ...]``, ``actions [N, A]``, ``rewards [N, A]``.
``infos`` holds the env's per-step ``info`` entries (all but ``final_obs``; the cost is ``costs``) and ``seeds``
the integer each episode's start was drawn from (``realax.wrappers.gymnasium.reset_keys``), as Minari's
``DataCollector`` records the reset seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Episodes:
    observations: np.ndarray  # [N, *obs]: the observation an action was chosen on
    next_observations: np.ndarray  # [N, *obs]: the observation after it (before any reset)
    actions: np.ndarray  # [N, *act]
    rewards: np.ndarray  # [N] or [N, A]
    terminations: np.ndarray  # bool [N]
    truncations: np.ndarray  # bool [N]
    lengths: np.ndarray  # int64 [E]; episodes are consecutive runs of these lengths
    costs: np.ndarray | None = None  # float32 [N, c] where a safety cost was recorded
    infos: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # the env's other info entries, [N, ...]
    seeds: np.ndarray | None = None  # int64 [E]: reset(seed=...) of the Gymnasium adapter starts episode e as here

    def __post_init__(self):
        self.lengths = np.asarray(self.lengths, np.int64)
        n = int(self.lengths.sum())
        rows = {f: len(getattr(self, f)) for f in ("observations", "next_observations", "actions", "rewards",
                                                   "terminations", "truncations")}
        rows.update({f"infos[{k!r}]": len(v) for k, v in self.infos.items()})
        for f, m in rows.items():
            if m != n:
                raise ValueError(f"{f} has {m} rows; the episode lengths add up to {n}")
        if self.seeds is not None and len(self.seeds) != len(self.lengths):
            raise ValueError(f"seeds has {len(self.seeds)} entries for {len(self.lengths)} episodes")

    @classmethod
    def concatenate(cls, parts: list["Episodes"]) -> "Episodes":
        """The episodes of ``parts``, in order (they must record the same fields)."""
        cat = lambda get: np.concatenate([get(p) for p in parts])  # noqa: E731
        keys = [set(p.infos) for p in parts]
        if any(k != keys[0] for k in keys) or len({p.costs is None for p in parts}) > 1 or \
                len({p.seeds is None for p in parts}) > 1:
            raise ValueError("the parts record different fields (infos, costs or seeds)")
        return cls(*(cat(lambda p, f=f: getattr(p, f)) for f in ("observations", "next_observations", "actions",
                                                                 "rewards", "terminations", "truncations",
                                                                 "lengths")),
                   costs=None if parts[0].costs is None else cat(lambda p: p.costs),
                   infos={k: cat(lambda p, k=k: p.infos[k]) for k in keys[0]},
                   seeds=None if parts[0].seeds is None else cat(lambda p: p.seeds))

    def take(self, first: int, count: int) -> "Episodes":
        """Episodes ``first`` to ``first + count - 1``."""
        lengths = self.lengths[first:first + count]
        s = int(self.lengths[:first].sum())
        rows = slice(s, s + int(lengths.sum()))
        return Episodes(self.observations[rows], self.next_observations[rows], self.actions[rows], self.rewards[rows],
                        self.terminations[rows], self.truncations[rows], lengths,
                        None if self.costs is None else self.costs[rows], {k: v[rows] for k, v in self.infos.items()},
                        None if self.seeds is None else self.seeds[first:first + count])

    @property
    def num_episodes(self) -> int:
        return len(self.lengths)

    @property
    def num_steps(self) -> int:
        return int(self.lengths.sum())

    @property
    def starts(self) -> np.ndarray:
        """Index of each episode's first transition."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def returns(self) -> np.ndarray:
        """``float64 [E]``: each episode's undiscounted return (summed over agents)."""
        per_step = self.rewards.reshape(len(self.rewards), -1).sum(-1).astype(np.float64)
        return np.add.reduceat(per_step, self.starts) if self.num_episodes else np.zeros(0)

    def episode_costs(self) -> np.ndarray | None:
        if self.costs is None:
            return None
        per_step = self.costs.reshape(len(self.costs), -1).sum(-1).astype(np.float64)
        return np.add.reduceat(per_step, self.starts)
