"""Reductions over short axes, written as unrolled elementwise ops.

Environment steps reduce over short axes (the units of a SMAX battle, the channels of a spectrum band). Under
``vmap`` these become the minor axis of a ``[batch, n]`` array, and XLA:CPU (jaxlib 0.10) lowers a float
``reduce`` or ``dot`` over it to a library call (a YNNPACK fusion) or a scalar loop whose per-element cost
dwarfs the arithmetic. Written as ``n - 1`` adds, compares or selects of ``[batch]`` slices, the same work
fuses into the surrounding elementwise loop. Measured (``jit(vmap)`` over 1024 copies of a ``[6, 6]`` array,
sum over the last axis): ``jnp.sum`` 36 us, ``jnp.max`` 29 us, a mat-vec 17 us, unrolled adds 10 us.

Above ``UNROLL`` entries the plain ``jnp`` reduction is used (the unrolled graph would only slow compilation).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

#: longest axis reduced by unrolling
UNROLL = 64


def _slices(x: jax.Array, axis: int) -> list[jax.Array]:
    return [jax.lax.index_in_dim(x, j, axis, keepdims=False) for j in range(x.shape[axis])]


def _fold(x: jax.Array, axis: int, op: Callable[[jax.Array, jax.Array], jax.Array],
          reduce: Callable[..., jax.Array]) -> jax.Array:
    """``reduce(x, axis=axis)`` as ``n - 1`` elementwise ``op`` calls over the slices of a short axis."""
    if x.shape[axis] > UNROLL:
        return reduce(x, axis=axis)
    parts = _slices(x, axis)
    out = parts[0]
    for p in parts[1:]:
        out = op(out, p)
    return out


def sum_axis(x: jax.Array, axis: int = -1) -> jax.Array:
    return _fold(x, axis, jnp.add, jnp.sum)


def any_axis(x: jax.Array, axis: int = -1) -> jax.Array:
    return _fold(x, axis, jnp.logical_or, jnp.any)


def argmax_last(x: jax.Array) -> jax.Array:
    """``jnp.argmax(x, -1)`` (first maximum wins) as ``int32``; ``x`` must not hold NaN."""
    if x.shape[-1] > UNROLL:
        return jnp.argmax(x, axis=-1).astype(jnp.int32)
    parts = _slices(x, -1)
    best, idx = parts[0], jnp.zeros(parts[0].shape, jnp.int32)
    for j, p in enumerate(parts[1:], start=1):
        better = p > best
        best, idx = jnp.where(better, p, best), jnp.where(better, j, idx)
    return idx


def argmin_last(x: jax.Array) -> jax.Array:
    """``jnp.argmin(x, -1)`` (first minimum wins) as ``int32``; ``x`` must not hold NaN."""
    return argmax_last(-x)


def lookup(table: jax.Array, index: jax.Array) -> jax.Array:
    """``table[index]`` for a short 1-D ``table`` and integer ``index`` of any shape, as selects (no gather)."""
    out = jnp.full(index.shape, table[0], table.dtype)
    for k in range(1, table.shape[0]):
        out = jnp.where(index == k, table[k], out)
    return out
