"""Waterfall pictures (time down, channel across), rasterised with NumPy so a frame costs microseconds."""

from __future__ import annotations

import numpy as np

_BG = np.array([18, 18, 30], np.uint8)
_BUSY = np.array([150, 150, 160], np.uint8)
_COLLISION = np.array([230, 40, 40], np.uint8)
_AGENT = [np.array(c, np.uint8) for c in ((255, 255, 255), (255, 215, 0), (0, 255, 200), (255, 120, 255))]


def _palette(n: int) -> np.ndarray:
    from realax._extras import require

    matplotlib = require("matplotlib", extra="render", what="rendering")

    cmap = matplotlib.colormaps["tab10"]
    return (np.array([cmap(i % 10)[:3] for i in range(n)]) * 255).astype(np.uint8)


def waterfall_image(waterfall: np.ndarray, tx: np.ndarray, num_entities: int, classify: bool = True,
                    cell: int = 24) -> np.ndarray:
    """``uint8 [H*cell, C*cell, 3]``: entities coloured by index (grey in detect mode), collisions red,
    each radio's transmissions (``tx [H, A]``, channel + 1, 0 = silent) as a frame in its own colour."""
    H, C = waterfall.shape
    colours = np.concatenate([_BG[None], _palette(num_entities), _COLLISION[None]])
    codes = np.clip(waterfall.astype(np.int64), 0, num_entities + 1)
    if not classify:
        rgb = np.where((codes > 0)[..., None], _BUSY, _BG)
    else:
        rgb = colours[codes]
    img = np.repeat(np.repeat(rgb, cell, axis=0), cell, axis=1)
    w = max(cell // 8, 2)
    for a in range(tx.shape[1]):
        colour = _AGENT[a % len(_AGENT)]
        inset = (a % 3) * w
        for r in range(H):
            c = int(tx[r, a]) - 1
            if 0 <= c < C:
                y0, x0 = r * cell + inset, c * cell + inset
                y1, x1 = (r + 1) * cell - inset, (c + 1) * cell - inset
                img[y0:y0 + w, x0:x1] = colour
                img[y1 - w:y1, x0:x1] = colour
                img[y0:y1, x0:x0 + w] = colour
                img[y0:y1, x1 - w:x1] = colour
    return img
