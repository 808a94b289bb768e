"""Re-run every row of the README's spectrum results table and print it as Markdown.

    python benchmarks/spectrum_results.py            # about 5 minutes on 2 CPU cores

Each row is one `realax train` command; its numbers are read back from the run's metrics.json.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from pathlib import Path

ROWS = [
    ("hopper, `history=1`", "train qlearning realax/Spectrum-v0 --scenario hopper -e history=1 --total-timesteps 200000"),
    ("hopper, `history=2`", "train qlearning realax/Spectrum-v0 --scenario hopper -e history=2 --total-timesteps 200000"),
    ("constant", "train ppo realax/Spectrum-v0 --scenario constant"),
    ("hopper", "train ppo realax/Spectrum-v0 --scenario hopper"),
    ("jammer_reactive", "train ppo realax/Spectrum-v0 --scenario jammer_reactive -e own_tx=True --total-timesteps 1000000"),
    ("jammer_follow", "train ppo realax/Spectrum-v0 --scenario jammer_follow -e own_tx=True --total-timesteps 1000000"),
    ("jammer_sweep", "train ppo realax/Spectrum-v0 --scenario jammer_sweep -e own_tx=True --total-timesteps 1000000"),
    ("jam_hopper", "train ppo realax/Spectrum-v0 --scenario jam_hopper --total-timesteps 2000000"),
]


def main() -> None:
    print("| scenario | command | env steps / seed | wall | agent | sense-and-avoid | random |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, cmd) in enumerate(ROWS):
        out = Path("runs") / f"results_{i}"
        t0 = time.perf_counter()
        subprocess.run(["realax", *shlex.split(cmd), "--out", str(out)], check=True, capture_output=True)
        wall = time.perf_counter() - t0
        m = json.loads((out / "metrics.json").read_text())
        seeds = m["agent_seed_means"]
        mean = sum(seeds) / len(seeds)
        std = (sum((s - mean) ** 2 for s in seeds) / len(seeds)) ** 0.5
        b = m["baselines"]
        print(f"| {name} | `realax {cmd}` | {m['env_steps_per_seed'] / 1e3:.0f} k | {wall:.0f} s | "
              f"**{mean:.1f} ± {std:.1f}** | {b['sense_and_avoid']:.1f} | {b['random']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
