"""ShortVideo-v0 under its auxiliary-signal constraints: unconstrained PPO, PPO-Lagrangian and TSCAC (issue 13).

    python benchmarks/recsys_constrained.py                 # every row; writes benchmarks/results/recsys_constrained.md
    python benchmarks/recsys_constrained.py --resume        # reuse the finished rows (any run's) of the same command
    python benchmarks/recsys_constrained.py --only ppo_lag  # one row, printed and kept for --resume (the table is not rewritten)
    python benchmarks/recsys_constrained.py --steps 600000 --main 100000 --stage1 100000  # other budgets, printed only

Each learner trains over ``--seeds`` vmapped seeds through ``realax.experiment.run`` (what ``realax train`` runs:
the command of each row reproduces its training), then each seed's greedy policy plays ``--episodes`` episodes
(``realax.agents.evaluate.evaluate_episodes`` summing ``info["cost"]`` and ``info["present"]``). Per seed:
the mean episode watch time (the reward, 10 s units) and each signal's per-request rate over all its episodes
(signals / requests: the constraint ``E[sum margin] >= 0`` holds exactly when this ratio is on the right side
of the threshold); the table gives mean ± std over seeds and marks a violated constraint (by the mean) with ✗
and the number of seeds that violate it. The baselines (random, myopic, oracle; ``realax.baselines``) play the
same number of episodes in as many groups as there are seeds.
"""

from __future__ import annotations

from realax import _xla

_xla.configure()

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax import baselines, experiment  # noqa: E402
from realax.agents.evaluate import evaluate_episodes  # noqa: E402
from realax.bench import device_name  # noqa: E402

ENV_ID = "realax/ShortVideo-v0"
#: PPO settings every learner shares: rewards (watch time in 10 s units, about 1 per step) scaled so that
#: PPO's clipped value loss can follow returns of about 100 (at scale 1 the value moves 0.2 an update), and a
#: small entropy bonus; everything else is PPOConfig's default (32 envs x 64 steps, Adam 1e-3, 128 units)
SHARED = {"reward_scale": 0.05, "ent_coef": 0.01}
#: every learner gets about STEPS env steps per seed: PPO and PPO-Lagrangian all for their policy; TSCAC
#: STAGE1 for each of its five stage-one policies and MAIN for its main policy (5 x 500k + 500k)
STEPS = 3_000_000
STAGE1 = 500_000
MAIN = 500_000
#: the constrained learners treat each signal as immediate (discount 0): a per-request rate depends on what is
#: shown now, and a longer discount also credits a policy for making the user leave while a rate is short of
#: its threshold (the margin sum then grows when there are fewer requests)
AUX_DISCOUNT = 0.0
LAMBDA_LR = 5.0
KL_COEF = 2.0
#: evaluation episodes per seed. 200 were too few to judge a rate against its threshold in the fourth decimal:
#: one fixed observation-based policy scored comment 0.0177, 0.0166 and 0.0190 on the three 200-episode sets of
#: this script's keys and 0.0183 on 4,000 episodes (2026-12-03); 2,000 bring the standard error of a seed's
#: comment rate to about 0.0003
EPISODES = 2000


def rows_for(steps: int, main: int, stage1: int, lambda_lr: float, kl_coef: float) -> dict[str, dict]:
    """Each learner's overrides (``--set`` fields of ``realax train``)."""
    gammas = ",".join([f"{AUX_DISCOUNT:g}"] * 5)
    return {"ppo": {**SHARED, "total_timesteps": steps},
            "ppo_lag": {**SHARED, "total_timesteps": steps, "lambda_lr": lambda_lr, "cost_gamma": AUX_DISCOUNT},
            "tscac": {**SHARED, "total_timesteps": main, "stage1_timesteps": stage1, "aux_gammas": gammas,
                      "kl_coef": kl_coef}}


RESULTS = Path(__file__).parent / "results" / "recsys_constrained.md"
#: every finished row, per seed, keyed by its command: ``--resume`` reuses rows whose command, seeds and
#: episodes are the same
ROWS_JSON = RESULTS.with_suffix(".json")


def command(algo: str, overrides: dict, seeds: int) -> str:
    sets = " ".join(f"--set {k}={v}" for k, v in overrides.items() if k != "total_timesteps")
    return f"realax train {algo} {ENV_ID} --total-timesteps {overrides['total_timesteps']} --num-seeds {seeds} {sets}"


def rates(out: dict) -> tuple[float, np.ndarray]:
    """``(mean watch time, per-request rate of each signal)`` of a set of episodes."""
    return float(np.mean(out["return"])), np.asarray(out["cost"]).sum(0) / max(float(np.sum(out["present"])), 1.0)


def train_row(algo: str, row: dict, env, params, seeds: int, episodes: int, seed: int) -> dict:
    overrides = {**row, "num_seeds": seeds}
    t0, c0 = time.perf_counter(), time.process_time()
    result = experiment.run(algo, env, params, overrides, seed=seed, progress=False, evaluate=False)
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    keys = jax.random.split(jax.random.key(seed + 20_000), seeds)
    evaluate = jax.jit(jax.vmap(lambda c, k: evaluate_episodes(env, params, result.trainer.policy(c), k, episodes,
                                                              sums=("cost", "present"))))
    out = jax.device_get(evaluate(result.carry, keys))
    per_seed = [rates({k: v[i] for k, v in out.items()}) for i in range(seeds)]
    return {"name": algo, "watch": np.array([w for w, _ in per_seed]), "rates": np.stack([r for _, r in per_seed]),
            "env_steps": int(result.metrics["env_steps"][0, -1]), "train_s": train_s, "cpu_s": cpu_s,
            "command": command(algo, row, seeds)}


def baseline_row(name: str, env, params, seeds: int, episodes: int, seed: int) -> dict:
    policy = baselines.get(name, env, params)
    out = jax.device_get(jax.jit(lambda k: evaluate_episodes(env, params, policy, k, episodes * seeds,
                                                             sums=("cost", "present")))(jax.random.key(seed + 20_000)))
    groups = [rates({k: v[i * episodes:(i + 1) * episodes] for k, v in out.items()}) for i in range(seeds)]
    return {"name": name, "watch": np.array([w for w, _ in groups]), "rates": np.stack([r for _, r in groups]),
            "env_steps": 0, "train_s": 0.0, "cpu_s": 0.0,
            "command": baseline_command(name, seeds, episodes)}


def baseline_command(name: str, seeds: int, episodes: int) -> str:
    return f"realax eval {ENV_ID} --policy {name} --episodes {episodes * seeds}"


def table(rows: list[dict], signals: tuple[str, ...], thresholds: np.ndarray, lower: np.ndarray) -> str:
    head = "| policy | env steps per seed | watch time (10 s) | vs PPO |"
    head += "".join(f" {s} ({'≥' if lo else '≤'} {t:g}) |" for s, t, lo in zip(signals, thresholds, lower, strict=True))
    lines = [head + " command |", "|" + "---|" * (len(signals) + 5)]
    ppo = next((r["watch"].mean() for r in rows if r["name"] == "ppo"), None)
    for r in rows:
        cells = [r["name"], f"{r['env_steps']:,}" if r["env_steps"] else "–",
                 f"{r['watch'].mean():.1f} ± {r['watch'].std():.1f}",
                 f"{100 * (r['watch'].mean() / ppo - 1):+.0f} %" if ppo and r["name"] != "ppo" else "–"]
        for i, (t, lo) in enumerate(zip(thresholds, lower, strict=True)):
            x = r["rates"][:, i]
            bad = (x < t) if lo else (x > t)
            ok = x.mean() >= t if lo else x.mean() <= t
            cells.append(f"{x.mean():.4f} ± {x.std():.4f} " + ("✓" if ok else "✗") + (f" ({bad.sum()}/{len(x)})"
                                                                                       if bad.any() else ""))
        cells.append(f"`{r['command']}`")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=EPISODES, help="evaluation episodes per seed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=("ppo", "ppo_lag", "tscac"), default=None)
    ap.add_argument("--steps", type=int, default=STEPS, help="env steps per seed of PPO and PPO-Lagrangian")
    ap.add_argument("--main", type=int, default=MAIN, help="env steps per seed of TSCAC's main policy")
    ap.add_argument("--stage1", type=int, default=STAGE1, help="env steps per seed of each TSCAC stage-one policy")
    ap.add_argument("--lambda-lr", type=float, default=LAMBDA_LR)
    ap.add_argument("--kl-coef", type=float, default=KL_COEF)
    ap.add_argument("--resume", action="store_true", help=f"reuse the rows in {ROWS_JSON.name} that match")
    args = ap.parse_args()
    learners = rows_for(args.steps, args.main, args.stage1, args.lambda_lr, args.kl_coef)
    env, params = realax.make(ENV_ID)
    signals, thresholds = env.unwrapped.signals, np.asarray(params.thresholds)
    lower = np.asarray(params.lower_bound)
    defaults = (args.steps, args.main, args.stage1, args.lambda_lr, args.kl_coef) == (STEPS, MAIN, STAGE1, LAMBDA_LR,
                                                                                   KL_COEF)
    write = args.only is None and defaults  # the published table: rewritten after every row, so a long run shows
    rows: list[dict] = []
    saved = json.loads(ROWS_JSON.read_text()) if args.resume and ROWS_JSON.is_file() else {}

    def reuse(name: str, command: str) -> dict | None:
        row = saved.get(command)
        if row is None or (row["seeds"], row["episodes"], row["seed"]) != (args.seeds, args.episodes, args.seed):
            return None
        print(f"{name}: reused from {ROWS_JSON.name}")
        return {**row, "watch": np.asarray(row["watch"]), "rates": np.asarray(row["rates"])}

    def done(row: dict) -> None:
        rows.append(row)
        # every finished row is kept under its command, so rows of other budgets or settings sit side by side
        stored = json.loads(ROWS_JSON.read_text()) if ROWS_JSON.is_file() else {}
        stored[row["command"]] = {**row, "watch": row["watch"].tolist(), "rates": row["rates"].tolist(),
                               "seeds": args.seeds, "episodes": args.episodes, "seed": args.seed}
        ROWS_JSON.write_text(json.dumps(stored, indent=1) + "\n")
        cost = f", {row['train_s']:.0f} s ({row['cpu_s']:.0f} s CPU)" if row["train_s"] else ""
        print(f"{row['name']}: watch {row['watch'].mean():.1f} ± {row['watch'].std():.1f}, rates "
              f"{np.round(row['rates'].mean(0), 4)}{cost}", flush=True)
        if write:
            RESULTS.write_text(header(args, rows) + table(rows, signals, thresholds, lower) + "\n")

    for name in (["random", "myopic", "oracle"] if args.only is None else []):
        done(reuse(name, baseline_command(name, args.seeds, args.episodes))
             or baseline_row(name, env, params, args.seeds, args.episodes, args.seed))
    for algo in [args.only] if args.only else list(learners):
        done(reuse(algo, command(algo, learners[algo], args.seeds))
             or train_row(algo, learners[algo], env, params, args.seeds, args.episodes, args.seed))
    print(table(rows, signals, thresholds, lower))
    if write:
        print(f"wrote {RESULTS}")


def header(args, rows: list[dict]) -> str:
    cost = ", ".join(f"{r['name']} {r['train_s'] / 60:.0f} min ({r['cpu_s'] / 60:.0f} min CPU)" for r in rows
                     if r["train_s"])
    return (f"`python benchmarks/recsys_constrained.py --seeds {args.seeds} --episodes {args.episodes}` on "
            f"{device_name()} ({platform.machine()}, jax {jax.__version__}); `{ENV_ID}` "
            f"defaults (8 candidates, 6 topics, 200 slots, the default thresholds). Watch time: mean episode return "
            f"(10 s units) ± std over {args.seeds} seeds, {args.episodes} evaluation episodes each, greedy policy; "
            f"each signal: its per-request rate (signals / requests over the episodes), mean ± std over seeds, ✓ or ✗ "
            f"by the mean against the threshold, (k/n): seeds that violate it; the baselines over {args.seeds} groups of "
            f"{args.episodes} users. Training time with compilation: {cost or 'no learner finished yet'}.\n\n")


if __name__ == "__main__":
    main()
