"""UAVOffload results: average UAV association rate and users served, per method (issue 11).

Every learner row is a ``realax train`` run on the default preset (``mondal2025``: 4 UAVs, 100 users, one
congested base station) with the settings below, ``--num-seeds`` seeds trained in one vmapped run; the
tabular learners see each UAV's own cell (``obs=cell``, the paper's state), IPPO/MAPPO the vector view
(``obs=vector``). Each seed's greedy policy, and each baseline, then flies ``--episodes`` episodes and we
record, per step, the share of users on UAVs (``info["association_rate"]``) and the users served by a UAV
or a base station. Rows: mean ± std over seeds (learners: of the seed means) or over episodes (baselines).

Run: ``python benchmarks/uav_results.py [--episodes 20] [--out benchmarks/results/uav_results.md]``; the
learning curves are drawn to ``--curves`` (a PNG).
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
from realax.agents.evaluate import actor  # noqa: E402

#: algorithm -> (env options, --total-timesteps, --set overrides)
RUNS = {
    "sarsa": ({"obs": "cell"}, 200_000, {}),
    "qlearning": ({"obs": "cell"}, 200_000, {}),
    "ippo": ({"obs": "vector"}, 500_000, {}),
    "mappo": ({"obs": "vector"}, 500_000, {}),
}


def command(algo: str, seeds: int) -> str:
    opts, steps, sets = RUNS[algo]
    env_args = " ".join(f"-e {k}={v}" for k, v in opts.items())
    extra = " ".join(f"--set {k}={v}" for k, v in sets.items())
    return f"realax train {algo} realax/UAVOffload-v0 {env_args} --total-timesteps {steps} --num-seeds {seeds} {extra}".strip()


def episodes(env, params, policy, key, n: int) -> dict[str, np.ndarray]:
    """``{"rate": [n], "served": [n]}``: per episode, the mean over steps of the UAV association rate and of
    the users served by anyone (UAV or base station)."""
    act = actor(env, params, policy)
    steps = int(params.max_steps)

    def one(k):
        k0, k1 = jax.random.split(k)
        obs, state = env.reset(k0, params)

        def body(c, kt):
            obs, state = c
            ka, ks = jax.random.split(kt)
            obs, state, _, _, _, info = env.step(ks, state, act(ka, obs, state), params)
            served = env.num_users - info["unserved"]
            return (obs, state), (info["association_rate"], served)

        _, (rate, served) = jax.lax.scan(body, (obs, state), jax.random.split(k1, steps))
        return rate.mean(), served.mean()

    rate, served = jax.jit(jax.vmap(one))(jax.random.split(key, n))
    return {"rate": np.asarray(rate), "served": np.asarray(served, np.float64)}


def row(name: str, per: list[dict] | dict, cmd: str) -> str:
    if isinstance(per, list):  # learners: one dict per seed -> std over seed means
        rate = np.array([p["rate"].mean() for p in per])
        served = np.array([p["served"].mean() for p in per])
    else:
        rate, served = per["rate"], per["served"]
    return f"| {name} | {rate.mean():.3f} ± {rate.std():.3f} | {served.mean():.1f} ± {served.std():.1f} | `{cmd}` |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algos", nargs="+", default=list(RUNS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--curves", type=Path, default=None)
    args = ap.parse_args()
    key = jax.random.key(1)
    lines = [f"device {jax.devices()[0].device_kind}; preset mondal2025 (4 UAVs at 100 m, 100 users, 10 dB QoS, "
             f"25 users per UAV, 50 steps); {args.episodes} evaluation episodes per seed and per baseline", "",
             "| method | UAV association rate | users served (UAV or BS) | command |", "|---|---|---|---|"]
    env, params = realax.make("realax/UAVOffload-v0")
    for name in ("random", "greedy", "pso"):
        n = args.episodes if name != "pso" else max(2, args.episodes // 5)
        cmd = f"realax eval realax/UAVOffload-v0 --policy {name} --episodes {n}"
        lines.append(row(name + (f" ({n} episodes)" if name == "pso" else ""),
                         episodes(env, params, baselines.get(name, env, params), key, n), cmd))
        print(lines[-1], flush=True)
    curves = {}
    for algo in args.algos:
        opts, steps, sets = RUNS[algo]
        env, params = realax.make("realax/UAVOffload-v0", **opts)
        t0 = time.perf_counter()
        r = experiment.run(algo, env, params, {"total_timesteps": steps, "num_seeds": args.seeds, **sets}, episodes=1)
        wall = time.perf_counter() - t0
        per = [episodes(env, params, r.trainer.policy(jax.tree.map(lambda x, i=i: x[i], r.carry)), key, args.episodes)
               for i in range(args.seeds)]
        lines.append(row(f"**{algo}** ({args.seeds} seeds, {steps:,} steps, {wall:.0f} s)", per,
                         command(algo, args.seeds)))
        curves[algo] = (r.curve_steps, r.curve_returns / env.num_agents)
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.curves and curves:
        from realax.envs import plotting

        fig = plotting.figure(800, 450)
        ax = fig.add_axes((0.1, 0.12, 0.85, 0.78))
        for algo, (x, y) in curves.items():
            m = np.nanmean(y, 0)
            ax.plot(x, m, label=algo)
            ax.fill_between(x, np.nanmin(y, 0), np.nanmax(y, 0), alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("env steps per seed")
        ax.set_ylabel("episode return per UAV (sum of association rates)")
        ax.set_title("UAVOffload-v0 (mondal2025): training curves, min-max over seeds")
        ax.legend()
        import imageio.v3 as iio

        iio.imwrite(args.curves, plotting.to_rgb(fig))


if __name__ == "__main__":
    main()
