"""Regression: the vmapped PPO graph that deadlocked XLA's CPU scheduler finishes with realax's flags."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from realax import _xla
_xla.configure()
import jax, realax
from realax.agents import algorithms
env, p = realax.make("realax/Spectrum-v0", scenario="jammer_reactive", own_tx=True)
cfg = algorithms.make_config("ppo", {"num_seeds": 3, "total_timesteps": 20000, "updates_per_chunk": 2})
tr = algorithms.make_trainer("ppo", cfg, env, p)
carry = jax.jit(jax.vmap(tr.init))(jax.random.split(jax.random.key(0), 3))
carry, m = jax.jit(jax.vmap(tr.step))(carry)
print("done", jax.device_get(m["env_steps"]).shape)
"""


def test_vmapped_ppo_chunk_completes():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "done (3, 2)" in out.stdout
