"""The environment contract (DESIGN §2): functional, gymnax-1.0 style, keys as arguments.

Implementors write ``reset_env``, ``step_env`` and ``get_obs``; the base class's ``step`` adds same-step
autoreset once for every environment: when an episode ends, the returned observation and state are the
reset ones and the last observation of the finished episode is in ``info["final_obs"]``. An observation is
a function of the state: what ``reset_env`` and ``step_env`` return must equal ``get_obs(state, params)``
(the conformance suite checks it), so ``step`` observes the post-reset state once.

Constraint signals (DESIGN §2: never folded into the reward) travel in ``info``. ``info["cost"]`` is the raw
signal vector; an env that states its constraints also reports ``info["cost_margin"]`` (``COST_MARGIN``), a
float vector ``[M]`` (or a scalar for one constraint) per step whose *episode sum must be >= 0* for constraint
``i`` to hold: thresholds and directions are folded in by the env, so a learner needs nothing else. The
constrained learners (``realax.agents.constraints``: ``ppo_lag``, ``tscac``) read it; an env with only a
cost to keep low can be trained with a per-step limit instead (their ``cost_key``/``cost_limit`` fields).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax.custom_batching import custom_vmap

from realax.errors import RealaxError
from realax.spaces import Discrete, Space

if TYPE_CHECKING:
    from typing import Self

#: the largest episode length any env accepts: step counters are int32, and 2**30 leaves headroom for ``t + 1``
#: and equals the spectrum entities' "never stops" time (so every entity window fits inside an episode)
MAX_STEPS = 2**30
#: seeds go to ``numpy.random.default_rng`` (non-negative) and ``jax.random.key``
MAX_SEED = 2**32 - 1
#: the ``info`` entry of constraint margins (module docstring): constraint ``i`` holds when its episode sum is >= 0
COST_MARGIN = "cost_margin"


def check_int(name: str, value: Any, low: int, high: int, owner: str = "") -> int:
    """``value`` as an int in ``low..high``, or a ``RealaxError`` naming the field, the value and the range.
    Booleans, fractions, text and None are refused (``realax.make`` types options first; this is the range
    check every constructor runs, also when called directly)."""
    where = f"{owner}: " if owner else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise RealaxError(f"{where}{name} must be an integer in {low}..{high}, got {value!r}")
    if not low <= int(value) <= high:
        raise RealaxError(f"{where}{name} must be in {low}..{high}, got {value!r}")
    return int(value)


def discrete_action(action: Any, n: int, noop: int, shape: tuple[int, ...] = ()) -> tuple[jax.Array, jax.Array]:
    """The one rule for discrete actions inside ``jit`` (DESIGN §2, issue 9): ``(int32 action, int32 invalid)``.

    A value is valid when it is a whole number in ``0..n-1``; anything else -- a fraction (``2.5``), NaN,
    infinity, a negative or too large value -- becomes ``noop`` and is flagged 1 in ``invalid``, which the
    env reports as ``info["invalid_action"]``. Integer and float dtypes are both accepted (floats are never
    truncated). The shape and dtype are static, so a wrong shape or a non-numeric dtype raises a
    ``RealaxError`` while tracing.
    """
    try:
        a = jnp.asarray(action)
    except (TypeError, ValueError, OverflowError):  # text, None, objects, ragged lists
        raise RealaxError(f"action {action!r:.80} is not an array of numbers; expected shape {tuple(shape)} of "
                          f"integers in 0..{n - 1}") from None
    if a.shape != tuple(shape):
        raise RealaxError(f"action has shape {a.shape}; expected {tuple(shape)} of integers in 0..{n - 1}")
    if jnp.issubdtype(a.dtype, jnp.floating):
        ok = jnp.isfinite(a) & (a == jnp.floor(a)) & (a >= 0) & (a < n)
    elif jnp.issubdtype(a.dtype, jnp.integer) or a.dtype == jnp.bool_:
        ok = (a >= 0) & (a < n)
    else:
        raise RealaxError(f"action has dtype {a.dtype}; expected integers in 0..{n - 1}")
    act = jnp.where(ok, a, 0).astype(jnp.int32)  # cast only valid values (NaN/huge floats have no int32)
    return jnp.where(ok, act, jnp.int32(noop)), (~ok).astype(jnp.int32)


@struct.dataclass
class EnvParams:
    """Numeric settings that do not change array shapes; a batch of them can be vmapped."""

    max_steps: int = 100  # episode length; reaching it is truncation, never termination

    if TYPE_CHECKING:  # added by ``flax.struct.dataclass`` at runtime

        def replace(self, **updates: Any) -> Self:
            """A copy with ``updates`` applied."""
            ...


TState = TypeVar("TState")
TParams = TypeVar("TParams", bound=EnvParams)

#: ``(obs, state, reward, terminated, truncated, info)``: what ``step`` and ``step_env`` return
StepResult: TypeAlias = tuple[jax.Array, TState, jax.Array, jax.Array, jax.Array, dict[str, Any]]


def _select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
    """Leaf-wise ``where(pred, a, b)`` over two pytrees of the same structure."""
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


def when_any(f: Callable[..., Any]) -> Callable[..., Any]:
    """``g(pred, *args)``: ``f(*args)`` where ``pred``, zeros elsewhere, computed only when needed. Unbatched it is
    a ``lax.cond``. Under ``vmap`` a batched ``cond`` would run ``f`` for every element and select; here
    (``jax.custom_batching.custom_vmap``) the whole batch runs ``f`` only if any element's ``pred`` holds, so
    a batch where nothing needs it skips ``f`` (nested vmaps recurse: the outer batch asks ``any`` again). The
    values where ``pred`` is false are unspecified (zeros, or ``f``'s): callers select them away."""

    @custom_vmap
    def g(pred: Any, *args: Any) -> Any:
        out = jax.eval_shape(f, *args)
        zeros = lambda *_: jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), out)  # noqa: E731
        return jax.lax.cond(pred, f, zeros, *args)

    @g.def_vmap
    def rule(axis_size: int, in_batched: Any, pred: Any, *args: Any) -> tuple[Any, Any]:
        axes = jax.tree.map(lambda b: 0 if b else None, list(in_batched[1:]))
        fv = jax.vmap(f, in_axes=tuple(axes), axis_size=axis_size)
        out = when_any(fv)(jnp.any(pred), *args)
        return out, jax.tree.map(lambda _: True, out)

    return g


class Environment(abc.ABC, Generic[TState, TParams]):
    """A single-agent environment: pure functions of (key, state, action, params).

    ``reset(key, params) -> (obs, state)`` and
    ``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)``;
    ``terminated`` (a goal or failure state) and ``truncated`` (the time limit) are separate booleans.
    Nothing is jitted inside: wrap the methods in ``jax.jit``/``jax.vmap`` yourself.
    """

    #: compute the autoreset's ``reset_env`` only when an episode ends (``when_any``: for a ``vmap`` batch, when
    #: any of its episodes ends) instead of on every step and selecting it away. Same results. Worth it where a
    #: reset costs a good part of a step (IQ samples, channel draws); where it is cheap, the ``cond`` costs more
    #: than it saves. Copies that start together and only truncate then reset once an episode.
    lazy_reset: bool = False

    #: one line shown by ``realax list``
    description: str = ""
    #: the action that replaces an invalid one inside ``jit`` (counted in ``info["invalid_action"]``)
    noop_action: int | float = 0
    #: constructor options that choose which episodes are drawn, not the spaces or the rules (e.g. Sim2Rec's
    #: ``domain``: training or held-out users): an agent saved by ``realax train`` may be evaluated
    #: (``realax eval``/``render``) with other values of them than it was trained with
    transfer_options: tuple[str, ...] = ()

    @property
    @abc.abstractmethod
    def default_params(self) -> TParams:
        """The parameters ``realax.make`` returns beside the environment."""

    # -- implemented by each environment ------------------------------------------------------------
    @abc.abstractmethod
    def reset_env(self, key: jax.Array, params: TParams) -> tuple[jax.Array, TState]:
        """Start an episode: ``(obs, state)``."""

    @abc.abstractmethod
    def step_env(self, key: jax.Array, state: TState, action: Any, params: TParams) -> StepResult[TState]:
        """One transition without autoreset: ``(obs, state, reward, terminated, truncated, info)``."""

    @abc.abstractmethod
    def get_obs(self, state: TState, params: TParams) -> jax.Array:
        """The observation of a state (used by ``reset_to``)."""

    @abc.abstractmethod
    def observation_space(self, params: TParams) -> Space:
        """Space of one observation."""

    @abc.abstractmethod
    def action_space(self, params: TParams) -> Space:
        """Space of one action."""

    @abc.abstractmethod
    def render(self, state: TState, params: TParams, *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """An RGB picture ``uint8 [H, W, 3]`` of the state, for people (not for the hot path). ``reward`` (the last
        step's) and ``episode_return`` (the episode's so far), scalars or ``[A]`` per agent, are printed on the
        picture when given: the state does not hold them (the adapters and ``EpisodeStats`` keep them)."""

    def action_lead(self) -> tuple[int, ...]:
        """Leading axes of one step's action before the space's shape: ``()``, or ``(A,)`` for several agents."""
        return ()

    def validate_action(self, action: Any, params: TParams | None = None, batch_shape: tuple[int, ...] = ()) -> np.ndarray:
        """The action as a NumPy array of the space's dtype, or a ``RealaxError`` naming the action and the
        space: not numbers (text, None, objects), the wrong shape (``batch_shape + action_lead() + space
        shape``), NaN or infinity, a fraction for integer actions, outside the space (``Space.check``).
        The adapters call this before every step; inside ``jit`` the same actions become the no-op and are
        counted instead. Subclasses add env-specific checks (e.g. weights that are no distribution)."""
        params = self.default_params if params is None else params
        return self.action_space(params).check(action, tuple(batch_shape) + self.action_lead(), "action")

    # -- provided -------------------------------------------------------------------------------------
    def reset(self, key: jax.Array, params: TParams | None = None) -> tuple[jax.Array, TState]:
        return self.reset_env(key, self.default_params if params is None else params)

    def step(self, key: jax.Array, state: TState, action: Any, params: TParams | None = None) -> StepResult[TState]:
        """``step_env`` then, if the episode ended, the reset in the same call (same-step autoreset)."""
        return self.step_with_final_state(key, state, action, params)[:6]

    def step_with_final_state(self, key: jax.Array, state: TState, action: Any, params: TParams | None = None
                              ) -> tuple[jax.Array, TState, jax.Array, jax.Array, jax.Array, dict[str, Any], TState]:
        """``step`` plus the state reached before any reset (for centralised critics that bootstrap from
        ``global_state``): ``(obs, state, reward, terminated, truncated, info, final_state)``."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs_st, state_st, reward, terminated, truncated, info = self.step_env(key_step, state, action, params)
        done = jnp.logical_or(terminated, truncated)
        if self.lazy_reset:
            state_re = when_any(lambda k, p: self.reset_env(k, p)[1])(done, key_reset, params)
        else:
            state_re = self.reset_env(key_reset, params)[1]
        state = _select(done, state_re, state_st)
        # the observation is a function of the state (``get_obs``): select the state, observe once; the
        # observation computed inside step_env is dead code unless ``final_obs`` is read
        obs = self.get_obs(state, params)
        return obs, state, reward, terminated, truncated, {**info, "final_obs": obs_st}, state_st

    def reset_to(self, state: TState, params: TParams | None = None) -> tuple[jax.Array, TState]:
        """Start from a given state (snapshot starts): ``(obs, state)``."""
        return self.get_obs(state, self.default_params if params is None else params), state

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def unwrapped(self) -> Environment:
        """The environment under every wrapper (itself for an environment that wraps nothing)."""
        return self


class MultiAgentEnv(Environment[TState, TParams]):
    """Several agents acting at once, stacked with the agent axis first.

    obs ``[A, ...]``, action ``[A]``, reward ``[A]``; ``terminated``/``truncated`` are episode-level
    scalars; ``info["alive"]`` is ``[A]``. ``observation_space``/``action_space`` describe one agent.
    """

    @property
    @abc.abstractmethod
    def agents(self) -> tuple[str, ...]:
        """Agent names, in the order of the agent axis."""

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    def action_lead(self) -> tuple[int, ...]:
        return (self.num_agents,)

    def action_mask(self, state: TState, params: TParams) -> jax.Array:
        """``bool [A, n_actions]``: which actions each agent may take (all, unless overridden)."""
        space = self.action_space(params)
        if not isinstance(space, Discrete):
            raise NotImplementedError(f"{self.name}: the default action_mask needs a Discrete action space; "
                                      "override action_mask")
        return jnp.ones((self.num_agents, space.n), dtype=bool)

    @abc.abstractmethod
    def global_state(self, state: TState, params: TParams) -> jax.Array:
        """A flat view of the whole state for centralised critics."""

    @abc.abstractmethod
    def global_state_space(self, params: TParams) -> Space:
        """Space of ``global_state``."""


def is_multi_agent(env: Environment) -> bool:
    """Whether ``env``, under any wrappers, is a ``MultiAgentEnv`` (decided by type, not by attributes)."""
    return isinstance(env.unwrapped, MultiAgentEnv)
