"""Small flax networks whose input layer is chosen from the environment's observation space.

The actor-critic follows purejaxrl's ``ActorCritic`` (Lu et al. 2022, ``luchris429/purejaxrl``,
``ppo.py``): separate actor and critic MLPs with tanh, orthogonal initialisation with gain sqrt(2) for
hidden layers, 0.01 for the policy logits and 1.0 for the value head (the PPO implementation details of
Huang et al., "The 37 Implementation Details of PPO", ICLR blog track 2022).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from realax.spaces import Box, Discrete, MultiDiscrete, Space

#: integer observations with at most this many values per cell are one-hot encoded
MAX_ONE_HOT_CLASSES = 16


class ObsEncoder(nn.Module):
    """Flattens one observation (leading batch axes are kept): one-hot per cell or a float cast."""

    obs_ndim: int
    num_classes: int = 0  # > 0: one-hot encode every cell into this many classes

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        batch = obs.shape[: obs.ndim - self.obs_ndim]
        x = jax.nn.one_hot(obs.astype(jnp.int32), self.num_classes) if self.num_classes else obs.astype(jnp.float32)
        return x.reshape(*batch, -1)


def encoder_for(space: Space) -> ObsEncoder:
    """One-hot for integer-valued spaces with few values per cell (``Box`` with integer dtype and
    ``high.max()+1 <= 16``, ``Discrete``, ``MultiDiscrete``); otherwise cast to float32 and flatten."""
    classes = 0
    if isinstance(space, Box) and space.is_integer and int(space.high.max()) + 1 <= MAX_ONE_HOT_CLASSES:
        classes = int(space.high.max()) + 1
    elif isinstance(space, Discrete) and space.n <= MAX_ONE_HOT_CLASSES:
        classes = space.n
    elif isinstance(space, MultiDiscrete) and int(space.nvec.max()) <= MAX_ONE_HOT_CLASSES:
        classes = int(space.nvec.max())
    return ObsEncoder(obs_ndim=len(space.shape), num_classes=classes)


def _mlp(x: jax.Array, hidden: Sequence[int]) -> jax.Array:
    for h in hidden:
        x = nn.tanh(nn.Dense(h, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(x))
    return x


class ActorCritic(nn.Module):
    """``obs -> (logits [n_actions], value [])`` with separate actor and critic torsos."""

    encoder: ObsEncoder
    num_actions: int
    hidden: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = self.encoder(obs)
        logits = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01))(_mlp(x, self.hidden))
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0))(_mlp(x, self.hidden))
        return logits, value[..., 0]


def actor_critic_for(env, params, hidden: int = 64, layers: int = 2) -> ActorCritic:
    """An ``ActorCritic`` sized from ``env``'s spaces (the action space must be ``Discrete``)."""
    action_space = env.action_space(params)
    if not isinstance(action_space, Discrete):
        raise TypeError(f"ActorCritic needs a Discrete action space, got {action_space}")
    return ActorCritic(encoder_for(env.observation_space(params)), action_space.n, (hidden,) * layers)
