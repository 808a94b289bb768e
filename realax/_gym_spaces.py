"""Gymnasium counterparts of realax spaces that Gymnasium has no class for (``realax.spaces.Slate``).

``GymSlate`` is a ``gymnasium.spaces.MultiDiscrete([n] * k)`` whose ``sample`` draws ``k`` distinct items and
whose ``contains`` refuses repeats. ``gymnasium.vector.utils.batch_space`` is told how to batch it, so
``make_vec``'s ``action_space.sample()`` gives a valid slate in every row.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector.utils import batch_space


class GymSlate(gymnasium.spaces.MultiDiscrete):
    """``k`` distinct candidate indices in ``0 .. n-1``, with ``lead`` leading (batch) axes."""

    def __init__(self, n: int, k: int, lead: tuple[int, ...] = (), dtype: Any = np.int64, seed: Any = None):
        self.num_items, self.k, self.lead = int(n), int(k), tuple(int(d) for d in lead)
        super().__init__(np.full(self.lead + (self.k,), self.num_items), dtype=dtype, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        if mask is not None or probability is not None:
            raise NotImplementedError("GymSlate.sample takes no mask or probability: it draws distinct items")
        rows = int(np.prod(self.lead)) if self.lead else 1
        keys = self.np_random.random((rows, self.num_items))
        slates = np.argsort(-keys, axis=1, kind="stable")[:, : self.k]
        return slates.reshape(self.lead + (self.k,)).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        if not super().contains(x):
            return False
        rows = np.sort(np.asarray(x).reshape(-1, self.k), axis=1)
        return bool(np.all(rows[:, 1:] != rows[:, :-1]))

    def __repr__(self) -> str:
        return f"GymSlate({self.k} of {self.num_items}{', batch ' + str(self.lead) if self.lead else ''})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, GymSlate) and (other.num_items, other.k, other.lead) == (self.num_items, self.k, self.lead)

    __hash__ = None  # type: ignore[assignment]  # mutable like its parent


@batch_space.register(GymSlate)
def _batch_slate(space: GymSlate, n: int = 1) -> GymSlate:
    return GymSlate(space.num_items, space.k, (int(n),) + space.lead, dtype=space.dtype, seed=space.np_random)
