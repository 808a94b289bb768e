"""XLA settings the ``realax`` command and the tests apply before JAX starts.

With jax/jaxlib 0.10.2 on CPU, XLA's concurrency-optimised scheduler deadlocks on some vmapped training
graphs: every runtime thread goes idle and the result never becomes ready. Seen here, reproducibly, with
PPO over 3 vmapped seeds on ``realax/Spectrum-v0`` (``scenario="jammer_reactive", own_tx=True``); with
``--xla_cpu_enable_concurrency_optimized_scheduler=false`` the same run completes (tests/test_xla.py).
Library users who hit a silent hang on CPU can set the same flag in ``XLA_FLAGS``.

The root cause, found later with ``gdb`` on a hung process: jaxlib 0.10.x's batched LAPACK kernels (here the
QR of the orthogonal initialisation, vmapped over seeds) block pool threads waiting for work queued on the
same pool. realax's learners now initialise with ``realax.agents.networks.orthogonal``, which never batches
the QR, and the run above completes with the concurrency-optimised scheduler too; the flag stays for user
code that batches LAPACK calls itself.
"""

from __future__ import annotations

import os
import sys

FLAGS = ("--xla_cpu_enable_concurrency_optimized_scheduler=false",)
#: the ``realax`` command's compilation cache: where (under ``$XDG_CACHE_HOME``, else ``~/.cache``) and its cap
CACHE_FOLDER = ("realax", "jax")
CACHE_MAX_BYTES = 1 << 30


def configure() -> None:
    """Add ``FLAGS`` to ``XLA_FLAGS`` unless JAX is already imported or the user set them."""
    if "jax" in sys.modules:
        return
    current = os.environ.get("XLA_FLAGS", "")
    extra = [f for f in FLAGS if f.split("=")[0] not in current]
    if extra:
        os.environ["XLA_FLAGS"] = " ".join([current, *extra]).strip()


def use_compilation_cache() -> None:
    """Turn on JAX's persistent compilation cache for the ``realax`` command, before JAX starts: programs compiled
    by one command are read back by the next that builds the same ones (the same env, options and learner
    settings), instead of compiled again. Measured on the 2-core CPU (jax 0.10.2): ``realax data generate
    realax/Spectrum-v0 --episodes 10000`` 22.8 s the first time and 19.7 s the second (2026-12-02,
    ``benchmarks/data_generate.py``); ``realax train ppo realax/Spectrum-v0 --scenario hopper`` 56.3 s and 47.8 s.

    JAX keys every entry on the program, the backend, the flags and its own version, so a hit is the same
    executable. The folder is ``$XDG_CACHE_HOME/realax/jax`` (``~/.cache/realax/jax``), capped at
    ``CACHE_MAX_BYTES`` (JAX deletes the least recently used entries beyond it). Every program is kept, not only
    those that took JAX's default of 1 s or more to compile: a command also compiles dozens of small ones
    (key splits, the reset, slicing; 0.01-0.3 s each), and with them kept ``realax data generate
    realax/Spectrum-v0 --episodes 10000`` took 13.4 s the second time instead of 16.0 s, for 1.4 MB of cache
    (40 entries), in the user's folder too. A folder the user chose (``JAX_COMPILATION_CACHE_DIR``) is used as
    it is, and so is a threshold the user set (``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS``);
    ``JAX_ENABLE_COMPILATION_CACHE=false`` turns the cache off. Nothing happens once JAX is imported.
    """
    if "jax" in sys.modules:
        return
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(base, *CACHE_FOLDER)
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(CACHE_MAX_BYTES))
