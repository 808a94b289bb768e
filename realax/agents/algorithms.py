"""The one table of learning algorithms, online and offline, and the one way to build their configs.

Every entry has a typed frozen config (a docstring per field) and a ``make_train`` returning a
``realax.agents.trainer.Trainer``. Offline learners train on arrays (``offline_nets.Transitions``) given as
``data``; hybrid DQN takes them too when its config names a dataset. Nothing here reads files: the runner
(``realax.experiment``) loads datasets and passes the arrays.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from realax import options
from realax.agents import (
    a2c,
    bc,
    cql,
    dqn,
    ippo,
    iql,
    mappo,
    marl_q,
    ppo,
    ppo_ctx,
    ppo_lag,
    ppo_rnd,
    qlearning,
    sac,
    slateq,
    td3bc,
    tscac,
)
from realax.agents.offline_nets import Transitions, action_kind
from realax.agents.trainer import Trainer
from realax.core import is_multi_agent
from realax.errors import RealaxError

#: every action kind (``offline_nets.action_kind``) an online single-agent learner may meet
_ANY = ("discrete", "box", "simplex")


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """One learning algorithm as the runner sees it."""

    config: type
    """Its frozen config dataclass."""
    make_train: Callable[..., Trainer]
    """``make_train(config, env, params, data) -> Trainer``; ``data`` is ``Transitions`` or None."""
    multi_agent: bool | None = False
    """Trains ``MultiAgentEnv`` (stacked agents) instead of single-agent envs; None: both kinds."""
    offline: bool = False
    """Trains on a dataset only (``data`` required); online learners step the env."""
    action_kinds: tuple[str, ...] = _ANY
    """Action kinds it trains (``discrete``, ``box``, ``simplex``)."""


def _online(make):
    return lambda config, env, params, data=None: make(config, env, params)


def _dataset(make):
    return lambda config, env, params, data: make(config, data, env, params)


def _value_based(config: type, mixer: str) -> Algorithm:
    """A multi-agent value-based learner of ``marl_q`` (independent, VDN or QMIX by ``mixer``)."""
    return Algorithm(config, lambda c, env, params, data=None: marl_q.make_train(c, env, params, mixer),
                     multi_agent=True, action_kinds=("discrete",))


ALGOS: dict[str, Algorithm] = {
    "ppo": Algorithm(ppo.PPOConfig, _online(ppo.make_train)),
    "a2c": Algorithm(a2c.A2CConfig, _online(a2c.make_train)),
    "sac": Algorithm(sac.SACConfig, _online(sac.make_train), action_kinds=("box", "simplex")),
    "ppo_rnd": Algorithm(ppo_rnd.PPORNDConfig, _online(ppo_rnd.make_train)),
    "ppo_lag": Algorithm(ppo_lag.PPOLagConfig, _online(ppo_lag.make_train)),
    "tscac": Algorithm(tscac.TSCACConfig, _online(tscac.make_train)),
    "ppo_ctx": Algorithm(ppo_ctx.PPOCtxConfig, _online(ppo_ctx.make_train)),
    "qlearning": Algorithm(qlearning.QConfig, _online(qlearning.make_train), multi_agent=None,
                           action_kinds=("discrete",)),
    "sarsa": Algorithm(qlearning.SarsaConfig, lambda c, env, p, data=None: qlearning.make_train(c, env, p, "sarsa"),
                       multi_agent=None, action_kinds=("discrete",)),
    "dqn": Algorithm(dqn.DQNConfig, lambda c, env, p, data=None: dqn.make_train(c, env, p, offline=data),
                     action_kinds=("discrete",)),
    "slateq": Algorithm(slateq.SlateQConfig, _online(slateq.make_train)),
    "ippo": Algorithm(ippo.IPPOConfig, _online(ippo.make_train), multi_agent=True),
    "mappo": Algorithm(mappo.MAPPOConfig, _online(mappo.make_train), multi_agent=True),
    "iql_marl": _value_based(marl_q.IQLMarlConfig, "none"),
    "vdn": _value_based(marl_q.VDNConfig, "vdn"),
    "qmix": _value_based(marl_q.QMIXConfig, "qmix"),
    "bc": Algorithm(bc.BCConfig, _dataset(bc.make_train), offline=True),
    "cql": Algorithm(cql.CQLConfig, _dataset(cql.make_train), offline=True),
    "td3bc": Algorithm(td3bc.TD3BCConfig, _dataset(td3bc.make_train), offline=True, action_kinds=("box", "simplex")),
    "iql": Algorithm(iql.IQLConfig, _dataset(iql.make_train), offline=True, action_kinds=("box", "simplex")),
}


def get(algo: str) -> Algorithm:
    """The table entry of ``algo``, or a ``RealaxError`` listing the names."""
    try:
        return ALGOS[algo]
    except KeyError:
        raise RealaxError(f"unknown algorithm {algo!r}; available: {sorted(ALGOS)}") from None


def names(*, offline: bool | None = None, multi_agent: bool | None = None) -> list[str]:
    """Algorithm names, sorted, filtered by the flags given."""
    return sorted(n for n, a in ALGOS.items() if (offline is None or a.offline == offline)
                  and (multi_agent is None or a.multi_agent in (None, multi_agent)))


def applicable(kind: str) -> list[str]:
    """The offline algorithms that train on datasets with this action kind."""
    return [n for n in names(offline=True) if kind in ALGOS[n].action_kinds]


def make_config(algo: str, overrides: dict[str, Any]) -> Any:
    """The config of ``algo`` with ``overrides`` (text from ``--set``, saved values or Python values), each
    typed from the config's annotations (``realax.options``: unknown fields, fractions for integers and
    non-booleans are refused, naming the field); the config checks its own ranges. A run shorter than one
    chunk gets chunks of exactly its updates (unless ``updates_per_chunk`` is given), so a small budget is not
    rounded up to a whole default chunk."""
    cls = get(algo).config
    config = cls(**options.coerce_all(dict(overrides), options.config_hints(cls), cls.__name__, what="field"))
    if "updates_per_chunk" not in overrides and config.num_updates < config.updates_per_chunk:
        config = dataclasses.replace(config, updates_per_chunk=config.num_updates)
    return config


def check_env(algo: str, env: Any, params: Any = None) -> None:
    """``RealaxError`` unless ``algo`` trains ``env``: for online learners, single- or multi-agent alike
    (decided by type on the unwrapped env); for offline learners, an action kind they support."""
    entry = get(algo)
    multi_env = is_multi_agent(env)
    name = type(env.unwrapped).__name__
    if not entry.offline and entry.multi_agent is not None and multi_env != entry.multi_agent:
        kind = "multi-agent" if entry.multi_agent else "single-agent"
        other = "multi-agent" if multi_env else "single-agent"
        raise RealaxError(f"{algo} trains {kind} environments; {name} is {other} "
                          f"(use one of {names(multi_agent=multi_env, offline=False)})")
    if entry.offline:
        space = env.action_space(env.default_params if params is None else params)
        kind = action_kind(space)
        if kind not in entry.action_kinds:
            raise RealaxError(f"{algo} trains {'/'.join(entry.action_kinds)} actions; {name} has {kind} actions "
                              f"({space}); use one of {applicable(kind)}")


def make_trainer(algo: str, config: Any, env: Any, params: Any, data: Transitions | None = None) -> Trainer:
    """``check_env`` then the algorithm's ``Trainer``; offline learners need ``data``."""
    check_env(algo, env, params)
    entry = get(algo)
    if entry.offline and data is None:
        raise RealaxError(f"{algo} is an offline learner: it needs a dataset's transitions")
    return entry.make_train(config, env, params, data)
