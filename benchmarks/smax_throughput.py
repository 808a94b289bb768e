"""Env steps per second: realax SMAX (``realax/SMAX-v0``) vs JaxMARL SMAX, measured in the same run.

Protocol (DESIGN §6): ``jit(scan(vmap(step)))`` over ``N`` copies for ``--steps`` steps, compile time
reported apart, best of ``--repeats`` timed runs, the two libraries interleaved repeat by repeat (the
machine is shared, so read the ratio, not the absolute figures). Both teams are played by random VALID
actions: each step draws, for every unit of both teams, a uniform action among those its mask allows
(realax: ``SMAX(scenario, self_play=True).action_mask``; JaxMARL: plain two-team ``SMAX.get_avail_actions``).
Autoreset is on in both (realax: ``Environment.step``; JaxMARL: ``MultiAgentEnv.step``). Each step the
rollout reads every agent's observation and reward (summed into a carry), as a learner would.

The two rollouts are the same code apart from the adapter layer, which is unavoidable:

- JaxMARL takes and returns dicts keyed by agent name, so its adapter stacks the per-agent masks into
  ``[A, n]`` before sampling and splits the ``[A]`` actions back into a dict; observations are stacked from
  the per-agent entries. JaxMARL always adds ``obs["world_state"]`` inside its step; the rollout does not
  read it (a decentralised learner would not), so XLA may drop it -- realax computes no global state in
  ``step`` either.
- Each library draws its own internal randomness its own way (JaxMARL: ``jax.random`` threefry per unit
  and tick; realax: its cheaper ``uniforms``); that cost is part of each library's step.
- The action sampler (``jax.random.categorical`` over the masked logits) and the key handling are shared.

Usage: ``python benchmarks/smax_throughput.py [--num-envs 1024 ...] [--scenarios 3m 2s3z] [--steps 100]``
(needs ``jaxmarl`` importable, e.g. in a separate venv with ``pip install jaxmarl`` and ``pip install -e .``).
On a GPU, N = 65536 is added unless ``--num-envs`` is given.
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
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def sample_valid(key, mask):
    """Uniform valid action per row of ``mask`` bool ``[A, n]`` -> int32 ``[A]``."""
    return jax.random.categorical(key, jnp.where(mask, 0.0, -jnp.inf), axis=-1).astype(jnp.int32)


# -- adapters: (reset(key) -> (obs [A, D], state), mask(state) -> bool [A, n], step(key, state, act [A]) ->
#    (obs [A, D], state, reward [A]))  --------------------------------------------------------------------
def realax_adapter(scenario: str):
    from realax.envs.smax import SMAX

    env = SMAX(scenario, self_play=True)
    params = env.default_params

    def reset(key):
        return env.reset(key, params)

    def mask(state):
        return env.action_mask(state, params)

    def step(key, state, act):
        obs, state, reward, *_ = env.step(key, state, act, params)
        return obs, state, reward

    return reset, mask, step


def jaxmarl_adapter(scenario: str):
    from jaxmarl.environments.smax import map_name_to_scenario
    from jaxmarl.environments.smax.smax_env import SMAX as JSMAX

    env = JSMAX(scenario=map_name_to_scenario(scenario))
    agents = list(env.agents)
    n = max(env.num_ally_actions, env.num_enemy_actions)

    def stack_obs(obs):
        return jnp.stack([obs[a] for a in agents])

    def reset(key):
        obs, state = env.reset(key)
        return stack_obs(obs), state

    def mask(state):
        m = env.get_avail_actions(state)
        return jnp.stack([jnp.pad(m[a], (0, n - m[a].shape[0])) for a in agents]).astype(bool)

    def step(key, state, act):
        obs, state, reward, _dones, _info = env.step(key, state, {a: act[i] for i, a in enumerate(agents)})
        return stack_obs(obs), state, jnp.stack([reward[a] for a in agents])

    return reset, mask, step


def make_rollout(adapter, num_steps: int):
    reset, mask, step = adapter

    def run(keys):
        n = keys.shape[0]
        obs, state = jax.vmap(reset)(keys)

        def body(carry, _):
            state, keys, total = carry
            ks = jax.vmap(lambda k: jax.random.split(k, 3))(keys)
            act = jax.vmap(lambda k, s: sample_valid(k, mask(s)))(ks[:, 1], state)
            obs, state, reward = jax.vmap(step)(ks[:, 2], state, act)
            total = total + jnp.sum(reward.reshape(n, -1), -1) + jnp.sum(obs.reshape(n, -1).astype(jnp.float32), -1)
            return (state, ks[:, 0], total), None

        (_, _, total), _ = jax.lax.scan(body, (state, keys, jnp.zeros(n)), None, num_steps)
        return total

    return jax.jit(run)


def device_name() -> str:
    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', '?')}"


def bench(scenario: str, num_envs: int, num_steps: int, repeats: int) -> dict:
    libs = {"realax": realax_adapter(scenario), "jaxmarl": jaxmarl_adapter(scenario)}
    keys = jax.random.split(jax.random.key(0), num_envs)
    compiled, compile_s, best = {}, {}, {}
    for name, adapter in libs.items():
        t0 = time.perf_counter()
        compiled[name] = make_rollout(adapter, num_steps).lower(keys).compile()
        compile_s[name] = time.perf_counter() - t0
        compiled[name](keys).block_until_ready()  # warm-up
        best[name] = np.inf
    ratios = []
    for r in range(repeats):  # interleaved: both libraries see the same machine load
        k = jax.random.split(jax.random.key(r + 1), num_envs)
        times = {}
        for name in (libs if r % 2 == 0 else reversed(list(libs))):
            t0 = time.perf_counter()
            compiled[name](k).block_until_ready()
            times[name] = time.perf_counter() - t0
            best[name] = min(best[name], times[name])
        ratios.append(times["jaxmarl"] / times["realax"])
    sps = {name: num_envs * num_steps / best[name] for name in libs}
    return {"scenario": scenario, "N": num_envs, "sps": sps, "compile": compile_s,
            "ratio_best": sps["realax"] / sps["jaxmarl"], "ratio_median": float(np.median(ratios))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", type=int, nargs="+", default=None)
    ap.add_argument("--scenarios", nargs="+", default=["3m", "2s3z"])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    sizes = args.num_envs or ([1024, 65536] if jax.devices()[0].platform == "gpu" else [1024])
    import jaxmarl

    dev = device_name()
    print(f"jax {jax.__version__}, jaxmarl {getattr(jaxmarl, '__version__', '?')}, device {dev}, "
          f"{args.steps} steps, best of {args.repeats} interleaved repeats, random valid actions for both teams")
    header = (f"{'scenario':<9} {'N':>6} {'realax SPS':>12} {'JaxMARL SPS':>12} {'ratio':>6} {'ratio med':>9} "
              f"{'compile rx/jm (s)':>18}  device")
    print(header)
    print("-" * len(header))
    for n in sizes:
        for s in args.scenarios:
            r = bench(s, n, args.steps, args.repeats)
            ok = "" if r["ratio_best"] >= 2.0 else "  (< 2.0 goal)"
            print(f"{s:<9} {n:>6} {r['sps']['realax']:>12,.0f} {r['sps']['jaxmarl']:>12,.0f} {r['ratio_best']:>6.2f} "
                  f"{r['ratio_median']:>9.2f} {r['compile']['realax']:>8.1f}/{r['compile']['jaxmarl']:<8.1f}  {dev}{ok}",
                  flush=True)


if __name__ == "__main__":
    main()
