"""Spaces: what actions and observations look like, with JAX sampling and Gymnasium conversion.

Each space knows its shape and dtype, can draw a random element with a PRNG key, can say whether an
array lies inside it, and converts itself to the matching ``gymnasium.spaces`` object for the adapters.
"""

from __future__ import annotations

import abc
import numbers
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from realax.errors import RealaxError

if TYPE_CHECKING:
    import gymnasium
    from jax.typing import DTypeLike


class Space(abc.ABC):
    shape: tuple[int, ...]
    dtype: Any

    @abc.abstractmethod
    def sample(self, key: jax.Array) -> jax.Array:
        """A uniformly random element."""

    @abc.abstractmethod
    def contains(self, x: Any) -> bool:
        """Whether ``x`` (any array-like) lies in the space, dtype kind and shape included."""

    @abc.abstractmethod
    def to_gymnasium(self) -> gymnasium.spaces.Space:
        """The equivalent ``gymnasium.spaces`` object."""

    @property
    def is_integer(self) -> bool:
        return np.issubdtype(np.dtype(self.dtype), np.integer)

    @abc.abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of every cell, inclusive, broadcastable to ``shape``."""

    def check(self, x: Any, lead: tuple[int, ...] = (), what: str = "action") -> np.ndarray:
        """``x`` as a NumPy array of this space's dtype, with ``lead`` leading axes (agents, a batch), or a
        ``RealaxError`` naming ``what``, the value and the space: not numbers (text, None, objects, ragged
        lists), the wrong shape, NaN or infinity, a fraction where the space holds integers, or a value
        outside the space. The one check the adapters and ``Environment.validate_action`` share."""
        return check_in_space(self, x, tuple(lead), what)


class Discrete(Space):
    """Integers ``0 .. n-1``."""

    def __init__(self, n: int, dtype: DTypeLike = jnp.int32):
        if int(n) < 1:
            raise RealaxError(f"Discrete space needs n >= 1, got {n}")
        self.n = int(n)
        self.shape = ()
        self.dtype = dtype

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, (), 0, self.n, dtype=self.dtype)

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        return x.shape == () and np.issubdtype(x.dtype, np.integer) and 0 <= int(x) < self.n

    def to_gymnasium(self) -> gymnasium.spaces.Discrete:
        import gymnasium

        return gymnasium.spaces.Discrete(self.n)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(0), np.asarray(self.n - 1)

    def __repr__(self) -> str:
        return f"Discrete({self.n})"


class MultiDiscrete(Space):
    """An array of integers, entry ``i`` in ``0 .. nvec[i]-1``."""

    def __init__(self, nvec: Any, dtype: DTypeLike = jnp.int32):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        if np.any(self.nvec < 1):
            raise RealaxError(f"MultiDiscrete needs every nvec >= 1, got {self.nvec}")
        self.shape = self.nvec.shape
        self.dtype = dtype

    def sample(self, key: jax.Array) -> jax.Array:
        u = jax.random.uniform(key, self.shape)
        return jnp.floor(u * jnp.asarray(self.nvec)).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        return (x.shape == self.shape and np.issubdtype(x.dtype, np.integer)
                and bool(np.all((x >= 0) & (x < self.nvec))))

    def to_gymnasium(self) -> gymnasium.spaces.MultiDiscrete:
        import gymnasium

        return gymnasium.spaces.MultiDiscrete(self.nvec, dtype=np.dtype(self.dtype))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros_like(self.nvec), self.nvec - 1

    def __repr__(self) -> str:
        return f"MultiDiscrete({self.nvec.tolist()})"


class Slate(MultiDiscrete):
    """``k`` distinct integers in ``0 .. n-1``: a slate of ``k`` items picked from ``n`` candidates, in order.

    A ``MultiDiscrete([n] * k)`` whose elements hold no repeated entry: ``sample`` draws an ordered slate
    uniformly without replacement, ``contains`` and ``check`` refuse repeats (``check`` names the repeated
    item and its positions). Learners that treat it as ``MultiDiscrete`` still work; the environment masks
    repeats inside ``jit``. Gymnasium sees a ``MultiDiscrete`` subclass with the same sampling and check
    (``realax._gym_spaces.GymSlate``), which ``batch_space`` keeps for vector envs.
    """

    def __init__(self, n: int, k: int, dtype: DTypeLike = jnp.int32):
        n, k = int(n), int(k)
        if not 1 <= k <= n:
            raise RealaxError(f"Slate needs 1 <= k <= n (k distinct items of n candidates), got k={k}, n={n}")
        super().__init__(np.full(k, n), dtype)
        self.num_items, self.k = n, k  # no ``n`` attribute: code tells ``Discrete`` apart by it

    def sample(self, key: jax.Array) -> jax.Array:
        # the k largest of n independent uniforms sit at a uniformly random ordered k-subset of the places
        u = jax.random.uniform(key, (self.num_items,))
        if self.num_items > 32:
            return jax.lax.top_k(u, self.k)[1].astype(self.dtype)
        # few candidates: each item's rank from n^2 comparisons (ties: lower index first, as top_k), then the
        # items of rank 0..k-1. The same slate as top_k, in half its time under vmap on CPU (no sort kernel)
        i = jnp.arange(self.num_items)
        above = (u[None, :] > u[:, None]) | ((u[None, :] == u[:, None]) & (i[None, :] < i[:, None]))
        rank = jnp.sum(above, axis=1)
        return jnp.argmax(rank[None, :] == jnp.arange(self.k)[:, None], axis=1).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        return super().contains(x) and len(np.unique(np.asarray(x))) == self.k

    def check(self, x: Any, lead: tuple[int, ...] = (), what: str = "action") -> np.ndarray:
        a = check_in_space(self, x, tuple(lead), what)
        flat = a.reshape(-1, self.k)
        for row, slate in enumerate(flat):
            values, counts = np.unique(slate, return_counts=True)
            if np.any(counts > 1):
                item = int(values[np.argmax(counts > 1)])
                where = np.flatnonzero(slate == item).tolist()
                at = f" (row {tuple(int(i) for i in np.unravel_index(row, lead))})" if lead else ""
                raise RealaxError(f"{what} {_short(x)}{at} repeats item {item} at slate positions {where}; a slate "
                                  f"holds {self.k} distinct candidate indices in 0..{self.num_items - 1} ({self})")
        return a

    def to_gymnasium(self) -> gymnasium.spaces.MultiDiscrete:
        from realax._gym_spaces import GymSlate

        return GymSlate(self.num_items, self.k, dtype=np.dtype(self.dtype))

    def __repr__(self) -> str:
        return f"Slate({self.k} of {self.num_items})"


class Box(Space):
    """A box ``low <= x <= high`` of a given shape; integer dtypes mean integer-valued cells."""

    def __init__(self, low: Any, high: Any, shape: tuple[int, ...], dtype: DTypeLike = jnp.float32):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = dtype
        self.low = np.broadcast_to(np.asarray(low, dtype=np.dtype(dtype)), self.shape)
        self.high = np.broadcast_to(np.asarray(high, dtype=np.dtype(dtype)), self.shape)
        if np.any(self.low > self.high):
            raise RealaxError("Box needs low <= high everywhere")

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.low, self.high

    def sample(self, key: jax.Array) -> jax.Array:
        if self.is_integer:
            u = jax.random.uniform(key, self.shape)
            span = jnp.asarray(self.high, jnp.float32) - jnp.asarray(self.low, jnp.float32) + 1
            return (jnp.asarray(self.low, jnp.float32) + jnp.floor(u * span)).astype(self.dtype)
        low = jnp.where(jnp.isfinite(self.low), self.low, -1.0)
        high = jnp.where(jnp.isfinite(self.high), self.high, 1.0)
        return jax.random.uniform(key, self.shape, minval=low, maxval=high).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        return (x.shape == self.shape and bool(np.all(np.isfinite(x) if not self.is_integer else True))
                and bool(np.all((x >= self.low) & (x <= self.high))))

    def to_gymnasium(self) -> gymnasium.spaces.Box:
        import gymnasium

        return gymnasium.spaces.Box(self.low, self.high, self.shape, dtype=np.dtype(self.dtype))

    def __repr__(self) -> str:
        lo, hi = self.low.min(), self.high.max()
        return f"Box({lo}, {hi}, {self.shape}, {np.dtype(self.dtype).name})"


class Simplex(Box):
    """A distribution over ``n`` places (e.g. where to send a fleet): a ``Box(0, 1, (n,))`` whose points the
    environment reads as weights and normalises. ``sample`` draws uniformly from the simplex (Dirichlet(1));
    policy-gradient agents use a Dirichlet policy on it (``realax.agents.distributions``). Gymnasium sees
    the ``Box``."""

    def __init__(self, n: int):
        super().__init__(0.0, 1.0, (int(n),), jnp.float32)

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.dirichlet(key, jnp.ones(self.shape)).astype(jnp.float32)

    def __repr__(self) -> str:
        return f"Simplex({self.shape[0]})"


def _short(x: Any, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_numbers(x: Any, what: str, space: Space) -> np.ndarray:
    """``x`` as a numeric array (bool, int, uint or float), or a ``RealaxError`` saying it is not numbers."""
    bad = RealaxError(f"{what} {_short(x)} is not a number or an array of numbers; expected an element of {space}")
    if isinstance(x, (str, bytes)) or x is None:
        raise bad
    try:
        a = np.asarray(x)
    except (TypeError, ValueError, OverflowError):  # ragged lists, objects numpy cannot read
        raise bad from None
    if a.dtype == object:  # Python ints beyond int64 are numbers too: read them as floats (range-checked below)
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in a.ravel().tolist()):
            raise bad
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
    if a.dtype.kind not in "iuf":
        raise bad
    return a


def check_in_space(space: Space, x: Any, lead: tuple[int, ...], what: str) -> np.ndarray:
    """See ``Space.check``."""
    a = _as_numbers(x, what, space)
    if a.shape != lead + tuple(space.shape):
        raise RealaxError(f"{what} {_short(x)} has shape {a.shape}; expected shape {lead + tuple(space.shape)} "
                          f"({'leading axes ' + str(lead) + ' of ' if lead else ''}{space})")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise RealaxError(f"{what} {_short(x)} contains NaN or infinity; expected an element of {space}")
    if space.is_integer and a.dtype.kind == "f" and not np.all(a == np.floor(a)):
        raise RealaxError(f"{what} {_short(x)} is not a whole number; {space} holds integers")
    low, high = space.bounds()
    if not np.all((a >= low) & (a <= high)):
        kind = "the action space" if what.startswith("action") else "the space"
        raise RealaxError(f"{what} {_short(x)} is outside {kind} {space}: allowed {np.min(low)}..{np.max(high)}")
    return a.astype(np.dtype(space.dtype))
