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

from realax.agents import distributions
from realax.errors import RealaxError
from realax.spaces import Box, Discrete, MultiDiscrete, Space

#: integer observations with at most this many values per cell are one-hot encoded
MAX_ONE_HOT_CLASSES = 16


def orthogonal(scale: float = 1.0) -> nn.initializers.Initializer:
    """``jax.nn.initializers.orthogonal(scale)`` (the same draw for the same key, bit for bit) whose QR
    factorisation never runs batched.

    Why: a learner's init is vmapped over seeds, which turns each layer's QR into one batched LAPACK call.
    jaxlib 0.10.x's CPU LAPACK kernels split a batch over XLA's intra-op thread pool and block a pool thread
    until the parts are done; when as many such calls run at once as the pool has threads (two devices on
    a 2-core machine, or two layers' QRs scheduled side by side), every thread waits on the others and the
    program never finishes (native stacks: ``BlockingCounter::Wait`` under ``jax::ParallelBatchMap`` in
    ``lapack_sgeqrf_ffi`` on every ``tf_XLAEigen`` thread; ``tests/agents/test_networks.py``). Under ``vmap``
    this initializer draws the matrices one after another (``lax.map``): each QR has a batch of one and
    runs on its own thread, with the same result as the batched call (LAPACK factorises each matrix of a
    batch on its own).
    """
    base = nn.initializers.orthogonal(scale)

    def init(key: jax.Array, shape: Sequence[int], dtype: jnp.dtype = jnp.float32) -> jax.Array:
        @jax.custom_batching.custom_vmap
        def draw(k: jax.Array) -> jax.Array:
            return base(k, shape, dtype)

        @draw.def_vmap
        def _one_at_a_time(axis_size: int, in_batched: list[bool], k: jax.Array) -> tuple[jax.Array, bool]:
            return jax.lax.map(draw, k), True

        return draw(key)

    return init


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
        x = nn.tanh(nn.Dense(h, kernel_init=orthogonal(np.sqrt(2)))(x))
    return x


class ActorCritic(nn.Module):
    """``obs -> (head [num_outputs], value [])`` with separate actor and critic torsos; the head feeds a
    distribution of ``realax.agents.distributions`` (logits, Dirichlet concentrations, or a Gaussian's mean
    followed by its state-independent log-std)."""

    encoder: ObsEncoder
    num_outputs: int
    hidden: Sequence[int] = (64, 64)
    gaussian: bool = False  # the last half of the head is a learned log-std, not a function of obs

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = self.encoder(obs)
        n = self.num_outputs // 2 if self.gaussian else self.num_outputs
        head = nn.Dense(n, kernel_init=orthogonal(0.01))(_mlp(x, self.hidden))
        if self.gaussian:
            log_std = self.param("log_std", nn.initializers.zeros, (n,))
            head = jnp.concatenate([head, jnp.broadcast_to(log_std, head.shape)], -1)
        value = nn.Dense(1, kernel_init=orthogonal(1.0))(_mlp(x, self.hidden))
        return head, value[..., 0]


def gcn_normalised(adjacency: np.ndarray) -> np.ndarray:
    """``D^-1/2 (A + I) D^-1/2``, the propagation matrix of a graph convolution (Kipf & Welling, ICLR 2017)."""
    a = np.asarray(adjacency).astype(np.float32) + np.eye(np.asarray(adjacency).shape[0], dtype=np.float32)
    d = 1.0 / np.sqrt(a.sum(1))
    return a * d[:, None] * d[None, :]


class GraphConv(nn.Module):
    """One graph convolution over node features ``[..., N, F] -> [..., N, F]`` with ReLU and a skip connection,
    RL4AMOD's ``relu(GCNConv(x)) + x`` (``src/nets/actor.py``, ``critic.py``)."""

    adjacency: np.ndarray

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = nn.Dense(x.shape[-1])(x)
        return nn.relu(jnp.einsum("ij,...jf->...if", jnp.asarray(gcn_normalised(self.adjacency)), h)) + x


class GraphActor(nn.Module):
    """RL4AMOD's SAC actor (``src/nets/actor.py`` ``GNNActor``): ``GraphConv``, then per node two leaky-ReLU
    layers of ``hidden`` and one output, the node's Dirichlet concentration before the softplus
    (``distributions.make``). ``obs`` is ``[..., N * F]`` node-major; the head is ``[..., N]``."""

    adjacency: np.ndarray
    node_features: int
    hidden: int = 256

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = GraphConv(self.adjacency)(graph_nodes(obs, self.adjacency.shape[0], self.node_features))
        for _ in range(2):
            x = nn.leaky_relu(nn.Dense(self.hidden)(x))
        return nn.Dense(1)(x)[..., 0]


class GraphCritic(nn.Module):
    """RL4AMOD's SAC critic (``src/nets/critic.py`` ``GNNCritic``): ``GraphConv``, each node's features joined
    with its share of the action, two ReLU layers of ``hidden`` per node, a sum over the nodes and a linear
    readout: ``Q(obs, action) -> []``."""

    adjacency: np.ndarray
    node_features: int
    hidden: int = 256

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = GraphConv(self.adjacency)(graph_nodes(obs, self.adjacency.shape[0], self.node_features))
        x = jnp.concatenate([x, action.astype(jnp.float32)[..., None]], -1)
        for _ in range(2):
            x = nn.relu(nn.Dense(self.hidden)(x))
        return nn.Dense(1)(x.sum(-2))[..., 0]


def graph_nodes(obs: jax.Array, nodes: int, features: int) -> jax.Array:
    """A node-major observation ``[..., N * F]`` as node features ``[..., N, F]`` (float32)."""
    return obs.astype(jnp.float32).reshape(*obs.shape[:-1], nodes, features)


def graph_of(env, params, outputs: int) -> tuple[np.ndarray, int] | None:
    """``(adjacency [N, N] bool, features per node)`` when ``env`` describes its observation as a graph
    (``env.graph``) with one action output per node, else None."""
    if not hasattr(env, "graph"):
        return None
    adjacency, features = env.graph(params)
    adjacency = np.asarray(adjacency, bool)
    return (adjacency, int(features)) if adjacency.shape[0] == outputs else None


class GraphActorCritic(nn.Module):
    """RL4AMOD's graph actor-critic (Tresca et al. 2025, ``src/algos/a2c_gnn.py``; Gammelli et al., "Graph
    Neural Network Reinforcement Learning for Autonomous Mobility-on-Demand Systems", CDC 2021): one graph
    convolution (Kipf & Welling, ICLR 2017: ``D^-1/2 (A + I) D^-1/2 X W``) with ReLU and a skip connection over
    the node features, then per node an MLP to one head output (the actor: a Dirichlet concentration per
    region), and for the critic the node embeddings summed over the graph and an MLP to the value.

    The observation is ``[..., N * F]`` node-major; ``adjacency`` (numpy, ``[N, N]``) is fixed at construction.
    """

    adjacency: np.ndarray
    node_features: int
    hidden: int = 32

    def _conv(self, x):
        h = nn.Dense(self.node_features)(x)
        return nn.relu(jnp.einsum("ij,...jf->...if", jnp.asarray(gcn_normalised(self.adjacency)), h)) + x

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = graph_nodes(obs, self.adjacency.shape[0], self.node_features)
        a = self._conv(x)
        for _ in range(2):
            a = nn.leaky_relu(nn.Dense(self.hidden)(a))
        head = nn.Dense(1, kernel_init=orthogonal(0.01))(a)[..., 0]
        c = self._conv(x).sum(-2)
        for _ in range(2):
            c = nn.leaky_relu(nn.Dense(self.hidden)(c))
        return head, nn.Dense(1)(c)[..., 0]


def items_of(env, params, outputs: int) -> tuple[int, int] | None:
    """``(items, features per item)`` when ``env`` describes its observation as a block of candidate items
    followed by a context (``env.items``) and picks one of them (one action output per item), else None."""
    if not hasattr(env, "items"):
        return None
    count, features = (int(x) for x in env.items(params))
    return (count, features) if count == outputs else None


class ItemActorCritic(nn.Module):
    """Scores each candidate item with one shared network, the usual shape of a recommender's policy (the
    item-wise Q of SlateQ, Ie et al. IJCAI 2019; the per-candidate scoring of TSCAC's actor, Cai et al. WWW
    2023): ``logit_i = MLP([item_i, context])`` with the same weights for every item, so what is learned about
    one slot holds for all and the policy is equivariant to the candidates' order. The critic is
    ``ActorCritic``'s MLP over the whole observation.

    The observation is ``[..., items * item_features + context]``, item-major first (``env.items``).
    """

    items: int
    item_features: int
    hidden: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = obs.astype(jnp.float32)
        n = self.items * self.item_features
        cands = x[..., :n].reshape(*x.shape[:-1], self.items, self.item_features)
        context = jnp.broadcast_to(x[..., None, n:], (*x.shape[:-1], self.items, x.shape[-1] - n))
        scores = nn.Dense(1, kernel_init=orthogonal(0.01))(_mlp(jnp.concatenate([cands, context], -1), self.hidden))
        value = nn.Dense(1, kernel_init=orthogonal(1.0))(_mlp(x, self.hidden))
        return scores[..., 0], value[..., 0]


def actor_critic_for(env, params, hidden: int = 64, layers: int = 2, graph: bool = True) -> nn.Module:
    """A network sized from ``env``'s spaces: ``GraphActorCritic`` when ``graph`` and the env describes its
    observation as a graph (``env.graph(params) -> (adjacency [N, N], features per node)``) and acts with one
    output per node; ``ItemActorCritic`` when ``graph`` and the env describes its observation as candidate
    items and a context (``env.items(params) -> (items, features per item)``) and picks one item; otherwise an
    ``ActorCritic`` (categorical, Dirichlet or Gaussian head)."""
    action_space = env.action_space(params)
    outputs = distributions.head_size(action_space)
    g = graph_of(env, params, outputs) if graph else None
    if g is not None:
        return GraphActorCritic(*g, hidden)
    i = items_of(env, params, outputs) if graph else None
    if i is not None:
        return ItemActorCritic(*i, (hidden,) * layers)
    gaussian = distributions.is_gaussian(action_space)
    return ActorCritic(encoder_for(env.observation_space(params)), outputs * (2 if gaussian else 1),
                       (hidden,) * layers, gaussian)


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
            self.gru = nn.GRUCell(features=width, recurrent_kernel_init=orthogonal())
            self.memory_out = MLP((width,))
        else:
            self.actor_torso = MLP(self.hidden)
        self.logits_head = nn.Dense(self.num_actions, kernel_init=orthogonal(0.01))
        self.critic_torso = MLP(self.hidden)
        self.value_head = nn.Dense(1, kernel_init=orthogonal(1.0))

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
        raise RealaxError(f"AgentActorCritic needs a Discrete action space, got {action_space}")
    obs_enc = encoder_for(env.observation_space(params))
    critic_enc = encoder_for(env.global_state_space(params)) if centralised else obs_enc
    return AgentActorCritic(obs_enc, critic_enc, action_space.n, env.num_agents if agent_id else 0,
                            (hidden,) * layers, recurrent)


class ValueHeads(nn.Module):
    """``obs -> values [..., outputs]``: a vector-valued critic, one tanh MLP torso (as ``ActorCritic``'s critic)
    and one linear value per output, e.g. one value per constraint signal (``realax.agents.constraints``)."""

    encoder: ObsEncoder
    outputs: int
    hidden: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = _mlp(self.encoder(obs), self.hidden)
        return nn.Dense(self.outputs, kernel_init=orthogonal(1.0))(x)
