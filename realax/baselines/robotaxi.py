"""Robo-taxi baselines, after RL4AMOD's (``src/algos/registry.py``: ``no_rebalancing``, ``equal_distribution``,
``random``, ``mpc``; research notes ``amod-recsys.md`` §1.7). The env turns an action (a distribution over
regions) into integer targets and rebalancing flows, so each baseline is a distribution:

- no rebalancing: the current idle distribution (targets = the idle counts, so nothing moves);
- equal distribution: equal weights (RL4AMOD ``ed.py``: ``1 / nregion`` each);
- random: the generic random baseline, a sample of the ``Simplex`` action space, i.e. ``Dirichlet(1, ..., 1)``
  (RL4AMOD ``random.py``);
- MPC oracle: HiGHS over a short horizon with the episode's true demand (``reference.mpc_plan``), acting
  through the same action. It needs the state (the true demand is not in the observation): as a policy
  ``fn(key, obs, state)`` (``mpc_oracle``, HiGHS through ``jax.pure_callback``) for ``realax eval``, and as a
  plain host loop (``mpc_oracle_episodes``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


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


def _true_demand(env, state, params, lookahead: int) -> jax.Array:
    return jax.vmap(lambda s: env.demand(state, params, s))(state.t + jnp.arange(lookahead))


def mpc_action(env, state, params, lookahead: int = 6) -> np.ndarray:
    """The oracle's action in ``state`` (concrete arrays, on the host)."""
    demand = np.asarray(_true_demand(env, state, params, lookahead))
    return _plan_action(env, int(state.t), state.idle, state.arrivals, demand, params, lookahead)


def mpc_oracle(env, params, lookahead: int = 6):
    """The MPC oracle as a policy ``fn(key, obs, state)`` for ``realax eval`` (``realax.agents.evaluate``
    hands the state to policies that take one): the true demand of the next ``lookahead`` steps is read in
    JAX, the plan solved by HiGHS on the host through ``jax.pure_callback``, one solve per step and episode.
    Slow (about 0.1 s a step), so ``realax train`` leaves it out of its baseline rows (its module's ``SLOW``)."""
    host_params = jax.tree.map(np.asarray, params)

    def host(t, idle, arrivals, demand):
        return _plan_action(env, int(t), idle, arrivals, demand, host_params, lookahead)

    def fn(key, obs, state):
        demand = _true_demand(env, state, params, lookahead)
        return jax.pure_callback(host, jax.ShapeDtypeStruct((env.n,), jnp.float32), state.t, state.idle,
                                 state.arrivals, demand, vmap_method="sequential")

    return fn


def mpc_oracle_episodes(env, params, key, episodes: int, lookahead: int = 6) -> dict[str, np.ndarray]:
    """Run ``episodes`` episodes of the MPC oracle on the host (jitted env, one HiGHS solve per step).
    Returns per-episode sums of ``reward``, ``profit``, ``rebalancing_cost``, ``served``, ``demand``; the
    episodes of a key meet the same requests as ``episode_totals``'s."""
    reset, step = jax.jit(env.reset_env), jax.jit(env.step_env)
    keys = ("profit", "rebalancing_cost", "served", "demand")
    out = {k: np.zeros(episodes) for k in ("reward", *keys)}
    for e, k in enumerate(jax.random.split(key, episodes)):
        k, _ = jax.random.split(k)  # the reset key of ``episode_totals``: same demand for the same key
        _, state = reset(k, params)
        for _ in range(int(params.max_steps)):
            a = jnp.asarray(mpc_action(env, state, params, lookahead))
            _, state, r, _, _, info = step(k, state, a, params)
            out["reward"][e] += float(r)
            for name in keys:
                out[name][e] += float(info[name])
    return out


def episode_totals(env, params, policy, key, episodes: int, rl4amod_protocol: bool = False) -> dict[str, jax.Array]:
    """Per-episode sums of ``reward``, ``profit``, ``rebalancing_cost``, ``served``, ``demand`` and
    ``invalid_action`` for a ``policy(key, obs)``, ``episodes`` episodes vmapped in one jitted call.

    ``rl4amod_protocol``: the first step does not rebalance (RL4AMOD's reset matches before any decision,
    so its episode has 19 decisions and 20 matchings; ours has 20 of each)."""
    names = ("profit", "rebalancing_cost", "served", "demand", "invalid_action")
    keep = no_rebalancing(env, params)

    def episode(k):
        k0, k1 = jax.random.split(k)
        obs, state = env.reset_env(k0, params)

        def body(carry, kt):
            obs, state = carry
            ka, ks = jax.random.split(kt)
            a = policy(ka, obs)
            if rl4amod_protocol:
                a = jnp.where(state.t == 0, keep(ka, obs), a)
            obs, state, r, _, _, info = env.step_env(ks, state, a, params)
            return (obs, state), {"reward": r, **{n: info[n].astype(jnp.float32) for n in names}}

        _, out = jax.lax.scan(body, (obs, state), jax.random.split(k1, int(params.max_steps)))
        return jax.tree.map(lambda x: x.sum(0), out)

    return jax.jit(jax.vmap(episode))(jax.random.split(key, episodes))


#: the baselines ``realax.register(..., baselines="realax.baselines.robotaxi")`` declares
BASELINES = {"no_rebalancing": no_rebalancing, "equal_distribution": equal_distribution, "mpc_oracle": mpc_oracle}
#: too slow (HiGHS per step on the host) for the rows printed beside every trained agent; ``realax eval`` runs it
SLOW = frozenset({"mpc_oracle"})
