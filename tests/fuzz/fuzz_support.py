"""Shared pieces of the env/adapter fuzz tests (issue 9): the stated bounds, the "works or says why" property,
a per-example time limit, and JSON mutation strategies.

The property every generated input must satisfy: it either works -- the env constructs, ``jax.eval_shape`` of
``reset`` and ``step`` succeeds (shapes only: nothing is compiled, so an example costs a trace, not a build), and
the bytes of params + state, computed from those shapes, stay under ``MAX_BYTES`` -- or it raises
``RealaxError`` with a non-empty message. Any other exception, a hang past ``TIME_LIMIT_S`` or a larger
allocation fails the test.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from realax.core import MultiAgentEnv
from realax.errors import RealaxError

#: the stated bound on what one env may hold: params + state bytes from the shapes (the same bound as the
#: option fuzzer's params bound, tests/fuzz/test_fuzz_options.py)
MAX_BYTES = 64 * 2**20
#: the longest one example may take (a construction plus two traces) before it counts as a hang; generous
#: because the test machine's 2 cores are shared
TIME_LIMIT_S = 10

#: every fuzz test: a fixed example budget, the same examples every run, no timing-based failures (the
#: alarm below is the hang bound)
FUZZ = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class Hang(Exception):
    """An example ran past ``TIME_LIMIT_S``."""


@contextlib.contextmanager
def time_limit(seconds: float = TIME_LIMIT_S):
    """Raise ``Hang`` if the body runs longer than ``seconds`` (SIGALRM; the tests run on the main thread)."""
    def on_alarm(signum, frame):
        raise Hang(f"example ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def nbytes(tree) -> int:
    """Bytes of every leaf of ``tree`` (arrays, shape structs or Python scalars), from shapes and dtypes."""
    total = 0
    for leaf in jax.tree.leaves(tree):
        shape, dtype = jnp.shape(leaf), jnp.result_type(leaf)
        if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
            total += 8 * math.prod(shape)
        else:
            total += math.prod(shape) * np.dtype(dtype).itemsize
    return total


def shapes_only(env, params) -> int:
    """``jax.eval_shape`` of reset and of one step with an action of the right shape; returns the bytes of
    params + state."""
    key = jax.random.key(0)
    obs, state = jax.eval_shape(env.reset, key, params)
    space = env.action_space(params)
    lead = (env.num_agents,) if isinstance(env, MultiAgentEnv) else ()
    action = jax.ShapeDtypeStruct(lead + tuple(space.shape), space.dtype)
    jax.eval_shape(env.step, key, state, action, params)
    return nbytes(params) + nbytes(state)


def works_or_refused(build) -> str:
    """Run ``build() -> (env, params)`` under the property above; ``"works"`` or ``"refused"``."""
    with time_limit():
        try:
            env, params = build()
        except RealaxError as e:
            assert str(e).strip(), "a RealaxError without a message"
            event("refused")
            return "refused"
        size = shapes_only(env, params)
    assert size <= MAX_BYTES, f"params + state hold {size} bytes; the stated bound is {MAX_BYTES}"
    event("works")
    return "works"


# -- JSON mutations --------------------------------------------------------------------------------------------
#: numbers at the edges: zero, signs, int8/int32/int64 limits, beyond float, NaN and infinities
EDGE_NUMBERS = [0, 1, -1, 2, 3, 7, 127, 128, 255, 1024, 2**30, 2**31, 2**31 - 1, 2**63, 10**12, 10**400, -(10**12),
                0.5, -0.5, 1.7, 1e-300, 1e9, 1e300, float("nan"), float("inf"), float("-inf"), 1.0, 100.0]
_leaf = st.one_of(st.none(), st.booleans(), st.sampled_from(EDGE_NUMBERS), st.integers(-(2**40), 2**40),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6))
#: any JSON-like value, nested a little (garbage to put anywhere)
GARBAGE = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                       max_leaves=8)


def paths(value, prefix=()):
    """Every path (tuple of keys and indices) inside a JSON-like value, the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, prefix + (i,))
    return out


def _get(value, path):
    for p in path:
        value = value[p]
    return value


def mutate(data, draw, n_mutations: int, fields: tuple[str, ...] = ()):
    """``data`` (a fresh copy) after ``n_mutations`` random edits drawn with ``draw`` (hypothesis ``data.draw``):
    replace a value with garbage or an edge number, delete a key or an element, add an unknown field or an
    element, set one of the schema's ``fields`` (optional ones the base may lack) on an object to garbage or an
    edge number, or repeat a list many times (long lists)."""
    data = json.loads(json.dumps(data))
    for _ in range(n_mutations):
        all_paths = paths(data)
        path = all_paths[draw(st.integers(0, len(all_paths) - 1))]
        op = draw(st.sampled_from(["replace", "number", "delete", "extra", "grow"] + ["field"] * bool(fields)))
        if op == "field":
            objects = [p for p in all_paths if isinstance(_get(data, p), dict)]
            if objects:
                target = _get(data, objects[draw(st.integers(0, len(objects) - 1))])
                target[draw(st.sampled_from(fields))] = draw(st.sampled_from(EDGE_NUMBERS) | GARBAGE)
            continue
        if not path:
            if op in ("replace", "number"):
                data = draw(GARBAGE)
            continue
        parent, last = _get(data, path[:-1]), path[-1]
        if op == "replace":
            parent[last] = draw(GARBAGE)
        elif op == "number":
            parent[last] = draw(st.sampled_from(EDGE_NUMBERS))
        elif op == "delete":
            del parent[last]
        elif op == "extra":
            target = parent[last]
            if isinstance(target, dict):
                target[draw(st.text(max_size=6))] = draw(GARBAGE)
            elif isinstance(target, list):
                target.append(draw(GARBAGE))
            else:
                parent[last] = [target, draw(GARBAGE)]
        elif op == "grow" and isinstance(parent[last], list):
            parent[last] = parent[last] * draw(st.sampled_from([2, 50, 2000]))
    return data
