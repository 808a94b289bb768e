"""SlateRec-v0 baselines: episode return (minutes watched) and length of each over many users (issue 13).

    python benchmarks/recsys_baselines.py --users 2000

Every baseline of ``realax.baselines.recsys`` (random, popularity, myopic greedy, the oracle) plays one episode
per user with the default settings (slate 2 of 10, RecSim's interest-evolution constants); the same users
(keys) for every policy. Printed: mean and 95% confidence interval (1.96 standard errors) of the return, the
length and the clicks per slate.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.agents.evaluate import actor
from realax.baselines import get, names
from realax.bench import device_name


def episodes(env, params, act, keys) -> np.ndarray:
    def one(key):
        k_reset, k_run = jax.random.split(key)
        obs, state = env.reset(k_reset, params)

        def body(c, k):
            obs, state, alive, total, steps, clicks = c
            ka, ke = jax.random.split(k)
            obs, state, r, term, trunc, info = env.step(ke, state, act(ka, obs, state), params)
            return (obs, state, alive & ~(term | trunc), total + jnp.where(alive, r, 0.0), steps + alive,
                    clicks + (alive & info["clicked"])), None

        init = (obs, state, jnp.bool_(True), jnp.float32(0), jnp.int32(0), jnp.int32(0))
        (_, _, alive, total, steps, clicks), _ = jax.lax.scan(body, init, jax.random.split(k_run, int(params.max_steps)))
        return jnp.stack([total, steps.astype(jnp.float32), clicks / steps, alive.astype(jnp.float32)])

    return np.asarray(jax.jit(jax.vmap(one))(keys))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    env, params = realax.make("realax/SlateRec-v0")
    keys = jax.random.split(jax.random.key(args.seed), args.users)
    print(f"SlateRec-v0 defaults (slate 2 of 10, RecSim interest evolution), {args.users} users per policy, "
          f"{device_name()}")
    print("| policy | episode return (min watched) | episode length (steps) | clicks per slate |")
    print("|---|---|---|---|")
    seconds: dict[str, float] = {}
    for name in names(env):
        t0 = time.perf_counter()
        out = episodes(env, params, actor(env, params, get(name, env, params)), keys)
        assert not out[:, 3].any(), "an episode reached max_steps"
        cells = [f"{out[:, j].mean():.{d}f} ± {1.96 * out[:, j].std(ddof=1) / np.sqrt(len(out)):.{d}f}"
                 for j, d in ((0, 1), (1, 1), (2, 3))]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        seconds[name] = time.perf_counter() - t0
    print("\nwall time with compilation: " + ", ".join(f"{n} {s:.0f} s" for n, s in seconds.items()))


if __name__ == "__main__":
    main()
