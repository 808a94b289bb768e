"""Lidar by exact ray casting: every beam against every rectangle (slab method) and disc in one broadcast.

JaxNav (JaxMARL ``jaxnav_env.py``, ``_lidar_sense``) marches ``max_range / resolution`` sample points along
each beam and tests each against the occupancy grid: ``beams x samples`` point tests per scan. Here each beam
meets each axis-aligned rectangle in closed form (Kay and Kajiya's slab method: the ray's parameter interval
inside the x slab intersected with the one inside the y slab) and each disc by the quadratic of ``|p + t d -
c| = r``, so a scan costs ``beams x (rectangles + discs)`` small arithmetic ops, with no loop over beams and no
while loop. The nearest hit is clipped at ``max_range`` and quantised down to the ``resolution`` grid
(``floor(d / res) res``, so a reported range never lies beyond the surface; JaxNav's marching reports the first
sample inside an obstacle, i.e. rounds up).

A ray starting inside an obstacle reports 0. Rectangles that are not there in an episode are moved far away
(``FAR``) by the caller, so shapes never change.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: direction components smaller than this are treated as this (a ray parallel to a slab never enters it)
EPS = 1e-9
#: where absent rectangles and discs are put: beyond any range
FAR = 1e6


def beam_angles(num_beams: int) -> np.ndarray:
    """``float32 [B]``: 360 degrees evenly, ``-pi + 2 pi k / B`` relative to the heading, so beam ``B // 2``
    (for even ``B``) looks straight ahead and beam 0 straight back. (JaxNav uses ``linspace(-pi, pi, B)``,
    which counts the rear beam twice.)"""
    return (-np.pi + 2.0 * np.pi * np.arange(num_beams) / num_beams).astype(np.float32)


def _safe(d: jax.Array) -> jax.Array:
    return jnp.where(jnp.abs(d) < EPS, jnp.where(d < 0, -EPS, EPS), d)


def ray_rects(px: jax.Array, py: jax.Array, dx: jax.Array, dy: jax.Array, rects: jax.Array) -> jax.Array:
    """``[B]`` the smallest ``t >= 0`` with ``p + t d`` in one of ``rects [R, 4]`` (``x0, y0, x1, y1``), for rays
    from one point ``(px, py)`` along directions ``(dx, dy) [B]`` (not necessarily unit: ``t`` is in units of
    ``|d|``); ``inf`` when a ray meets none; 0 when ``p`` is inside one."""
    ix, iy = 1.0 / _safe(dx), 1.0 / _safe(dy)
    tx0 = (rects[:, 0] - px)[None, :] * ix[:, None]
    tx1 = (rects[:, 2] - px)[None, :] * ix[:, None]
    ty0 = (rects[:, 1] - py)[None, :] * iy[:, None]
    ty1 = (rects[:, 3] - py)[None, :] * iy[:, None]
    t_in = jnp.maximum(jnp.minimum(tx0, tx1), jnp.minimum(ty0, ty1))
    t_out = jnp.minimum(jnp.maximum(tx0, tx1), jnp.maximum(ty0, ty1))
    t = jnp.where((t_out >= t_in) & (t_out >= 0.0), jnp.maximum(t_in, 0.0), jnp.inf)
    return jnp.min(t, axis=1) if rects.shape[0] else jnp.full(dx.shape, jnp.inf)


def ray_discs(px: jax.Array, py: jax.Array, dx: jax.Array, dy: jax.Array, discs: jax.Array) -> jax.Array:
    """``[B]`` like ``ray_rects`` for discs ``[O, 3]`` (``cx, cy, radius``) and unit directions ``(dx, dy) [B]``."""
    if discs.shape[0] == 0:
        return jnp.full(dx.shape, jnp.inf)
    mx, my = px - discs[:, 0], py - discs[:, 1]
    b = dx[:, None] * mx[None, :] + dy[:, None] * my[None, :]  # [B, O]
    c = mx * mx + my * my - discs[:, 2] ** 2  # [O]
    disc = b * b - c[None, :]
    root = jnp.sqrt(jnp.maximum(disc, 0.0))
    t = jnp.where((disc >= 0.0) & (root - b >= 0.0), jnp.maximum(-b - root, 0.0), jnp.inf)
    return jnp.min(t, axis=1)


def scan(pos: jax.Array, theta: jax.Array, cos_a: jax.Array, sin_a: jax.Array, rects: jax.Array, discs: jax.Array,
         max_range: jax.Array, resolution: jax.Array) -> jax.Array:
    """``float32 [B]`` lidar ranges in metres from ``pos [2]`` with heading ``theta``, beams at angles whose
    cosines and sines are ``cos_a, sin_a [B]`` (precomputed: only one cos and sin of the heading per scan),
    against ``rects [R, 4]`` and ``discs [O, 3]``; clipped at ``max_range`` and quantised down to
    ``resolution`` (0 = exact)."""
    ct, st = jnp.cos(theta), jnp.sin(theta)
    dx, dy = ct * cos_a - st * sin_a, st * cos_a + ct * sin_a
    d = jnp.minimum(ray_rects(pos[0], pos[1], dx, dy, rects), ray_discs(pos[0], pos[1], dx, dy, discs))
    d = jnp.minimum(d, max_range)
    # a product with the reciprocal, not a division: inside jit XLA turns a division by a constant into that
    # product, so the two spellings would round differently between a jitted and an eager call
    q = jnp.where(resolution > 0, jnp.floor(d * (1.0 / jnp.maximum(resolution, 1e-12)) + 1e-4) * resolution, d)
    return jnp.minimum(q, max_range).astype(jnp.float32)
