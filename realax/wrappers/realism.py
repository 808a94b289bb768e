"""Realism knobs for logged data, as JAX wrappers over any realax environment (single- or multi-agent).

NeoRL-2 (Gao et al., "NeoRL-2: Near Real-World Benchmarks for Offline Reinforcement Learning with Extended
Realistic Scenarios", arXiv:2503.19267, 2025; code ``polixir/NeoRL2``) names what makes real logged data hard:
transport *delays* (its Pipeline task: water reaches the outlet 20 steps after the gate moves), *external
factors* (RocketRecovery's wind, RandomFrictionHopper's friction, Fusion's exogenous targets), *global safety
constraints* (SafetyHalfCheetah's velocity limit, reported as a ``safe`` cost flag) and *conservative*
behaviour (data from PID controllers or near-deterministic policies). Each knob below is one wrapper; the
configuration that built a dataset is ``RealismConfig.to_dict()``, stored in its metadata.

- ``ActionDelay(k)``: the action applied at step t is the one chosen at t-k (the env's no-op before).
- ``ObservationDelay(k)``: the observation returned at step t is the one of step t-k (the first one before).
- ``Disturbance``: an exogenous AR(1) process ``w`` whose settings are in ``params`` (vmappable), pushing
  either the actions (Box: ``a + w·(high-low)/2``, clipped; discrete: the action is replaced by a random one
  with probability ``clip(|w|, 0, 1)``) or one scalar field of the env's params (``param:<field>``:
  ``field = base + w``, i.e. the dynamics themselves drift). ``info["disturbance"] = w``.
- ``SafetyCost``: ``info["cost"]`` (a vector, DESIGN §2) with an episode ``budget`` in params; the env's own
  ``info["cost"]`` when it has one, else 1 for a step whose (summed) reward is below ``threshold``.
  ``info["episode_cost"]`` and ``info["over_budget"]``; ``terminate=True`` ends the episode on exceeding it.
  The cost is never folded into the reward.
- ``conservative(policy, ...)``: a narrow action distribution around a controller (a policy transform, since
  it shapes the behaviour, not the dynamics).

Wrappers with numeric settings carry them in params of their own (``params.env`` is the wrapped env's);
attribute reads such as ``params.max_steps`` fall through to the innermost env's params.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import Environment, MultiAgentEnv, StepResult, is_multi_agent
from realax.errors import RealaxError
from realax.spaces import Box, Discrete, MultiDiscrete, Space
from realax.wrappers.jax_wrappers import Wrapper


class _Forward:
    """Params of a wrapper: unknown attributes are looked up in the wrapped env's params."""

    def __getattr__(self, name: str) -> Any:
        if name == "env" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.env, name)


@struct.dataclass
class DisturbanceParams(_Forward):
    env: Any
    rho: float = 0.95  # AR(1) coefficient: w' = mean + rho (w - mean) + sigma sqrt(1 - rho^2) eps
    sigma: float = 0.3  # stationary standard deviation of w
    mean: float = 0.0


@struct.dataclass
class CostParams(_Forward):
    env: Any
    budget: float = 10.0  # allowed total cost per episode


def action_shape(env: Environment, params: Any) -> tuple[int, ...]:
    """Shape of one action of ``env`` (``[A, ...]`` for multi-agent envs)."""
    lead = (len(cast(MultiAgentEnv, env.unwrapped).agents),) if is_multi_agent(env) else ()
    return lead + tuple(env.action_space(params).shape)


def noop(env: Environment, params: Any) -> jax.Array:
    """The env's no-op action (zeros clipped into the box for continuous actions)."""
    space = env.action_space(params)
    shape = action_shape(env, params)
    if isinstance(space, Box) and not space.is_integer:
        base = jnp.clip(jnp.zeros(space.shape, space.dtype), space.low, space.high)
        return jnp.broadcast_to(base, shape)
    return jnp.full(shape, env.noop_action, space.dtype)


def random_actions(key: jax.Array, env: Environment, params: Any) -> jax.Array:
    """Uniform actions, one per agent for multi-agent envs (masks are not consulted)."""
    space = env.action_space(params)
    if is_multi_agent(env):
        return jax.vmap(space.sample)(jax.random.split(key, len(cast(MultiAgentEnv, env.unwrapped).agents)))
    return space.sample(key)


class RealismWrapper(Wrapper):
    """Wrapper whose state is ``(env_state, ...)`` and, if ``OWN_PARAMS``, params ``(env=..., ...)``."""

    OWN_PARAMS = False

    def inner(self, params: Any) -> Any:
        """The wrapped env's params inside ``params`` (``None`` stays ``None``)."""
        if params is None:
            return None
        return params.env if self.OWN_PARAMS else params

    @property
    def default_params(self) -> Any:
        return self.make_params(self.env.default_params) if self.OWN_PARAMS else self.env.default_params

    def make_params(self, env_params: Any) -> Any:
        """The wrapper's params around ``env_params``; wrappers that set ``OWN_PARAMS`` define it."""
        raise NotImplementedError(f"{type(self).__name__} sets OWN_PARAMS and must define make_params")

    def observation_space(self, params: Any = None) -> Space:
        return self.env.observation_space(self.inner(params))

    def action_space(self, params: Any = None) -> Space:
        return self.env.action_space(self.inner(params))

    def render(self, state: Any, params: Any = None, **kwargs: Any) -> np.ndarray:
        return self.env.render(state.env_state, self.inner(params), **kwargs)

    # multi-agent parts of the contract, unwrapped (only called on multi-agent envs)
    def action_mask(self, state: Any, params: Any) -> jax.Array:
        return cast(MultiAgentEnv, self.env).action_mask(state.env_state, self.inner(params))

    def global_state(self, state: Any, params: Any) -> jax.Array:
        return cast(MultiAgentEnv, self.env).global_state(state.env_state, self.inner(params))


def _check_steps(k: int, what: str) -> int:
    if int(k) != k or int(k) < 1:
        raise RealaxError(f"{what} must be a whole number of steps >= 1, got {k}")
    return int(k)


@struct.dataclass
class ActionDelayState:
    env_state: Any
    queue: jax.Array  # [k, *action]; queue[0] is applied next


class ActionDelay(RealismWrapper):
    """The action chosen at step t reaches the env at step t+k (NeoRL-2 Pipeline's transport delay)."""

    def __init__(self, env: Environment, k: int) -> None:
        super().__init__(env)
        self.k = _check_steps(k, "action delay")

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        obs, s = self.env.reset_env(key, params)
        queue = jnp.broadcast_to(noop(self.env, params), (self.k,) + action_shape(self.env, params))
        return obs, ActionDelayState(s, queue)

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        action = jnp.asarray(action).astype(state.queue.dtype)
        applied = state.queue[0]
        obs, s, r, te, tr, info = self.env.step_env(key, state.env_state, applied, params)
        queue = jnp.concatenate([state.queue[1:], action[None]])
        return obs, ActionDelayState(s, queue), r, te, tr, {**info, "applied_action": applied}

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self.env.get_obs(state.env_state, params)

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        obs, s = self.env.reset_to(state, params)
        queue = jnp.broadcast_to(noop(self.env, params), (self.k,) + action_shape(self.env, params))
        return obs, ActionDelayState(s, queue)


@struct.dataclass
class ObservationDelayState:
    env_state: Any
    queue: jax.Array  # [k+1, *obs]; queue[0] is what the agent sees


class ObservationDelay(RealismWrapper):
    """The observation returned at step t is the env's observation of step t-k (a slow sensor)."""

    def __init__(self, env: Environment, k: int) -> None:
        super().__init__(env)
        self.k = _check_steps(k, "observation delay")

    def _fill(self, obs: jax.Array) -> jax.Array:
        return jnp.broadcast_to(obs, (self.k + 1,) + obs.shape)

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        obs, s = self.env.reset_env(key, params)
        return obs, ObservationDelayState(s, self._fill(obs))

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        obs, s, r, te, tr, info = self.env.step_env(key, state.env_state, action, params)
        queue = jnp.concatenate([state.queue[1:], obs[None]])
        return queue[0], ObservationDelayState(s, queue), r, te, tr, info

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return state.queue[0]

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, Any]:
        obs, s = self.env.reset_to(state, params)
        return obs, ObservationDelayState(s, self._fill(obs))


@struct.dataclass
class DisturbanceState:
    env_state: Any
    w: jax.Array  # float32 []: the disturbance acting at the next step


class Disturbance(RealismWrapper):
    """An exogenous AR(1) disturbance on the actions or on one scalar field of the env's params.

    ``target``: ``"action"`` or ``"param:<field>"`` (a scalar float field of the env's params, e.g.
    ``param:switch_penalty`` on Spectrum). ``rho``, ``sigma``, ``mean`` are the defaults put in params.
    """

    OWN_PARAMS = True

    def __init__(self, env: Environment, target: str = "action", rho: float = 0.95, sigma: float = 0.3,
                 mean: float = 0.0) -> None:
        super().__init__(env)
        if not 0.0 <= float(rho) < 1.0:
            raise RealaxError(f"disturbance rho must be in [0, 1), got {rho}")
        if float(sigma) < 0:
            raise RealaxError(f"disturbance sigma must be >= 0, got {sigma}")
        self.target = target
        self.field: str | None = None  # the params field disturbed (None: the action)
        self._init = (float(rho), float(sigma), float(mean))
        if target.startswith("param:"):
            self.field = target.split(":", 1)[1]
            base = env.default_params
            if not hasattr(base, self.field):
                fields = [f.name for f in dataclasses.fields(base) if jnp.ndim(getattr(base, f.name)) == 0]
                raise RealaxError(f"disturbance target {target!r}: {type(base).__name__} has no field "
                                 f"{self.field!r}; scalar fields: {fields}")
            if jnp.ndim(getattr(base, self.field)) != 0:
                raise RealaxError(f"disturbance target {target!r} must be a scalar field")
        elif target != "action":
            raise RealaxError(f"disturbance target must be 'action' or 'param:<field>', got {target!r}")

    def make_params(self, env_params: Any) -> DisturbanceParams:
        rho, sigma, mean = self._init
        return DisturbanceParams(env=env_params, rho=rho, sigma=sigma, mean=mean)

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        k_env, k_w = jax.random.split(key)
        obs, s = self.env.reset_env(k_env, params.env)
        w = params.mean + params.sigma * jax.random.normal(k_w)  # stationary start
        return obs, DisturbanceState(s, jnp.float32(w))

    def _push_action(self, key: jax.Array, action: jax.Array, w: jax.Array, env_params: Any) -> jax.Array:
        space: Space = self.env.action_space(env_params)
        if isinstance(space, Box) and not space.is_integer:
            half = (jnp.asarray(space.high) - jnp.asarray(space.low)) / 2
            return jnp.clip(action + w * half, space.low, space.high).astype(space.dtype)
        k_u, k_a = jax.random.split(key)
        shape = jnp.shape(action)
        hit = jax.random.uniform(k_u, shape) < jnp.clip(jnp.abs(w), 0.0, 1.0)
        return jnp.where(hit, random_actions(k_a, self.env, env_params), action).astype(jnp.asarray(action).dtype)

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        k_env, k_act, k_w = jax.random.split(key, 3)
        env_params, w = params.env, state.w
        if self.field is None:
            action = self._push_action(k_act, jnp.asarray(action), w, env_params)
        else:
            base = getattr(env_params, self.field)
            env_params = env_params.replace(**{self.field: jnp.asarray(base, jnp.float32) + w})
        obs, s, r, te, tr, info = self.env.step_env(k_env, state.env_state, action, env_params)
        eps = jax.random.normal(k_w)
        w_next = params.mean + params.rho * (w - params.mean) + params.sigma * jnp.sqrt(1 - params.rho ** 2) * eps
        return obs, DisturbanceState(s, jnp.float32(w_next)), r, te, tr, {**info, "disturbance": w}

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self.env.get_obs(state.env_state, params.env)

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        obs, s = self.env.reset_to(state, params.env)
        return obs, DisturbanceState(s, jnp.float32(params.mean))


@struct.dataclass
class CostState:
    env_state: Any
    episode_cost: jax.Array  # float32 []


class SafetyCost(RealismWrapper):
    """``info["cost"]`` with an episode budget (NeoRL-2 SafetyHalfCheetah's global safety constraint).

    The step cost is the env's own ``info["cost"]`` (summed) when it reports one, else
    ``1[reward < threshold]`` (reward summed over agents). ``budget`` lives in params.
    """

    OWN_PARAMS = True

    def __init__(self, env: Environment, budget: float = 10.0, threshold: float = 0.0, terminate: bool = False) -> None:
        super().__init__(env)
        if float(budget) < 0:
            raise RealaxError(f"cost budget must be >= 0, got {budget}")
        self.budget, self.threshold, self.terminate = float(budget), float(threshold), bool(terminate)

    def make_params(self, env_params: Any) -> CostParams:
        return CostParams(env=env_params, budget=self.budget)

    def reset_env(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        obs, s = self.env.reset_env(key, params.env)
        return obs, CostState(s, jnp.float32(0.0))

    def step_env(self, key: jax.Array, state: Any, action: Any, params: Any) -> StepResult[Any]:
        obs, s, r, te, tr, info = self.env.step_env(key, state.env_state, action, params.env)
        if "cost" in info:
            cost = jnp.atleast_1d(jnp.asarray(info["cost"], jnp.float32))
        else:
            cost = (jnp.sum(r) < self.threshold).astype(jnp.float32)[None]
        total = state.episode_cost + cost.sum()
        over = total > params.budget
        if self.terminate:
            te = te | over
        info = {**info, "cost": cost, "episode_cost": total, "over_budget": over}
        return obs, CostState(s, total), r, te, tr, info

    def get_obs(self, state: Any, params: Any) -> jax.Array:
        return self.env.get_obs(state.env_state, params.env)

    def reset_to(self, state: Any, params: Any = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        obs, s = self.env.reset_to(state, params.env)
        return obs, CostState(s, jnp.float32(0.0))


def conservative(act: Callable[[jax.Array, jax.Array, Any], jax.Array], space: Space, width: float
                 ) -> Callable[[jax.Array, jax.Array, Any], jax.Array]:
    """A narrow action distribution around a controller ``act(key, obs, state) -> action``: NeoRL-2's
    near-deterministic and PID-controller behaviour data.

    Box actions: ``a + N(0, (width·(high-low)/2)^2)``, clipped. Discrete actions: the controller's action,
    moved to a neighbouring index (±1, clipped to the range) with probability ``width``.
    """
    if not 0.0 <= float(width) <= 1.0:
        raise RealaxError(f"conservative width must be in [0, 1], got {width}")
    if not isinstance(space, (Box, Discrete, MultiDiscrete)):
        raise RealaxError(f"conservative mode does not support {space}")

    def narrow(key: jax.Array, obs: jax.Array, state: Any) -> jax.Array:
        k_pol, k_u, k_d = jax.random.split(key, 3)
        a = act(k_pol, obs, state)
        shape = jnp.shape(a)
        if isinstance(space, Box) and not space.is_integer:
            half = (jnp.asarray(space.high) - jnp.asarray(space.low)) / 2
            return jnp.clip(a + width * half * jax.random.normal(k_d, shape), space.low, space.high).astype(a.dtype)
        low, top = space.bounds()  # Discrete, MultiDiscrete or an integer Box
        step = jnp.where(jax.random.bernoulli(k_d, 0.5, shape), 1, -1)
        moved = jnp.clip(a + step, jnp.asarray(low), jnp.asarray(top))
        return jnp.where(jax.random.uniform(k_u, shape) < width, moved, a).astype(a.dtype)

    return narrow


@dataclasses.dataclass(frozen=True)
class RealismConfig:
    """The realism options of a dataset (all off by default); ``to_dict`` goes into its metadata."""

    action_delay: int = 0
    obs_delay: int = 0
    disturbance: str | None = None  # "action" or "param:<field>"
    disturbance_rho: float = 0.95
    disturbance_sigma: float = 0.3
    cost_budget: float | None = None  # None: no safety cost
    cost_threshold: float = 0.0
    cost_terminate: bool = False
    conservative: float | None = None  # width of the narrow distribution around the controller

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> RealismConfig:
        return cls(**(d or {}))

    def apply(self, env: Environment, params: Any = None) -> tuple[Environment, Any]:
        """``(wrapped_env, wrapped_params)``: disturbance innermost, then action delay, safety cost and
        observation delay outermost (the agent's action is delayed, then disturbed, then acts)."""
        for k, what in ((self.action_delay, "action delay"), (self.obs_delay, "observation delay")):
            if int(k) < 0:
                raise RealaxError(f"{what} must be >= 0, got {k}")
        if self.disturbance:
            env = Disturbance(env, self.disturbance, rho=self.disturbance_rho, sigma=self.disturbance_sigma)
        if self.action_delay:
            env = ActionDelay(env, self.action_delay)
        if self.cost_budget is not None:
            env = SafetyCost(env, self.cost_budget, self.cost_threshold, self.cost_terminate)
        if self.obs_delay:
            env = ObservationDelay(env, self.obs_delay)
        return env, _rebuild_params(env, params)


def _rebuild_params(env: Environment, base_params: Any) -> Any:
    """The wrapped env's params around ``base_params`` (or its defaults when ``None``)."""
    if base_params is None:
        return env.default_params
    chain: list[RealismWrapper] = []
    e = env
    while isinstance(e, RealismWrapper):
        chain.append(e)
        e = e.env
    params = base_params
    for w in reversed(chain):
        if w.OWN_PARAMS:
            params = w.make_params(params)
    return params
