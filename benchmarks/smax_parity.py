"""Win-rate parity: realax SMAX (``realax/SMAX-v0``) beside JaxMARL SMAX against the heuristic enemy.

For each scenario (default 3m, 2s3z, 5m_vs_6m) and each ally policy

(a) ``random``: every ally takes a uniform random VALID action (its action mask) each step;
(b) ``heuristic``: the allies are played by the same heuristic as the enemy;

``--episodes`` copies (default 10000) run vmapped from reset to the end of their first episode (a scan over
``max_steps + 1`` = 101 steps, by which every copy has ended in both libraries -- JaxMARL's time limit ends
an episode on step 101, see below; only each copy's first episode is counted; steps after it are ignored).

Rule difference found: JaxMARL 0.2.0 computes ``done = is_terminal(state)`` before incrementing
``state.step``, so a battle that nobody wins lasts 101 env steps there; realax truncates at step 100.

The enemy is always the heuristic (``attack_mode="closest"``):

- JaxMARL: ``HeuristicEnemySMAX(scenario=map_name_to_scenario(name))``; its ``step_env`` (no autoreset, so
  the final state can be read); win = every enemy dead and some ally alive, from the final state; allies in
  (b): ``create_heuristic_policy(env._env, team=0)`` vmapped over the allies on their own unit-list
  observations, with its per-unit policy state (``get_heuristic_policy_initial_state``).
- realax: ``SMAX(name)`` (built-in heuristic enemy); its ``step_env`` (no autoreset); win = ``info["won"]``;
  allies in (b): ``realax.envs.smax.heuristic.heuristic_actions`` called with the teams swapped (glue below:
  realax has no ready-made "heuristic allies" switch). That function numbers attack targets the enemy team's
  way (reverse order), so the glue re-encodes an attack on ally-side target ``k`` as ``5 + k``, and keeps
  the allies' default target (start position rotated 180 degrees about the centre) and last target itself.

Prints win / draw / loss / time-out rates, the win rate's 95 % Wilson interval for each library, and whether
the two intervals overlap (plus a two-proportion z score).

Usage: ``python benchmarks/smax_parity.py [--episodes 10000] [--scenarios 3m 2s3z 5m_vs_6m] [--batch 2500]``
(needs ``jaxmarl`` importable, e.g. in a separate venv with ``pip install jaxmarl`` and ``pip install -e .``).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), "--xla_cpu_enable_concurrency_optimized_scheduler=false"]).strip()
from realax import _xla  # noqa: E402

_xla.configure()

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

MAX_STEPS = 100


def sample_valid(key, mask):
    """Uniform valid action per row of ``mask`` bool ``[A, n]`` -> int32 ``[A]``."""
    return jax.random.categorical(key, jnp.where(mask, 0.0, -jnp.inf), axis=-1).astype(jnp.int32)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


# -- one episode per copy; returns (won, lost, draw, timeout, length) per copy -------------------------------
def realax_episodes(scenario: str, allies: str):
    from realax.envs.smax import SMAX
    from realax.envs.smax.env import _pdist
    from realax.envs.smax.heuristic import heuristic_actions

    env = SMAX(scenario, max_steps=MAX_STEPS)
    params = env.default_params
    n_a = env.num_allies
    centre = jnp.array([params.map_width, params.map_height], jnp.float32) / 2

    def ally_heuristic(key, state, goal, last):
        _, st = env._stats(state.types, params)
        dist = _pdist(state.pos)
        u = jax.random.uniform(key, (n_a,))
        act, last = heuristic_actions(dist[:n_a, n_a:], state.pos[:n_a], state.pos[n_a:], state.alive[:n_a],
                                      state.alive[n_a:], st["sight"][:n_a], st["range"][:n_a], goal, last, u)
        # heuristic_actions encodes "attack k" the enemy team's way (5 + n_other - 1 - k); allies use 5 + k
        return jnp.where(act >= 5, 5 + last, act).astype(jnp.int32), last

    def run(key):
        k_reset, key = jax.random.split(key)
        _, state = env.reset(k_reset, params)
        goal = 2 * centre - state.pos[:n_a]
        last = jnp.full(n_a, -1, jnp.int32)

        def body(carry, _):
            state, key, last, ended, out = carry
            key, k_act, k_step = jax.random.split(key, 3)
            if allies == "random":
                act = sample_valid(k_act, env.action_mask(state, params))
            else:
                act, last = ally_heuristic(k_act, state, goal, last)
            _, state, _, term, trunc, info = env.step_env(k_step, state, act, params)
            done = term | trunc
            allies_dead = ~jnp.any(info["alive"])
            res = jnp.stack([info["won"], term & allies_dead & ~info["won"] & jnp.any(state.alive[n_a:]),
                             term & ~info["won"] & ~jnp.any(state.alive[n_a:]), trunc]).astype(jnp.int32)
            res = jnp.concatenate([res, state.t[None]])
            out = jnp.where(done & ~ended, res, out)
            return (state, key, last, ended | done, out), None

        init = (state, key, last, jnp.bool_(False), jnp.zeros(5, jnp.int32))
        (_, _, _, ended, out), _ = jax.lax.scan(body, init, None, MAX_STEPS + 1)
        return ended, out

    return run


def jaxmarl_episodes(scenario: str, allies: str):
    from jaxmarl.environments.smax import HeuristicEnemySMAX, map_name_to_scenario
    from jaxmarl.environments.smax.heuristic_enemy import create_heuristic_policy, get_heuristic_policy_initial_state

    env = HeuristicEnemySMAX(scenario=map_name_to_scenario(scenario), max_steps=MAX_STEPS)
    agents = list(env.agents)
    n_a = env.num_allies
    policy = create_heuristic_policy(env._env, 0, shoot=True, attack_mode="closest")

    def run(key):
        k_reset, key = jax.random.split(key)
        obs, state = env.reset(k_reset)
        pstate = jax.tree.map(lambda *xs: jnp.stack(xs), *([get_heuristic_policy_initial_state()] * n_a))

        def body(carry, _):
            state, obs, key, pstate, ended, out = carry
            key, k_act, k_step = jax.random.split(key, 3)
            if allies == "random":
                m = env.get_avail_actions(state)
                act = sample_valid(k_act, jnp.stack([m[a] for a in agents]).astype(bool))
            else:
                ally_obs = jnp.stack([obs[a] for a in agents])
                act, pstate = jax.vmap(policy)(jax.random.split(k_act, n_a), pstate, ally_obs)
            obs, state, _, dones, _ = env.step_env(k_step, state, {a: act[i] for i, a in enumerate(agents)})
            done = dones["__all__"]
            alive = state.state.unit_alive
            a_alive, e_alive = jnp.any(alive[:n_a]), jnp.any(alive[n_a:])
            won = ~e_alive & a_alive
            res = jnp.stack([won, ~a_alive & e_alive, ~a_alive & ~e_alive, done & a_alive & e_alive]).astype(jnp.int32)
            res = jnp.concatenate([res, state.state.step[None].astype(jnp.int32)])
            out = jnp.where(done & ~ended, res, out)
            return (state, obs, key, pstate, ended | done, out), None

        init = (state, obs, key, pstate, jnp.bool_(False), jnp.zeros(5, jnp.int32))
        (_, _, _, _, ended, out), _ = jax.lax.scan(body, init, None, MAX_STEPS + 1)
        return ended, out

    return run


def run_lib(fn, episodes: int, batch: int, seed: int, name: str = ""):
    runner = jax.jit(jax.vmap(fn))
    outs = []
    for i, start in enumerate(range(0, episodes, batch)):
        n = min(batch, episodes - start)
        keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), i), n)
        ended, out = runner(keys)
        ended, out = np.asarray(ended), np.asarray(out)
        assert ended.all(), f"{name}: {(~ended).sum()} copies did not end within max_steps + 1"
        outs.append(out)
    out = np.concatenate(outs)
    return {"n": len(out), "won": int(out[:, 0].sum()), "lost": int(out[:, 1].sum()), "draw": int(out[:, 2].sum()),
            "timeout": int(out[:, 3].sum()), "len": float(out[:, 4].mean())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=10000)
    ap.add_argument("--scenarios", nargs="+", default=["3m", "2s3z", "5m_vs_6m"])
    ap.add_argument("--allies", nargs="+", default=["random", "heuristic"], choices=["random", "heuristic"])
    ap.add_argument("--batch", type=int, default=2500)
    args = ap.parse_args(argv)
    import jaxmarl

    d = jax.devices()[0]
    print(f"jax {jax.__version__}, jaxmarl {getattr(jaxmarl, '__version__', '?')}, device "
          f"{d.platform}:{getattr(d, 'device_kind', '?')}, {args.episodes} episodes per cell (first episode of "
          f"each vmapped copy), enemy = heuristic (closest)")
    header = (f"{'scenario':<9} {'allies':<9} {'lib':<7} {'win':>6} {'95% Wilson CI':>16} {'draw':>6} {'loss':>6} "
              f"{'t/out':>6} {'len':>5}  agree?")
    print(header)
    print("-" * len(header))
    for s in args.scenarios:
        for allies in args.allies:
            res = {}
            for lib, make, seed in (("realax", realax_episodes, 1), ("jaxmarl", jaxmarl_episodes, 2)):
                t0 = time.perf_counter()
                res[lib] = run_lib(make(s, allies), args.episodes, args.batch, seed, lib)
                res[lib]["secs"] = time.perf_counter() - t0
            ci = {k: wilson(r["won"], r["n"]) for k, r in res.items()}
            overlap = ci["realax"][0] <= ci["jaxmarl"][1] and ci["jaxmarl"][0] <= ci["realax"][1]
            p1, p2 = (res[k]["won"] / res[k]["n"] for k in ("realax", "jaxmarl"))
            pool = (res["realax"]["won"] + res["jaxmarl"]["won"]) / (res["realax"]["n"] + res["jaxmarl"]["n"])
            se = math.sqrt(max(pool * (1 - pool), 1e-12) * (1 / res["realax"]["n"] + 1 / res["jaxmarl"]["n"]))
            z = (p1 - p2) / se
            for lib in ("realax", "jaxmarl"):
                r, (lo, hi) = res[lib], ci[lib]
                tail = (f"{'yes' if overlap else 'NO'} (CIs {'overlap' if overlap else 'disjoint'}, z={z:+.2f})"
                        if lib == "jaxmarl" else "")
                print(f"{s:<9} {allies:<9} {lib:<7} {r['won'] / r['n']:>6.3f} [{lo:.3f}, {hi:.3f}]  "
                      f"{r['draw'] / r['n']:>6.3f} {r['lost'] / r['n']:>6.3f} {r['timeout'] / r['n']:>6.3f} "
                      f"{r['len']:>5.1f}  {tail}", flush=True)


if __name__ == "__main__":
    main()
