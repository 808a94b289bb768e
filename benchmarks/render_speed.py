"""Seconds per rendered frame for every registered id (``env.render`` with the step/reward/return overlay).

    python benchmarks/render_speed.py [--steps 4] [--repeats 5]

Pictures are for people, not for the hot path (DESIGN §2), but a video of a few hundred frames should take
seconds, not minutes. Each id takes a few legal steps, renders once to warm matplotlib's font cache, then
``--repeats`` times; the median is printed. Timing lives here, not in the tests: a shared CI machine's pauses
made a per-frame time limit in ``tests/test_render.py`` fail on a 0.35 s frame.
"""

from __future__ import annotations

import argparse
import statistics
import time

import realax
from realax.bench import device_name, few_steps


def frame_seconds(env_id: str, steps: int, repeats: int) -> tuple[tuple[int, ...], float]:
    env, params, state, reward, ret = few_steps(env_id, steps)
    frame = env.render(state, params, reward=reward, episode_return=ret)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        env.render(state, params, reward=reward, episode_return=ret)
        times.append(time.perf_counter() - t0)
    return frame.shape, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"device: {device_name()}\n")
    print("| id | frame (h x w) | s per frame (median) |\n|---|---|---|")
    for env_id in realax.list_envs():
        shape, sec = frame_seconds(env_id, args.steps, args.repeats)
        print(f"| `{env_id}` | {shape[0]} x {shape[1]} | {sec:.2f} |")


if __name__ == "__main__":
    main()
