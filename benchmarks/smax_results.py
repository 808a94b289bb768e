"""SMAX win rates of QMIX, VDN, IPPO and MAPPO at one env-step budget (issue 16, item 2). Prints Markdown rows
and keeps them in ``benchmarks/results/smax_value_results.md``: a row per scenario, algorithm and budget (a rerun of
some cells replaces those rows only; another ``--steps`` adds rows beside them).

    python benchmarks/smax_results.py --scenarios 3m --steps 1000000 --seeds 3

Every row is one ``realax train`` command: the same env steps per seed and the same seeds for each algorithm,
against SMAX's heuristic enemy; the greedy policy of each seed is evaluated over ``--episodes`` episodes and the
table gives the mean ± std of the seeds' win rates (and of their team returns).

Settings (JaxMARL's SMAX baselines, `../shared/research/jax-env-anchors.md` §2.9): IPPO and MAPPO with the MAPPO
SMAX settings of the existing SMAX table (lr 0.002, no entropy bonus, 128 envs × 128 steps); QMIX and VDN with
JaxMARL's ``ql_rnn_smax.yaml`` (RAdam 5e-5, 8 epochs of 32 sequences per update, target copy every 10
updates, rewards × 10, epsilon 1 -> 0.05 over the first 10 %), except the network width (``--q-hidden``,
JaxMARL 512: on a 2-core CPU a 512-wide GRU over 128-step sequences trains far below the budget's pace) and
the rollout shape (64 envs × 32 steps: the same 2,048 env steps per update as JaxMARL's 16 × 128; the
buffer keeps JaxMARL's 5,000 sequences, so 160 k steps instead of 640 k).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
from pathlib import Path

import numpy as np
from train_rows import train

from realax.bench import cpu_model

RESULTS = Path(__file__).resolve().parent / "results" / "smax_value_results.md"
# one update per chunk: the run stops at the budget's last whole update (chunks of 10 ran 1.15 M steps for 1 M)
PPO_SETTINGS = "--set lr=0.002 --set ent_coef=0.0 --set num_envs=128 --set num_steps=128 --set updates_per_chunk=1"
HEAD = ("| scenario | algorithm | win rate (mean ± std over seeds) | seeds' win rates | team return | "
        "env steps per seed | wall | command |")


def q_settings(hidden: int) -> str:
    return f"--set hidden={hidden} --set num_envs=64 --set num_steps=32 --set buffer_size=5000"


def command(scenario: str, algo: str, steps: int, seeds: int, episodes: int, q_hidden: int) -> str:
    settings = PPO_SETTINGS if algo in ("ippo", "mappo") else q_settings(q_hidden)
    return (f"train {algo} realax/SMAX-v0 --scenario {scenario} --total-timesteps {steps} --num-seeds {seeds} "
            f"--episodes {episodes} {settings}")


def row(scenario: str, algo: str, cmd: str, out: Path) -> str:
    """Run ``realax <cmd>`` into ``out`` and format its table row."""
    r = train(cmd, out)
    wins = np.asarray(r.seed_win_rates)
    seeds = ", ".join(f"{w:.2f}" for w in wins)
    return (f"| {scenario} | {algo.upper()} | **{wins.mean():.3f} ± {wins.std():.3f}** | {seeds} | "
            f"{r.mean:.2f} ± {r.std:.2f} | {r.steps_per_seed:,} | {r.wall:.0f} s | `realax {cmd}` |")


def machine() -> str:
    """The line that says where and when rows were measured (kept above the table)."""
    return (f"Measured by `python benchmarks/smax_results.py` on {os.cpu_count()} cores of {cpu_model()}, jax "
            f"{importlib.metadata.version('jax')}, {datetime.date.today()}; each row's wall time is its command's.")


def key(line: str) -> tuple[str, str, int]:
    """A table row's scenario, algorithm and env steps per seed."""
    cells = [c.strip() for c in line.strip("|").split("|")]
    return cells[0], cells[1], int(cells[5].replace(",", ""))


def merge(rows: list[str]) -> str:
    """The results file with ``rows`` replacing (same scenario, algorithm and env steps) or joining its rows."""
    kept: dict[tuple[str, str, int], str] = {}
    head = machine()
    if RESULTS.exists():
        lines = RESULTS.read_text().splitlines()
        head = "\n".join(line for line in lines if not line.startswith("|")).strip() or head
        kept = {key(line): line for line in lines if line.startswith("|") and line != HEAD and not line.startswith("|---")}
    kept.update({key(r): r for r in rows})
    body = [HEAD, "|---|---|---:|---|---:|---:|---:|---|", *[kept[k] for k in sorted(kept)]]
    return (head + "\n\n" if head else "") + "\n".join(body) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", nargs="+", default=["3m", "2s3z", "5m_vs_6m"])
    ap.add_argument("--algos", nargs="+", default=["qmix", "vdn", "ippo", "mappo"])
    ap.add_argument("--steps", type=int, default=1_000_000, help="env steps per seed, every algorithm")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=300, help="greedy evaluation episodes per seed")
    ap.add_argument("--q-hidden", type=int, default=64, help="QMIX/VDN network width (JaxMARL: 512)")
    ap.add_argument("--out", default="runs", help="folder for the run folders")
    args = ap.parse_args()
    rows = []
    print(HEAD, flush=True)
    for scenario in args.scenarios:
        for algo in args.algos:
            cmd = command(scenario, algo, args.steps, args.seeds, args.episodes, args.q_hidden)
            rows.append(row(scenario, algo, cmd, Path(args.out) / f"smax_{scenario}_{algo}_{args.steps}"))
            print(rows[-1], flush=True)
    RESULTS.write_text(merge(rows))


if __name__ == "__main__":
    main()
