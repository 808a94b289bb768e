"""RoboTaxi results: profit, served demand and rebalancing cost per episode for every baseline and for PPO
with the Dirichlet graph policy, on RL4AMOD cities (mean ± std).

Each city: ``realax train ppo realax/RoboTaxi-v0 --scenario CITY_FILE`` with the settings below (the agent
row; 3 seeds trained in one vmapped run), then every policy evaluated over ``--episodes`` episodes with
``realax.baselines.robotaxi.episode_totals`` (the agent: over each seed's greedy policy, i.e. the Dirichlet
mean), and the MPC oracle (HiGHS over a 6-step horizon with the true demand, a host loop) over
``--mpc-episodes``. The std of the agent row is over seed means; of the baselines over episodes.

Run: ``python benchmarks/robotaxi_results.py [--cities nyc_brooklyn san_francisco shenzhen_downtown_west]``;
data from ``$REALAX_AMOD_DATA`` or ``../shared/data/amod``. Writes the markdown table to ``--out`` too.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from realax import _xla  # noqa: E402

_xla.configure()

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax import baselines, experiment  # noqa: E402
from realax.baselines import robotaxi as rb  # noqa: E402

DATA = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "amod"))
#: the PPO settings of the agent rows (``--set`` of ``realax train``)
PPO = {"total_timesteps": 1_000_000, "num_seeds": 3, "reward_scale": 0.001, "gamma": 0.97, "num_steps": 20,
       "hidden": 32, "ent_coef": 0.0}


def command(city: str) -> str:
    sets = " ".join(f"--set {k}={v}" for k, v in PPO.items() if k not in ("total_timesteps", "num_seeds"))
    return (f"realax train ppo realax/RoboTaxi-v0 --scenario ../shared/data/amod/scenario_{city}.json "
            f"--total-timesteps {PPO['total_timesteps']} --num-seeds {PPO['num_seeds']} {sets}")


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
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    lines = [f"PPO settings: {PPO}; device {jax.devices()[0].device_kind}", ""]
    for city in args.cities:
        env, params = realax.make("realax/RoboTaxi-v0", city=str(DATA / f"scenario_{city}.json"))
        t0 = time.perf_counter()
        r = experiment.run("ppo", env, params, dict(PPO), episodes=1)
        wall = time.perf_counter() - t0
        key = jax.random.key(1)
        per_seed = [rb.episode_totals(env, params, r.trainer.policy(jax.tree.map(lambda x, i=i: x[i], r.carry)), key,
                                      args.episodes) for i in range(PPO["num_seeds"])]
        agent = jax.tree.map(lambda *xs: np.stack(xs), *per_seed)
        c = env.city
        lines += [f"**{city}** ({c.n} regions, fleet {int(params.fleet.sum())}, demand ratio {c.demand_ratio}, "
                  f"start hour {c.start_hour}, {c.cost_per_minute} $/min, {c.step_minutes}-min steps, "
                  f"{int(params.max_steps)} steps); agent: `{command(city)}` ({wall:.0f} s)", "",
                  "| policy | profit / episode ($) | served trips (share of demand) | rebalancing cost ($) |",
                  "|---|---|---|---|"]
        for name in ("no_rebalancing", "random", "equal_distribution"):
            lines.append(row(name, rb.episode_totals(env, params, baselines.get(name, env, params), key, args.episodes)))
        if args.mpc_episodes:
            mpc = rb.mpc_episodes(env, params, key, args.mpc_episodes)
            lines.append(row(f"MPC oracle, {args.mpc_episodes} episodes (true demand)", mpc))
        lines.append(row(f"**PPO, Dirichlet GNN** ({PPO['num_seeds']} seeds)", agent, over_seeds=True))
        lines.append("")
        print("\n".join(lines[-10:]), flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
