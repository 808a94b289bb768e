"""What the offline learners (BC, CQL, TD3+BC, IQL) and the hybrid DQN share: transition arrays, minibatch
sampling, observation normalisation, the action kind of a space, and ReLU MLP networks.

Networks follow the offline-RL papers' common set-up (TD3+BC, Fujimoto & Gu 2021, and IQL, Kostrikov et al.
2021, both use two hidden layers of 256 ReLU units); the observation input goes through ``encoder_for`` (one-hot
for small integer observations, as in ``networks.py``).

Continuous actors end in a squashing chosen from the action space (``action_kind``): ``Box`` ->
``low + (tanh(x) + 1)/2 · (high - low)`` (TD3's ``max_action · tanh`` for a symmetric box); ``Simplex`` (a
distribution over ``n`` places, e.g. RoboTaxi's desired fleet distribution, which the env normalises) ->
``softmax(x)``, a point on the simplex. Dataset actions on a simplex space are normalised onto it before
they are regressed on (``action_targets``): the env reads ``a`` and ``c·a`` (``c > 0``) as the same action.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from realax.agents.networks import ObsEncoder, encoder_for
from realax.errors import RealaxError
from realax.options import SIZE_LIMITS, require
from realax.spaces import Box, Discrete, Simplex, Space


def action_kind(space: Space) -> str:
    """``"discrete"`` (``Discrete``), ``"simplex"`` (``Simplex``, or any space with ``simplex = True``) or
    ``"box"`` (a 1-D float ``Box``); ``TypeError`` for anything else."""
    if isinstance(space, Discrete):
        return "discrete"
    if isinstance(space, Simplex) or getattr(space, "simplex", False):
        return "simplex"
    if isinstance(space, Box) and not space.is_integer and len(space.shape) == 1:
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            raise RealaxError(f"offline continuous actors squash into the action box, which must be bounded: {space}")
        return "box"
    raise RealaxError(f"offline learners support Discrete, Simplex and 1-D float Box actions, not {space}")


def require_kind(algo: str, space: Space, allowed: Sequence[str]) -> str:
    """The action kind of ``space``; ``ValueError`` naming the algorithm when it is not one of ``allowed``."""
    kind = action_kind(space)
    if kind not in allowed:
        want = "discrete" if list(allowed) == ["discrete"] else "continuous (Box or Simplex)"
        raise RealaxError(f"{algo} needs {want} actions; this dataset's action space is {space} ({kind})")
    return kind

@dataclasses.dataclass(frozen=True)
class OfflineConfig:
    """Settings every offline learner shares (each algorithm's config adds its own)."""

    num_updates: int = 20_000
    """Gradient steps in the whole run, rounded up to whole chunks (``total_updates``)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    hidden: int = 256
    """Width of each ReLU hidden layer."""
    layers: int = 2
    """Hidden layers."""
    normalize_obs: bool = True
    """Normalise float observations with the dataset's mean and std."""
    num_seeds: int = 1
    """Independent runs (the caller vmaps ``init``/``step`` over this many keys)."""
    updates_per_chunk: int = 1000
    """Gradient steps per ``Trainer.step`` call."""

    def __post_init__(self):
        require(self, positive=("num_updates", "batch_size", "hidden", "layers", "num_seeds", "updates_per_chunk"),
                at_most=SIZE_LIMITS)

    @property
    def num_chunks(self) -> int:
        return max(1, math.ceil(self.num_updates / self.updates_per_chunk))

    @property
    def total_updates(self) -> int:
        """The gradient steps actually run: ``num_chunks * updates_per_chunk``."""
        return self.num_chunks * self.updates_per_chunk


class Transitions(NamedTuple):
    """Flat transitions in episode order (D4RL's ``qlearning_dataset`` layout)."""

    obs: jax.Array  # [N, *obs]
    action: jax.Array  # [N] int (discrete) or [N, d] float
    reward: jax.Array  # float32 [N]
    next_obs: jax.Array  # [N, *obs]: the observation after the action, before any reset
    terminal: jax.Array  # float32 [N]: 1 where the episode terminated (no bootstrap); truncation is not terminal
    done: jax.Array  # bool [N]: terminated or truncated (the last transition of an episode)

    @property
    def size(self) -> int:
        return int(self.reward.shape[0])


def check_transitions(data: Transitions, env, params, algo: str) -> None:
    """``ValueError`` naming the field when ``data`` does not fit ``env``'s spaces."""
    obs_shape = tuple(env.observation_space(params).shape)
    space = env.action_space(params)
    n = data.size
    if n < 1:
        raise RealaxError(f"{algo}: the dataset has no transitions")
    for name in ("obs", "next_obs"):
        if tuple(getattr(data, name).shape) != (n, *obs_shape):
            raise RealaxError(f"{algo}: {name} has shape {tuple(getattr(data, name).shape)}; the env's observations "
                             f"need ({n}, {', '.join(map(str, obs_shape))})")
    want = (n,) if isinstance(space, Discrete) else (n, *space.shape)
    if tuple(data.action.shape) != want:
        raise RealaxError(f"{algo}: action has shape {tuple(data.action.shape)}; {space} needs {want}")
    if isinstance(space, Discrete) and not jnp.issubdtype(data.action.dtype, jnp.integer):
        raise RealaxError(f"{algo}: {space} needs integer actions, the dataset has {data.action.dtype}")
    for name in ("reward", "terminal", "done"):
        if tuple(getattr(data, name).shape) != (n,):
            raise RealaxError(f"{algo}: {name} has shape {tuple(getattr(data, name).shape)}, expected ({n},)")
    if isinstance(data.action, jax.core.Tracer):  # shapes only when checked inside a trace
        return
    a = np.asarray(data.action)
    if isinstance(space, Discrete) and (a.min() < 0 or a.max() >= space.n):
        raise RealaxError(f"{algo}: actions range over [{a.min()}, {a.max()}]; {space} allows 0..{space.n - 1}")
    if not isinstance(space, Discrete) and not np.all(np.isfinite(a)):
        raise RealaxError(f"{algo}: the dataset's actions hold NaN or infinite values")
    for name in ("obs", "next_obs", "reward"):
        x = np.asarray(getattr(data, name))
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            raise RealaxError(f"{algo}: the dataset's {name} holds NaN or infinite values")


def sample(key: jax.Array, data: Transitions, n: int) -> Transitions:
    """``n`` transitions drawn uniformly with replacement."""
    idx = jax.random.randint(key, (n,), 0, data.size)
    return jax.tree.map(lambda x: x[idx], data)


def action_targets(action: jax.Array, kind: str) -> jax.Array:
    """Dataset actions as the actor's targets: simplex actions normalised onto the simplex (equal weights
    where a row has no positive weight), others as float32."""
    a = jnp.asarray(action, jnp.float32)
    if kind != "simplex":
        return a
    a = jnp.maximum(jnp.nan_to_num(a), 0.0)
    total = a.sum(-1, keepdims=True)
    return jnp.where(total > 0, a / jnp.where(total > 0, total, 1.0), 1.0 / a.shape[-1])


def squash(kind: str, space: Space) -> Callable[[jax.Array], jax.Array]:
    """Map the actor's raw output into the action space (see the module docstring)."""
    if kind == "simplex":
        return lambda x: jax.nn.softmax(x, -1)
    if kind == "box":
        low, high = jnp.asarray(space.low, jnp.float32), jnp.asarray(space.high, jnp.float32)
        return lambda x: low + (jnp.tanh(x) + 1.0) / 2.0 * (high - low)
    raise RealaxError(f"no squashing for {kind} actions")


def project(kind: str, space: Space, a: jax.Array) -> jax.Array:
    """A perturbed action put back into the space: clipped into the box, or clipped at 0 and renormalised."""
    if kind == "simplex":
        return action_targets(a, "simplex")
    return jnp.clip(a, jnp.asarray(space.low, jnp.float32), jnp.asarray(space.high, jnp.float32))


def half_range(space: Space) -> jax.Array:
    return (jnp.asarray(space.high, jnp.float32) - jnp.asarray(space.low, jnp.float32)) / 2


def obs_normaliser(obs: np.ndarray, space: Space, enabled: bool, eps: float = 1e-3) -> Callable[[jax.Array], jax.Array]:
    """``norm(obs)``: ``(obs - mean) / (std + eps)`` with the dataset's statistics per feature (TD3+BC's state
    normalisation, Fujimoto & Gu 2021, ``eps = 1e-3``), for float observations when ``enabled``; identity for
    integer observations (they are one-hot encoded) and when disabled."""
    if not enabled or (isinstance(space, Box) and space.is_integer) or not isinstance(space, Box):
        return lambda o: o
    x = np.asarray(obs, np.float64)
    mean, std = jnp.asarray(x.mean(0), jnp.float32), jnp.asarray(x.std(0) + eps, jnp.float32)
    return lambda o: (o.astype(jnp.float32) - mean) / std


def episode_returns(reward: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Undiscounted return of each episode of flat transitions in episode order (a trailing unfinished
    episode counts as one)."""
    r, d = np.asarray(reward, np.float64), np.asarray(done, bool)
    ends = np.flatnonzero(d)
    if len(ends) == 0 or ends[-1] != len(r) - 1:
        ends = np.append(ends, len(r) - 1)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return np.add.reduceat(r, starts)


def reward_scale(data: Transitions) -> float:
    """``mean episode length / (max - min episode return)`` of the dataset (1 when all returns are equal):
    IQL's reward normalisation (Kostrikov et al. 2021 scale MuJoCo rewards by ``1000 / (max - min return)``
    for 1000-step episodes), used by the continuous offline learners."""
    returns = episode_returns(np.asarray(data.reward), np.asarray(data.done))
    spread = float(returns.max() - returns.min())
    return data.size / len(returns) / spread if spread > 0 else 1.0


def relu_mlp(x: jax.Array, hidden: Sequence[int]) -> jax.Array:
    for h in hidden:
        x = nn.relu(nn.Dense(h)(x))
    return x


class Head(nn.Module):
    """``encoder(obs) -> ReLU MLP -> Dense(out)``; ``out = 0`` gives a scalar (a value)."""

    encoder: ObsEncoder
    out: int
    hidden: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        y = nn.Dense(max(self.out, 1))(relu_mlp(self.encoder(obs), self.hidden))
        return y if self.out else y[..., 0]


class Critic(nn.Module):
    """``Q(obs, action) -> []`` for continuous actions (the action joins the encoded observation)."""

    encoder: ObsEncoder
    hidden: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([self.encoder(obs), action.astype(jnp.float32)], -1)
        return nn.Dense(1)(relu_mlp(x, self.hidden))[..., 0]


class TwinCritic(nn.Module):
    """Two independent critics (TD3's clipped double Q): ``[2, ...]``."""

    encoder: ObsEncoder
    hidden: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        return jnp.stack([Critic(self.encoder, self.hidden)(obs, action),
                          Critic(self.encoder, self.hidden)(obs, action)])


def hidden_layers(width: int, layers: int) -> tuple[int, ...]:
    return (int(width),) * int(layers)


def encoder(env, params) -> ObsEncoder:
    return encoder_for(env.observation_space(params))


def polyak(target, online, tau: float):
    """``target <- tau · online + (1 - tau) · target`` (soft target update, Lillicrap et al. 2016)."""
    return jax.tree.map(lambda t, o: tau * o + (1.0 - tau) * t, target, online)


class GaussianActor(nn.Module):
    """``obs -> (raw output [out], log_std [out])`` with a state-independent log-std (BC's ``nll`` loss, IQL's
    advantage-weighted actor)."""

    encoder: ObsEncoder
    out: int
    hidden: tuple[int, ...]

    @nn.compact
    def __call__(self, obs):
        x = nn.Dense(self.out)(relu_mlp(self.encoder(obs), self.hidden))
        return x, self.param("log_std", nn.initializers.zeros, (self.out,))
