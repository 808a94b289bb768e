"""A picture of one Sim2Rec user: the recent clickbait choices, engagements and satisfaction.

Bars are the clickbait score of each recommended document (1 = chocolate, 0 = kale), the dark line the
engagement it got (right axis), the green line the hidden satisfaction after the step. The side panel has the
legend, the step, the last reward and return, and the hidden user (memory discount, sensitivity, NPE) beside
the domain and its noisy proxy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting

CHOC, SAT, ENG = "#8c564b", "#2ca02c", "#1a1a1a"


def draw(env: Any, state: Any, params: Any, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    hist = np.asarray(state.history, np.float64)
    n = hist.shape[0]
    hist[: n - min(int(np.asarray(state.t)), n)] = np.nan  # rows before the first step hold no step
    x = np.arange(n) - n + 1 + int(np.asarray(state.t))
    fig = plotting.figure()
    ax = fig.add_axes((0.07, 0.12, 0.44, 0.8))
    ax.bar(x, np.nan_to_num(hist[:, 0]), color=CHOC, alpha=0.55, width=0.8)
    ax.plot(x, hist[:, 2], color=SAT, linewidth=2.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlim(max(0.5, x[0] - 0.5), max(x[-1], n) + 0.5)  # the steps taken so far (none before step 1)
    ax.set_xlabel("step")
    ax.set_ylabel("clickbait score / satisfaction")
    ax2 = ax.twinx()
    ax2.plot(x, hist[:, 1], color=ENG, linewidth=1.5, marker="o", markersize=3)
    top = max(float(np.nanmax(hist[:, 1])) if np.isfinite(hist[:, 1]).any() else 1.0, 1.0)
    ax2.set_ylim(0.0, 1.1 * top)
    ax2.set_ylabel("engagement (reward)")
    ax.set_title(f"Sim2Rec-v0 - one user, domain choc_mean {float(state.choc_mean):g} ({env.domain} domains)",
                 fontsize=11)

    handles = [Patch(facecolor=CHOC, alpha=0.55, label="clickbait of the recommended document"),
               Line2D([], [], color=ENG, marker="o", markersize=3, label="engagement (reward)"),
               Line2D([], [], color=SAT, linewidth=2.0, label="satisfaction (hidden)")]
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return)
    lines += ["", f"domain choc_mean: {float(state.choc_mean):g}  (kale {float(params.kale_mean):g})",
              f"observed proxy:   {float(state.proxy):.2f}",
              f"hidden: memory discount {float(state.memory_discount):.3f}",
              f"        sensitivity     {float(state.sensitivity):.3f}",
              f"        NPE {float(state.npe):+.2f}, satisfaction {float(state.satisfaction):.3f}"]
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
