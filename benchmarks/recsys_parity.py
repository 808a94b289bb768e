"""SlateRec-v0 against RecSim's interest-evolution environment: the random policy over many users (issue 13).

    pip install -e ".[bench]"          # recsim-no-tf
    python benchmarks/recsys_parity.py --users 5000

Both sides run the same settings -- RecSim's ``create_environment`` (``UtilityModelVideoSampler`` documents,
``UtilityModelUserSampler`` users, multinomial proportional choice, watch-time reward, candidates resampled
every step), ``--slate-size`` of ``--candidates`` -- and the same policy, RecSim's ``RandomAgent`` rule (a
uniformly random ordered slate of distinct candidates). Each user is one episode, from its first slate until
its time budget runs out. realax runs every user at once (``vmap`` inside one ``lax.scan`` of ``max_steps``
steps, no step cap reached); RecSim steps one user at a time in Python, a new user per ``reset``.

Printed per statistic: the mean over users with its 95% confidence interval (1.96 standard errors), the
difference realax - RecSim with its 95% interval (Welch, independent samples) and whether they agree: the
difference's interval contains 0.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.baselines.recsys import random as random_policy
from realax.bench import device_name

STATS = ("episode return (min watched)", "episode length (steps)", "clicks per episode")


def realax_episodes(users: int, candidates: int, slate_size: int, seed: int) -> np.ndarray:
    """``[users, 3]``: return, length and clicks of one episode per user."""
    env, params = realax.make("realax/SlateRec-v0", num_candidates=candidates, slate_size=slate_size)
    policy = random_policy(env, params)

    def episode(key: jax.Array) -> jax.Array:
        k_reset, k_run = jax.random.split(key)
        obs, state = env.reset(k_reset, params)

        def body(carry, k):
            obs, state, alive, total, steps, clicks = carry
            k_act, k_env = jax.random.split(k)
            obs, state, reward, term, trunc, info = env.step(k_env, state, policy(k_act, obs), params)
            total = total + jnp.where(alive, reward, 0.0)
            steps = steps + alive.astype(jnp.int32)
            clicks = clicks + (alive & info["clicked"]).astype(jnp.int32)
            return (obs, state, alive & ~(term | trunc), total, steps, clicks), trunc & alive

        init = (obs, state, jnp.bool_(True), jnp.float32(0.0), jnp.int32(0), jnp.int32(0))
        (_, _, alive, total, steps, clicks), cut = jax.lax.scan(body, init, jax.random.split(k_run, int(params.max_steps)))
        return jnp.stack([total, steps.astype(jnp.float32), clicks.astype(jnp.float32),
                          (alive | cut.any()).astype(jnp.float32)])

    out = np.asarray(jax.jit(jax.vmap(episode))(jax.random.split(jax.random.key(seed), users)))
    if out[:, 3].any():
        raise RuntimeError(f"{int(out[:, 3].sum())} realax episodes reached max_steps: raise it")
    return out[:, :3]


def recsim_episodes(users: int, candidates: int, slate_size: int, seed: int) -> np.ndarray:
    """``[users, 3]`` from the ``recsim`` package, one user per ``reset``."""
    from recsim.environments import interest_evolution

    env = interest_evolution.create_environment({"slate_size": slate_size, "num_candidates": candidates,
                                                 "resample_documents": True, "seed": seed})
    env.seed(seed)  # numpy's global generator: the choice model and the interest update draw from it
    rng = np.random.RandomState(seed + 1)  # RecSim's RandomAgent: its own generator, shuffle, take k
    out = np.zeros((users, 3))
    for u in range(users):
        env.reset()
        done, total, steps, clicks = False, 0.0, 0, 0
        while not done:
            ids = list(range(candidates))
            rng.shuffle(ids)
            obs, reward, done, _ = env.step(ids[:slate_size])
            total += reward
            steps += 1
            clicks += sum(r["click"] for r in obs["response"])
        out[u] = total, steps, clicks
    return out


def mean_ci(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(1.96 * x.std(ddof=1) / np.sqrt(len(x)))


def table(ours: np.ndarray, theirs: np.ndarray) -> tuple[list[str], bool]:
    rows = ["| statistic | realax (95% CI) | recsim (95% CI) | realax - recsim (95% CI) | agree |",
            "|---|---|---|---|---|"]
    every = True
    for j, name in enumerate(STATS):
        (m1, h1), (m2, h2) = mean_ci(ours[:, j]), mean_ci(theirs[:, j])
        diff, half = m1 - m2, float(np.hypot(h1, h2))
        agree = abs(diff) <= half
        every &= agree
        rows.append(f"| {name} | {m1:.2f} ± {h1:.2f} | {m2:.2f} ± {h2:.2f} | {diff:+.2f} ± {half:.2f} | "
                    f"{'yes' if agree else 'NO'} |")
    return rows, every


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=5000, help="episodes (one user each) on each side")
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--slate-size", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ours = realax_episodes(args.users, args.candidates, args.slate_size, args.seed)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = recsim_episodes(args.users, args.candidates, args.slate_size, args.seed)
    t_theirs = time.perf_counter() - t0
    rows, every = table(ours, theirs)
    print(f"random policy, slate {args.slate_size} of {args.candidates} candidates, {args.users} users each; "
          f"realax on {device_name()} ({t_ours:.1f} s with compilation), recsim {t_theirs:.1f} s; "
          f"{platform.processor() or platform.machine()}")
    print("\n".join(rows))
    print(f"\nall agree within 95% confidence intervals: {'yes' if every else 'NO'}")


if __name__ == "__main__":
    main()
