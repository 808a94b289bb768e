"""Test-session settings, applied before JAX is imported (see realax/_xla.py).

JAX's persistent compilation cache is on for the test session (and the subprocesses it starts): many tests
compile the same programs (the same small agent on the same env, the same evaluation), and a program compiled
once is then read back instead of compiled again. JAX keys each entry on the program, the backend, the flags
and its own version, so a hit is the same executable; the suite's results do not depend on it.

``jax_threefry_partitionable`` is off for the tests: with it on (JAX's default since 0.5), every
multi-dimensional ``jax.random`` draw -- Flax's weight initialisers, categorical action sampling over
``[envs, actions]`` -- compiles several times slower on CPU (``jax.random.uniform(key, (100, 10))``: 2.5-3 s
against 0.5 s, jax 0.10.2 here), and compilation is most of the suite's time. It changes which random bits a
key gives, not the code under test; the library itself leaves the setting to the user.

XLA's backend (LLVM) optimisation level is 0 for the tests (``--xla_backend_optimization_level=0``): the suite's
time is mostly compilation, and by ``/usr/bin/time`` this cut the CPU seconds of ``test_ppo_rnd.py`` 92 -> 72,
``test_recurrent.py`` 182 -> 158 and UAVOffload's conformance tests 77 -> 57 (jax 0.10.2, 2-core CPU). The
compiled programs compute the same operations, less tuned; the library leaves the level to the user.
XLA's CPU fusion emitters are off too (``--xla_cpu_use_fusion_emitters=false``: fusions are emitted by the
older LLVM emitters instead of through MLIR); that halves the backend compilation of the PPO, graph-SAC and
QMIX training programs of the must-learn tests (24.1 -> 12.9 s together, jax 0.10.2, 2-core CPU, no cache) and
leaves their running time where it was (20.2 -> 18.8 s).
``jax_disable_most_optimizations`` (which also turns off XLA's own graph passes) stays off: with it the vmapped
PPO+RND training of ``tests/agents/test_ppo_rnd.py`` hung for good, every runtime thread idle, as in
``realax/_xla.py``'s note; the backend level alone does not (the same file passes with it).

``REALAX_TEST_CPU_LOG=FILE`` appends one JSON line per test -- its node id, wall and CPU seconds of the
worker process and of the subprocesses it waited for (setup, call and teardown), the seconds the worker spent
tracing, lowering and compiling (JAX's monitoring events; subprocesses not counted), how many programs it
compiled (``programs``: JAX code run outside ``jit`` compiles every op as a program of its own, so an unjitted
env reset shows up as hundreds, and one ``jax.jit`` around it is several times cheaper), how many of its programs
came from the persistent compilation cache and the compile seconds that saved (``cache_hits``,
``cache_saved``: a program compiled before, in this worker or the other, was traced and lowered again), the
xdist worker and the end time -- for finding where the suite's time goes on a busy machine, where wall times
mislead, and whether a test's time is compilation (fewer or smaller programs help) or running (a smaller
budget helps).
"""

import json
import os
import resource
import time
from pathlib import Path

import pytest

from realax import _xla

_xla.configure()
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
os.environ.setdefault("JAX_THREEFRY_PARTITIONABLE", "0")
for _flag in ("--xla_backend_optimization_level=0", "--xla_cpu_use_fusion_emitters=false"):
    if _flag.split("=")[0] not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_flag}".strip()


_COMPILE_EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "trace",
                   "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
                   "/jax/core/compile/backend_compile_duration": "compile"}
_compile_seconds = dict.fromkeys([*_COMPILE_EVENTS.values(), "programs", "cache_hits", "cache_saved"], 0.0)


def _count_compile_seconds(event, seconds, **_):
    if event in _COMPILE_EVENTS:
        _compile_seconds[_COMPILE_EVENTS[event]] += seconds
        _compile_seconds["programs"] += event == "/jax/core/compile/backend_compile_duration"
    elif event == "/jax/compilation_cache/compile_time_saved_sec":
        _compile_seconds["cache_saved"] += seconds


def _count_cache_hits(event, **_):
    if event == "/jax/compilation_cache/cache_hits":
        _compile_seconds["cache_hits"] += 1


if os.environ.get("REALAX_TEST_CPU_LOG"):
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(_count_compile_seconds)
    jax.monitoring.register_event_listener(_count_cache_hits)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    log = os.environ.get("REALAX_TEST_CPU_LOG")
    if not log:
        yield
        return
    children = lambda: sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])  # subprocesses the test waited for
    wall, cpu, sub, before = time.perf_counter(), time.process_time(), children(), dict(_compile_seconds)
    yield
    line = {"test": item.nodeid, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu + children() - sub,
            **{k: round(_compile_seconds[k] - before[k], 3) for k in before},
            "worker": os.environ.get("PYTEST_XDIST_WORKER", ""), "end": time.time()}
    with open(log, "a") as f:
        f.write(json.dumps(line) + "\n")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    """Under ``-n`` (with pyproject's ``--dist loadgroup``), the tests of a module that share a module-scoped
    fixture of that module (a trained agent, a generated dataset) run in one worker, so the fixture is built
    once, not once per worker (``test_recurrent``'s two trainings were built twice: 85 s each). Only fixtures a
    test asks for by name count (autouse ones, id registrations, are cheap). Tests already in a group keep
    theirs."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        module = item.nodeid.split("::")[0]
        for name in info.argnames:
            fd = info.name2fixturedefs.get(name, [None])[-1]
            if fd is not None and fd.scope == "module" and fd.baseid == module:
                item.add_marker(pytest.mark.xdist_group(module))
                break
