"""UAV offloading baselines: a greedy heuristic and particle-swarm placement (Mondal et al.'s PSO benchmark).

Both read the true state (user positions and who serves them), like an operator who knows where the users
are, and fly each UAV towards a target position: in grid mode one cell per step along the longer axis
first (hover once there), in velocity mode at up to full speed.

- ``greedy``: the UAVs, in index order, each pick the grid cell whose 3 x 3 neighbourhood holds the most
  users not served by another UAV and not already claimed by a UAV earlier in the order (equal counts: the
  cell nearest the UAV); the users around a pick are then claimed.
- ``pso``: global-best PSO (``realax.baselines.pso``, 32 particles x 40 iterations, a fixed key so the plan
  is the same for the same users) over the ``K x 2`` UAV positions, maximising the users the association
  rule puts on UAVs at those positions, plus 0.001 x the mean SINR margin (clipped to 10 dB) of each user's
  best UAV, so that a swarm stuck on a plateau of equal counts still moves towards the users. This is the
  paper's PSO benchmark reconstructed: it optimises positions for the current users, not a learned policy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from realax.baselines.pso import minimize
from realax.envs.uav import association
from realax.envs.uav.central import UAVOffloadCentral
from realax.envs.uav.env import UAVOffload

PSO_PARTICLES, PSO_ITERS = 32, 40


def _inner(env) -> UAVOffload:
    u = env.unwrapped
    return u.inner if isinstance(u, UAVOffloadCentral) else u


def fly(env: UAVOffload, uav: jax.Array, target: jax.Array) -> jax.Array:
    """Actions ``[K]`` (grid: a move towards ``target``, the longer axis first) or ``[K, 2]`` (velocity)."""
    gap = (target - uav) / env.cell
    if env.mode == "velocity":
        return jnp.clip(gap, -1.0, 1.0)
    dx, dy = gap[:, 0], gap[:, 1]
    go_x = (jnp.abs(dx) >= jnp.abs(dy)) & (jnp.abs(dx) >= 0.5)
    go_y = ~go_x & (jnp.abs(dy) >= 0.5)
    return jnp.where(go_x, jnp.where(dx > 0, 2, 4), jnp.where(go_y, jnp.where(dy > 0, 1, 3), 0)).astype(jnp.int32)


def greedy_targets(env: UAVOffload, state) -> jax.Array:
    """``[K, 2]``: the cell centre each UAV heads for (see the module docstring)."""
    K, G = env.num_agents, env.grid
    cell_of_user = jnp.clip(jnp.floor(state.user / env.cell), 0, G - 1).astype(jnp.int32)  # [U, 2] (col, row)
    centres = (jnp.stack(jnp.meshgrid(jnp.arange(G), jnp.arange(G), indexing="xy"), -1).reshape(-1, 2) + 0.5) * env.cell
    near = jnp.all(jnp.abs(cell_of_user[None, :, :] - (centres[:, None, :] // env.cell).astype(jnp.int32)) <= 1,
                   axis=-1)  # [G*G, U]: user in the 3x3 block around the cell

    def pick(claimed, k):
        mine = (state.serving < 0) | (state.serving >= K) | (state.serving == k)
        free = (mine & ~claimed).astype(jnp.float32)
        dist = jnp.linalg.norm(centres - state.uav[k], axis=-1)
        score = near.astype(jnp.float32) @ free - 1e-4 * dist / env.area
        best = jnp.argmax(score)
        return claimed | near[best], centres[best]

    _, targets = jax.lax.scan(pick, jnp.zeros(env.num_users, bool), jnp.arange(K))
    return targets


def greedy(env, params):
    inner = _inner(env)
    return lambda key, obs, state: fly(inner, state.uav, greedy_targets(inner, state))


def placement_score(env: UAVOffload, positions: jax.Array, state, params) -> jax.Array:
    """What PSO maximises at UAV ``positions [K, 2]``: users the association puts on UAVs, plus 0.001 x the
    mean clipped SINR margin of each user's best UAV (a tie-breaker on plateaus)."""
    uav_sinr, bs_sinr = env.links(positions, state.user, state.shadow, params)

    serving = association.associate(uav_sinr, bs_sinr, params.sinr_threshold_db, params.bs_sinr_threshold_db,
                                    params.uav_capacity, params.bs_capacity)
    on_uav = ((serving >= 0) & (serving < env.num_agents)).sum()
    margin = jnp.clip(uav_sinr.max(axis=1) - params.sinr_threshold_db, -10.0, 10.0).mean()
    return on_uav + 1e-3 * margin


def pso_targets(env: UAVOffload, state, params, key=None) -> jax.Array:
    K = env.num_agents
    key = jax.random.key(0) if key is None else key
    cost = lambda x: -placement_score(env, x.reshape(K, 2), state, params)  # noqa: E731
    res = minimize(cost, key, jnp.zeros(2 * K), jnp.full(2 * K, env.area), PSO_PARTICLES, PSO_ITERS)
    target = res.best.reshape(K, 2)
    if env.mode == "grid":
        target = (jnp.clip(jnp.floor(target / env.cell), 0, env.grid - 1) + 0.5) * env.cell
    return target


def pso(env, params):
    inner = _inner(env)
    return lambda key, obs, state: fly(inner, state.uav, pso_targets(inner, state, params))


#: the baselines ``realax.register(..., baselines="realax.baselines.uav")`` declares
BASELINES = {"greedy": greedy, "pso": pso}
#: left out of the rows printed beside every trained agent (a swarm search every step)
SLOW = ("pso",)
