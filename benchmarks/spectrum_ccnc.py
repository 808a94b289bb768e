"""RFRL Gym's multi-agent table (CCNC 2025) on realax/SpectrumMA-v0: the five scenarios, the paper's two numbers
per algorithm, realax's learners beside the paper's (issue 16 item 4).

    python benchmarks/spectrum_ccnc.py                       # every row; writes benchmarks/results/spectrum_ccnc.md
    python benchmarks/spectrum_ccnc.py --algos qlearning     # some learners; the other rows of the file are kept
    python benchmarks/spectrum_ccnc.py --data ../shared/data/rfrl_scenarios   # where the scenario files are

The scenarios are RFRL Gym's own files (``marl-dev`` branch, MIT; read from ``--data``, never copied here):
``test_scenario_marl_3/8/20/22/23.json`` are the paper's Scenarios 1-5 (research notes ``rf-uav-agv.md`` §1.9).
The two numbers, as the paper reports them (§V; the paper's own figures are computed here from the authors'
per-episode returns, ``results_from_paper.json``, research notes §1.10): the team return (sum over radios)
averaged over the **last 50 training episodes**, and the **training episodes until an exponentially weighted
mean of the episode returns first reaches 95 % of the maximum** (``s_1 = x_1``, ``s_t = 0.75 s_(t-1) + 0.25
x_t``, the paper's beta = 0.75 as the weight of the past). The maximum is 100 per radio (every step rewarded).

Episodes are counted over all parallel environments: a learner stepping ``num_envs`` copies finishes
``num_envs`` episodes every 100 steps of each (SpectrumMA's episodes all last the scenario's 100 steps), and
they enter the series in order, each with the mean return of its batch (what the trainer reports per update).
Each learner runs ``--seeds`` vmapped seeds; a cell gives the mean over seeds and, for episodes to 95 %, every
seed's count (``never``: not within the run).
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
from realax.agents import algorithms  # noqa: E402
from realax.bench import device_name  # noqa: E402

ENV_ID = "realax/SpectrumMA-v0"
#: (CCNC scenario, RFRL Gym file, what it is, maximum team return) [rf-uav-agv.md §1.9-§1.10]
SCENARIOS = (
    (1, "marl-dev__test_scenario_marl_3.json", "4 radios jam two constants", 400),
    (2, "marl-dev__test_scenario_marl_8.json", "2 radios jam a fixed hopper", 200),
    (3, "marl-dev__test_scenario_marl_20.json", "2 dsa radios, 4 constants", 200),
    (4, "marl-dev__test_scenario_marl_22.json", "2 dsa radios, 2 fixed hoppers", 200),
    (5, "marl-dev__test_scenario_marl_23.json", "2 dsa + 2 jamming radios", 400),
)
#: the paper's (last-50 mean, episodes to 95 % or None for never) per algorithm (RLlib DQN, PPO, APPO, IMPALA),
#: computed with this file's ``episodes_to`` and ``last 50`` from the authors' per-episode training returns
#: (``results_from_paper.json``, rfrl-gym ``marl-dev`` at f2ea5d2; each series starts with one 0 entry, counted as
#: an episode here as there). Without the smoothing (the raw return) DQN reaches 95 % at 98, 101, 95, 98, 101.
PAPER = {
    1: {"DQN": (400.0, 102), "PPO": (400.0, 628), "APPO": (399.6, 200), "IMPALA": (399.3, 202)},
    2: {"DQN": (186.0, 104), "PPO": (182.1, 732), "APPO": (-0.1, None), "IMPALA": (0.0, None)},
    3: {"DQN": (200.0, 102), "PPO": (191.6, 945), "APPO": (199.9, 253), "IMPALA": (197.8, 319)},
    4: {"DQN": (197.4, 149), "PPO": (174.8, None), "APPO": (200.0, 249), "IMPALA": (195.5, 330)},
    5: {"DQN": (393.0, 115), "PPO": (322.8, None), "APPO": (242.1, None), "IMPALA": (282.5, None)},
}
#: env options and config overrides of each realax learner [ours]. Tabular Q-learning: one table per radio on
#: the last observation only (``history=1``: every scenario's entities are Markov in it), a large step size,
#: a short discount (the rewards are immediate) and epsilon decaying to 0 over the first 80 episodes (8,000
#: steps of 4 copies); DQN per radio (``iql_marl``: independent Q-learning, one network shared by the radios
#: with their index as input, the paper's DQN) small and feed-forward, the same short discount, epsilon to 0
#: over the first 100 episodes; IPPO and MAPPO: their defaults with 16 copies and 100-step rollouts.
LEARNERS = {
    "qlearning": ({"history": 1}, {"num_envs": 4, "total_timesteps": 80_000, "lr": 0.5, "gamma": 0.5,
                                   "eps_fraction": 0.1, "eps_end": 0.0}),
    "iql_marl": ({}, {"num_envs": 8, "num_steps": 100, "total_timesteps": 100_000, "lr": 0.001, "hidden": 64,
                      "recurrent": "false", "learning_starts": 1600, "eps_fraction": 0.1, "eps_end": 0.0,
                      "reward_scale": 1.0, "gamma": 0.5, "buffer_size": 500}),
    "ippo": ({}, {"num_envs": 16, "num_steps": 100, "total_timesteps": 200_000}),
    "mappo": ({}, {"num_envs": 16, "num_steps": 100, "total_timesteps": 200_000}),
}
BETA = 0.75
RESULTS = Path(__file__).parent / "results" / "spectrum_ccnc.md"
ROWS_JSON = RESULTS.with_suffix(".json")


def episode_series(returns: np.ndarray, env_steps: np.ndarray, num_envs: int, episode_len: int) -> np.ndarray:
    """One seed's training episode returns in order: ``returns[u]`` (the mean return of the episodes that
    finished in update ``u``) repeated once per episode that finished in it."""
    finished = num_envs * (env_steps // num_envs // episode_len)
    counts = np.diff(np.concatenate([[0], finished]))
    return np.repeat(returns, counts)


def episodes_to(series: np.ndarray, target: float, beta: float = BETA) -> int | None:
    """The first episode (1-based) at which ``s_t = beta s_(t-1) + (1 - beta) x_t`` (``s_1 = x_1``) reaches
    ``target``; None if it never does."""
    s = None
    for i, x in enumerate(series):
        s = x if s is None else beta * s + (1.0 - beta) * x
        if s >= target:
            return i + 1
    return None


def command(algo: str, scenario_file: str, seeds: int) -> str:
    env_opts, sets = LEARNERS[algo]
    opts = "".join(f" -e {k}={v}" for k, v in env_opts.items())
    steps = sets["total_timesteps"]
    rest = " ".join(f"--set {k}={v}" for k, v in sets.items() if k != "total_timesteps")
    return (f"realax train {algo} {ENV_ID} --scenario DATA/{scenario_file}{opts} --total-timesteps {steps} "
            f"--num-seeds {seeds} {rest}")


def run(algo: str, path: Path, seeds: int, seed: int) -> dict:
    env_opts, sets = LEARNERS[algo]
    env, params = realax.make(ENV_ID, scenario=str(path), **env_opts)
    config = algorithms.make_config(algo, {**sets, "num_seeds": seeds})
    trainer = algorithms.get(algo).make_train(config, env, params)
    t0 = time.perf_counter()
    _, m = jax.jit(jax.vmap(trainer.train))(jax.random.split(jax.random.key(seed), seeds))
    returns, steps = np.asarray(m["return"]), np.asarray(m["env_steps"])
    wall = time.perf_counter() - t0
    length = np.asarray(m["length"])
    if np.nanmin(length) != np.nanmax(length):
        raise RuntimeError(f"episodes of unequal length {np.nanmin(length)}..{np.nanmax(length)}: counting assumes one")
    episode_len = int(np.nanmax(length))
    maximum = 100.0 * env.num_agents
    per_seed = [episode_series(returns[s], steps[s], config.num_envs, episode_len) for s in range(seeds)]
    return {"algo": algo, "last50": [float(x[-50:].mean()) for x in per_seed],
            "to95": [episodes_to(x, 0.95 * maximum) for x in per_seed], "episodes": int(len(per_seed[0])),
            "wall": wall, "command": command(algo, path.name, seeds)}


def cell(row: dict) -> str:
    last = np.asarray(row["last50"])
    counts = ["never" if e is None else str(e) for e in row["to95"]]
    return f"{last.mean():.1f} ± {last.std():.1f} / {', '.join(counts)}"


def paper_cell(scenario: int) -> str:
    return "; ".join(f"{a} {r:g} / {'never' if e is None else e}" for a, (r, e) in PAPER[scenario].items())


def best_paper(scenario: int) -> int | None:
    counts = [e for _, e in PAPER[scenario].values() if e is not None]
    return min(counts) if counts else None


def table(rows: dict, algos: list[str], seeds: int) -> str:
    head = ("| CCNC scenario | max | " + " | ".join(algos) + " | realax's best vs the paper's best (episodes to 95 %) "
            "| the paper (last-50 / episodes to 95 %) |")
    lines = [head, "|" + "---|" * (len(algos) + 4)]
    wins = 0
    for number, file, what, maximum in SCENARIOS:
        cells, best = [], None
        for algo in algos:
            row = rows.get(f"{number}/{algo}")
            if row and row["command"] != command(algo, file, seeds):
                row = None  # trained with other settings than LEARNERS' now: not this table's row
            cells.append(cell(row) if row else "not run")
            if row and all(e is not None for e in row["to95"]):
                mean = float(np.mean(row["to95"]))
                best = (mean, algo) if best is None or mean < best[0] else best
        paper = best_paper(number)
        if best is None:
            verdict = f"no learner reaches 95 % in every seed ✗ (the paper: {paper})"
        else:
            won = best[0] < paper
            wins += won
            verdict = f"{best[1]} {best[0]:.0f} vs {paper} {'✓' if won else '✗'}"
        lines.append(f"| {number}: {what} | {maximum} | " + " | ".join(cells) + f" | {verdict} | {paper_cell(number)} |")
    lines.append("")
    lines.append(f"realax's best learner reaches 95 % of the maximum (every seed; mean over {seeds} seeds) in fewer "
                 f"episodes than the paper's best on **{wins} of {len(SCENARIOS)}** scenarios.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--algos", nargs="+", choices=list(LEARNERS), default=list(LEARNERS))
    ap.add_argument("--scenarios", nargs="+", type=int, choices=[s[0] for s in SCENARIOS],
                    default=[s[0] for s in SCENARIOS])
    ap.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data" / "rfrl_scenarios")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = json.loads(ROWS_JSON.read_text()) if ROWS_JSON.is_file() else {}
    for number, file, _, _ in SCENARIOS:
        if number not in args.scenarios:
            continue
        for algo in args.algos:
            row = run(algo, args.data / file, args.seeds, args.seed)
            rows[f"{number}/{algo}"] = row
            print(f"scenario {number} {algo}: {cell(row)} ({row['episodes']} episodes, {row['wall']:.0f} s)", flush=True)
            ROWS_JSON.write_text(json.dumps(rows, indent=1) + "\n")
    algos = [a for a in LEARNERS if any(k.endswith(f"/{a}") for k in rows)]
    text = (f"`python benchmarks/spectrum_ccnc.py` on {device_name()} ({platform.machine()}, jax {jax.__version__}), "
            f"shared with other jobs. Each cell: team return over the last 50 training episodes (mean ± std over "
            f"{args.seeds} seeds) / training episodes until the EWMA (beta = 0.75) first reaches 95 % of the maximum, "
            f"per seed. Each learner's command (DATA = the folder of RFRL Gym's scenario files):\n\n"
            + "".join(f"- `{algo}`: `{command(algo, '<file>', args.seeds)}`\n" for algo in algos) + "\n"
            + table(rows, algos, args.seeds) + "\n")
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
