"""AGV-v0 throughput beside JaxMARL's JaxNav, measured in the same run by the same code (issue 12).

    pip install -e ".[bench]"          # jaxmarl>=0.2 brings JaxNav
    python benchmarks/agv_throughput.py [--num-envs 4096] [--beams 64] [--num-steps 100]

Both envs are stepped by ``realax.bench.measure``: ``jit(scan(vmap(step)))`` over N copies, uniform random
actions from the action space, same-step autoreset on, every observation and reward read each step, compile
time reported apart, best of ``--repeats``. The two are interleaved repeat by repeat (the machine is shared:
read the ratio, not the absolute figures).

- realax: ``realax/AGV-v0`` with ``num_beams=B`` (default preset ``simple_static``, continuous actions).
- JaxNav (``jaxmarl.environments.jaxnav.JaxNav``, jaxmarl 0.2.0): ``num_agents=1``, ``lidar_num_beams=B``,
  everything else its defaults (7 x 7 random grid-polygon map, continuous (v, w) actions, 500 steps). A thin
  adapter turns JaxMARL's dict-per-agent API into the gymnax shape ``measure`` steps: the ``[2]`` action goes
  in as ``{agent_0: a}``, the single agent's observation and reward come out as arrays. JaxMARL's ``step``
  auto-resets itself (as realax's does).

A second table steps both with their ``step_env`` (no reset
computed inside the step), which takes JaxNav's map generation out of its step: the ratio of the two
simulators' physics and lidar alone.

Memory per environment: the bytes of one env's state pytree plus its observation (what a vmapped batch holds
per copy between steps), from the shapes ``jax.eval_shape`` gives.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.bench import device_name, measure


class JaxNavAdapter:
    """JaxNav with one agent, seen as a gymnax-style single-agent env (``reset(key, params)``,
    ``step(key, state, action, params)``, ``action_space(params).sample(key)``)."""

    def __init__(self, beams: int, autoreset: bool = True):
        from jaxmarl.environments.jaxnav.jaxnav_env import JaxNav

        self.env = JaxNav(num_agents=1, lidar_num_beams=beams)
        self.autoreset = autoreset
        self.agent = self.env.agents[0]
        self.default_params = None

    def action_space(self, params=None):
        return self.env.action_space(self.agent)

    def reset(self, key, params=None):
        obs, state = self.env.reset(key)
        return obs[self.agent], state

    def step(self, key, state, action, params=None):
        step = self.env.step if self.autoreset else self.env.step_env
        obs, state, reward, done, info = step(key, state, {self.agent: action})
        return obs[self.agent], state, reward[self.agent], done["__all__"], done["__all__"], info


def bytes_per_env(env, params) -> int:
    obs, state = jax.eval_shape(lambda k: env.reset(k, params), jax.random.key(0))
    return sum(int(np.prod(x.shape)) * x.dtype.itemsize for x in jax.tree.leaves((obs, state)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num-envs", type=int, nargs="+", default=[4096])
    ap.add_argument("--beams", type=int, default=64)
    ap.add_argument("--num-steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    agv, agv_params = realax.make("realax/AGV-v0", num_beams=args.beams)
    nav = JaxNavAdapter(args.beams)
    print(f"device: {device_name()}; jax {jax.__version__}; {args.beams} lidar beams, {args.num_steps} steps")
    mem = {"realax AGV-v0": bytes_per_env(agv, agv_params), "JaxNav (1 agent)": bytes_per_env(nav, None)}
    for name, b in mem.items():
        print(f"memory per env, {name}: {b:,} bytes (state + observation)")
    for autoreset in (True, False):
        table(agv, agv_params, JaxNavAdapter(args.beams, autoreset), autoreset, args)


class NoAutoreset:
    """A realax env whose ``step`` is its ``step_env`` (for the table without resets inside the step)."""

    def __init__(self, env):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, key, state, action, params):
        return self.env.step_env(key, state, action, params)


def table(agv, agv_params, nav, autoreset: bool, args) -> None:
    if not autoreset:
        agv = NoAutoreset(agv)
    print(f"\n{'with' if autoreset else 'without'} autoreset inside the step")
    print(f"{'N':>6s} {'realax steps/s':>15s} {'JaxNav steps/s':>15s} {'ratio':>7s} {'compile realax/JaxNav (s)':>26s}")
    for n in args.num_envs:
        best = {}
        for _ in range(args.repeats):  # interleaved, best of each
            for name, env, params in (("realax", agv, agv_params), ("jaxnav", nav, None)):
                r = measure(env, params, n, args.num_steps, repeats=1)
                if name not in best or r.steps_per_second > best[name].steps_per_second:
                    best[name] = r
        a, b = best["realax"], best["jaxnav"]
        print(f"{n:>6d} {a.steps_per_second:>15,.0f} {b.steps_per_second:>15,.0f} "
              f"{a.steps_per_second / b.steps_per_second:>7.2f} "
              f"{a.compile_seconds:>12.1f} / {b.compile_seconds:<12.1f}", flush=True)


if __name__ == "__main__":
    jnp.zeros(())  # start the backend before timing
    main()
