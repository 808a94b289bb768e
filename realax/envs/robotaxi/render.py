"""A picture of the fleet: regions at their layout positions (``params.xy``), idle vehicles as blue discs
(area proportional to the count), last step's lost requests as red rings, last step's rebalancing flows as
orange lines (darker for more vehicles). Plain NumPy rasterisation, no matplotlib in the frame path."""

from __future__ import annotations

from typing import Any

import numpy as np

SIZE = 256
MARGIN = 28
BLUE, RED, ORANGE, GREY = (40, 90, 200), (210, 40, 40), (240, 150, 20), (200, 200, 200)


def _line(img: np.ndarray, p: np.ndarray, q: np.ndarray, color: tuple[int, ...], width: int) -> None:
    k = int(max(abs(q - p).max(), 1))
    pts = np.round(p + (q - p) * np.linspace(0, 1, k + 1)[:, None]).astype(int)
    for dx in range(-(width // 2), width // 2 + 1):
        for dy in range(-(width // 2), width // 2 + 1):
            x = np.clip(pts[:, 0] + dx, 0, SIZE - 1)
            y = np.clip(pts[:, 1] + dy, 0, SIZE - 1)
            img[y, x] = color


def draw(state: Any, params: Any) -> np.ndarray:
    """``uint8 [256, 256, 3]``."""
    mask = np.asarray(params.mask)
    xy = np.asarray(params.xy)[mask] * (SIZE - 2 * MARGIN) + MARGIN
    idle = np.asarray(state.idle)[mask].astype(float)
    lost = np.asarray(state.unserved)[mask].astype(float)
    flows = np.asarray(state.flows)[np.ix_(mask, mask)]
    img = np.full((SIZE, SIZE, 3), 255, np.uint8)
    top = max(flows.max(initial=0), 1)
    for i, j in zip(*np.nonzero(flows), strict=True):
        shade = 0.35 + 0.65 * flows[i, j] / top
        color = tuple(int(255 - shade * (255 - c)) for c in ORANGE)
        _line(img, xy[i], xy[j], color, 1 + int(2 * flows[i, j] / top))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    scale = max(idle.max(initial=0), lost.max(initial=0), 1)
    for (x, y), v, u in zip(xy, idle, lost, strict=True):
        d2 = (xx - x) ** 2 + (yy - y) ** 2
        img[d2 <= 9] = GREY  # the region itself
        r = 3 + 15 * np.sqrt(v / scale)
        img[d2 <= r * r] = BLUE
        if u > 0:
            ru = 4 + 15 * np.sqrt(u / scale)
            img[(d2 <= (ru + 1.5) ** 2) & (d2 >= (ru - 0.5) ** 2)] = RED
    return img
