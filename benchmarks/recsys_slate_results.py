"""SlateRec-v0 (RecSim's interest evolution, slate 2 of 10): random, myopic greedy, SlateQ and PPO (issue 13,
item 6). Prints Markdown.

    python benchmarks/recsys_slate_results.py          # about 7 minutes on 2 CPU cores

The learners' rows are `realax train` commands (3 seeds; the greedy policy of each seed over 100 episodes:
mean ± std over seeds); the baselines' rows come from the same runs' evaluation (300 episodes each, the
`realax eval` command gives the same). Episode return is total watch time (minutes) in a session.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from train_rows import train

LEARNERS = [("SlateQ", "train slateq realax/SlateRec-v0 --total-timesteps 200000"),
            ("PPO", "train ppo realax/SlateRec-v0 --total-timesteps 2000000")]
BASELINES = [("random", "random"), ("myopic greedy", "greedy"), ("popularity (reads the params' topic qualities)",
                                                                  "popularity"),
             ("oracle (reads the latent user)", "oracle")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs", help="folder for the run folders")
    args = ap.parse_args()
    print("| policy | episode return (min watched) | command | wall |")
    print("|---|---:|---|---:|")
    baselines: dict = {}
    for name, cmd in LEARNERS:
        r = train(cmd, Path(args.out) / f"slaterec_{cmd.split()[1]}")
        baselines = r.baselines
        print(f"| **{name}** | **{r.mean:.1f} ± {r.std:.1f}** | `realax {cmd}` | {r.wall:.0f} s |", flush=True)
    for name, key in BASELINES:
        print(f"| {name} | {baselines[key]:.1f} | `realax eval realax/SlateRec-v0 --policy {key}` | |")


if __name__ == "__main__":
    main()
