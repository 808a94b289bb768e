"""Test-session settings, applied before JAX is imported (see realax/_xla.py).

JAX's persistent compilation cache is on for the test session (and the subprocesses it starts): many tests
compile the same programs (the same small agent on the same env, the same evaluation), and a program compiled
once is then read back instead of compiled again. JAX keys each entry on the program, the backend, the flags
and its own version, so a hit is the same executable; the suite's results do not depend on it.
"""

import os
from pathlib import Path

from realax import _xla

_xla.configure()
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
