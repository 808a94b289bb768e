"""Test-session settings, applied before JAX is imported."""

import os

# See realax/cli.py: single-threaded Eigen avoids an XLA CPU runtime wedge on vmapped graphs.
_FLAG = "--xla_cpu_multi_thread_eigen=false"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FLAG}".strip()
