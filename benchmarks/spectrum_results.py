"""Re-run every row of the README's spectrum results table and print it as Markdown.

    python benchmarks/spectrum_results.py            # about 5 minutes on 2 CPU cores

Each row is one `realax train` command; its numbers are read back from the run's metrics.json.
"""

from __future__ import annotations

from pathlib import Path

from train_rows import train

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
    print("| scenario | command | env steps / seed | wall | agent | predictive | sense-and-avoid | random |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (name, cmd) in enumerate(ROWS):
        r = train(cmd, Path("runs") / f"results_{i}")
        b = r.baselines
        print(f"| {name} | `realax {cmd}` | {r.steps_per_seed / 1e3:.0f} k | {r.wall:.0f} s | "
              f"**{r.mean:.1f} ± {r.std:.1f}** | {b['predictive']:.1f} | {b['sense_and_avoid']:.1f} | {b['random']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
