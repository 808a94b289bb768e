"""Independent PPO (IPPO) for ``MultiAgentEnv``: one parameter-shared actor and critic, the critic on each
agent's own observation (de Witt et al., arXiv:2011.09533, 2020; JaxMARL ``ippo_ff_*.py``).

The machinery (action masks, dead-agent weighting, per-agent GAE, team-return metrics) is in
``realax.agents.multi``.

>>> env, params = realax.make("realax/SMAX-v0", scenario="3m")
>>> trainer = make_train(IPPOConfig(total_timesteps=200_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses

from realax.agents.multi import MultiPPOConfig, make_multi_train
from realax.agents.trainer import Trainer


@dataclasses.dataclass(frozen=True)
class IPPOConfig(MultiPPOConfig):
    """IPPO settings (all fields from ``MultiPPOConfig``); the critic sees each agent's own observation."""


def make_train(config: IPPOConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running IPPO; ``policy(carry)`` returns the
    greedy ``fn(key, obs [A, ...], mask=None) -> actions [A]``."""
    return make_multi_train(config, env, params, centralised=False)
