"""Throughput measurement (DESIGN §6): ``jit(scan(vmap(step)))``, random valid actions, autoreset on.

Works for any object with gymnax-style ``reset(key, params)``, ``step(key, state, action, params)`` and
``action_space(params).sample(key)``, so peers (gymnax) are timed by the very same code. When several
devices are visible the batch is sharded over a 1-D mesh (``jax.sharding``), so the figures use every core
(``XLA_FLAGS=--xla_force_host_platform_device_count=K`` on CPU).
"""

from __future__ import annotations

import dataclasses
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from realax.envs.sampling import uniforms


@dataclasses.dataclass
class Throughput:
    num_envs: int
    steps_per_second: float
    compile_seconds: float
    devices: int


def _rollout(env, space, num_steps: int, num_agents: int | None):

    def sample(key):
        if num_agents is None:
            return space.sample(key)
        return jax.vmap(space.sample)(jax.random.split(key, num_agents))

    def run(keys, params):
        n = keys.shape[0]
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)

        def body(carry, _):
            state, keys, total = carry
            ks = jax.vmap(lambda k: jax.random.split(k, 3))(keys)
            actions = jax.vmap(sample)(ks[:, 1])
            obs, state, reward, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(ks[:, 2], state, actions, params)
            # read every observation and reward, as a learner would (and so nothing is dead code)
            total = total + jnp.sum(reward.reshape(n, -1), -1) + jnp.sum(obs.reshape(n, -1).astype(jnp.float32), -1)
            return (state, ks[:, 0], total), None

        (_, _, total), _ = jax.lax.scan(body, (state, keys, jnp.zeros(n)), None, num_steps)
        return total

    return run


def measure(env, params, num_envs: int, num_steps: int = 100, repeats: int = 3,
            num_agents: int | None = None, traced_params: bool = False) -> Throughput:
    """Env steps per second of ``num_envs`` copies over ``num_steps`` steps (best of ``repeats``).

    By default ``params`` are closed over, as training code usually does, so XLA may specialise the step
    to them; ``traced_params=True`` passes them as an argument (the case of a vmapped batch of params).
    """
    devices = jax.devices()
    ndev = len(devices) if num_envs % len(devices) == 0 else 1
    keys = jax.random.split(jax.random.key(0), num_envs)
    rollout = _rollout(env, env.action_space(params), num_steps, num_agents)
    run = jax.jit(rollout if traced_params else (lambda k, _: rollout(k, params)))
    if ndev > 1:
        mesh = Mesh(np.array(devices[:ndev]), ("envs",))
        keys = jax.device_put(keys, NamedSharding(mesh, PartitionSpec("envs")))
    t0 = time.perf_counter()
    compiled = run.lower(keys, params).compile()
    compile_s = time.perf_counter() - t0
    compiled(keys, params).block_until_ready()
    best = np.inf
    for i in range(repeats):
        k = jax.random.split(jax.random.key(i + 1), num_envs)
        if ndev > 1:
            k = jax.device_put(k, keys.sharding)
        t0 = time.perf_counter()
        compiled(k, params).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return Throughput(num_envs, num_envs * num_steps / best, compile_s, ndev)


class NullEnv:
    """An env that does nothing, with ``env``'s action space and observation shape: ``measure`` on it times the
    harness alone (key splits, drawing the random actions, reading every observation), the most any env with
    those spaces can reach under the same protocol. Its state is a step counter; each observation is filled
    with the sum of the action taken, so the harness's read depends on every draw (nothing is dead code).

    ``draws > 0`` also draws that many uniforms a step from the step's key with realax's counter-based hash
    (``realax.envs.sampling.uniforms``, the cheapest generator the envs use) and adds their sum to the
    observation: the harness plus the random numbers an env's step cannot do without."""

    def __init__(self, env, params, draws: int = 0) -> None:
        self._space = env.action_space(params)
        self._obs = jax.eval_shape(env.reset, jax.random.key(0), params)[0]
        self._draws = int(draws)

    def action_space(self, params=None):
        return self._space

    def reset(self, key, params):
        return jnp.zeros(self._obs.shape, self._obs.dtype), jnp.int32(0)

    def step(self, key, state, action, params):
        value = jnp.sum(jnp.asarray(action, jnp.float32))
        if self._draws:
            value = value + jnp.sum(uniforms(key, (self._draws,)))
        obs = jnp.full(self._obs.shape, value, self._obs.dtype)
        return obs, state + 1, jnp.float32(0), jnp.bool_(False), jnp.bool_(False), {}


def measure_floor(env, params, num_envs: int, num_steps: int = 100, repeats: int = 3, draws: int = 0) -> Throughput:
    """``measure`` of ``NullEnv(env, params, draws)``: the harness's own ceiling for ``env``'s spaces (plus
    ``draws`` uniforms a step)."""
    return measure(NullEnv(env, params, draws), params, num_envs, num_steps, repeats)


def state_bytes(env, params) -> int:
    """Bytes of one environment's state (what a batch holds per copy), from the shapes ``reset`` returns
    (``jax.eval_shape``: nothing is compiled or run). A PRNG key counts as its key data."""
    _, state = jax.eval_shape(env.reset, jax.random.key(0), params)
    total = 0
    for leaf in jax.tree.leaves(state):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.eval_shape(jax.random.key_data, leaf)
        total += int(np.prod(leaf.shape, dtype=np.int64)) * np.dtype(leaf.dtype).itemsize
    return total


def device_name() -> str:
    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', '?')} x{jax.device_count()}"


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows of it."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def few_steps(env_id: str, steps: int = 4) -> tuple:
    """``(env, params, state, last reward, return)`` after ``steps`` legal actions from key 0 (the first legal
    action of each agent for multi-agent ids, a random one otherwise): a mid-episode state to render."""
    import realax

    env, params = realax.make(env_id)
    key = jax.random.key(0)
    _, state = jax.jit(env.reset)(key, params)  # un-jitted, SpectrumIQ's reset runs op by op: 24 s against 5
    step = jax.jit(env.step)
    reward, ret = 0.0, 0.0
    for _ in range(steps):
        key, k_env, k_act = jax.random.split(key, 3)
        if realax.spec(env_id).multi_agent:
            action = np.argmax(np.asarray(env.action_mask(state, params)), axis=1)
        else:
            action = env.action_space(params).sample(k_act)
        _, state, reward, *_ = step(k_env, state, action, params)
        ret = ret + np.asarray(reward)
    return env, params, state, np.asarray(reward), ret
