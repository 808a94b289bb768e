"""``realax/RoboTaxi-v0``: a robo-taxi fleet over city regions, RL4AMOD's macroscopic simulator in JAX.

Anchor: RL4AMOD (Tresca, Schmidt, Harrison, Rodrigues, Zardini, Gammelli, Pavone, "Robo-taxi Fleet
Coordination at Scale via Reinforcement Learning", arXiv 2504.06125; code ``StanfordASL/RL4AMOD``,
``src/envs/sim/macro_env.py``). Facts carried over (research notes ``amod-recsys.md`` §1.2-§1.3):

- regions on a complete rebalancing graph; per-step Poisson demand ``d_ij(t) ~ Poisson(lambda_ij(t))`` for
  every origin-destination pair, fixed at reset (here: by a key stored in the state, so the whole episode's
  demand is known from the reset, see ``demand``); prices and trip times from the records; unserved
  demand is lost; the fleet starts split evenly over the regions;
- each step: rebalancing flows from the idle vehicles to integer targets ``floor(a_i * total idle)``
  (cost ``beta * r_ij`` per vehicle), then passenger matching at this step's demand (the LP maximises fares,
  as RL4AMOD's code; ``params.match_on_profit`` uses fare minus operating cost, as its paper);
- vehicles that arrive join the idle ones after that step's rebalancing, in time for its matching;
  in RL4AMOD's order a trip served at step t with duration tau is available from step t + tau + 1 and a
  rebalancing trip started at step t with duration r from step t + r;
- reward = fares - ``beta * tau`` per served trip (summed per step and clipped at 0, as RL4AMOD's
  ``pax_step``; ``params.clip_matching_reward=False`` turns that off) - rebalancing cost, with
  ``beta = cost_per_minute * step_minutes``;
- observation per region, times 0.01: idle vehicles now, idle plus arrivals in each of the next ``horizon``
  steps (6), and the forecast revenue ``sum_j lambda_ij(t) p_ij(t)`` of the next ``horizon`` steps (6):
  RL4AMOD's ``GNNParser`` features (13), flattened region-major to a ``Box`` of ``N * 13``. (RL4AMOD reads
  the arrivals of steps t+1..t+6 and so misses the vehicles that join right after this step's rebalancing;
  we count those as the first projected step.) The topology graph for graph policies is
  ``params.adjacency``, the padding mask ``params.mask``;
- action: a desired distribution of the idle vehicles over regions (RL4AMOD's Dirichlet action), a
  ``Box(0, 1, (N,))``; weights are normalised over the city's regions, so any non-negative vector with a
  positive sum is accepted. Inside ``jit`` NaN, infinite or negative entries count as ``info["invalid_action"]``
  and are dropped; with nothing left the action is ``noop_action`` (equal weights). The Gymnasium adapter
  refuses such actions instead (``validate_action``).

Episodes last ``params.max_steps`` steps (20, RL4AMOD's ``max_steps``) and always end by truncation. RL4AMOD
runs one matching at reset and 19 rebalance+match steps; here every one of the 20 steps rebalances and then
matches, so the first action can move the initial fleet (for the no-rebalancing and equal-distribution
policies the totals are the same, since the fleet starts evenly split).

Cities (``city=``): ``"grid"`` (a synthetic grid, ``city.grid_city`` options as keyword arguments) or the
path of an RL4AMOD ``scenario_*.json`` with its calibration. ``n_regions`` pads a city to more regions (all
cities of a batch share it); ``RoboTaxi.batch(paths)`` builds one env and the stacked params of several.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, Environment, EnvParams, StepResult, check_int
from realax.envs.robotaxi import city as cities
from realax.envs.robotaxi.demand import poisson, terms_for
from realax.envs.robotaxi.matching import match
from realax.envs.robotaxi.rebalance import rebalance, targets
from realax.errors import RealaxError
from realax.spaces import Box, Simplex

FEATURE_SCALE = 0.01  # RL4AMOD GNNParser scale_factor


@struct.dataclass(kw_only=True)
class RoboTaxiParams(EnvParams):
    max_steps: int = 20
    mask: jax.Array  # bool [N]; real regions (False = padding)
    fleet: jax.Array  # int32 [N]; idle vehicles per region at reset
    rate: jax.Array  # float32 [P, N, N]; Poisson mean trips per step
    price: jax.Array  # float32 [P, N, N]; $ per trip
    trip_steps: jax.Array  # int32 [P, N, N]; trip duration in steps
    reb_steps: jax.Array  # int32 [N, N]; rebalancing duration in steps
    revenue: jax.Array  # float32 [P + horizon, N]; sum_j rate * price (forecast revenue)
    adjacency: jax.Array  # bool [N, N]; topology graph for graph policies
    xy: jax.Array  # float32 [N, 2]; layout for render
    beta: jax.Array  # float32 []; operating cost per vehicle-step ($/min * min/step)
    match_on_profit: jax.Array  # bool []; matching value fare - beta * tau (paper) instead of fare (code)
    clip_matching_reward: jax.Array  # bool []; clip the step's matching profit at 0 (RL4AMOD pax_step)


@struct.dataclass
class RoboTaxiState:
    t: jax.Array  # int32 []; steps taken
    idle: jax.Array  # int32 [N]; idle vehicles per region
    arrivals: jax.Array  # int32 [H, N]; arrivals[h] join the idle ones in step t + h
    demand_key: jax.Array  # uint32 key data; demand of step t is Poisson(fold_in(key, t), rate[t])
    flows: jax.Array  # int32 [N, N]; last step's rebalancing flows (render)
    unserved: jax.Array  # int32 [N]; last step's lost requests per origin (render)


class RoboTaxi(Environment[RoboTaxiState, RoboTaxiParams]):
    description = "Robo-taxi fleet rebalancing over city regions (RL4AMOD's macroscopic simulator)"
    noop_action = 1.0  # equal weights: the equal-distribution action
    #: where ``**city_kwargs`` go: their keyword parameters are options of this env (``realax.options``)
    forwards_options_to = (cities.load_city, cities.grid_city)

    def __init__(self, city: str | cities.City = "grid", *, scenario: str | None = None, n_regions: int | None = None,
                 max_travel_steps: int | None = None, max_rate: float | None = None, periods: int = 40, horizon: int = 6,
                 max_steps: int = 20, **city_kwargs: Any) -> None:
        """``city`` (or ``scenario``, its alias for the ``realax`` command): ``"grid"`` or an RL4AMOD JSON
        path; ``city_kwargs`` go to ``city.grid_city`` or ``city.load_city`` (``calibration``,
        ``demand_ratio``, ``start_hour``, ``cost_per_minute``, ``step_minutes``). Shapes: ``n_regions``
        (default: the city's), ``max_travel_steps`` (default: the city's longest trip), ``periods`` of demand
        read from the file (RL4AMOD: 2 * max_steps), ``horizon`` steps of forecast in the observation,
        ``max_rate`` the largest Poisson mean the demand sampler covers (default: the city's).
        Bounds (``city.py``), checked before anything is allocated: ``max_steps`` 1..2**30, ``n_regions``
        1..256, ``max_travel_steps`` and ``horizon`` 1..1440, ``max_rate`` 0..1e6, and ``periods * n**2`` and
        ``(max_travel_steps + 2) * n**2`` (the arrivals buffer a step builds) at most 2**22 cells; a
        ``RealaxError`` names the field, the value and the range."""
        if scenario is not None:
            city = scenario
        self._max_steps = check_int("max_steps", max_steps, 1, MAX_STEPS, "RoboTaxi")
        self.periods = check_int("periods", periods, 1, cities.MAX_CELLS, "RoboTaxi")
        self.horizon = check_int("horizon", horizon, 1, cities.MAX_TRAVEL_STEPS, "RoboTaxi")
        if n_regions is not None:
            n_regions = check_int("n_regions", n_regions, 1, cities.MAX_REGIONS, "RoboTaxi")
        if max_travel_steps is not None:
            max_travel_steps = check_int("max_travel_steps", max_travel_steps, 1, cities.MAX_TRAVEL_STEPS, "RoboTaxi")
        if max_rate is not None and (isinstance(max_rate, bool) or not isinstance(max_rate, (int, float, np.number))
                                     or not np.isfinite(max_rate) or not 0 <= max_rate <= cities.MAX_RATE):
            raise RealaxError(f"RoboTaxi: max_rate must be a number in [0, {cities.MAX_RATE:g}], got {max_rate!r}")
        self._city_kwargs = city_kwargs
        self.city = self.load(city)
        self.n = self.city.n if n_regions is None else n_regions
        if self.city.n > self.n:
            raise RealaxError(f"RoboTaxi: city {self.city.name} has {self.city.n} regions; n_regions={self.n} is fewer")
        self.terms = terms_for(self.city.rate.max(initial=0.0) if max_rate is None else max_rate)
        travel = self.city.max_travel_steps if max_travel_steps is None else max_travel_steps
        self.buffer = max(travel + 2, self.horizon)
        cells = max(self.periods, self.buffer) * self.n**2
        if cells > cities.MAX_CELLS:
            raise RealaxError(f"RoboTaxi: max(periods={self.periods}, travel buffer={self.buffer}) * n_regions**2 "
                              f"({self.n}**2) = {cells} cells; at most {cities.MAX_CELLS} (fewer regions, periods or "
                              "shorter trips)")
        self._default = self.params_for(self.city)

    # -- cities and params --------------------------------------------------------------------------
    def load(self, city: str | cities.City, **kwargs: Any) -> cities.City:
        """A ``City`` from ``"grid"``, a path, or a ``City`` (keyword arguments as the constructor's)."""
        return _load(city, self.periods, **{**self._city_kwargs, **kwargs})

    def params_for(self, city: str | cities.City, **kwargs: Any) -> RoboTaxiParams:
        """Params of ``city`` padded to this env's ``n`` regions."""
        c = self.load(city, **kwargs)
        n = self.n
        if c.n > n:
            raise RealaxError(f"city {c.name} has {c.n} regions; this env holds n_regions={n}")
        if c.rate.shape[0] != self.periods:
            raise RealaxError(f"city {c.name} has {c.rate.shape[0]} periods of demand; this env holds periods={self.periods}")
        if c.max_travel_steps + 2 > self.buffer:
            raise RealaxError(f"city {c.name} has trips of {c.max_travel_steps} steps; this env holds "
                              f"max_travel_steps={self.buffer - 2}")
        if abs(terms_for(c.rate.max(initial=0.0))) > abs(self.terms) or (terms_for(c.rate.max(initial=0.0)) < 0 < self.terms):
            raise RealaxError(f"city {c.name} has mean demands up to {c.rate.max():.1f} per step; this env "
                             f"samples up to max_rate={self.terms} terms (build it with a larger max_rate)")
        k = c.n
        pad2 = lambda a, fill: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, n - k), (0, n - k)], constant_values=fill)
        pad1 = lambda a: np.pad(a, [(0, n - k)] + [(0, 0)] * (a.ndim - 1))
        rate, price = pad2(c.rate, 0), pad2(c.price, 0)
        revenue = np.pad((rate * price).sum(-1), [(0, self.horizon), (0, 0)])
        return RoboTaxiParams(
            max_steps=self._max_steps, mask=jnp.asarray(np.arange(n) < k), fleet=jnp.asarray(pad1(c.fleet), jnp.int32),
            rate=jnp.asarray(rate, jnp.float32), price=jnp.asarray(price, jnp.float32),
            trip_steps=jnp.asarray(pad2(c.trip_steps, 1), jnp.int32), reb_steps=jnp.asarray(pad2(c.reb_steps, 1), jnp.int32),
            revenue=jnp.asarray(revenue, jnp.float32), adjacency=jnp.asarray(pad2(c.adjacency, False)),
            xy=jnp.asarray(pad1(c.xy), jnp.float32), beta=jnp.float32(c.cost_per_minute * c.step_minutes),
            match_on_profit=jnp.bool_(False), clip_matching_reward=jnp.bool_(True))

    @classmethod
    def batch(cls, city_list: Iterable[str | cities.City], **kwargs: Any) -> tuple[RoboTaxi, RoboTaxiParams]:
        """One env padded to the largest of ``city_list`` and their params stacked on a leading axis
        (vmap ``reset``/``step`` over it: multi-city batches)."""
        shape_args = {k: kwargs.pop(k) for k in ("periods", "horizon", "max_steps") if k in kwargs}
        if isinstance(city_list, (str, bytes)) or not hasattr(city_list, "__iter__"):
            raise RealaxError(f"RoboTaxi.batch takes a list of cities, got {city_list!r}")
        loaded = [_load(c, shape_args.get("periods", 40), **kwargs) for c in city_list]
        if not loaded:
            raise RealaxError("RoboTaxi.batch needs at least one city")
        env = cls(loaded[0], **shape_args, n_regions=max(c.n for c in loaded),
                  max_travel_steps=max(c.max_travel_steps for c in loaded),
                  max_rate=max(float(c.rate.max(initial=0.0)) for c in loaded))
        ps = [env.params_for(c) for c in loaded]
        return env, jax.tree.map(lambda *a: jnp.stack([jnp.asarray(x) for x in a]), *ps)

    @property
    def default_params(self) -> RoboTaxiParams:
        return self._default

    def observation_space(self, params: RoboTaxiParams | None = None) -> Box:
        return Box(0.0, np.inf, (self.n * (1 + 2 * self.horizon),), jnp.float32)

    def action_space(self, params: RoboTaxiParams | None = None) -> Simplex:
        return Simplex(self.n)

    def graph(self, params: RoboTaxiParams) -> tuple[np.ndarray, int]:
        """The observation as a graph, for graph policies: RL4AMOD's topology graph (``params.adjacency``,
        concrete params) and the features per region (the observation is region-major)."""
        return np.asarray(params.adjacency, bool), 1 + 2 * self.horizon

    def validate_action(self, action: Any, params: RoboTaxiParams | None = None, batch_shape: tuple[int, ...] = ()
                        ) -> np.ndarray:
        """The space's check (``Environment.validate_action``: numbers, shape, no NaN, each weight in [0, 1]),
        then a ``RealaxError`` unless ``action`` puts positive weight on a region of the city."""
        params = self._default if params is None else params
        a = super().validate_action(action, params, batch_shape)
        if np.any((a.astype(np.float64) * np.asarray(params.mask)).sum(-1) <= 0):
            raise RealaxError("action puts no weight on any region of the city; it must be a distribution "
                              "over regions (non-negative, positive sum)")
        return a

    # -- dynamics ---------------------------------------------------------------------------------------
    def demand(self, state: RoboTaxiState, params: RoboTaxiParams, t: jax.Array) -> jax.Array:
        """The requests ``int32 [N, N]`` of step ``t`` in this episode (fixed at reset; the MPC oracle's
        true demand)."""
        key = jax.random.fold_in(jax.random.wrap_key_data(state.demand_key), t)
        return poisson(key, self.demand_rate(params, t), self.terms)

    def demand_rate(self, params: RoboTaxiParams, t: jax.Array) -> jax.Array:
        """``float [..., N, N]`` the Poisson means of step(s) ``t`` (0 past the city's last period): what the
        requests are drawn from, and the MPC forecast's demand."""
        t = jnp.asarray(t)
        lam = params.rate[jnp.clip(t, 0, self.periods - 1)]
        return lam * (t < self.periods)[..., None, None]

    def trip_terms(self, params: RoboTaxiParams, t: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """``(price, trip_steps, profit_per_trip, matching value)`` of step ``t``, each ``[N, N]``: the matching
        maximises fares or fares less operating cost (``params.match_on_profit``)."""
        tp = jnp.clip(t, 0, self.periods - 1)
        price, tau = params.price[tp], params.trip_steps[tp]
        profit_per_trip = price - params.beta * tau
        return price, tau, profit_per_trip, jnp.where(params.match_on_profit, profit_per_trip, price)

    def reset_env(self, key: jax.Array, params: RoboTaxiParams) -> tuple[jax.Array, RoboTaxiState]:
        n = self.n
        state = RoboTaxiState(t=jnp.int32(0), idle=params.fleet * params.mask,
                              arrivals=jnp.zeros((self.buffer, n), jnp.int32),
                              demand_key=jax.random.key_data(key), flows=jnp.zeros((n, n), jnp.int32),
                              unserved=jnp.zeros((n,), jnp.int32))
        return self.get_obs(state, params), state

    def distribution(self, action: jax.Array, params: RoboTaxiParams) -> tuple[jax.Array, jax.Array]:
        """``(dist [N], invalid)``: the action as a distribution over real regions, and whether it had to
        be repaired (NaN, infinite or negative entries, or no positive weight)."""
        a = jnp.asarray(action)
        if a.shape not in ((), (self.n,)) or not (jnp.issubdtype(a.dtype, jnp.number) or a.dtype == jnp.bool_):
            raise RealaxError(f"action has shape {a.shape} ({a.dtype}); expected weights of shape ({self.n},) or one number")
        a = jnp.broadcast_to(a.astype(jnp.float32), (self.n,))
        bad = ~jnp.isfinite(a) | (a < 0)
        w = jnp.where(bad | ~params.mask, 0.0, a)
        total = w.sum()
        equal = params.mask / params.mask.sum()
        dist = jnp.where(total > 0, w / jnp.where(total > 0, total, 1.0), equal)
        return dist, (bad.any() | (total <= 0)).astype(jnp.int32)

    def step_env(self, key: jax.Array, state: RoboTaxiState, action: jax.Array, params: RoboTaxiParams
                 ) -> StepResult[RoboTaxiState]:
        t = state.t
        dist, invalid = self.distribution(action, params)
        # 1. rebalancing from the idle vehicles to the targets
        flows = rebalance(state.idle, targets(dist, state.idle), params.reb_steps)
        idle = state.idle - flows.sum(1)
        reb_cost = params.beta * (flows * params.reb_steps).sum()
        h = jnp.arange(self.buffer)[:, None, None]
        arrivals = state.arrivals + ((params.reb_steps[None] == h) * flows[None]).sum(1)
        # 2. arrivals of this step join, 3. matching at this step's demand
        idle = idle + arrivals[0]
        d = self.demand(state, params, t)
        price, tau, profit_per_trip, value = self.trip_terms(params, t)
        x = match(idle, d, value)
        idle = idle - x.sum(1)
        arrivals = arrivals + ((tau[None] + 1 == h) * x[None]).sum(1)
        arrivals = jnp.concatenate([arrivals[1:], jnp.zeros_like(arrivals[:1])])
        profit = (x * profit_per_trip).sum()
        pax = jnp.where(params.clip_matching_reward, jnp.maximum(profit, 0.0), profit)
        reward = (pax - reb_cost).astype(jnp.float32)
        state = RoboTaxiState(t=t + 1, idle=idle, arrivals=arrivals, demand_key=state.demand_key, flows=flows,
                              unserved=(d - x).sum(1))
        info = {"served": x.sum().astype(jnp.float32), "demand": d.sum().astype(jnp.float32),
                "profit": pax.astype(jnp.float32), "revenue": (x * price).sum().astype(jnp.float32),
                "rebalancing_cost": reb_cost.astype(jnp.float32), "rebalanced": flows.sum().astype(jnp.float32),
                "invalid_action": invalid}
        truncated = state.t >= params.max_steps
        return self.get_obs(state, params), state, reward, jnp.bool_(False), truncated, info

    def get_obs(self, state: RoboTaxiState, params: RoboTaxiParams) -> jax.Array:
        arr = state.arrivals[: self.horizon]  # joining in steps t .. t + horizon - 1
        projected = state.idle[None] + arr
        revenue = jax.lax.dynamic_slice_in_dim(params.revenue, jnp.clip(state.t, 0, self.periods), self.horizon)
        feats = jnp.concatenate([state.idle[None].astype(jnp.float32), projected.astype(jnp.float32), revenue])
        return (feats.T * FEATURE_SCALE).reshape(-1).astype(jnp.float32)

    def render(self, state: RoboTaxiState, params: RoboTaxiParams | None = None,
               *, reward: Any = None, episode_return: Any = None) -> np.ndarray:
        """``uint8 [540, 960, 3]``: regions on the city layout with idle vehicles, last step's lost requests and
        rebalancing flows, a legend, and the step, last reward and episode return when given
        (``realax.envs.robotaxi.render``)."""
        from realax.envs.robotaxi.render import draw

        params = self._default if params is None else params
        return draw(state, params, reward=reward, episode_return=episode_return,
                    title=f"RoboTaxi-v0 - city {self.city.name!r}")


def _load(city: str | cities.City, periods: int, **kwargs: Any) -> cities.City:
    """A checked ``City`` (``city.check_city``) from ``"grid"``, a path or a ``City``; for a grid or a path, the
    keyword arguments must be options of the function that builds it (``grid_city`` or ``load_city``), else a
    ``RealaxError`` lists them."""
    if isinstance(city, cities.City):  # already built: the options were used when it was (or do not apply)
        return cities.check_city(city)
    build: Callable[..., cities.City]
    if city == "grid":
        build = cities.grid_city
    elif isinstance(city, str) and city.endswith(".json"):
        build = cities.load_city
    else:
        raise RealaxError(f"city must be 'grid' or the path of an RL4AMOD scenario .json file, got {city!r}")
    known = [k for k in inspect.signature(build).parameters if k not in ("path", "periods")]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise RealaxError(f"option {unknown[0]!r} does not apply to city={city!r}; its options: {', '.join(known)}")
    c = build(city, periods=periods, **kwargs) if build is cities.load_city else build(periods=periods, **kwargs)
    return cities.check_city(c)
