"""Env steps/s on one device against the same batch sharded over two (issue 15), in one run.

    python benchmarks/devices_throughput.py [--num-envs 16384] [--ids realax/Spectrum-v0 ...]

Each device count runs in its own subprocess (JAX fixes its devices when it starts): ``XLA_FLAGS=
--xla_force_host_platform_device_count=2`` makes two CPU devices of the machine's cores, and
``realax.bench.measure`` shards the batch over every visible device (``jit(scan(vmap(step)))``, random valid
actions, autoreset on, best of 3, compile apart). The ratio is two devices over one, same ids, same N. The last
column counts the collectives (all-reduce, all-gather, all-to-all, reduce-scatter, collective-permute) in the
compiled two-device rollout: with none, each device runs the program on its half of the batch alone, and what
limits the ratio is the machine (the cores, their caches and memory), not communication.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

IDS = ["realax/Spectrum-v0", "realax/SMAX-v0", "realax/RoboTaxi-v0"]

CHILD = r"""
import json, re, sys
from realax import _xla
_xla.configure()
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
import realax
from realax.bench import _rollout, device_name, measure
n, steps = int(sys.argv[1]), int(sys.argv[2])
COLLECTIVES = r"\b(all-reduce|all-gather|all-to-all|reduce-scatter|collective-permute)(-start)?\("
for env_id in sys.argv[3:]:
    env, params = realax.make(env_id)
    agents = env.num_agents if hasattr(env, "agents") else None
    r = measure(env, params, n, steps, num_agents=agents)
    collectives = 0  # one device: nothing to move between devices, nothing to compile again
    if r.devices > 1:  # the sharded rollout measure timed, compiled again: the ops that move data between devices
        mesh = Mesh(np.array(jax.devices()[: r.devices]), ("envs",))
        keys = jax.device_put(jax.random.split(jax.random.key(0), n), NamedSharding(mesh, PartitionSpec("envs")))
        run = jax.jit(lambda k: _rollout(env, env.action_space(params), steps, agents)(k, params))
        collectives = len(re.findall(COLLECTIVES, run.lower(keys).compile().as_text()))
    print(json.dumps({"id": env_id, "device": device_name(), "devices": r.devices, "sps": r.steps_per_second,
                      "compile": r.compile_seconds, "collectives": collectives}), flush=True)
"""


def run(devices: int, num_envs: int, steps: int, ids: list[str]) -> dict[str, dict]:
    flags = os.environ.get("XLA_FLAGS", "")
    env = {**os.environ, "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={devices}".strip()}
    out = subprocess.run([sys.executable, "-c", CHILD, str(num_envs), str(steps), *ids], env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {r["id"]: r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, default=16384)
    ap.add_argument("--num-steps", type=int, default=20)
    ap.add_argument("--ids", nargs="+", default=IDS)
    args = ap.parse_args()
    one = run(1, args.num_envs, args.num_steps, args.ids)
    two = run(2, args.num_envs, args.num_steps, args.ids)
    print(f"N = {args.num_envs}, {args.num_steps} steps a timed run")
    print("| id | device | 1 device steps/s | 2 devices steps/s | ratio | ops between the devices |\n"
          "|---|---|---|---|---|---|")
    for i in args.ids:
        a, b = one[i], two[i]
        print(f"| `{i}` | {b['device']} | {a['sps']:,.0f} | {b['sps']:,.0f} | {b['sps'] / a['sps']:.2f} | "
              f"{b['collectives']} |")


if __name__ == "__main__":
    main()
