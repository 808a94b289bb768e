"""Issue 15: training sharded over two devices (``--devices``) against the same run on one device.

The devices are two forced host devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``), which must
be set before JAX starts, so the runs go in a subprocess (``SCRIPT``) that prints one JSON line.

Tolerance, and why not bit for bit: a loss averaged over the environment batch is summed per device and then
across devices, a different order of float additions than one device's, so losses and gradients differ by
float round-off (~1e-7 relative); everything else (environment steps, random draws) is the same. Over one
update the metrics agree to ~1e-6 relative; over many, a round-off difference can flip a sampled action and
the runs part ways, as any change of summation order would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = r"""
import json, sys
from realax import _xla
_xla.configure()
import jax, numpy as np, realax
from typer.testing import CliRunner
from realax import experiment, sharding
from realax.cli import app
from realax.errors import RealaxError

out = {"devices": len(jax.devices())}
config = dict(total_timesteps=2 * 16 * 32, num_seeds=2, num_envs=16, num_steps=32, updates_per_chunk=1)
for env_id, algo in (("realax/Spectrum-v0", "ppo"), ("realax/SpectrumMA-v0", "mappo")):
    env, params = realax.make(env_id)
    # training only (the metrics are compared); the command below evaluates on two devices
    one = experiment.run(algo, env, params, dict(config), progress=False, devices=1, evaluate=False)
    two = experiment.run(algo, env, params, dict(config), progress=False, devices=2, evaluate=False)
    batch = [l for l in jax.tree.leaves(two.carry) if l.ndim > 1 and l.shape[1] == 16]
    out[algo] = {
        "metrics": {k: [np.asarray(one.metrics[k], np.float64).tolist(), np.asarray(two.metrics[k], np.float64).tolist()]
                    for k in one.metrics},
        "batch_leaves": len(batch),
        "shards": sorted({tuple(tuple(s.data.shape) for s in l.addressable_shards) for l in batch}),
        "devices": sorted({len(l.sharding.device_set) for l in batch}),
    }
errors = []
env, params = realax.make("realax/Spectrum-v0")
for bad in (dict(devices=3, num_envs=16), dict(devices=2, num_envs=15)):
    try:
        experiment.run("ppo", env, params, dict(config, num_envs=bad["num_envs"]), progress=False, devices=bad["devices"])
    except RealaxError as e:
        errors.append(str(e))
out["errors"] = errors
res = CliRunner().invoke(app, ["train", "ppo", "realax/Spectrum-v0", "--devices", "2", "--total-timesteps", "1024",
                               "--num-seeds", "2", "--set", "num_envs=16", "--set", "num_steps=32", "--set",
                               "updates_per_chunk=1", "--episodes", "2", "--out", sys.argv[1]])
out["cli"] = [res.exit_code, res.output[-1500:]]
from realax.offline.generate import collect
from realax.offline import policies
act = policies.behaviour(env, params, env, params, policies.resolve("random", "realax/Spectrum-v0", env, params))
eps = [collect(env, params, act, jax.random.key(5), 12, max_envs=6, progress=False, devices=d) for d in (1, 2)]
out["data_same"] = all(np.array_equal(getattr(eps[0], f), getattr(eps[1], f))
                       for f in ("observations", "next_observations", "actions", "rewards", "terminations",
                                 "truncations", "lengths"))
try:
    collect(env, params, act, jax.random.key(5), 5, max_envs=5, progress=False, devices=2)
except RealaxError as e:
    out["errors"].append(str(e))
# 12 episodes, 6 side by side: the shapes of the two-device collect above
data = CliRunner().invoke(app, ["data", "generate", "realax/Spectrum-v0", "--episodes", "12", "--num-envs", "6",
                                "--devices", "2", "--out", sys.argv[1] + "-data-v0", "--quiet"])
verify = CliRunner().invoke(app, ["data", "verify", sys.argv[1] + "-data-v0"])
out["data_cli"] = [data.exit_code, data.output[-1500:], verify.exit_code, verify.output[-500:]]
print("RESULT " + json.dumps(out))
"""


def test_two_devices_train_what_one_trains(tmp_path: Path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"}
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(run)], env=env, capture_output=True, text=True,
                          timeout=900, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert out["devices"] == 2
    for algo in ("ppo", "mappo"):
        r = out[algo]
        assert r["batch_leaves"] >= 3  # env states, observations, running returns, ...
        assert r["devices"] == [2] and all(len(s) == 2 and s[0][1] == 8 for s in r["shards"])  # 8 of 16 envs each
        for key, (one, two) in r["metrics"].items():
            one, two = np.asarray(one), np.asarray(two)
            np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6, equal_nan=True, err_msg=f"{algo} {key}")
    assert "devices must be an integer from 1 to 2" in out["errors"][0]
    assert "num_envs = 15 does not split over 2 devices" in out["errors"][1]
    code, text = out["cli"]
    assert code == 0, text
    meta = json.loads((run / "meta.json").read_text())
    assert meta["devices"] == 2 and "--devices 2" in meta["command"]
    # data generation: the same episodes on two devices as on one, and a dataset that verifies
    assert out["data_same"]
    assert "the parallel environments (5 episodes, at most 5 side by side) = 5 does not split over 2" in out["errors"][2]
    code, text, vcode, vtext = out["data_cli"]
    assert code == 0 and "wrote" in text, text
    assert vcode == 0, vtext
