"""Robo-taxi baselines, after RL4AMOD's (``src/algos/registry.py``: ``no_rebalancing``, ``equal_distribution``,
``random``, ``mpc``; research notes ``amod-recsys.md`` §1.7). The env turns an action (a distribution over
regions) into integer targets and rebalancing flows, so each baseline is a distribution:

- no rebalancing: the current idle distribution (targets = the idle counts, so nothing moves);
- equal distribution: equal weights (RL4AMOD ``ed.py``: ``1 / nregion`` each);
- random: the generic random baseline, a sample of the ``Simplex`` action space, i.e. ``Dirichlet(1, ..., 1)``
  (RL4AMOD ``random.py``);
- plus one (RL4AMOD ``plus_one.py``): every origin region that dispatched trips in the last matching gets one
  vehicle back per destination it served (the code adds 1 per origin-destination pair with trips, not per
  vehicle: hence the name), taken from the regions nearest by rebalancing time that still have idle vehicles,
  origins in index order; the counts after these moves are the targets. It reads the last matching, which the
  observation does not hold, so it is a policy ``fn(key, obs, state)`` (JAX, jit- and vmap-able);
- MPC oracle: HiGHS over a short horizon with the episode's true demand (``reference.mpc_plan``), acting
  through the same action. It needs the state (the true demand is not in the observation): as a policy
  ``fn(key, obs, state)`` (``mpc_oracle``, HiGHS through ``jax.pure_callback``) for ``realax eval``, and as a
  plain host loop (``mpc_episodes``);
- MPC forecast: the same plan over 10 steps (RL4AMOD's MPC-Forecast horizon ``T = 10``, research notes
  ``amod-recsys.md`` §1.3) with the *expected* demand, the Poisson means ``params.rate``, in place of the
  requests the episode will bring: what a planner with a perfect demand model but no foresight of the draws
  can do. RL4AMOD's stored code does not say which forecast its row used; the means are the best one a
  forecaster can have here.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from realax.envs.robotaxi.matching import match


def _features(env) -> int:
    return 1 + 2 * env.horizon


def no_rebalancing(env, params):
    f = _features(env)
    return lambda key, obs: obs.reshape(env.n, f)[:, 0] + 1e-8  # positive sum even with no idle vehicle


def equal_distribution(env, params):
    return lambda key, obs: jnp.ones((env.n,), jnp.float32)


def _largest_remainder(counts: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(np.maximum(counts, 0) + 1e-9)
    order = np.argsort(-(counts - base))
    base[order[: max(int(total - base.sum()), 0)]] += 1
    return base


def _plan_action(env, t: int, idle, arrivals, demand, params, lookahead: int) -> np.ndarray:
    """Host side of the oracle (numpy in, numpy out): the first-step targets of ``reference.mpc_plan`` over
    ``lookahead`` steps of the given true ``demand [lookahead, N, N]``, as a distribution."""
    from realax.envs.robotaxi.reference import mpc_plan

    m = np.asarray(params.mask)
    steps = np.clip(np.arange(t, t + lookahead), 0, env.periods - 1)
    sel = np.ix_(m, m)
    idle = np.asarray(idle)[m]
    total = int(idle.sum())
    if total == 0:
        return np.ones(env.n, np.float32)
    plan = mpc_plan(idle, np.asarray(arrivals)[:, m], np.asarray(demand)[:, m][:, :, m],
                    np.asarray(params.price)[steps][:, m][:, :, m], np.asarray(params.trip_steps)[steps][:, m][:, :, m],
                    np.asarray(params.reb_steps)[sel], float(params.beta))
    out = np.zeros(env.n, np.float32)
    out[m] = _largest_remainder(plan, total) / total
    return out


def true_demand(env, state, params, lookahead: int) -> jax.Array:
    """``[lookahead, N, N]`` the requests the episode will bring (the oracle's foresight)."""
    return jax.vmap(lambda s: env.demand(state, params, s))(state.t + jnp.arange(lookahead))


def expected_demand(env, state, params, lookahead: int) -> jax.Array:
    """``[lookahead, N, N]`` the Poisson means of the coming steps (the forecast: no foresight of the draws)."""
    return env.demand_rate(params, state.t + jnp.arange(lookahead))


#: the two MPC planners: (demand over the horizon, default horizon)
MPC = {"oracle": (true_demand, 6), "forecast": (expected_demand, 10)}


def mpc_action(env, state, params, lookahead: int = 6, demand_fn=true_demand) -> np.ndarray:
    """The planner's action in ``state`` (concrete arrays, on the host)."""
    demand = np.asarray(demand_fn(env, state, params, lookahead))
    return _plan_action(env, int(state.t), state.idle, state.arrivals, demand, params, lookahead)


def _mpc_policy(env, params, lookahead: int, demand_fn):
    host_params = jax.tree.map(np.asarray, params)

    def host(t, idle, arrivals, demand):
        return _plan_action(env, int(t), idle, arrivals, demand, host_params, lookahead)

    def fn(key, obs, state):
        demand = demand_fn(env, state, params, lookahead)
        return jax.pure_callback(host, jax.ShapeDtypeStruct((env.n,), jnp.float32), state.t, state.idle,
                                 state.arrivals, demand, vmap_method="sequential")

    return fn


def mpc_oracle(env, params, lookahead: int = 6):
    """The MPC oracle as a policy ``fn(key, obs, state)`` for ``realax eval`` (``realax.agents.evaluate``
    hands the state to policies that take one): the true demand of the next ``lookahead`` steps is read in
    JAX, the plan solved by HiGHS on the host through ``jax.pure_callback``, one solve per step and episode.
    Slow (about 0.1 s a step), so ``realax train`` leaves it out of its baseline rows (its module's ``SLOW``)."""
    return _mpc_policy(env, params, lookahead, true_demand)


def mpc_forecast(env, params, lookahead: int = 10):
    """MPC on the expected demand (module docstring) as a policy ``fn(key, obs, state)``; slow as the oracle."""
    return _mpc_policy(env, params, lookahead, expected_demand)


def last_matching(env, state, params) -> jax.Array:
    """``int [N, N]`` the trips matched in the step that led to ``state`` (zeros at reset), recomputed: the
    matching is a deterministic function of the idle vehicles before it, which are the idle vehicles after it
    plus those it dispatched (the requests' row sums minus ``state.unserved``), and of the step's requests,
    which the episode's demand key fixes."""
    t = state.t - 1
    d = env.demand(state, params, t)
    idle_before = state.idle + d.sum(1) - state.unserved
    x = match(idle_before, d, env.trip_terms(params, t)[3])
    return jnp.where(state.t > 0, x, 0)


def plus_one_targets(idle: jax.Array, count: jax.Array, reb_steps: jax.Array, mask: jax.Array) -> jax.Array:
    """RL4AMOD's plus-one targets: origin by origin (index order), ``count[o]`` vehicles (if positive) move to
    ``o`` from the other real regions nearest by ``reb_steps`` (ties: lower index first) that have idle
    vehicles left, as many from each as it has before going on to the next; a region that gives vehicles owes
    as many fewer to its own count. Returns the counts after the moves (the same total as ``idle``)."""
    n = idle.shape[0]
    far = jnp.eye(n, dtype=bool) | ~mask[None, :]
    cost = jnp.where(far, jnp.inf, reb_steps.astype(jnp.float32))
    order = jnp.argsort(cost, axis=1, stable=True)

    def body(o, carry):
        acc, owed = carry
        idx = order[o]
        avail = jnp.where(far[o, idx], 0, jnp.maximum(acc[idx], 0))
        take = jnp.clip(jnp.maximum(owed[o], 0) - (jnp.cumsum(avail) - avail), 0, avail)
        return acc.at[idx].add(-take).at[o].add(take.sum()), owed.at[idx].add(-take)

    acc, _ = jax.lax.fori_loop(0, n, body, (idle, count.astype(idle.dtype)))
    return acc


def plus_one(env, params):
    """The plus-one baseline (module docstring) as a policy ``fn(key, obs, state)``: its targets as a
    distribution (the env floors ``dist * total`` back to the same counts)."""

    def fn(key, obs, state):
        served_pairs = (last_matching(env, state, params) > 0).sum(1)
        acc = plus_one_targets(state.idle, served_pairs, params.reb_steps, params.mask)
        total = acc.sum()
        return jnp.where(total > 0, acc / jnp.maximum(total, 1), params.mask / params.mask.sum()).astype(jnp.float32)

    return fn


def mpc_episodes(env, params, key, episodes: int, lookahead: int | None = None, kind: str = "oracle"
                 ) -> dict[str, np.ndarray]:
    """Run ``episodes`` episodes of the MPC ``kind`` (``oracle`` or ``forecast``, ``MPC``) on the host
    (jitted env, one HiGHS solve per step). Returns per-episode sums of ``reward``, ``profit``,
    ``rebalancing_cost``, ``served``, ``demand``; the episodes of a key meet the same requests as
    ``episode_totals``'s."""
    demand_fn, default = MPC[kind]
    lookahead = default if lookahead is None else lookahead
    reset, step = jax.jit(env.reset_env), jax.jit(env.step_env)
    # jitted: unjitted, each of its ops would compile on its own on the first step
    horizon = jax.jit(lambda state: demand_fn(env, state, params, lookahead))
    keys = ("profit", "rebalancing_cost", "served", "demand")
    out = {k: np.zeros(episodes) for k in ("reward", *keys)}
    for e, k in enumerate(jax.random.split(key, episodes)):
        k, _ = jax.random.split(k)  # the reset key of ``episode_totals``: same demand for the same key
        _, state = reset(k, params)
        for _ in range(int(params.max_steps)):
            a = jnp.asarray(mpc_action(env, state, params, lookahead, lambda _env, s, *_: horizon(s)))
            _, state, r, _, _, info = step(k, state, a, params)
            out["reward"][e] += float(r)
            for name in keys:
                out[name][e] += float(info[name])
    return out


def episode_totals(env, params, policy, key, episodes: int, rl4amod_protocol: bool = False) -> dict[str, jax.Array]:
    """Per-episode sums of ``reward``, ``profit``, ``rebalancing_cost``, ``served``, ``demand`` and
    ``invalid_action`` for a ``policy(key, obs)`` (or ``policy(key, obs, state)``, as ``plus_one``),
    ``episodes`` episodes vmapped in one jitted call.

    ``rl4amod_protocol``: the first step does not rebalance (RL4AMOD's reset matches before any decision,
    so its episode has 19 decisions and 20 matchings; ours has 20 of each)."""
    names = ("profit", "rebalancing_cost", "served", "demand", "invalid_action")
    keep = no_rebalancing(env, params)
    takes_state = "state" in inspect.signature(policy).parameters

    def episode(k):
        k0, k1 = jax.random.split(k)
        obs, state = env.reset_env(k0, params)

        def body(carry, kt):
            obs, state = carry
            ka, ks = jax.random.split(kt)
            a = policy(ka, obs, state) if takes_state else policy(ka, obs)
            if rl4amod_protocol:
                a = jnp.where(state.t == 0, keep(ka, obs), a)
            obs, state, r, _, _, info = env.step_env(ks, state, a, params)
            return (obs, state), {"reward": r, **{n: info[n].astype(jnp.float32) for n in names}}

        _, out = jax.lax.scan(body, (obs, state), jax.random.split(k1, int(params.max_steps)))
        return jax.tree.map(lambda x: x.sum(0), out)

    return jax.jit(jax.vmap(episode))(jax.random.split(key, episodes))


#: the baselines ``realax.register(..., baselines="realax.baselines.robotaxi")`` declares
BASELINES = {"no_rebalancing": no_rebalancing, "equal_distribution": equal_distribution, "plus_one": plus_one,
             "mpc_oracle": mpc_oracle, "mpc_forecast": mpc_forecast}
#: too slow (HiGHS per step on the host) for the rows printed beside every trained agent; ``realax eval`` runs them
SLOW = frozenset({"mpc_oracle", "mpc_forecast"})
