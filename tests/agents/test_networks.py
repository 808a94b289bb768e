"""``realax.agents.networks.orthogonal``: flax's orthogonal initializer, the same draws, QR never batched."""

from __future__ import annotations

import flax.linen as nn
import jax
import numpy as np
import pytest
from jax.extend.core import ClosedJaxpr, Jaxpr

from realax.agents.networks import ActorCritic, ObsEncoder, orthogonal


def _qr_operand_shapes(jaxpr: Jaxpr) -> list[tuple[int, ...]]:
    """Shapes of the matrices every QR factorisation in ``jaxpr`` (and the jaxprs inside it) factorises."""
    shapes = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("geqrf", "qr", "householder_product"):
            shapes.append(tuple(eqn.invars[0].aval.shape))
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(sub, ClosedJaxpr):
                    shapes += _qr_operand_shapes(sub.jaxpr)
                elif isinstance(sub, Jaxpr):
                    shapes += _qr_operand_shapes(sub)
    return shapes


@pytest.mark.parametrize("shape", [(5, 4), (4, 5), (3, 2, 6)])
@pytest.mark.parametrize("scale", [0.01, 1.0, np.sqrt(2)])
def test_same_draws_as_flax_unbatched_vmapped_and_nested(shape, scale):
    ours, flax_init = orthogonal(scale), nn.initializers.orthogonal(scale)
    key = jax.random.key(3)
    np.testing.assert_array_equal(ours(key, shape), flax_init(key, shape))
    keys = jax.random.split(key, 6).reshape(2, 3)
    for f in (jax.vmap, lambda g: jax.vmap(jax.vmap(g))):
        k = keys[0] if f is jax.vmap else keys
        np.testing.assert_array_equal(f(lambda k: ours(k, shape))(k), f(lambda k: flax_init(k, shape))(k))


def test_a_vmapped_network_init_factorises_one_matrix_at_a_time():
    net = ActorCritic(ObsEncoder(obs_ndim=1), num_outputs=3, hidden=(8, 8))
    init = jax.vmap(lambda k: net.init(k, np.zeros(4, np.float32)))
    shapes = _qr_operand_shapes(jax.make_jaxpr(init)(jax.random.split(jax.random.key(0), 5)).jaxpr)
    assert len(shapes) == 6  # two torsos of two layers, the policy and value heads
    assert all(len(s) == 2 for s in shapes), shapes  # no batch axis: flax's own initializer gives [5, m, n]
    flax_init = jax.vmap(lambda k: nn.Dense(8, kernel_init=nn.initializers.orthogonal()).init(k, np.zeros(4)))
    assert all(len(s) == 3 for s in _qr_operand_shapes(jax.make_jaxpr(flax_init)(jax.random.split(jax.random.key(0), 5)).jaxpr))
