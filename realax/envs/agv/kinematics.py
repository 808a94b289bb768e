"""Differential-drive motion and collisions that cannot tunnel.

Motion (JaxNav, JaxMARL ``jaxnav_env.py`` ``update_state``): the action commands a linear velocity ``v`` and
an angular velocity ``w``; each is reached as far as the acceleration limits allow in one step of ``dt``
seconds and clipped to ``v in [0, v_max]``, ``w in [-w_max, w_max]``; then the pose moves by explicit Euler,
``x += v cos(theta) dt``, ``y += v sin(theta) dt``, ``theta += w dt`` (heading wrapped to ``[-pi, pi)``).
JaxNav's numbers are the presets': ``dt = 0.1 s``, ``v_max = 1 m/s``, ``w_max = 1 rad/s``, both accelerations
1 (m/s^2, rad/s^2).

Collisions are swept, not sampled: the AGV is a disc of radius ``r`` moving along the straight segment of its
step, so it hits a rectangle exactly when the segment's start point, moving along it, enters the rectangle
grown by ``r`` (a rounded rectangle = the rectangle grown by ``r`` in x, the one grown in y, and discs of
radius ``r`` at the four corners), and it hits a disc (a moving obstacle or another AGV, radius ``q``) when the
relative motion brings the centres within ``r + q``. The first contact along the step is found in closed
form (``lidar.ray_rects`` and the quadratic below), whatever the speed, so a fast AGV cannot jump through a
thin shelf; the AGV stops 1 mm short of the contact.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.envs.agv.lidar import ray_rects

#: how far short of a contact a colliding AGV is left (metres)
BACKOFF_M = 1e-3


def drive(vel: jax.Array, cmd: jax.Array, dt: jax.Array, v_max: jax.Array, w_max: jax.Array, v_acc: jax.Array,
          w_acc: jax.Array) -> jax.Array:
    """``[..., 2]`` the velocities ``(v, w)`` after one step towards the commanded ``cmd [..., 2]``."""
    dv = jnp.clip(cmd[..., 0] - vel[..., 0], -v_acc * dt, v_acc * dt)
    dw = jnp.clip(cmd[..., 1] - vel[..., 1], -w_acc * dt, w_acc * dt)
    v = jnp.clip(vel[..., 0] + dv, 0.0, v_max)
    w = jnp.clip(vel[..., 1] + dw, -w_max, w_max)
    return jnp.stack([v, w], axis=-1)


def wrap(theta: jax.Array) -> jax.Array:
    """An angle in ``[-pi, pi)``."""
    return jnp.mod(theta + jnp.pi, 2.0 * jnp.pi) - jnp.pi


def advance(pos: jax.Array, theta: jax.Array, vel: jax.Array, dt: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(delta [..., 2], new theta)``: the Euler step's displacement (along the old heading) and heading."""
    v = vel[..., 0] * dt
    delta = jnp.stack([v * jnp.cos(theta), v * jnp.sin(theta)], axis=-1)
    return delta, wrap(theta + vel[..., 1] * dt)


def sweep_discs(rel0: jax.Array, rel_delta: jax.Array, radius: jax.Array) -> jax.Array:
    """``[...]`` the first fraction ``t >= 0`` of a step at which two discs touch, from their relative
    position ``rel0 [..., 2]`` at the start, relative displacement ``rel_delta [..., 2]`` over the step and
    summed radii ``radius [...]``: 0 when they already overlap, ``inf`` when they never meet moving so."""
    a = jnp.sum(rel_delta * rel_delta, axis=-1)
    b = jnp.sum(rel0 * rel_delta, axis=-1)
    c = jnp.sum(rel0 * rel0, axis=-1) - radius * radius
    disc = b * b - a * c
    t = (-b - jnp.sqrt(jnp.maximum(disc, 0.0))) / jnp.maximum(a, 1e-12)
    meet = (a > 1e-12) & (disc >= 0.0) & (b < 0.0)
    return jnp.where(c <= 0.0, 0.0, jnp.where(meet, jnp.maximum(t, 0.0), jnp.inf))


def sweep_rects(pos: jax.Array, delta: jax.Array, rects: jax.Array, radius: jax.Array) -> jax.Array:
    """``[]`` the first fraction ``t >= 0`` of the step ``pos -> pos + delta`` at which a disc of ``radius``
    touches one of ``rects [R, 4]`` (``inf`` if never along the line; 0 if it already overlaps one)."""
    grow_x = rects + jnp.stack([-radius, 0.0 * radius, radius, 0.0 * radius])
    grow_y = rects + jnp.stack([0.0 * radius, -radius, 0.0 * radius, radius])
    t_box = ray_rects(pos[0], pos[1], delta[0:1], delta[1:2], jnp.concatenate([grow_x, grow_y]))[0]
    corners = jnp.concatenate([rects[:, 0:2], rects[:, 2:4], rects[:, [0, 3]], rects[:, [2, 1]]])  # [4R, 2]
    t_corner = jnp.min(sweep_discs(pos - corners, jnp.broadcast_to(delta, corners.shape), radius), initial=jnp.inf)
    return jnp.minimum(t_box, t_corner)


def clearance(pos: jax.Array, rects: jax.Array, discs: jax.Array) -> jax.Array:
    """``[]`` the distance from the point ``pos [2]`` to the nearest of ``rects [R, 4]`` and the edges of
    ``discs [O, 3]`` (negative inside a disc, 0 inside a rectangle)."""
    dx = jnp.maximum(jnp.maximum(rects[:, 0] - pos[0], 0.0), pos[0] - rects[:, 2])
    dy = jnp.maximum(jnp.maximum(rects[:, 1] - pos[1], 0.0), pos[1] - rects[:, 3])
    d = jnp.min(jnp.sqrt(dx * dx + dy * dy), initial=jnp.inf)
    if discs.shape[0]:
        d = jnp.minimum(d, jnp.min(jnp.linalg.norm(pos - discs[:, :2], axis=-1) - discs[:, 2]))
    return d


def segment_point_distance(p0: jax.Array, delta: jax.Array, q: jax.Array) -> jax.Array:
    """``[...]`` the distance from points ``q [..., 2]`` to the segments ``p0 -> p0 + delta`` (``[..., 2]``): the
    goal test along the whole step, so a fast AGV cannot pass over its goal between two samples."""
    s = jnp.clip(jnp.sum((q - p0) * delta, axis=-1) / jnp.maximum(jnp.sum(delta * delta, axis=-1), 1e-12), 0.0, 1.0)
    return jnp.linalg.norm(p0 + s[..., None] * delta - q, axis=-1)


def triangle(phase: jax.Array) -> jax.Array:
    """Position along a back-and-forth path, in [0, 1], of a phase in [0, 2): out on [0, 1], back on [1, 2)."""
    return 1.0 - jnp.abs(1.0 - phase)


def obstacle_positions(path: jax.Array, phase: jax.Array) -> jax.Array:
    """``[O, 2]`` scripted obstacles walking back and forth along ``path [O, 4]`` (``x0, y0, x1, y1``)."""
    s = triangle(phase)[:, None]
    return path[:, 0:2] + s * (path[:, 2:4] - path[:, 0:2])
