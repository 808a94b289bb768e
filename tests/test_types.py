"""mypy is clean on the typed part of the package (``[tool.mypy]`` in pyproject.toml names the files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_clean():
    # the default cache (.mypy_cache, gitignored) keeps reruns to seconds; a cold run takes about a minute
    env = {**os.environ, "MYPY_FORCE_COLOR": "0"}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"mypy found problems:\n{proc.stdout}\n{proc.stderr}"
