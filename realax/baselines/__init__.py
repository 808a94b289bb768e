"""Non-learning policies, side by side with every results table.

A policy is a pure function ``policy(key, obs) -> action`` for one (unbatched) observation; multi-agent
policies take the stacked ``[A, ...]`` observation and return ``[A]`` actions. ``get`` builds one by name.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from realax.baselines import robotaxi, spectrum
from realax.core import Environment, MultiAgentEnv
from realax.errors import RealaxError

Policy = Callable[[jax.Array, jax.Array], jax.Array]


def random_policy(env: Environment, params) -> Policy:
    """Uniform over the action space; for multi-agent envs, each agent uniform over its valid actions
    when ``mask [A, n]`` is given (``realax.agents.evaluate`` passes ``env.action_mask``)."""
    space = env.action_space(params)
    if isinstance(env, MultiAgentEnv):
        n = env.num_agents

        def multi(key, obs, mask=None):
            if mask is None:
                return jax.vmap(space.sample)(jax.random.split(key, n))
            return jax.random.categorical(key, jnp.where(mask, 0.0, -jnp.inf), axis=-1).astype(jnp.int32)

        return multi
    return lambda key, obs: space.sample(key)


#: family-specific baselines: name -> (env class names it applies to, factory(env, params) -> policy)
_FAMILY: dict[str, tuple[tuple[str, ...], Callable]] = {
    "sense_and_avoid": (("Spectrum", "SpectrumMA"), spectrum.sense_and_avoid),
    "no_rebalancing": (("RoboTaxi",), robotaxi.no_rebalancing),
    "equal_distribution": (("RoboTaxi",), robotaxi.equal_distribution),
    "mpc_oracle": (("RoboTaxi",), robotaxi.mpc_oracle),
}

#: baselines too slow for the rows ``realax train`` prints beside every agent (``realax eval`` runs them)
SLOW = frozenset({"mpc_oracle"})


def _applies(name: str, env: Environment) -> bool:
    return name in _FAMILY and type(env).__name__ in _FAMILY[name][0]


def names(env: Environment) -> list[str]:
    """Baselines that apply to ``env`` (a family entry named ``random`` replaces the generic one)."""
    return ["random"] + [n for n in _FAMILY if n != "random" and _applies(n, env)]


def get(name: str, env: Environment, params) -> Policy:
    if name not in names(env):
        raise RealaxError(f"unknown baseline {name!r} for {type(env).__name__}; available: {names(env)}")
    if _applies(name, env):
        return _FAMILY[name][1](env, params)
    return random_policy(env, params)
