"""One results row from one ``realax train`` command: run it in a fresh process, read its ``metrics.json``.

Shared by the results scripts whose rows are training commands (``spectrum_results.py``,
``spectrum_iq_results.py``, ``recsys_slate_results.py``, ``smax_results.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path


@dataclasses.dataclass
class Row:
    mean: float  # the greedy agent's return, mean over the seeds' means
    std: float  # ... std over the seeds' means
    baselines: dict[str, float]  # each baseline's mean return over the same evaluation
    steps_per_seed: int
    wall: float  # seconds the command took
    seed_win_rates: list[float] | None  # each seed's greedy win rate, for envs that report wins (SMAX)


def train(cmd: str, out: Path) -> Row:
    """Run ``realax <cmd> --out <out> --overwrite`` and summarise the run it writes. The command compiles
    everything afresh (its compilation cache off), so ``wall`` includes compilation whatever ran before."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "realax.cli", *shlex.split(cmd), "--out", str(out), "--overwrite"],
                   check=True, capture_output=True, env={**os.environ, "JAX_ENABLE_COMPILATION_CACHE": "false"})
    wall = time.perf_counter() - t0
    m = json.loads((Path(out) / "metrics.json").read_text())
    seeds = m["agent_seed_means"]
    mean = sum(seeds) / len(seeds)
    std = (sum((s - mean) ** 2 for s in seeds) / len(seeds)) ** 0.5
    return Row(mean, std, m["baselines"], m["env_steps_per_seed"], wall, m.get("agent_seed_win_rates"))
