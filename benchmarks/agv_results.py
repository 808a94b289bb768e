"""AGV results: success rate, collision rate and time to goal of A*, PPO and PPO+RND on the four scenes (issue 12).

Every learner row is a ``realax train`` run (the command is printed beside it), ``--seeds`` seeds trained in one
vmapped run; each seed's greedy policy then drives ``--episodes`` first episodes (no autoreset), and so does
each baseline. Per method: success rate and collision rate (mean ± std over seeds for learners, over nothing
for the deterministic planner: its row is one number per scene), and the mean time to goal of the successful
episodes in steps (0.1 s each). The learning curves of PPO and PPO+RND on the sparse complex scenes go to
``--curves`` (a PNG).

Run: ``python benchmarks/agv_results.py [--scenes complex_static ...] [--rewards sparse dense]
[--steps 1000000] [--seeds 3] [--out benchmarks/results/agv_results.md] [--curves docs/img/agv_curves.png]``
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
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax import baselines, experiment, options  # noqa: E402
from realax.agents.evaluate import actor  # noqa: E402
from realax.envs.agv import AGV  # noqa: E402

SCENES = ("simple_static", "simple_dynamic", "complex_static", "complex_dynamic")
ALGOS = ("ppo", "ppo_rnd")


def first_episodes(env, params, policy, key, n: int) -> dict[str, np.ndarray]:
    """``success``, ``collision`` (bool ``[n]``) and ``time`` (steps to the goal, -1 if never) of ``n`` first
    episodes of ``policy``."""
    act = actor(env, params, policy)

    def one(k):
        k0, k1 = jax.random.split(k)
        obs, state = env.reset(k0, params)

        def body(c, kt):
            obs, state, done, succ, coll, ttg = c
            ka, ks = jax.random.split(kt)
            obs, state, _, term, trunc, info = env.step_env(ks, state, act(ka, obs, state), params)
            live = ~done
            succ = succ | (live & info["success"])
            coll = coll | (live & info["collision"])
            ttg = jnp.where(live & info["success"], info["time_to_goal"], ttg)
            return (obs, state, done | term | trunc, succ, coll, ttg), None

        c0 = (obs, state, jnp.bool_(False), jnp.bool_(False), jnp.bool_(False), jnp.int32(-1))
        (_, _, _, s, c, t), _ = jax.lax.scan(body, c0, jax.random.split(k1, int(params.max_steps)))
        return s, c, t

    s, c, t = jax.jit(jax.vmap(one))(jax.random.split(key, n))
    return {"success": np.asarray(s), "collision": np.asarray(c), "time": np.asarray(t)}


def fmt(per: list[dict]) -> str:
    succ = np.array([p["success"].mean() for p in per])
    coll = np.array([p["collision"].mean() for p in per])
    times = np.concatenate([p["time"][p["success"]] for p in per])
    ttg = f"{times.mean():.0f}" if times.size else "–"
    pm = (lambda a: f"{a.mean():.2f} ± {a.std():.2f}") if len(per) > 1 else (lambda a: f"{a.mean():.2f}")
    return f"{pm(succ)} | {pm(coll)} | {ttg}"


def env_flags(scene: str, reward: str, env_opts: list[str]) -> str:
    """The ``-e`` options of a row's command."""
    return f"-e scenario={scene} -e reward_mode={reward}" + "".join(f" -e {e}" for e in env_opts)


def command(algo: str, scene: str, reward: str, steps: int, seeds: int, env_opts: list[str], sets: list[str]) -> str:
    extra = "".join(f" --set {e}" for e in sets)
    return (f"realax train {algo} realax/AGV-v0 {env_flags(scene, reward, env_opts)}{extra} "
            f"--total-timesteps {steps} --num-seeds {seeds}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", nargs="+", default=list(SCENES))
    ap.add_argument("--rewards", nargs="+", default=["sparse", "dense"])
    ap.add_argument("--algos", nargs="*", default=list(ALGOS))
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=64)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--curves", type=Path, default=None)
    ap.add_argument("-e", "--env", dest="env_opts", action="append", default=[],
                    help="env option KEY=VALUE for every row (repeatable), e.g. -e routes=1")
    ap.add_argument("--set", dest="sets", action="append", default=[],
                    help="learner config field KEY=VALUE (repeatable), e.g. --set num_envs=256")
    ap.add_argument("--no-baselines", action="store_true", help="only the learner rows")
    args = ap.parse_args()
    env_kw = options.coerce_all(options.split_pairs(args.env_opts, "-e"), options.env_hints(AGV)[0], "AGV")
    key = jax.random.key(1)
    lines = [f"device {jax.devices()[0].device_kind}; {args.episodes} first episodes per seed and per baseline; "
             f"time to goal in steps of 0.1 s over the successful episodes", "",
             "| scene | reward | method | success rate | collision rate | time to goal | command |",
             "|---|---|---|---|---|---|---|"]
    curves: dict[str, tuple] = {}
    for scene in args.scenes:
        for reward in args.rewards:
            env, params = realax.make("realax/AGV-v0", scenario=scene, reward_mode=reward, **env_kw)
            for name in () if args.no_baselines else ("random", "astar"):
                res = first_episodes(env, params, baselines.get(name, env, params), key, args.episodes)
                cmd = f"realax eval realax/AGV-v0 {env_flags(scene, reward, args.env_opts)} --policy {name}"
                lines.append(f"| {scene} | {reward} | {name} | {fmt([res])} | `{cmd}` |")
                print(lines[-1], flush=True)
            for algo in args.algos:
                t0 = time.perf_counter()
                r = experiment.run(algo, env, params, {**options.split_pairs(args.sets, "--set"),
                                                      "total_timesteps": args.steps, "num_seeds": args.seeds},
                                   episodes=1)
                wall = time.perf_counter() - t0
                per = [first_episodes(env, params, r.trainer.policy(jax.tree.map(lambda x, i=i: x[i], r.carry)),
                                      key, args.episodes) for i in range(args.seeds)]
                label = f"**{algo}** ({args.seeds} seeds, {args.steps:,} steps, {wall:.0f} s)"
                lines.append(f"| {scene} | {reward} | {label} | {fmt(per)} | "
                             f"`{command(algo, scene, reward, args.steps, args.seeds, args.env_opts, args.sets)}` |")
                print(lines[-1], flush=True)
                if reward == "sparse" and scene.startswith("complex"):
                    curves[f"{algo} {scene}"] = (r.curve_steps, r.curve_returns)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.curves and curves:
        import imageio.v3 as iio

        from realax.envs import plotting

        fig = plotting.figure(800, 450)
        ax = fig.add_axes((0.1, 0.12, 0.85, 0.78))
        for name, (x, y) in curves.items():
            ax.plot(x, np.nanmean(y, 0), label=name, ls="-" if "rnd" in name else "--")
            ax.fill_between(x, np.nanmin(y, 0), np.nanmax(y, 0), alpha=0.15)
        ax.set_xlabel("env steps per seed")
        ax.set_ylabel("episode return (sparse: +1 goal, -1 collision)")
        ax.set_title(f"AGV-v0 {' '.join(args.env_opts)}, sparse: PPO vs PPO+RND, mean and min-max over seeds")
        ax.legend()
        iio.imwrite(args.curves, plotting.to_rgb(fig))


if __name__ == "__main__":
    main()
