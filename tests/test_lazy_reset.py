"""``Environment.lazy_reset``: the autoreset's reset computed only when an episode ends gives what the eager
autoreset (reset every step, selected away) gives, unbatched, under ``vmap`` and under nested ``vmap``."""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax

#: the lazy ids, each with options that keep it small and make episodes end at step 2
LAZY = {"realax/SpectrumIQ-v0": dict(scenario="mixed", max_steps=2, samples_per_step=160),
        "realax/UAVOffload-v0": dict(max_steps=2)}


def test_the_lazy_ids_are_the_ones_tested_here():
    lazy = [i for i in realax.list_envs() if realax.make(i)[0].unwrapped.lazy_reset]
    assert sorted(lazy) == sorted(LAZY)


@pytest.mark.parametrize("env_id", list(LAZY))
def test_lazy_autoreset_equals_the_eager_one(env_id):
    env, params = realax.make(env_id, **LAZY[env_id])
    eager = copy.copy(env)
    eager.lazy_reset = False
    n = 3
    _, s = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(0), n), params)
    keys = jax.random.split(jax.random.key(1), n)
    actions = jax.vmap(lambda k: jax.vmap(env.action_space(params).sample)(jax.random.split(k, env.num_agents))
                       if hasattr(env, "agents") else env.action_space(params).sample(k))(keys)

    def both(state):
        one = lambda e: jax.vmap(e.step_with_final_state, in_axes=(0, 0, 0, None))(keys, state, actions, params)  # noqa: E731
        nested = lambda e: jax.vmap(lambda k, st, a: jax.vmap(e.step_with_final_state, in_axes=(0, 0, 0, None))(  # noqa: E731
            k[None], jax.tree.map(lambda x: x[None], st), a[None], params), in_axes=(0, 0, 0))(keys, state, actions)
        single = lambda e: e.step_with_final_state(keys[0], jax.tree.map(lambda x: x[0], state), actions[0], params)  # noqa: E731
        return [f(e) for f in (one, nested, single) for e in (env, eager)]

    run = jax.jit(both)
    for t in ([0, 0, 0], [1, 0, 0], [1, 1, 1]):  # no episode ends; the first one ends; all end
        outs = run(s.replace(t=jnp.array(t, jnp.int32)))
        assert [bool(x) for x in np.asarray(outs[0][4])] == [u == 1 for u in t]
        for lazy, eager_out in zip(outs[::2], outs[1::2], strict=True):
            for x, y in zip(jax.tree.leaves(lazy), jax.tree.leaves(eager_out), strict=True):  # floats: XLA rounding
                np.testing.assert_allclose(np.asarray(x, np.float64).reshape(-1), np.asarray(y, np.float64).reshape(-1),
                                           rtol=0, atol=1e-4)
        reset_t = np.asarray(outs[0][1].t)
        assert list(reset_t) == [0 if u == 1 else u + 1 for u in t]  # an ended episode restarts at t = 0
