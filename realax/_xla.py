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


def configure() -> None:
    """Add ``FLAGS`` to ``XLA_FLAGS`` unless JAX is already imported or the user set them."""
    if "jax" in sys.modules:
        return
    current = os.environ.get("XLA_FLAGS", "")
    extra = [f for f in FLAGS if f.split("=")[0] not in current]
    if extra:
        os.environ["XLA_FLAGS"] = " ".join([current, *extra]).strip()
