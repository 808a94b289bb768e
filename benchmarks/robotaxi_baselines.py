"""RL4AMOD's Brooklyn tutorial numbers beside ours (profit per episode, $).

Targets: RL4AMOD ITSC-2024 tutorial (``StanfordASL/RL4AMOD`` ``tutorial.ipynb`` outputs and
``figures/comparison_final.png``; research notes ``amod-recsys.md`` §1.8), macro simulator, PuLP, 10 test
episodes: no rebalancing 27.6 k, random (Dirichlet) 25.1 k (a rerun in the notebook: 26.5 k), equal
distribution 49.2 k, pretrained SAC 56.7 k.
Settings (``testing.py: setup_macro`` with ``calibrated_parameters.json``, ``macro.yaml``): city
``nyc_brooklyn``, demand_ratio 9, start hour 19, beta 0.5 $/min, test_tstep 4 min, max_steps 20, fleet =
totalAcc of hour 20 = 1500 split over 14 regions (107 each), matching on fares, step matching profit
clipped at 0. RL4AMOD's episode is one matching at reset + 19 rebalance/match steps; ours is 20
rebalance/match steps (same totals for no rebalancing and equal distribution, see ``env.py``); the second
block replays RL4AMOD's protocol (no rebalancing before the first matching).

Run: ``python benchmarks/robotaxi_baselines.py [--episodes 100] [--mpc-episodes 3]``; data from
``$REALAX_AMOD_DATA`` or ``../shared/data/amod``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax

import realax
from realax import baselines
from realax.baselines import robotaxi as rb

DATA = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "amod"))
TARGETS = {"no_rebalancing": 27.6e3, "random": 25.1e3, "equal_distribution": 49.2e3}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--mpc-episodes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    env, params = realax.make("realax/RoboTaxi-v0", city=str(DATA / "scenario_nyc_brooklyn.json"))
    c = env.city
    print(f"nyc_brooklyn: demand_ratio {c.demand_ratio}, start hour {c.start_hour}, beta {c.cost_per_minute} $/min, "
          f"step {c.step_minutes} min, {int(params.max_steps)} steps, fleet {int(params.fleet.sum())}; "
          f"{args.episodes} episodes each ({jax.devices()[0].device_kind})")
    print(f"{'policy':<20s} {'profit/episode':>16s} {'RL4AMOD':>9s} {'ratio':>6s}  {'served-trip profit':>18s} "
          f"{'reb. cost':>9s} {'served':>7s} {'demand':>7s}")
    key = jax.random.key(args.seed)
    for protocol in (False, True):
        if protocol:
            print("RL4AMOD's protocol (no rebalancing before the first matching: 19 decisions, 20 matchings):")
        for name in ("no_rebalancing", "random", "equal_distribution", "plus_one"):
            out = jax.device_get(rb.episode_totals(env, params, baselines.get(name, env, params), key, args.episodes,
                                                   rl4amod_protocol=protocol))
            r = out["reward"]
            tgt = TARGETS.get(name)
            ref = f"{tgt:>9.0f} {r.mean() / tgt:>6.3f}" if tgt else f"{'-':>9s} {'-':>6s}"
            print(f"{name:<20s} {r.mean():>9.0f} ± {r.std():<5.0f} {ref}  "
                  f"{out['profit'].mean():>18.0f} {out['rebalancing_cost'].mean():>9.0f} {out['served'].mean():>7.0f} "
                  f"{out['demand'].mean():>7.0f}")
    for kind in ("oracle", "forecast") if args.mpc_episodes else ():
        t0 = time.perf_counter()
        out = rb.mpc_episodes(env, params, key, args.mpc_episodes, kind=kind)
        r = out["reward"]
        label = f"mpc_{kind} ({rb.MPC[kind][1]} steps)"
        print(f"{label:<20s} {r.mean():>9.0f} ± {r.std():<5.0f} {'-':>9s} {'-':>6s}  "
              f"{out['profit'].mean():>18.0f} {out['rebalancing_cost'].mean():>9.0f} {out['served'].mean():>7.0f} "
              f"{out['demand'].mean():>7.0f}   ({args.mpc_episodes} episodes, {time.perf_counter() - t0:.0f} s host loop)")


if __name__ == "__main__":
    main()
