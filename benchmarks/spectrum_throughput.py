"""Spectrum-v0 throughput beside gymnax CartPole-v1, measured by the same code in the same run.

    pip install -e ".[bench]"
    python benchmarks/spectrum_throughput.py                      # one CPU device
    XLA_FLAGS=--xla_force_host_platform_device_count=2 python benchmarks/spectrum_throughput.py   # both cores

Setting (issue 2): 10 channels, 4 entities (RFRL Gym's test scenario, built in as ``jam_hopper``),
history 8, random valid actions, autoreset on, compile time apart. ``closed`` closes over the params, as
training code does; ``traced`` passes them as an argument (a vmapped batch of params). For scale, RFRL
Gym's own Python loop runs about 28 thousand steps/s on the 2-core CPU machine (issue 2; not re-measured).
"""

from __future__ import annotations

import argparse

import realax
from realax.bench import device_name, measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, nargs="+", default=[1, 1024, 16384])
    ap.add_argument("--num-steps", type=int, default=100)
    args = ap.parse_args()
    import gymnax

    env, params = realax.make("realax/Spectrum-v0", scenario="jam_hopper", history=8)
    peer, peer_params = gymnax.make("CartPole-v1")
    print(f"device: {device_name()}")
    print(f"{'N':>8s} {'params':>7s} {'realax Spectrum':>17s} {'gymnax CartPole':>17s} {'ratio':>6s} {'compile (s)':>12s}")
    for n in args.num_envs:
        for traced in (False, True):
            a = measure(env, params, n, args.num_steps, traced_params=traced)
            b = measure(peer, peer_params, n, args.num_steps, traced_params=traced)
            print(f"{n:>8d} {'traced' if traced else 'closed':>7s} {a.steps_per_second / 1e6:>15.2f} M "
                  f"{b.steps_per_second / 1e6:>15.2f} M {a.steps_per_second / b.steps_per_second:>6.2f} "
                  f"{a.compile_seconds:>5.1f} / {b.compile_seconds:<5.1f}", flush=True)


if __name__ == "__main__":
    main()
