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


class MLP(nn.Module):
    """tanh MLP with orthogonal(sqrt 2) hidden layers (the torso of ``ActorCritic`` as a module)."""

    hidden: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return _mlp(x, self.hidden)


class AgentActorCritic(nn.Module):
    """Parameter-shared actor and critic for multi-agent PPO (IPPO/MAPPO).

    ``actor(obs, agent) -> logits [..., n_actions]`` sees one agent's observation; ``critic(x, agent) -> value``
    sees the agent's own observation (IPPO) or the environment's global state (MAPPO). With ``num_ids > 0`` a
    one-hot of the agent index ``agent`` (int, same leading axes) is appended to both inputs, so agents that
    share parameters and see the same observation can still act differently. Leading batch axes are kept.

    With ``recurrent=True`` the actor is JaxMARL's RNN actor (``ippo_rnn_smax.py``: dense, GRU, dense, logits)
    and is called step by step through ``actor_step(obs, agent, memory, start)``; the critic stays feed-forward.
    """

    actor_encoder: ObsEncoder
    critic_encoder: ObsEncoder
    num_actions: int
    num_ids: int = 0
    hidden: Sequence[int] = (64, 64)
    recurrent: bool = False

    def setup(self):
        if self.recurrent:
            width = self.hidden[-1]
            self.memory_in = MLP((width,))
            self.gru = nn.GRUCell(features=width)
            self.memory_out = MLP((width,))
        else:
            self.actor_torso = MLP(self.hidden)
        self.logits_head = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01))
        self.critic_torso = MLP(self.hidden)
        self.value_head = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0))

    def _with_id(self, x: jax.Array, agent: jax.Array) -> jax.Array:
        if not self.num_ids:
            return x
        return jnp.concatenate([x, jax.nn.one_hot(agent, self.num_ids, dtype=x.dtype)], -1)

    def actor(self, obs: jax.Array, agent: jax.Array) -> jax.Array:
        return self.logits_head(self.actor_torso(self._with_id(self.actor_encoder(obs), agent)))

    def actor_step(self, obs: jax.Array, agent: jax.Array, memory: jax.Array, start: jax.Array):
        """Recurrent actor, one step: ``(memory [..., H], logits)``; ``start`` (bool, the leading axes) marks an
        observation that begins an episode, which clears the memory first."""
        x = self.memory_in(self._with_id(self.actor_encoder(obs), agent))
        memory, y = self.gru(jnp.where(start[..., None], 0.0, memory), x)
        return memory, self.logits_head(self.memory_out(y))

    def critic(self, x: jax.Array, agent: jax.Array) -> jax.Array:
        return self.value_head(self.critic_torso(self._with_id(self.critic_encoder(x), agent)))[..., 0]

    def __call__(self, obs: jax.Array, critic_in: jax.Array, agent: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(logits, value)``; a recurrent actor starts from an empty memory here (used to initialise)."""
        if self.recurrent:
            memory = jnp.zeros((*agent.shape, self.hidden[-1]))
            return self.actor_step(obs, agent, memory, jnp.ones(agent.shape, bool))[1], self.critic(critic_in, agent)
        return self.actor(obs, agent), self.critic(critic_in, agent)


def agent_actor_critic_for(env, params, hidden: int = 64, layers: int = 2, centralised: bool = False,
                           agent_id: bool = True, recurrent: bool = False) -> AgentActorCritic:
    """An ``AgentActorCritic`` sized from a ``MultiAgentEnv``'s spaces; ``centralised`` gives the critic
    ``env.global_state`` (its encoder from ``env.global_state_space``) instead of the agent's observation."""
    action_space = env.action_space(params)
    if not isinstance(action_space, Discrete):
        raise TypeError(f"AgentActorCritic needs a Discrete action space, got {action_space}")
    obs_enc = encoder_for(env.observation_space(params))
    critic_enc = encoder_for(env.global_state_space(params)) if centralised else obs_enc
    return AgentActorCritic(obs_enc, critic_enc, action_space.n, env.num_agents if agent_id else 0,
                            (hidden,) * layers, recurrent)
