"""Non-learning policies, side by side with every results table.

A policy is a pure function ``policy(key, obs) -> action`` for one (unbatched) observation; multi-agent
policies take the stacked ``[A, ...]`` observation and return ``[A]`` actions. ``get`` builds one by name.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from realax import registry
from realax.core import Environment, is_multi_agent
from realax.errors import RealaxError

Policy = Callable[[jax.Array, jax.Array], jax.Array]


def random_policy(env: Environment, params) -> Policy:
    """Uniform over the action space; for multi-agent envs, each agent uniform over its valid actions
    when ``mask [A, n]`` is given (``realax.agents.evaluate`` passes ``env.action_mask``)."""
    space = env.action_space(params)
    if is_multi_agent(env):
        n = env.num_agents

        def multi(key, obs, mask=None):
            if mask is None:
                return jax.vmap(space.sample)(jax.random.split(key, n))
            return jax.random.categorical(key, jnp.where(mask, 0.0, -jnp.inf), axis=-1).astype(jnp.int32)

        return multi
    return lambda key, obs: space.sample(key)


def _declared(env: Environment) -> tuple[dict[str, Callable], frozenset[str]]:
    """The baselines the env's registration declares (``EnvSpec.baselines``) and the slow ones among them."""
    spec = registry.spec_of(env)
    module = spec.load_baselines() if spec is not None else None
    if module is None:
        return {}, frozenset()
    return dict(module.BASELINES), frozenset(getattr(module, "SLOW", ()))


def names(env: Environment) -> list[str]:
    """Baselines that apply to ``env``: ``random`` and those its registration declares."""
    return ["random"] + [n for n in _declared(env)[0] if n != "random"]


def fast_names(env: Environment) -> list[str]:
    """``names`` without the slow ones (the rows printed beside every trained agent)."""
    return [n for n in names(env) if n not in _declared(env)[1]]


def get(name: str, env: Environment, params) -> Policy:
    if name not in names(env):
        raise RealaxError(f"unknown baseline {name!r} for {type(env.unwrapped).__name__}; available: {names(env)}")
    declared = _declared(env)[0]
    return declared[name](env, params) if name in declared else random_policy(env, params)
