"""Warehouse layouts: the static floor plan of the AGV envs, generated from a few settings or read from JSON.

A layout is a rectangular floor ``[0, width_m] x [0, height_m]`` (metres, x to the right, y up) with

- ``shelves``: axis-aligned rectangles ``[x0, y0, x1, y1]`` (racks; an episode may leave some out, see
  ``gap_prob`` in the env params);
- ``walls``: axis-aligned rectangles that are always there (the outer boundary is added by the env);
- ``depots`` and ``pick_stations``: cells ``[col, row]`` of a ``cell_m`` grid (cell ``(c, r)`` has its centre
  at ``((c + 0.5) cell_m, (r + 0.5) cell_m)``): where AGVs start and deliver, and where they pick;
- ``starts`` and ``goals``: the candidate start and goal cells of the navigation task (default: the depots
  and the pick stations).

Every start and goal cell must leave room for the AGV (a disc of the scenario's radius at the cell centre
touches no shelf, wall or map edge): otherwise the layout is refused, naming the list, the index and the cell.

``generate`` builds the usual rack-and-aisle floor (as RWARE / Jumanji RobotWarehouse, whose settings are
``shelf_rows``, ``shelf_columns``, and aisles between racks): ``shelf_rows x shelf_cols`` racks of
``shelf_length_m x shelf_depth_m``, aisles of ``aisle_m`` all around them, depots along the bottom aisle and a
pick station in the aisle above the middle of each rack. ``occupancy_grid`` rasterises a layout for grid
planners (A*).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from realax.errors import RealaxError

Rect = tuple[float, float, float, float]
Cell = tuple[int, int]

#: bounds checked before anything is built
MAX_SIDE_M = 500.0
MAX_RECTS = 256
MAX_CELLS = 1024
MAX_GRID = 200


class LayoutError(RealaxError):
    """A layout that does not follow the schema; the message names the field (and the cell)."""


@dataclasses.dataclass(frozen=True)
class Layout:
    """One warehouse floor plan (see the module docstring for the fields)."""

    name: str
    width_m: float
    height_m: float
    cell_m: float
    shelves: tuple[Rect, ...]
    walls: tuple[Rect, ...] = ()
    depots: tuple[Cell, ...] = ()
    pick_stations: tuple[Cell, ...] = ()
    starts: tuple[Cell, ...] = ()
    goals: tuple[Cell, ...] = ()

    def centre(self, cell: Cell) -> tuple[float, float]:
        """Centre ``(x, y)`` in metres of a cell ``(col, row)``."""
        return ((cell[0] + 0.5) * self.cell_m, (cell[1] + 0.5) * self.cell_m)

    def centres(self, cells: tuple[Cell, ...]) -> np.ndarray:
        """``float32 [n, 2]``: the centres of ``cells``."""
        return np.asarray([self.centre(c) for c in cells], np.float32).reshape(-1, 2)


def _fail(where: str, message: str) -> None:
    raise LayoutError(f"{where}: {message}")


def _number(where: str, key: str, v: Any, low: float, high: float, strict_low: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        _fail(where, f"{key} must be a finite number, got {v!r:.80}")
    if (v <= low if strict_low else v < low) or v > high:
        _fail(where, f"{key} must be in {'(' if strict_low else '['}{low:g}, {high:g}], got {v!r}")
    return float(v)


def _integer(where: str, key: str, v: Any, low: int, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        _fail(where, f"{key} must be a whole number in {low}..{high}, got {v!r:.80}")
    if not low <= v <= high:
        _fail(where, f"{key} must be in {low}..{high}, got {v!r}")
    return int(v)


def _rects(where: str, key: str, v: Any, width: float, height: float) -> tuple[Rect, ...]:
    if not isinstance(v, (list, tuple)) or len(v) > MAX_RECTS:
        _fail(where, f"{key} must be a list of at most {MAX_RECTS} [x0, y0, x1, y1] rectangles, got {v!r:.80}")
    out = []
    for i, r in enumerate(v):
        if not isinstance(r, (list, tuple)) or len(r) != 4:
            _fail(where, f"{key}[{i}] must be [x0, y0, x1, y1], got {r!r:.80}")
        x0, y0, x1, y1 = (_number(where, f"{key}[{i}]", x, -MAX_SIDE_M, MAX_SIDE_M) for x in r)
        if not (x0 < x1 and y0 < y1):
            _fail(where, f"{key}[{i}] = {list(r)} needs x0 < x1 and y0 < y1")
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            _fail(where, f"{key}[{i}] = {list(r)} reaches outside the {width:g} x {height:g} m map")
        out.append((x0, y0, x1, y1))
    return tuple(out)


def _cells(where: str, key: str, v: Any, cols: int, rows: int) -> tuple[Cell, ...]:
    if not isinstance(v, (list, tuple)) or len(v) > MAX_CELLS:
        _fail(where, f"{key} must be a list of at most {MAX_CELLS} [col, row] cells, got {v!r:.80}")
    out = []
    for i, c in enumerate(v):
        if not isinstance(c, (list, tuple)) or len(c) != 2:
            _fail(where, f"{key}[{i}] must be a cell [col, row], got {c!r:.80}")
        col = _integer(where, f"{key}[{i}] col", c[0], 0, cols - 1)
        row = _integer(where, f"{key}[{i}] row", c[1], 0, rows - 1)
        out.append((col, row))
    return tuple(out)


def _whole(v: Any) -> Any:
    """A float holding a whole number as that int (``2.0`` -> ``2``); anything else unchanged."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v


def rect_disc_gap(rect: Rect, x: float, y: float) -> float:
    """Distance from the point ``(x, y)`` to the rectangle (0 inside)."""
    dx = max(rect[0] - x, 0.0, x - rect[2])
    dy = max(rect[1] - y, 0.0, y - rect[3])
    return math.hypot(dx, dy)


def check_clearance(layout: Layout, radius: float, where: str = "layout") -> None:
    """Refuse a start, goal, depot or pick-station cell where a disc of ``radius`` at the cell centre would
    overlap a shelf or a wall or cross the map edge, naming the list, the index and the cell."""
    for key in ("starts", "goals", "depots", "pick_stations"):
        for i, cell in enumerate(getattr(layout, key)):
            x, y = layout.centre(cell)
            for kind in ("shelves", "walls"):
                for j, rect in enumerate(getattr(layout, kind)):
                    gap = rect_disc_gap(rect, x, y)
                    if gap < radius:
                        what = "lies inside" if gap == 0 else f"is {gap:.2f} m from (closer than the AGV radius {radius:g} m)"
                        _fail(where, f"{key}[{i}] = cell ({cell[0]}, {cell[1]}) centred at ({x:g}, {y:g}) m {what} "
                                     f"{kind}[{j}] = {list(rect)}")
            if min(x, y, layout.width_m - x, layout.height_m - y) < radius:
                _fail(where, f"{key}[{i}] = cell ({cell[0]}, {cell[1]}) centred at ({x:g}, {y:g}) m is closer than the "
                             f"AGV radius {radius:g} m to the map edge")


FIELDS = ("name", "width_m", "height_m", "cell_m", "shelves", "walls", "depots", "pick_stations", "starts", "goals")


def build(fields: dict[str, Any], where: str = "layout", radius: float = 0.0) -> Layout:
    """A ``Layout`` from a JSON object, each field checked; a ``LayoutError`` names the field, the value and
    what is allowed (and, for a start or goal in a shelf, the cell)."""
    if not isinstance(fields, dict):
        _fail(where, f"must be a JSON object of fields, got {type(fields).__name__}")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        _fail(where, f"unknown field(s) {unknown}; allowed: {sorted(FIELDS)}")
    for key in ("width_m", "height_m", "shelves", "depots", "pick_stations"):
        if key not in fields:
            _fail(where, f"missing field {key!r}")
    name = fields.get("name", "custom")
    if not isinstance(name, str):
        _fail(where, f"name must be text, got {name!r:.80}")
    width = _number(where, "width_m", fields["width_m"], 0.0, MAX_SIDE_M)
    height = _number(where, "height_m", fields["height_m"], 0.0, MAX_SIDE_M)
    cell = _number(where, "cell_m", fields.get("cell_m", 1.0), 0.0, min(width, height))
    cols, rows = int(width / cell + 1e-9), int(height / cell + 1e-9)
    if cols > MAX_GRID or rows > MAX_GRID:
        _fail(where, f"the map is {cols} x {rows} cells of cell_m = {cell:g} m; at most {MAX_GRID} per side")
    cells = {k: _cells(where, k, fields.get(k, []), cols, rows) for k in ("depots", "pick_stations", "starts", "goals")}
    layout = Layout(name=name, width_m=width, height_m=height, cell_m=cell,
                    shelves=_rects(where, "shelves", fields["shelves"], width, height),
                    walls=_rects(where, "walls", fields.get("walls", []), width, height),
                    depots=cells["depots"], pick_stations=cells["pick_stations"],
                    starts=cells["starts"] or cells["depots"], goals=cells["goals"] or cells["pick_stations"])
    if not layout.starts or not layout.goals:
        _fail(where, "needs at least one start cell (starts, or depots) and one goal cell (goals, or pick_stations)")
    check_clearance(layout, radius, where)
    return layout


def generate(shelf_rows: int = 2, shelf_cols: int = 2, shelf_length_m: float = 4.0, shelf_depth_m: float = 1.0,
             aisle_m: float = 2.0, num_depots: int = 4, width_m: float | None = None, height_m: float | None = None,
             name: str = "generated", radius: float = 0.0, where: str = "layout") -> Layout:
    """A rack-and-aisle floor on a 1 m grid: racks ``shelf_length_m x shelf_depth_m`` (whole metres) in
    ``shelf_rows`` rows and ``shelf_cols`` columns with ``aisle_m``-wide aisles around each (so the floor is
    ``aisle + cols (length + aisle)`` by ``aisle + rows (depth + aisle)`` metres, unless ``width_m`` /
    ``height_m`` ask for more; asking for less is refused); ``num_depots`` depots spread along the bottom aisle;
    one pick station in the aisle above the middle of each rack."""
    rows = _integer(where, "shelf_rows", shelf_rows, 1, 16)
    cols = _integer(where, "shelf_cols", shelf_cols, 1, 16)
    length = _integer(where, "shelf_length_m", _whole(shelf_length_m), 1, 50)
    depth = _integer(where, "shelf_depth_m", _whole(shelf_depth_m), 1, 10)
    aisle = _integer(where, "aisle_m", _whole(aisle_m), 1, 20)
    need_w, need_h = aisle + cols * (length + aisle), aisle + rows * (depth + aisle)
    width = float(need_w) if width_m is None else _number(where, "width_m", width_m, 0.0, MAX_SIDE_M)
    height = float(need_h) if height_m is None else _number(where, "height_m", height_m, 0.0, MAX_SIDE_M)
    if width < need_w or height < need_h:
        _fail(where, f"{rows} x {cols} racks of {length} x {depth} m with {aisle} m aisles need a {need_w} x {need_h} m "
                     f"map; width_m x height_m = {width:g} x {height:g} m is smaller")
    ndep = _integer(where, "num_depots", num_depots, 1, max(1, int(width) // 1))
    shelves, picks = [], []
    for r in range(rows):
        y0 = aisle + r * (depth + aisle)
        for c in range(cols):
            x0 = aisle + c * (length + aisle)
            shelves.append((float(x0), float(y0), float(x0 + length), float(y0 + depth)))
            picks.append((x0 + length // 2, y0 + depth))  # the aisle cell just above the rack's middle
    xs = np.linspace(0, int(width) - 1, ndep + 2)[1:-1] if ndep < int(width) else np.arange(int(width))
    depots = [(int(round(x)), 0) for x in xs]
    fields = {"name": name, "width_m": width, "height_m": height, "cell_m": 1.0, "shelves": shelves,
              "depots": depots, "pick_stations": picks}
    return build(fields, where, radius)


def occupancy_grid(layout: Layout, cell_m: float | None = None, inflate_m: float = 0.0,
                   shelf_on: np.ndarray | None = None) -> np.ndarray:
    """``bool [rows, cols]`` for a grid planner (A*): ``grid[r, c]`` is True when cell ``(c, r)`` (x from
    ``c cell_m``, y from ``r cell_m``; row 0 at the bottom) overlaps the inside of a shelf or wall, or when its
    centre is closer than ``inflate_m`` (e.g. the AGV radius, to plan for the AGV's centre) to a shelf, a wall
    or the map edge. ``shelf_on`` (``bool [n_shelves]``) leaves out the shelves of an episode's gaps."""
    cell = float(layout.cell_m if cell_m is None else cell_m)
    if not (math.isfinite(cell) and cell > 0):
        raise LayoutError(f"occupancy_grid: cell_m must be > 0, got {cell_m!r}")
    cols, rows = math.ceil(layout.width_m / cell - 1e-9), math.ceil(layout.height_m / cell - 1e-9)
    x0, y0 = np.arange(cols) * cell, np.arange(rows) * cell
    cx, cy = np.minimum(x0 + cell / 2, layout.width_m), np.minimum(y0 + cell / 2, layout.height_m)
    keep = np.ones(len(layout.shelves), bool) if shelf_on is None else np.asarray(shelf_on, bool)
    rects = [s for s, k in zip(layout.shelves, keep, strict=True) if k] + list(layout.walls)
    grid = np.zeros((rows, cols), bool)
    for rx0, ry0, rx1, ry1 in rects:
        grid |= ((y0 < ry1) & (y0 + cell > ry0))[:, None] & ((x0 < rx1) & (x0 + cell > rx0))[None, :]
        if inflate_m > 0:
            dx = np.maximum(np.maximum(rx0 - cx, 0.0), cx - rx1)
            dy = np.maximum(np.maximum(ry0 - cy, 0.0), cy - ry1)
            grid |= np.hypot(dy[:, None], dx[None, :]) < inflate_m
    if inflate_m > 0:
        grid |= (np.minimum(cy, layout.height_m - cy) < inflate_m)[:, None]
        grid |= (np.minimum(cx, layout.width_m - cx) < inflate_m)[None, :]
    return grid
