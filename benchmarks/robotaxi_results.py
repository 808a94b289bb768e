"""RoboTaxi results: profit, served demand and rebalancing cost per episode for every baseline and for the
learners with the Dirichlet graph policy (PPO, A2C), on RL4AMOD cities (mean ± std).

Each city: ``realax train ALGO realax/RoboTaxi-v0 --scenario CITY_FILE`` with the settings below (the agent
rows; 3 seeds trained in one vmapped run), then every policy evaluated over ``--episodes`` episodes with
``realax.baselines.robotaxi.episode_totals`` (the agents: over each seed's greedy policy, i.e. the Dirichlet
mean), and the two MPC planners (HiGHS with the true demand over 6 steps, with the expected demand over 10; a
host loop) over ``--mpc-episodes``. The std of an agent row is over seed means; of the baselines over episodes.

Run: ``python benchmarks/robotaxi_results.py [--cities nyc_brooklyn san_francisco shenzhen_downtown_west]
[--algos ppo a2c sac] [--out FILE]``; data from ``$REALAX_AMOD_DATA`` or ``../shared/data/amod``. ``--out``: the
cities run replace their blocks in FILE, the other cities' blocks are kept, and so are the agent rows (with
their commands) of the algorithms not run this time.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from realax import _xla  # noqa: E402

_xla.configure()

import argparse  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax import baselines, experiment  # noqa: E402
from realax.baselines import robotaxi as rb  # noqa: E402

DATA = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "amod"))
#: the settings of the agent rows (``--set`` of ``realax train``). A2C: RL4AMOD's (``realax.agents.a2c``) but
#: for the step size, 1e-3 for 1e-4, as each update here averages 16 episodes where RL4AMOD's takes one
SETTINGS = {"ppo": {"total_timesteps": 1_000_000, "num_seeds": 3, "reward_scale": 0.001, "gamma": 0.97,
                    "num_steps": 20, "hidden": 32, "ent_coef": 0.0},
            "a2c": {"total_timesteps": 1_000_000, "num_seeds": 3, "lr": 0.001},
            "sac": {"total_timesteps": 200_000, "num_seeds": 3, "num_envs": 16}}
LABELS = {"ppo": "PPO, Dirichlet GNN", "a2c": "A2C, Dirichlet GNN", "sac": "SAC, Dirichlet GNN"}


def command(algo: str, city: str) -> str:
    c = SETTINGS[algo]
    sets = " ".join(f"--set {k}={v}" for k, v in c.items() if k not in ("total_timesteps", "num_seeds"))
    return (f"realax train {algo} realax/RoboTaxi-v0 --scenario ../shared/data/amod/scenario_{city}.json "
            f"--total-timesteps {c['total_timesteps']} --num-seeds {c['num_seeds']} {sets}")


def merge(head: str, old: str, blocks: dict[str, str]) -> str:
    """A results file: ``head``, then the city blocks of ``old`` (the file so far, or "") with each city of
    ``blocks`` replaced, new cities at the end."""
    kept = {b.split("**", 1)[0]: "**" + b for b in old.split("\n**")[1:]}
    kept.update(blocks)
    return "\n".join([head, "", *[kept[k].rstrip("\n") + "\n" for k in kept]])


def agent_parts(block: str) -> dict[str, tuple[str, str]]:
    """``algo -> (its table row, its command and time)`` of the agent rows of a city block."""
    cmds = {m.group(1): m.group(0) for m in re.finditer(r"`realax train (\w+) [^`]*` \(\d+ s\)", block)}
    rows = {a: line for line in block.splitlines() for a, label in LABELS.items() if line.startswith(f"| **{label}**")}
    return {a: (rows[a], cmds[a]) for a in rows if a in cmds}


def row(name: str, totals: dict, over_seeds: bool = False) -> str:
    f = {k: np.asarray(v, np.float64) for k, v in totals.items()}
    if over_seeds:  # [seeds, episodes] -> mean ± std of the seed means
        f = {k: v.mean(-1) for k, v in f.items()}
    cell = lambda v, d=0: f"{v.mean():,.{d}f} ± {v.std():,.{d}f}"
    served = f["served"] / np.maximum(f["demand"], 1)
    return (f"| {name} | {cell(f['reward'])} | {cell(f['served'])} ({100 * served.mean():.1f} %) | "
            f"{cell(f['rebalancing_cost'])} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cities", nargs="+", default=["nyc_brooklyn", "san_francisco", "shenzhen_downtown_west"])
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--mpc-episodes", type=int, default=3)
    ap.add_argument("--algos", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    head = f"Settings: {SETTINGS}; device {jax.devices()[0].device_kind}"
    old = args.out.read_text() if args.out and args.out.exists() else ""
    old_blocks = {b.split("**", 1)[0]: b for b in old.split("\n**")[1:]}
    blocks = {}
    for city in args.cities:
        env, params = realax.make("realax/RoboTaxi-v0", city=str(DATA / f"scenario_{city}.json"))
        key = jax.random.key(1)
        c = env.city
        agents = {a: parts for a, parts in agent_parts(old_blocks.get(city, "")).items() if a not in args.algos}
        for algo in args.algos:
            t0 = time.perf_counter()
            r = experiment.run(algo, env, params, dict(SETTINGS[algo]), episodes=1)
            run = f"`{command(algo, city)}` ({time.perf_counter() - t0:.0f} s)"
            seeds = SETTINGS[algo]["num_seeds"]
            per_seed = [rb.episode_totals(env, params, r.trainer.policy(jax.tree.map(lambda x, i=i: x[i], r.carry)),
                                          key, args.episodes) for i in range(seeds)]
            agents[algo] = (row(f"**{LABELS[algo]}** ({seeds} seeds)",
                                jax.tree.map(lambda *xs: np.stack(xs), *per_seed), over_seeds=True), run)
        order = [a for a in LABELS if a in agents]
        lines = [f"**{city}** ({c.n} regions, fleet {int(params.fleet.sum())}, demand ratio {c.demand_ratio}, "
                 f"start hour {c.start_hour}, {c.cost_per_minute} $/min, {c.step_minutes}-min steps, "
                 f"{int(params.max_steps)} steps); agents: {'; '.join(agents[a][1] for a in order)}", "",
                 "| policy | profit / episode ($) | served trips (share of demand) | rebalancing cost ($) |",
                 "|---|---|---|---|"]
        for name in ("no_rebalancing", "random", "equal_distribution", "plus_one"):
            lines.append(row(name, rb.episode_totals(env, params, baselines.get(name, env, params), key, args.episodes)))
        for kind, what in (("oracle", "true demand"), ("forecast", "expected demand")) if args.mpc_episodes else ():
            mpc = rb.mpc_episodes(env, params, key, args.mpc_episodes, kind=kind)
            lines.append(row(f"MPC {kind}, {rb.MPC[kind][1]} steps of the {what} ({args.mpc_episodes} episodes)", mpc))
        blocks[city] = "\n".join(lines + [agents[a][0] for a in order]) + "\n"
        print(blocks[city], flush=True)
    text = merge(head, old, blocks)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
