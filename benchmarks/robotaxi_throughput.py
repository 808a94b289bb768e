"""RoboTaxi-v0 throughput: full 20-step episodes per second, beside RL4AMOD's reported cost.

    python benchmarks/robotaxi_throughput.py [--num-envs 1 1024] [--episodes 5]

Setting (issue 4): NYC Brooklyn (RL4AMOD's tutorial calibration, 14 regions, 4-min steps), random valid
actions (box samples, which the env normalises), autoreset on, ``jit(scan(vmap(step)))`` by
``realax.bench.measure`` with the params closed over, compile time apart; then all 13 shipped cities padded to
23 regions and stepped in one vmapped call (params traced, ``--per-city`` envs per city). RL4AMOD's
macro simulator with PuLP/CBC takes about 2.5 s per 20-step test episode (equal distribution) to 3.4-3.7 s
(SAC) on Brooklyn (its tutorial's timings; research notes ``amod-recsys.md`` §1.4); not re-measured by this
script. Issue 15 measured RL4AMOD's own code at 0.8 s per episode on this 2-core machine and set the floor at
>= 1,000x that (>= 1,250 episodes/s at N = 1024); both ratios are printed.
Data from ``$REALAX_AMOD_DATA`` or ``../shared/data/amod``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp

import realax
from realax.bench import device_name, measure
from realax.envs.robotaxi import RoboTaxi

DATA = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "amod"))
RL4AMOD_S_PER_EPISODE = 2.5  # the fastest reported (equal distribution, PuLP)
RL4AMOD_S_PER_EPISODE_HERE = 0.8  # RL4AMOD's own code timed on this machine (issue 15)


def multi_city(per_city: int, episodes: int):
    files = sorted(DATA.glob("scenario_*.json"))
    env, params = RoboTaxi.batch([str(f) for f in files])
    steps = 20 * episodes

    def run(keys, params):
        def one_city(keys, p):
            obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, p)

            def body(carry, k):
                state, total = carry
                ks = jax.random.split(k, 2 * per_city).reshape(2, per_city)
                a = jax.vmap(env.action_space(p).sample)(ks[0])
                obs, state, r, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(ks[1], state, a, p)
                return (state, total + r + obs.sum(-1)), None

            (_, total), _ = jax.lax.scan(body, (state, jnp.zeros(per_city)), jax.random.split(keys[0], steps))
            return total

        return jax.vmap(one_city)(keys, params)

    keys = jax.random.split(jax.random.key(0), len(files) * per_city).reshape(len(files), per_city)
    fn = jax.jit(run)
    t0 = time.perf_counter()
    compiled = fn.lower(keys, params).compile()
    compile_s = time.perf_counter() - t0
    compiled(keys, params).block_until_ready()
    t0 = time.perf_counter()
    compiled(keys, params).block_until_ready()
    wall = time.perf_counter() - t0
    return len(files), env.n, len(files) * per_city * episodes / wall, compile_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, nargs="+", default=[1, 1024])
    ap.add_argument("--episodes", type=int, default=5, help="20-step episodes per env per timed run")
    ap.add_argument("--per-city", type=int, default=64, help="envs per city in the 13-city batch")
    args = ap.parse_args()
    env, params = realax.make("realax/RoboTaxi-v0", city=str(DATA / "scenario_nyc_brooklyn.json"))
    print(f"device: {device_name()}; RL4AMOD (PuLP): {RL4AMOD_S_PER_EPISODE} s/episode reported = "
          f"{1 / RL4AMOD_S_PER_EPISODE:.1f} episodes/s; {RL4AMOD_S_PER_EPISODE_HERE} s/episode measured here (issue 15)")
    for n in args.num_envs:
        t = measure(env, params, n, num_steps=20 * args.episodes, repeats=2)
        eps = t.steps_per_second / 20
        print(f"Brooklyn N={n:<6d} {t.steps_per_second:>10.0f} steps/s = {eps:>9.1f} episodes/s "
              f"= {eps * RL4AMOD_S_PER_EPISODE:>8.0f}x RL4AMOD reported, {eps * RL4AMOD_S_PER_EPISODE_HERE:>6.0f}x measured "
              f"(compile {t.compile_seconds:.1f} s)")
    cities, regions, eps, comp = multi_city(args.per_city, args.episodes)
    print(f"{cities} cities x {args.per_city} envs in one vmapped call (padded to {regions} regions): "
          f"{eps:.1f} episodes/s = {eps * RL4AMOD_S_PER_EPISODE:.0f}x RL4AMOD (compile {comp:.1f} s)")


if __name__ == "__main__":
    main()
