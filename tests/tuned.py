"""``jit_tuned``: ``jax.jit`` at XLA's backend optimisation level 1, for the few tests whose time is running
the compiled program rather than compiling it.

``tests/conftest.py`` compiles the suite at backend level 0: compilation is most of its time. Level 0 code
runs far slower, though (jax 0.10.2, 2-core CPU: ``realax/UAVOffload-v0``'s PSO baseline over 2 episodes of 12
steps compiles in 6 s and runs in 31.5 s at level 0, 11 s and 2.9 s at level 1, 12.4 s and 2.8 s at XLA's
default 3), so the long training and search runs of the must-learn tests compile at level 1 instead. Their
evaluations of a few dozen episodes stay at level 0 (``test_a2c``'s two on the grid city: 14.8 s to compile
and 0.2 s to run at level 1, 5.7 s and 0.9 s at level 0), but for SlateRec's and graph SAC's, whose running
outweighs it.
"""

from __future__ import annotations

import functools

import jax

jit_tuned = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 1})
