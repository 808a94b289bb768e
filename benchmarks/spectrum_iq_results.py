"""SpectrumIQ-v0: PPO on the detector's decisions and on the spectrogram, at a high SNR and at one where the
energy detector misses, beside sense-and-avoid reading the detector (issue 14, item 4). Prints Markdown.

    python benchmarks/spectrum_iq_results.py          # about 6 minutes on 2 CPU cores

Each row is one `realax train` command (scenario `mixed`, 1,024 samples per step, every entity at the row's
SNR); the numbers are read back from the run's metrics.json: the greedy agent's mean return per seed
(mean ± std over 3 seeds, 100 episodes each) and the baselines' mean return over 300 episodes of the same env.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from train_rows import train

#: 30 dB: the energy detector finds every burst; 15 dB: it finds none (benchmarks/results/spectrum_iq_detection.md)
SNRS = (30, 15)
OBS = ("detect", "spectrogram")


def rows(steps: int) -> list[tuple[int, str, str]]:
    return [(snr, obs, f"train ppo realax/SpectrumIQ-v0 -e snr_db={snr} -e obs_mode={obs} --total-timesteps {steps}")
            for snr in SNRS for obs in OBS]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500_000, help="env steps per seed")
    ap.add_argument("--out", default="runs", help="folder for the run folders")
    args = ap.parse_args()
    print("| SNR (dB) | observation | command | wall | PPO (greedy) | sense-and-avoid | random |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for snr, obs, cmd in rows(args.steps):
        r = train(cmd, Path(args.out) / f"iq_{obs}_{snr}db")
        b = r.baselines
        print(f"| {snr} | {obs} | `realax {cmd}` | {r.wall:.0f} s | **{r.mean:.1f} ± {r.std:.1f}** | "
              f"{b['sense_and_avoid']:.1f} | {b['random']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
