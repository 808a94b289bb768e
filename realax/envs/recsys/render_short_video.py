"""A picture of one ShortVideo user: interests by topic, the current candidates, and the constraint signals.

Top: the user's hidden interest in each topic (bars, -1..1), boredom (orange line) and the observed
consumption profile (black dots). Bottom: the candidates, each a bar of its mean watch seconds under the true
user (what the oracle reads), labelled with quality and duration. The side panel has the legend, the step,
the last reward and return, the day and session, and each signal's rate per request so far against its
threshold (>= for follow/like/comment/share, <= for hate).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realax.envs import plotting

INTEREST, BORED, PROFILE, CAND = "#1f77b4", "#ff7f0e", "#1a1a1a", "#9467bd"


def draw(env: Any, state: Any, params: Any, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
    """``uint8 [540, 960, 3]``."""
    plotting.need_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    K, C = env.num_topics, env.num_candidates
    fig = plotting.figure()
    top = fig.add_axes((0.07, 0.58, 0.48, 0.34))
    topics = np.arange(K)
    top.bar(topics, np.asarray(state.interest), color=INTEREST, alpha=0.7)
    top.plot(topics, np.asarray(state.boredom), color=BORED, marker="s", markersize=4, linewidth=1.5)
    top.scatter(topics, np.asarray(state.profile), color=PROFILE, s=18, zorder=3)
    top.axhline(0.0, color="#9a9aa6", linewidth=0.8)
    top.set_ylim(-1.05, max(1.05, float(np.max(np.asarray(state.boredom))) + 0.1))
    top.set_xticks(topics)
    top.set_xlabel("topic")
    top.set_ylabel("interest")
    top.set_title(f"ShortVideo-v0 - day {int(state.t) // int(params.day_slots) + 1}, session {int(state.session) + 1}, "
                  f"{'in the app' if bool(state.present) else 'away'}", fontsize=11)

    bottom = fig.add_axes((0.07, 0.1, 0.48, 0.34))
    watch = np.asarray(env.expected_watch_s(state, params))
    quality = np.asarray(state.cand_quality)
    duration = np.asarray(state.cand_length) * float(params.duration_max_s)
    bottom.bar(np.arange(C), watch, color=CAND, alpha=0.75)
    for c in range(C):
        bottom.annotate(f"q{quality[c]:.1f}\n{duration[c]:.0f}s", (c, watch[c]), xytext=(0, 2),
                        textcoords="offset points", ha="center", fontsize=7)
    bottom.set_ylim(0.0, 1.35 * max(float(watch.max()), 1.0))
    bottom.set_xticks(np.arange(C))
    bottom.set_xlabel("candidate")
    bottom.set_ylabel("mean watch (s)")

    handles = [Patch(facecolor=INTEREST, alpha=0.7, label="interest (hidden)"),
               Line2D([], [], color=BORED, marker="s", markersize=4, label="boredom (hidden)"),
               Line2D([], [], color=PROFILE, marker="o", linestyle="none", markersize=4, label="observed profile"),
               Patch(facecolor=CAND, alpha=0.75, label="candidate: mean watch, quality, length")]
    lines = plotting.status_lines(state.t, params.max_steps, reward, episode_return)
    n = max(int(state.requests), 1)
    rates = np.asarray(state.signal_counts) / n
    th, lower = np.asarray(params.thresholds), np.asarray(params.lower_bound)
    lines += ["", f"requests {int(state.requests)}, watched {float(state.watch_total_s) / 60:.1f} min",
              f"satisfaction (hidden) {float(state.satisfaction):.2f}, last gap {int(state.last_gap)} d",
              "signal    rate   bound"]
    for i, name in enumerate(env.signals):
        ok = rates[i] >= th[i] if lower[i] else rates[i] <= th[i]
        lines.append(f"{name:8s} {rates[i]:.3f} {'>=' if lower[i] else '<='}{th[i]:.3f} {'ok' if ok else 'VIOLATED'}")
    plotting.side_panel(fig, handles, lines, left=0.6)
    return plotting.to_rgb(fig)
