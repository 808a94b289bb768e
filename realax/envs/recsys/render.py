"""A picture of a SlateRec user: latent interest per topic, this step's candidates, the last slate.

Left, top: the user's interest in each topic (bars, latent: the agent never sees them), coloured by the
topic's mean document quality (red: "trashy" topics, green: "nutritious" ones, RecSim's split). Left, bottom:
the candidates of this step at their topic (x) and quality (y), and the documents of the last slate with the
clicked one ringed. The side panel has the legend, the step, the last reward and the return, the time budget
left and what the user did last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting

RED, GREEN, GREY, BLUE, BLACK = "#d04a3a", "#3a9a4a", "#9a9aa6", "#1f77b4", "#1a1a1a"


def _topic_colours(means: np.ndarray) -> list[str]:
    return [RED if m < 0 else GREEN if m > 0 else GREY for m in means]


def draw(env: Any, state: Any, params: Any, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    T, k = env.num_topics, env.slate_size
    means = np.asarray(params.topic_quality_mean)
    interests = np.asarray(state.interests)
    topics = np.arange(T)
    colours = _topic_colours(means)

    fig = plotting.figure()
    top = fig.add_axes((0.07, 0.56, 0.5, 0.36))
    top.bar(topics, interests, color=colours, edgecolor=BLACK, linewidth=0.4)
    top.axhline(0.0, color=BLACK, linewidth=0.6)
    top.set_xlim(-0.7, T - 0.3)
    top.set_ylim(-1.05, 1.05)
    top.set_ylabel("interest (latent)")
    top.set_xticks(topics[:: max(1, T // 10)])
    top.tick_params(labelbottom=False)
    top.set_title(f"SlateRec-v0 (RecSim interest evolution): slate {k} of {env.num_candidates}, {env.choice} choice",
                  fontsize=10)

    bottom = fig.add_axes((0.07, 0.1, 0.5, 0.42), sharex=top)
    doc_topic, doc_quality = np.asarray(state.doc_topic), np.asarray(state.doc_quality)
    bottom.scatter(doc_topic, doc_quality, s=36, c=BLUE, zorder=3, label="candidate")
    bottom.scatter(topics, means, s=60, marker="_", c=BLACK, zorder=2)
    last_topic, last_quality = np.asarray(state.last_topic), np.asarray(state.last_quality)
    last_click = np.asarray(state.last_click)
    shown = last_topic >= 0
    if shown.any():
        bottom.scatter(last_topic[shown], last_quality[shown], s=90, marker="s", facecolors="none",
                       edgecolors="#ff7f0e", linewidths=1.6, zorder=4)
        hit = shown & last_click
        if hit.any():
            bottom.scatter(last_topic[hit], last_quality[hit], s=260, marker="o", facecolors="none",
                           edgecolors="#ff7f0e", linewidths=2.2, zorder=5)
    span = max(3.5, float(np.max(np.abs(np.concatenate([doc_quality, means])))) + 0.3)
    bottom.set_ylim(-span, span)
    bottom.axhline(0.0, color="#e2e2ea", linewidth=0.8, zorder=0)
    bottom.set_xlabel("topic")
    bottom.set_ylabel("document quality")

    handles = [
        Patch(facecolor=RED, edgecolor=BLACK, label="interest, topic of mean quality < 0"),
        Patch(facecolor=GREEN, edgecolor=BLACK, label="interest, topic of mean quality > 0"),
        Patch(facecolor=GREY, edgecolor=BLACK, label="interest, topic of mean quality 0"),
        Line2D([], [], marker="o", markersize=6, color=BLUE, linestyle="none", label="candidate this step"),
        Line2D([], [], marker="_", markersize=10, color=BLACK, linestyle="none", label="topic mean quality"),
        Line2D([], [], marker="s", markersize=8, markerfacecolor="none", markeredgecolor="#ff7f0e", linestyle="none",
               label="last slate"),
        Line2D([], [], marker="o", markersize=12, markerfacecolor="none", markeredgecolor="#ff7f0e",
               linestyle="none", label="clicked"),
    ]
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return)
    if shown.any() and last_click.any():
        i = int(np.argmax(last_click))
        last = (f"last: clicked position {i} (topic {int(last_topic[i])}, quality {float(last_quality[i]):+.2f}, "
                f"watched {float(np.asarray(state.last_watch)[i]):.2f} min)")
    else:
        last = "last: no click" if shown.any() else "last: - (new session)"
    lines += ["", f"time budget left: {float(state.time_budget):.1f} of {float(params.time_budget):g} min", last,
              f"session: {int(np.asarray(state.clicks).sum())} clicks in "
              f"{int(np.asarray(state.impressions).sum())} impressions"]
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
