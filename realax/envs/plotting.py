"""Shared pieces of the family renderers (``render(state, params, *, reward=None, episode_return=None)``).

Pictures are drawn with matplotlib's object API on an Agg canvas (no ``pyplot``: no global figure list, no
GUI backend, safe beside a user's own plots) and returned as ``uint8 [H, W, 3]``. Every frame of one env has
the same size, so frames stack into a GIF or a ``gymnasium.wrappers.RecordVideo`` video. Layout shared by the
families: the picture on the left with labelled axes, a side panel on the right with the legend and a status
box (step, last reward, episode return so far, family facts).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from realax._extras import require

DPI = 100
#: pixel size of every frame (width >= 640, issue 10 item 8)
WIDTH, HEIGHT = 960, 540
#: the status box's colours
PANEL_BG, TEXT = "#e9e9f0", "#1a1a1a"


def need_matplotlib() -> None:
    """Every picture is drawn with matplotlib (the ``[render]`` extra): without it, say which extra to install.
    Called first by each family's ``draw``, whatever was imported before."""
    require("matplotlib", extra="render", what="rendering")


def figure(width: int = WIDTH, height: int = HEIGHT) -> Any:
    """A blank matplotlib ``Figure`` of ``width x height`` pixels on its own Agg canvas."""
    need_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def to_rgb(fig: Any) -> np.ndarray:
    """The drawn figure as ``uint8 [H, W, 3]``."""
    fig.canvas.draw()
    return np.array(fig.canvas.buffer_rgba(), dtype=np.uint8)[..., :3]


def number(value: Any, digits: int = 2) -> str:
    """``+1.25``; ``-`` for None; several values (one per agent) joined, with ``...`` past eight."""
    if value is None:
        return "-"
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        return "-"
    text = [f"{v:+.{digits}f}" if np.isfinite(v) else str(v) for v in arr[:8]]
    return ("[" + ", ".join(text) + (", ..." if arr.size > 8 else "") + "]") if arr.size > 1 else text[0]


def status_lines(step: Any, max_steps: Any, reward: Any, episode_return: Any,
                 names: Sequence[str] | None = None, extra: Sequence[str] | None = None) -> list[str]:
    """The lines every family prints first: the step, then the last reward and the episode return so far --
    one line each for a scalar, a table with a row per agent (``names``, at most eight) for ``[A]`` values;
    ``extra[i]`` adds a column (e.g. each agent's reward rule)."""
    lines = [f"step {int(np.asarray(step))} / {int(np.asarray(max_steps))}"]
    r = None if reward is None else np.asarray(reward, np.float64).reshape(-1)
    g = None if episode_return is None else np.asarray(episode_return, np.float64).reshape(-1)
    size = max(0 if r is None else r.size, 0 if g is None else g.size)
    if names is None or size <= 1 and len(names) <= 1:
        return lines + [f"last reward:    {number(reward)}", f"episode return: {number(episode_return)}"]
    width = max(len(n) for n in names)
    lines.append(f"{'':{width}}  {'reward':>7}  {'return':>8}" + ("  rule" if extra else ""))
    for i, name in enumerate(names[:8]):
        rv = number(None if r is None else r[min(i, r.size - 1)])
        gv = number(None if g is None else g[min(i, g.size - 1)])
        lines.append(f"{name:{width}}  {rv:>7}  {gv:>8}" + (f"  {extra[i]}" if extra else ""))
    if len(names) > 8:
        lines.append(f"... {len(names) - 8} more")
    return lines


def outline_handle(background: str, colour: str, label: str) -> "_Labelled":
    """A legend entry: a square outline in ``colour`` on a ``background`` square (e.g. white on dark)."""
    from matplotlib.lines import Line2D

    back = Line2D([], [], marker="s", markersize=15, markerfacecolor=background, markeredgecolor=background,
                  linestyle="none")
    ring = Line2D([], [], marker="s", markersize=9, markerfacecolor="none", markeredgecolor=colour,
                  markeredgewidth=2.0, linestyle="none")
    return _Labelled((back, ring), label)


class _Labelled(tuple):
    """A tuple of artists drawn on top of each other as one legend entry (``HandlerTuple``) with a label."""

    label: str

    def __new__(cls, artists: tuple, label: str) -> "_Labelled":
        obj = super().__new__(cls, artists)
        obj.label = label
        return obj


def side_panel(fig: Any, handles: Sequence, lines: Sequence[str], left: float, title: str = "legend") -> Any:
    """A legend of ``handles`` (matplotlib artists with labels) above a status box of ``lines``, in the figure
    area right of ``left`` (a fraction of the width)."""
    import textwrap

    ax = fig.add_axes((left, 0.02, 0.99 - left, 0.96))
    ax.set_axis_off()
    chars = int((0.99 - left) * fig.get_figwidth() * DPI / 7.9) - 2  # monospace 9.5 pt: ~7.9 px a character
    lines = [w for line in lines for w in (textwrap.wrap(line, chars, subsequent_indent="    ") or [""])]
    ax.text(0.0, 0.99, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=9.5, color=TEXT,
            transform=ax.transAxes, bbox=dict(boxstyle="round,pad=0.5", facecolor=PANEL_BG, edgecolor="#9a9aa8"))
    if handles:
        labels = [h.label if isinstance(h, _Labelled) else h.get_label() for h in handles]
        handles = [tuple(h) if isinstance(h, _Labelled) else h for h in handles]
        ax.legend(handles=handles, labels=labels, loc="lower left", bbox_to_anchor=(0.0, 0.0), frameon=True, fontsize=8.5,
                  title=title, title_fontsize=9, borderaxespad=0.0, handlelength=2.0, labelspacing=0.45,
                  facecolor=PANEL_BG, edgecolor="#9a9aa8", framealpha=1.0)
    return ax
