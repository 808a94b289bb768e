"""UAVOffload-v0 throughput beside mobile-env, measured in the same run (issue 11).

    pip install -e ".[bench]"
    python benchmarks/uav_throughput.py

Two layouts, each stepped by ``realax.bench.measure`` (``jit(scan(vmap(step)))``, random moves, autoreset on,
compile time apart) at ``--num-envs`` copies:

- ``mondal2025``, the default preset: 4 UAVs, 100 users, 1 base station;
- ``mobile-medium``: the size of mobile-env's ``mobile-medium-central-v0`` -- its 7 base stations at its
  coordinates and 15 users, in a 300 m square (mobile-env's area is 200 m x 300 m), plus 3 UAVs (our env always
  flies UAVs; mobile-env has none), 10 m/s x 3 s slots.

mobile-env (``stefanbschneider/mobile-env``, PyPI ``mobile-env``) is stepped in its own Python loop with random
actions from its action space (``env.action_space.sample()``), resetting when an episode ends, for
``--peer-seconds``. The ratio is realax env steps/s (all copies) over mobile-env steps/s.
"""

from __future__ import annotations

import argparse
import time

import realax
from realax.bench import device_name, measure
from realax.envs.uav import UAVOffload
from realax.envs.uav.scenarios import build

#: mobile-env's ``mobile-medium`` base-station coordinates, metres (``mobile_env/scenarios/medium.py``)
MEDIUM_STATIONS = [[95, 240], [100, 140], [105, 60], [35, 200], [40, 95], [165, 220], [160, 110]]


def mobile_env_steps_per_second(env_id: str, seconds: float) -> float:
    import gymnasium
    import mobile_env  # noqa: F401  (registers its ids)

    env = gymnasium.make(env_id)
    env.reset(seed=0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        n += 1
        if terminated or truncated:
            env.reset()
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, nargs="+", default=[1024])
    ap.add_argument("--num-steps", type=int, default=100)
    ap.add_argument("--peer-seconds", type=float, default=10.0)
    args = ap.parse_args()
    medium = UAVOffload(build(dict(name="mobile-medium", area_m=300.0, v_max_mps=10.0, slot_s=3.0, num_uavs=3,
                                   num_users=15, hotspots=[], uniform_fraction=1.0, base_stations=MEDIUM_STATIONS,
                                   bs_capacity=15, max_steps=100)))
    default, default_params = realax.make("realax/UAVOffload-v0")
    peer = mobile_env_steps_per_second("mobile-medium-central-v0", args.peer_seconds)
    print(f"device: {device_name()}")
    print(f"mobile-env mobile-medium-central-v0 (7 stations, 15 users, Python loop): {peer:,.0f} steps/s")
    print(f"{'layout':>15s} {'N':>6s} {'realax steps/s':>15s} {'x mobile-env':>13s} {'compile (s)':>12s}")
    for name, env, params in [("mobile-medium", medium, medium.default_params), ("mondal2025", default, default_params)]:
        for n in args.num_envs:
            r = measure(env, params, n, args.num_steps, num_agents=env.num_agents)
            print(f"{name:>15s} {n:>6d} {r.steps_per_second:>15,.0f} {r.steps_per_second / peer:>13,.0f} "
                  f"{r.compile_seconds:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
