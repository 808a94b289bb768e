"""AGV geometry by hand: lidar ranges against walls and discs, differential-drive limits, swept collisions
that cannot tunnel, layouts refused naming the field or cell, and the occupancy grid."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realax.envs.agv import kinematics as kin
from realax.envs.agv import layout as lay
from realax.envs.agv import lidar
from realax.envs.agv.scenarios import PRESETS, ScenarioError, build
from realax.errors import RealaxError

ANG = lidar.beam_angles(8)  # -pi, -3pi/4, -pi/2, -pi/4, 0 (ahead), pi/4, pi/2, 3pi/4
COS, SIN = jnp.asarray(np.cos(ANG)), jnp.asarray(np.sin(ANG))
NO_DISCS = jnp.zeros((0, 3), jnp.float32)


@jax.jit
def _scan(pos, theta, rects, discs, max_range, res):
    return lidar.scan(pos, theta, COS, SIN, rects, discs, max_range, res)


def scan(pos, theta, rects, discs=NO_DISCS, max_range=10.0, res=0.0):
    return np.asarray(_scan(jnp.asarray(pos, jnp.float32), jnp.float32(theta), jnp.asarray(rects, jnp.float32),
                            jnp.asarray(discs, jnp.float32), jnp.float32(max_range), jnp.float32(res)))


def test_beam_angles_cover_360_degrees_with_beam_half_ahead():
    np.testing.assert_allclose(ANG, np.pi * np.array([-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75]), atol=1e-6)


def test_wall_straight_ahead_and_at_45_degrees():
    wall = [[3.0, -5.0, 4.0, 5.0]]  # its face at x = 3, 2 m ahead of (1, 1)
    r = scan([1.0, 1.0], 0.0, wall)
    assert r[4] == pytest.approx(2.0, abs=1e-5)
    assert r[5] == pytest.approx(2.0 * np.sqrt(2.0), abs=1e-5) and r[3] == pytest.approx(2.0 * np.sqrt(2.0), abs=1e-5)
    assert np.all(r[[0, 1, 2, 6, 7]] == 10.0)  # looking away or along the wall: nothing within range
    q = scan([1.0, 1.0], 0.0, wall, res=0.05)  # quantised down to the resolution: 2.828 -> 2.80
    assert q[4] == pytest.approx(2.0, abs=1e-5) and q[5] == pytest.approx(2.80, abs=1e-5)
    turned = scan([1.0, 1.0], np.pi / 2, [[-5.0, 3.5, 5.0, 4.0]])  # heading up, wall 2.5 m above
    assert turned[4] == pytest.approx(2.5, abs=1e-5) and turned[0] == 10.0
    assert scan([1.0, 1.0], 0.0, wall, max_range=1.5)[4] == pytest.approx(1.5)
    assert np.all(scan([3.5, 0.0], 0.0, wall) == 0.0)  # inside a rectangle


def test_disc_ranges_and_the_nearest_hit_wins():
    disc = [[4.0, 1.0, 0.5]]
    r = scan([1.0, 1.0], 0.0, [[8.0, -5.0, 9.0, 5.0]], disc)
    assert r[4] == pytest.approx(2.5, abs=1e-5)  # the disc's near edge, before the wall at 7 m
    off = scan([1.0, 1.0], 0.0, [[8.0, -5.0, 9.0, 5.0]], [[4.0, 1.6, 0.5]])  # beam passes 0.6 m from the centre
    assert off[4] == pytest.approx(7.0, abs=1e-5)


def test_drive_respects_velocity_and_acceleration_limits():
    one = jnp.float32(1.0)
    vel = jnp.zeros(2)
    for k in range(1, 13):
        vel = kin.drive(vel, jnp.array([5.0, -5.0]), jnp.float32(0.1), one, one, one, one)
        assert float(vel[0]) == pytest.approx(min(0.1 * k, 1.0), abs=1e-5)
        assert float(vel[1]) == pytest.approx(-min(0.1 * k, 1.0), abs=1e-5)
    back = kin.drive(vel, jnp.array([-3.0, 0.0]), jnp.float32(0.1), one, one, one, one)
    assert float(back[0]) == pytest.approx(0.9, abs=1e-5)  # braking is limited too, and v never goes below 0
    assert float(kin.drive(jnp.zeros(2), jnp.array([-3.0, 0.0]), jnp.float32(0.1), one, one, one, one)[0]) == 0.0
    delta, theta = kin.advance(jnp.zeros(2), jnp.float32(np.pi / 2), jnp.array([0.5, 1.0]), jnp.float32(0.1))
    np.testing.assert_allclose(np.asarray(delta), [0.0, 0.05], atol=1e-6)
    assert float(theta) == pytest.approx(np.pi / 2 + 0.1, abs=1e-6)


THIN = jnp.asarray([[10.0, -100.0, 10.1, 100.0]], jnp.float32)  # a 10 cm thick shelf across the whole floor


@jax.jit
def _drive_at(x, y, theta):
    """Ten steps at 20 m/s (2 m a step, 20 x the shelf's thickness) towards the thin shelf."""
    def body(pos, _):
        delta = 2.0 * jnp.stack([jnp.cos(theta), jnp.sin(theta)])
        hit = kin.sweep_rects(pos, delta, THIN, jnp.float32(0.3))
        frac = jnp.where(hit <= 1.0, jnp.maximum(hit - kin.BACKOFF_M / 2.0, 0.0), 1.0)
        pos = pos + frac * delta
        return pos, (pos, hit <= 1.0)
    return jax.lax.scan(body, jnp.stack([x, y]), None, length=10)[1]


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 9.0), st.floats(2.0, 8.0), st.floats(-1.0, 1.0))
def test_no_tunnelling_through_a_thin_shelf_at_any_speed(x, y, theta):
    pos, hit = _drive_at(jnp.float32(x), jnp.float32(y), jnp.float32(theta))
    pos, hit = np.asarray(pos), np.asarray(hit)
    assert np.all(pos[:, 0] + 0.3 <= 10.0 + 1e-4), "the AGV's disc reached into or beyond the shelf"
    assert hit.any()
    first = int(np.argmax(hit))  # stopped at the contact (1 mm short), where it stays: each later step hits at once
    assert pos[first, 0] == pytest.approx(9.7, abs=2e-3)
    np.testing.assert_allclose(pos[first:], np.broadcast_to(pos[first], pos[first:].shape), atol=2e-3)


def test_sweep_discs_meets_moving_discs_and_corners():
    # head-on at 1 m apart, closing 2 m in the step, radii summing to 0.6: contact after 0.4 m -> fraction 0.2
    t = kin.sweep_discs(jnp.array([-1.0, 0.0]), jnp.array([2.0, 0.0]), jnp.float32(0.6))
    assert float(t) == pytest.approx(0.2, abs=1e-6)
    assert float(kin.sweep_discs(jnp.array([-1.0, 0.0]), jnp.array([-2.0, 0.0]), jnp.float32(0.6))) == np.inf
    assert float(kin.sweep_discs(jnp.array([0.1, 0.0]), jnp.array([0.0, 0.0]), jnp.float32(0.6))) == 0.0
    # a disc passing a rectangle's corner diagonally touches the rounded corner, not the square one
    rect = jnp.asarray([[0.0, 0.0, 1.0, 1.0]])
    t = kin.sweep_rects(jnp.array([2.0, 2.0]), jnp.array([-1.0, -1.0]), rect, jnp.float32(0.3))
    assert float(t) == pytest.approx((np.sqrt(2.0) - 0.3) / np.sqrt(2.0), abs=1e-5)


def _floor(**fields):
    base = dict(width_m=10.0, height_m=8.0, shelves=[[2.0, 2.0, 4.0, 3.0]], depots=[[0, 0]], pick_stations=[[6, 6]])
    base.update(fields)
    return base


def test_layout_start_or_goal_inside_a_shelf_is_refused_naming_the_cell():
    with pytest.raises(lay.LayoutError, match=r"starts\[1\] = cell \(3, 2\) centred at \(3\.5, 2\.5\) m lies inside "
                                              r"shelves\[0\]"):
        lay.build(_floor(starts=[[0, 0], [3, 2]]), radius=0.3)
    with pytest.raises(lay.LayoutError, match=r"goals\[0\] = cell \(4, 2\) centred at \(4\.5, 2\.5\) m is 0\.50 m from "
                                              r"\(closer than the AGV radius 0\.6 m\) shelves\[0\]"):
        lay.build(_floor(depots=[[1, 1]], goals=[[4, 2]]), radius=0.6)
    with pytest.raises(lay.LayoutError, match=r"depots\[0\] = cell \(9, 6\) .* map edge"):
        lay.build(_floor(starts=[[1, 1]], depots=[[9, 6]]), radius=0.6)


@pytest.mark.parametrize("fields, message", [
    (_floor(shelves=[[8.0, 1.0, 12.0, 2.0]]), r"shelves\[0\] = .* reaches outside the 10 x 8 m map"),
    (_floor(width_m=-3.0), r"width_m must be in \(0, 500\]"),
    (_floor(depots=[[10, 0]]), r"depots\[0\] col must be in 0\.\.9"),
    (_floor(shelves=[[3.0, 2.0, 2.0, 3.0]]), r"needs x0 < x1"),
    (_floor(cell_m=0.0), r"cell_m must be in \(0, 8\]"),
    (_floor(depots=[], pick_stations=[]), r"at least one start cell"),
    ({**_floor(), "doors": 1}, r"unknown field\(s\) \['doors'\]"),
])
def test_layout_fields_are_checked(fields, message):
    with pytest.raises(lay.LayoutError, match=message):
        lay.build(fields, radius=0.3)


@pytest.mark.parametrize("fields, message", [
    ({"v_max_mps": -1.0}, r"v_max_mps must be in \(0, 100\]"),
    ({"w_acc_radps2": 0}, r"w_acc_radps2 must be in \(0, 1000\]"),
    ({"lidar_resolution_m": -0.1}, r"lidar_resolution_m must be in \[0, 10\]"),
    ({"yield_m": -0.5}, r"yield_m must be in \[0, 100\]"),
    ({"gap_prob": 1.5}, r"gap_prob must be in \[0, 1\]"),
    ({"max_steps": 0}, r"max_steps must be in 1\.\."),
    ({"shelf_rows": 3, "height_m": 8.0}, r"need a 14 x 11 m map; width_m x height_m = 14 x 8 m is smaller"),
    ({"obstacles": [[1, 1, 30, 1, 0.5, 0.3]]}, r"obstacles\[0\] path point \(30, 1\) is outside"),
    ({"obstacles": [[1, 1, 3, 1, -0.5, 0.3]]}, r"obstacles\[0\] speed_mps must be in \[0, 100\]"),
    ({"layout": _floor(), "aisle_m": 3}, r"either layout or the generator fields"),
    ({"speed": 1}, r"unknown field\(s\) \['speed'\]"),
])
def test_scenario_fields_are_checked(fields, message):
    with pytest.raises(ScenarioError, match=message):
        build(fields)
    assert issubclass(ScenarioError, RealaxError)


def test_generated_layouts_and_the_occupancy_grid():
    simple = PRESETS["simple_static"].layout
    assert (simple.width_m, simple.height_m, len(simple.shelves)) == (14.0, 8.0, 4)
    assert len(PRESETS["complex_static"].layout.shelves) == 12
    grid = lay.occupancy_grid(simple)
    assert grid.shape == (8, 14)
    assert grid[2, 2:6].all() and grid[5, 8:12].all() and not grid[2, 6:8].any() and not grid[3:5].any()
    assert grid.sum() == 4 * 4
    inflated = lay.occupancy_grid(simple, inflate_m=0.3)  # aisle cell centres are 0.5 m from a shelf: still free
    np.testing.assert_array_equal(inflated, grid)
    wide = lay.occupancy_grid(simple, inflate_m=0.6)  # cells beside a rack (0.5 m) are now too close; diagonal
    assert wide[3, 2:6].all() and wide[1, 2:6].all() and not wide[3, 6:8].any() and wide[3, 0]  # (0.71 m) not

    fine = lay.occupancy_grid(simple, cell_m=0.5)
    assert fine.shape == (16, 28) and fine.sum() == 4 * 4 * 4
    gaps = lay.occupancy_grid(simple, shelf_on=np.array([False, True, True, True]))
    assert not gaps[2, 2:6].any()
    with pytest.raises(lay.LayoutError, match="cell_m must be > 0"):
        lay.occupancy_grid(simple, cell_m=0.0)
