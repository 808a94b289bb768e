"""SlateRec-v0 throughput beside RecSim's interest-evolution environment, measured in the same run (issue 13).

    pip install -e ".[bench]"          # recsim-no-tf
    python benchmarks/recsys_throughput.py --num-envs 1 1024 16384

realax: ``realax.bench.measure`` (``jit(scan(vmap(step)))``, random valid slates drawn from the ``Slate``
space, autoreset on, compile time apart) at each ``--num-envs`` users, slate ``--slate-size`` of
``--candidates``. One user-step is one env transition of one user.

RecSim: ``interest_evolution.create_environment`` (the same user, document and choice models) stepped in its own
Python loop with a random slate of distinct candidates each step (RecSim's ``RandomAgent`` rule: shuffle, take
``k``), resetting when a session ends, for ``--peer-seconds``. The ratio is realax user-steps/s over RecSim's.

The harness's ceiling (``realax.bench.measure_floor``): the same measurement of an env that does nothing but
has SlateRec's slate space and observation size, so its figure is the key splits, the random slates and the read
of every observation alone -- no SlateRec step, however it were written, can go faster under this protocol; and
the same with the ``2 C + 2`` uniforms a step cannot do without drawn from the step's key (``draws``): one per
new candidate's topic and one per its quality (RecSim resamples the ``C`` candidates every step, each with a
topic and a normal quality; one uniform per normal is the fewest, by the inverse distribution function), one for
the choice and one for the direction of the interest update. Both are printed beside each ``N`` with their
ratio to RecSim.

Memory per user: the bytes of one user's ``SlateState``, and of one ``SlateParams`` (shared by every user
unless a family of params is vmapped, when each user carries its own).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import realax
from realax.bench import device_name, measure, measure_floor


def recsim_steps_per_second(candidates: int, slate_size: int, seconds: float) -> float:
    from recsim.environments import interest_evolution

    env = interest_evolution.create_environment({"slate_size": slate_size, "num_candidates": candidates,
                                                 "resample_documents": True, "seed": 0})
    env.seed(0)
    rng = np.random.RandomState(1)
    env.reset()
    ids = list(range(candidates))
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        rng.shuffle(ids)
        _, _, done, _ = env.step(ids[:slate_size])
        n += 1
        if done:
            env.reset()
    return n / (time.perf_counter() - t0)


def bytes_per_user(tree) -> int:
    return int(sum(np.asarray(x).nbytes for x in jax.tree.leaves(tree)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, nargs="+", default=[1, 1024, 16384])
    ap.add_argument("--num-steps", type=int, default=100)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--slate-size", type=int, default=2)
    ap.add_argument("--peer-seconds", type=float, default=20.0)
    args = ap.parse_args()
    env, params = realax.make("realax/SlateRec-v0", num_candidates=args.candidates, slate_size=args.slate_size)
    _, state = env.reset(jax.random.key(0), params)
    peer = recsim_steps_per_second(args.candidates, args.slate_size, args.peer_seconds)
    print(f"device: {device_name()}")
    print(f"slate {args.slate_size} of {args.candidates} candidates, {env.num_topics} topics; memory per user: "
          f"state {bytes_per_user(state)} B, params {bytes_per_user(params)} B (shared unless vmapped)")
    print(f"recsim interest_evolution (Python loop, one user): {peer:,.0f} user-steps/s")
    draws = 2 * args.candidates + 2
    print(f"{'N':>6s} {'realax user-steps/s':>20s} {'x recsim':>9s} {'compile (s)':>12s} "
          f"{'harness alone':>14s} {'x recsim':>9s} {f'+ {draws} uniforms':>14s} {'x recsim':>9s}")
    for n in args.num_envs:
        r = measure(env, params, n, args.num_steps)
        floors = [measure_floor(env, params, n, args.num_steps, draws=d).steps_per_second for d in (0, draws)]
        print(f"{n:>6d} {r.steps_per_second:>20,.0f} {r.steps_per_second / peer:>9,.0f} {r.compile_seconds:>12.1f} "
              + " ".join(f"{f:>14,.0f} {f / peer:>9,.0f}" for f in floors), flush=True)
    after = recsim_steps_per_second(args.candidates, args.slate_size, args.peer_seconds / 2)
    print(f"recsim again after the realax runs: {after:,.0f} user-steps/s (the ratios use the first figure)")


if __name__ == "__main__":
    main()
