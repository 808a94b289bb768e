"""Multi-agent PPO (MAPPO) for ``MultiAgentEnv``: the IPPO actor (parameter-shared, own observation) with a
centralised critic on ``env.global_state`` (plus the agent's one-hot index) (Yu et al., "The Surprising
Effectiveness of PPO in Cooperative Multi-Agent Games", NeurIPS 2022 D&B; JaxMARL ``mappo_*.py``).

Truncated episodes bootstrap from ``V(global_state(final state))``. The machinery is in
``realax.agents.multi``.

>>> env, params = realax.make("realax/SMAX-v0", scenario="3m")
>>> trainer = make_train(MAPPOConfig(total_timesteps=200_000), env, params)
>>> carry, metrics = trainer.train(jax.random.key(0))
"""

from __future__ import annotations

import dataclasses

from realax.agents.multi import MultiPPOConfig, make_multi_train
from realax.agents.trainer import Trainer


@dataclasses.dataclass(frozen=True)
class MAPPOConfig(MultiPPOConfig):
    """MAPPO settings (all fields from ``MultiPPOConfig``); the critic sees ``env.global_state``."""


def make_train(config: MAPPOConfig, env, params) -> Trainer:
    """A ``Trainer`` (see ``realax.agents.trainer.Trainer``) running MAPPO; ``policy(carry)`` returns the
    greedy ``fn(key, obs [A, ...], mask=None) -> actions [A]``."""
    return make_multi_train(config, env, params, centralised=True)
