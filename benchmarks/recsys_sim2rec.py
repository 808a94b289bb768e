"""Sim2Rec-v0 transfer: plain PPO against context-aware PPO, trained on the training domains, scored on them and
on the held-out domain 14 (issue 13).

    python benchmarks/recsys_sim2rec.py --row ppo        # one row: trains, evaluates, stores its figures
    python benchmarks/recsys_sim2rec.py --row ppo_ctx
    python benchmarks/recsys_sim2rec.py --row random     # the baselines need no training
    python benchmarks/recsys_sim2rec.py --row oracle
    python benchmarks/recsys_sim2rec.py --write          # the table from the stored rows
    python benchmarks/recsys_sim2rec.py --row ppo --row ppo_ctx --steps 100000   # another budget, stored beside

Both learners train on ``realax.make("realax/Sim2Rec-v0")`` (``domain="train"``: each episode's ``choc_mean``
drawn from {6, 7, 8, 9, 19, 20, 21}) with the same budget, seeds and PPO settings (``SETTINGS``); ``ppo_ctx``
adds its context extractor (``realax.agents.ppo_ctx``). Each seed's greedy policy is then evaluated with the
runner's own helper (``realax.experiment.evaluate_policy``, as ``realax train``/``eval`` do) on ``--users``
users of the training domains and as many of the held-out domain (``domain="test"``); every row sees the same
users (keys). A cell is the mean ± standard deviation over seeds of each seed's mean return (baselines: over
as many groups of users). Significance: Welch's t-test on the per-seed held-out means of the two learners,
with the 95% confidence interval of the difference (Welch-Satterthwaite degrees of freedom).

Rows are stored in ``benchmarks/results/recsys_sim2rec.json`` (per-seed figures, wall time, command; learners
by budget) and ``--write`` renders ``benchmarks/results/recsys_sim2rec.md``: the table at ``--steps`` (default
1,000,000: what context-aware PPO trains in 10-20 minutes on the shared 2-core CPU) and a
line per other stored budget.
"""

from __future__ import annotations

from realax import _xla

_xla.configure()  # before JAX: vmapped training can deadlock on CPU without it (realax/_xla.py)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax import baselines, experiment  # noqa: E402
from realax.bench import cpu_model, device_name  # noqa: E402

ENV_ID = "realax/Sim2Rec-v0"
LEARNERS = ("ppo", "ppo_ctx")
BASELINES = ("random", "oracle")
#: the PPO settings both learners share (64 envs, not PPO's default 32: context-aware PPO's sequence replay then
#: costs about half as much time per env step, measured 26 s against 50 s per 100,000 steps of 3 seeds here)
SETTINGS = {"num_envs": 64}
RESULTS = Path(__file__).parent / "results"
JSON, TABLE = RESULTS / "recsys_sim2rec.json", RESULTS / "recsys_sim2rec.md"


def _stats(per_seed: np.ndarray) -> str:
    return f"{per_seed.mean():.1f} ± {per_seed.std(ddof=1):.1f}"


def machine() -> str:
    """JAX's device, the CPU model and the cores this process may use."""
    return f"{device_name()} ({cpu_model()}, {len(os.sched_getaffinity(0))} cores)"


def command(row: str, steps: int, seeds: int, users: int, seed: int) -> str:
    """The command that makes this row alone."""
    budget = ["--steps", str(steps)] if row in LEARNERS else []
    return shlex.join(["python", "benchmarks/recsys_sim2rec.py", "--row", row, *budget, "--seeds", str(seeds),
                       "--users", str(users), *(["--seed", str(seed)] if seed else [])])


def run_row(row: str, steps: int, seeds: int, users: int, seed: int) -> dict:
    """Train (learners) and evaluate one row: per-seed mean returns on the training and held-out domains."""
    env, params = realax.make(ENV_ID)
    test_env, test_params = realax.make(ENV_ID, domain="test")
    keys = {name: jax.random.split(jax.random.key(seed + 10_000 + i), seeds) for i, name in enumerate(("train", "test"))}
    t0 = time.perf_counter()
    if row in LEARNERS:
        r = experiment.run(row, env, params, {**SETTINGS, "total_timesteps": steps, "num_seeds": seeds}, seed=seed,
                           episodes=1, progress=sys.stderr.isatty())
        policies = r.trainer.policy
        carry = r.carry
        train_wall = r.wall_seconds

        def score(e, p, k):
            run = jax.jit(jax.vmap(lambda c, kk: experiment.evaluate_policy(e, p, policies(c), kk, users)["return"]))
            return np.asarray(run(carry, k)).mean(-1)
    else:
        train_wall = 0.0

        def score(e, p, k):
            fn = baselines.get(row, e, p)
            run = jax.jit(jax.vmap(lambda kk: experiment.evaluate_policy(e, p, fn, kk, users)["return"]))
            return np.asarray(run(k)).mean(-1)

    out = {"row": row, "train": score(env, params, keys["train"]).tolist(),
           "test": score(test_env, test_params, keys["test"]).tolist(), "steps": steps if row in LEARNERS else 0,
           "seeds": seeds, "users": users, "seed": seed, "train_seconds": round(train_wall, 1),
           "wall_seconds": round(time.perf_counter() - t0, 1), "device": machine(),
           "command": command(row, steps, seeds, users, seed)}
    print(f"{row}: train {_stats(np.array(out['train']))}, held-out {_stats(np.array(out['test']))} "
          f"(per seed {np.round(out['test'], 1).tolist()}; {out['wall_seconds']:.0f} s)", flush=True)
    return out


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, float]:
    """``(difference of means b - a, 95% CI low, high, t, two-sided p)`` of Welch's unequal-variance t-test."""
    from scipy import stats

    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff, se = b.mean() - a.mean(), np.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.975, dof) * se
    t = diff / se
    return float(diff), float(diff - half), float(diff + half), float(t), float(2 * stats.t.sf(abs(t), dof))


def key(row: str, steps: int) -> str:
    """Where a row is stored: learners by budget (``ppo@1000000``), baselines by name."""
    return f"{row}@{steps}" if row in LEARNERS else row


def write(rows: dict, steps: int) -> str:
    """The main table at ``steps`` env steps per seed, the two learners' difference, and every stored budget."""
    main = {name: rows[key(name, steps)] for name in (*LEARNERS, *BASELINES) if key(name, steps) in rows}
    head = main.get("ppo_ctx") or next(iter(main.values()))
    lines = [f"`{ENV_ID}`, trained on the training domains {{6, 7, 8, 9, 19, 20, 21}}, evaluated on {head['users']} "
             f"users of them and {head['users']} of the held-out domain 14 (the same users for every row); "
             f"{head['device']}, shared with other jobs. Learners: {steps:,} env steps per seed, "
             f"{head['seeds']} seeds, PPO's defaults but {', '.join(f'{k}={v}' for k, v in SETTINGS.items())}; "
             "cells are the mean ± sd over seeds of each seed's mean episode return (baselines: over as many groups "
             "of users).", "",
             "| policy | training domains | held-out domain 14 | per-seed held-out | train time | command |",
             "|---|---|---|---|---|---|"]
    names = {"ppo": "PPO", "ppo_ctx": "context-aware PPO (`ppo_ctx`)", "random": "random",
             "oracle": "oracle (reads the hidden user)"}
    for name, r in main.items():
        per_seed = ", ".join(f"{x:.0f}" for x in r["test"]) if name in LEARNERS else ""
        wall = f"{r['train_seconds']:.0f} s" if name in LEARNERS else ""
        lines.append(f"| {names[name]} | {_stats(np.array(r['train']))} | {_stats(np.array(r['test']))} | {per_seed} "
                     f"| {wall} | `{r['command']}` |")
    if all(n in main for n in LEARNERS):
        lines.append("")
        for dom, label in (("test", "held-out domain"), ("train", "training domains")):
            d, lo, hi, t, p = welch(np.array(main["ppo"][dom]), np.array(main["ppo_ctx"][dom]))
            lines.append(f"Context-aware minus plain PPO, {label}: {d:+.1f} (95% CI {lo:+.1f} to {hi:+.1f}; Welch "
                         f"t = {t:.2f}, p = {p:.3g}, {len(main['ppo'][dom])} + {len(main['ppo_ctx'][dom])} seeds).  ")
    budgets = sorted({r["steps"] for n, r in rows.items() if "@" in n})
    pairs = [b for b in budgets if all(key(n, b) in rows for n in LEARNERS)]
    if len(pairs) > 1:
        lines += ["", "Every stored budget (same settings; `--steps N`):", "",
                  "| env steps per seed | PPO train / held-out | ppo_ctx train / held-out | held-out difference (95% CI) "
                  "| p (Welch) |", "|---|---|---|---|---|"]
        for b in pairs:
            a, c = rows[key("ppo", b)], rows[key("ppo_ctx", b)]
            d, lo, hi, _, p = welch(np.array(a["test"]), np.array(c["test"]))
            cell = lambda r: f"{_stats(np.array(r['train']))} / {_stats(np.array(r['test']))}"  # noqa: E731
            lines.append(f"| {b:,} | {cell(a)} | {cell(c)} | {d:+.1f} ({lo:+.1f} to {hi:+.1f}) | {p:.3g} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--row", choices=(*LEARNERS, *BASELINES), action="append",
                    help="row(s) to run and store (default with no --write: all)")
    ap.add_argument("--write", action="store_true", help="render the table from the stored rows")
    ap.add_argument("--steps", type=int, default=1_000_000, help="env steps per seed of each learner")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--users", type=int, default=512, help="evaluation users per seed, on each of the two domain sets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", type=Path, default=JSON, help="where rows are stored")
    args = ap.parse_args()
    rows = json.loads(args.results.read_text()) if args.results.exists() else {}
    todo = args.row or ([] if args.write else [*LEARNERS, *BASELINES])
    for row in todo:
        rows[key(row, args.steps)] = run_row(row, args.steps, args.seeds, args.users, args.seed)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(rows, indent=1) + "\n")
    if args.write or not args.row:
        table = write(rows, args.steps)
        (TABLE if args.results == JSON else args.results.with_suffix(".md")).write_text(table)
        print(table)


if __name__ == "__main__":
    main()
