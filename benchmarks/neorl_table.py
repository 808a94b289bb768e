"""NeoRL-style offline benchmark on realax tasks with realism options on (issue 5, item 7).

For each task: generate a dataset (``realax data generate`` with a behaviour level and NeoRL-2 realism
wrappers, TQ and SACo measured), then train every applicable offline baseline (BC and CQL for discrete
actions; BC, TD3+BC and IQL for continuous ones) over vmapped seeds, evaluate each seed's last policy online on
the dataset's env (realism included) and report the normalised score ``100·(R − random)/(expert − random)``,
mean ± std over seeds, as NeoRL-2 (Gao et al. 2025) does, beside the behaviour (dataset) score. Unlike
NeoRL-2 there is no per-algorithm hyper-parameter search: every algorithm runs its paper defaults with the
same small budget of gradient steps (``--updates``), so the table says what a default run does, not the best.

    python benchmarks/neorl_table.py --out benchmarks/results/neorl_table.md   # ~15 min on 2 CPU cores

prints the markdown table and writes it (and the raw numbers as ``.json`` beside it) to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from realax import _xla

_xla.configure()

from realax import experiment  # noqa: E402
from realax.agents.algorithms import applicable  # noqa: E402
from realax.agents.offline_nets import action_kind  # noqa: E402
from realax.files import dumps  # noqa: E402
from realax.offline.dataset import generate_dataset  # noqa: E402
from realax.offline.generate import DataSpec, build  # noqa: E402
from realax.wrappers.realism import RealismConfig  # noqa: E402

#: name -> (dataset spec, realism in words)
TASKS: dict[str, tuple[DataSpec, str]] = {
    "spectrum-reactive": (
        DataSpec("realax/Spectrum-v0", policy="sense_and_avoid", episodes=200, seed=7, level=0.6,
                 env_kwargs={"scenario": "jammer_reactive"},
                 realism=RealismConfig(action_delay=1, cost_budget=15.0)),
        "action delay 1, safety cost (reward < 0) with budget 15"),
    "spectrum-sweep": (
        DataSpec("realax/Spectrum-v0", policy="sense_and_avoid", episodes=200, seed=42, level=0.8,
                 env_kwargs={"scenario": "jammer_sweep"},
                 realism=RealismConfig(obs_delay=1, conservative=0.2)),
        "observation delay 1, conservative behaviour (width 0.2)"),
    "robotaxi-grid": (
        DataSpec("realax/RoboTaxi-v0", policy="no_rebalancing", episodes=500, seed=210, level=0.5, noise=0.1,
                 realism=RealismConfig(disturbance="action", disturbance_sigma=0.2)),
        "AR(1) action disturbance (sigma 0.2), Gaussian action noise 0.1"),
}
NAMES = {"bc": "BC", "cql": "CQL", "td3bc": "TD3+BC", "iql": "IQL"}


def run_task(name: str, spec: DataSpec, root: Path, args) -> dict:
    t0 = time.perf_counter()
    path, meta = generate_dataset(spec, root / f"{name}-v0", progress=False, overwrite=True, measure=True)
    setup = build(spec)
    kind = action_kind(setup.env.action_space(setup.params))
    row = {"task": name, "env_id": spec.env_id, "env_kwargs": spec.env_kwargs, "policy": spec.policy,
           "level": spec.level, "meta": {
               k: meta.get(k) for k in ("ref_min_score", "ref_max_score", "behaviour_return", "total_steps",
                                        "episode_cost_mean", "over_budget_fraction")},
           "expert_policy": meta.get("expert_policy"), "expert_candidates": meta.get("expert_candidates"),
           "tq": meta["measures"]["tq"], "saco": meta["measures"]["saco"], "scores": {}}
    print(f"[{name}] dataset {meta['total_steps']} transitions in {time.perf_counter() - t0:.0f} s; "
          f"TQ {num(row['tq'], '.3f')} SACo {row['saco']:.3f}; expert {row['expert_policy']}", file=sys.stderr)
    for algo in applicable(kind):
        res = experiment.train_offline(algo, path, seeds=args.seeds, updates=args.updates, episodes=args.episodes)
        row["scores"][algo] = {k: res[k] for k in ("score_mean", "score_std", "score_per_seed", "return_per_seed",
                                                   "return_mean", "return_std", "train_seconds")}
        row["behaviour_score"] = res["behaviour_score"]
        if "warning" in res:  # references not ordered: no normalised score, the raw returns instead
            row["warning"] = res["warning"]
            print(f"[{name}] warning: {res['warning']}", file=sys.stderr)
        print(f"[{name}] {algo}: {cell(row['scores'][algo])} ({res['train_seconds']:.0f} s)", file=sys.stderr)
    train_lo, train_hi = meta["split"]["train"]
    row["train_episodes"] = train_hi - train_lo
    return row


def num(x, spec: str) -> str:
    return "undefined" if x is None else format(x, spec)


def cell(score: dict) -> str:
    """``mean ± std`` of the normalised score, or of the raw return (marked) when the score is undefined."""
    if score["score_mean"] is None:
        return f"return {score['return_mean']:.2f} ± {score['return_std']:.2f} (no score: expert ≤ random)"
    return f"{score['score_mean']:.1f} ± {score['score_std']:.1f}"


def table(rows: list[dict], args) -> str:
    algos = list(NAMES)
    head = ["task", "realism", "behaviour", "transitions (train+val)", "TQ", "SACo", "behaviour score",
            *[NAMES[a] for a in algos]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        spec, realism = TASKS[r["task"]]
        scen = r["env_kwargs"].get("scenario", "grid city")
        cells = [f"{r['env_id'].split('/')[1]} {scen}", realism, f"{r['policy']} at level {r['level']}",
                 f"{r['meta']['total_steps']:,} ({r['train_episodes']} train episodes)", num(r["tq"], ".3f"),
                 f"{r['saco']:.3f}", num(r.get("behaviour_score"), ".1f")]
        for a in algos:
            s = r["scores"].get(a)
            cells.append("—" if s is None else cell(s))
        lines.append("| " + " | ".join(cells) + " |")
    refs = ", ".join(f"{r['task']}: {r['meta']['ref_min_score']:.1f} / {r['meta']['ref_max_score']:.1f} "
                     f"({r['expert_policy']})" for r in rows)
    lines.append("")
    lines.append(f"Normalised score 100·(R − random)/(expert − random), mean ± std over {args.seeds} seeds, each the "
                 f"last policy after {args.updates:,} gradient steps (paper defaults, no tuning), evaluated on "
                 f"{args.episodes} online episodes of the dataset's env with its realism wrappers. Random and "
                 f"expert: mean returns of the random policy and of the expert over 100 episodes, the expert being "
                 f"the best by that return of the behaviour's controller (level 1) and the env's non-random "
                 f"baselines ({refs}); where it does not beat random the score is undefined and the raw return is "
                 f"given. "
                 f"TQ/SACo: Schweighofer et al. 2022, SACo against the replay proxy of `realax data measure`. "
                 f"— : the algorithm does not apply to the action space.")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="Markdown file for the table (raw numbers beside it).")
    p.add_argument("--data", type=Path, default=None, help="Folder for the datasets (default: a temporary one).")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--updates", type=int, default=5000, help="Gradient steps per seed and algorithm.")
    p.add_argument("--episodes", type=int, default=100, help="Evaluation episodes per seed.")
    p.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    if args.data is None:
        import tempfile

        args.data = Path(tempfile.mkdtemp(prefix="realax-neorl-"))
    rows = [run_task(name, TASKS[name][0], args.data, args) for name in args.tasks]
    text = table(rows, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    raw = {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows,
           "specs": {n: dataclasses.asdict(TASKS[n][0]) for n in args.tasks},
           "wall_seconds": time.perf_counter() - t0}
    args.out.with_suffix(".json").write_text(dumps(raw, indent=1, default=str))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
