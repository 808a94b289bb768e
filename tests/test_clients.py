"""Third-party clients run unchanged on the adapters (DESIGN §3), and the batch shards over devices (§7)."""

from __future__ import annotations

import os
import subprocess
import sys

import gymnasium
import pytest

import realax  # noqa: F401  (registers the ids with Gymnasium)


def test_stable_baselines3_trains_on_the_gymnasium_env(tmp_path, monkeypatch):
    sb3 = pytest.importorskip("stable_baselines3")  # installed by the [dev] extra
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path))  # SB3's silent logger still makes a folder, by default in /tmp
    import torch
    from stable_baselines3.common.env_checker import check_env as sb3_check
    from stable_baselines3.common.evaluation import evaluate_policy

    # one torch thread: beside JAX's own threads, torch's default (one per core) oversubscribes the CPU and makes
    # this small network's updates about 6x slower on 2 cores (74 s against 12 s for the 3,000 steps here)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _train_and_evaluate(sb3, sb3_check, evaluate_policy)
    finally:
        torch.set_num_threads(threads)


def _train_and_evaluate(sb3, sb3_check, evaluate_policy):
    env = gymnasium.make("realax/Spectrum-v0", scenario="constant", history=1)
    sb3_check(env.unwrapped)
    model = sb3.PPO("MlpPolicy", env, n_steps=256, batch_size=64, learning_rate=3e-3, seed=0, verbose=0)
    model.learn(3000)  # 100 of 100 after 3,072 steps; -100 with learning_rate=0
    mean, _ = evaluate_policy(model, env, n_eval_episodes=3, deterministic=True)
    assert mean >= 90  # optimum 100: jam the constant emitter every step; random play scores about -80


def test_batch_shards_over_two_cpu_devices():
    code = (
        "import jax, numpy as np, realax\n"
        "from realax.bench import measure\n"
        "assert jax.device_count() == 2\n"
        "env, p = realax.make('realax/Spectrum-v0')\n"
        "r = measure(env, p, 64, num_steps=10, repeats=1)\n"
        "assert r.devices == 2 and r.steps_per_second > 0\n"
        "print('ok', r.devices)\n")
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok 2" in out.stdout
