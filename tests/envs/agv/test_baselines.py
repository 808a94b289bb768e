"""The AGV planner-and-tracker baseline: the grid search by hand, and that it drives where random play crashes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax.baselines import agv as B
from realax.baselines import get, names
from realax.core import is_multi_agent


def test_cost_to_go_by_hand_no_corner_cutting():
    free = np.ones((3, 4), bool)
    free[1, 1] = False  # one blocked cell
    d = B.cost_to_go(free, (0, 0))
    assert d[0, 0] == 0 and d[0, 3] == 3 and np.isinf(d[1, 1])
    # (1, 0) is next to the target; (2, 0) two cells up; (2, 1) cannot cut (1, 1)'s corner from (1, 0): 2 + 1
    assert d[1, 0] == 1 and d[2, 0] == 2 and d[2, 1] == 3
    # (1, 2): around the block, (0, 1) -> diagonal (1, 2) cuts the corner of (1, 1): so via (0, 2): 2 + 1
    assert d[1, 2] == 3
    # (2, 3): (0, 2) -> (1, 3) diagonal (corners (1, 2) and (0, 3) free) -> (2, 3): 2 + sqrt 2 + 1
    assert math.isclose(d[2, 3], 3 + math.sqrt(2), rel_tol=1e-6)
    walled = free.copy()
    walled[:, 1] = False
    assert np.isinf(B.cost_to_go(walled, (0, 0))[:, 2:]).all()


def _first_episodes(env, params, policy, n):
    def one(k):
        obs, state = env.reset(k, params)

        def body(c, k):
            obs, state, done, succ, coll = c
            obs, state, _, term, trunc, info = env.step_env(k, state, policy(k, obs, state), params)
            return (obs, state, done | term | trunc, succ | (~done & info["success"]), coll | (~done & info["collision"])), None

        none = jnp.zeros((env.num_agents,) if is_multi_agent(env) else (), bool)
        c0 = (obs, state, jnp.bool_(False), none, none)
        (_, _, _, s, c), _ = jax.lax.scan(body, c0, jax.random.split(k, int(params.max_steps)))
        return s, c

    return map(np.asarray, jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), n)))


def test_astar_reaches_the_goal_in_the_static_scene_where_random_play_does_not():
    env, params = realax.make("realax/AGV-v0")
    assert names(env) == ["random", "astar"]
    success, collision = _first_episodes(env, params, B.astar(env, params), 16)
    assert success.mean() >= 0.9 and not collision.any(), (success, collision)
    rand = get("random", env, params)
    success, _ = _first_episodes(env, params, lambda k, o, s: rand(k, o), 16)
    assert success.mean() == 0.0


def test_astar_drives_several_agvs_to_distinct_goals_and_takes_discrete_actions():
    env, params = realax.make("realax/MultiAGV-v0")  # three AGVs, discrete actions, navigate
    policy = B.astar(env, params)
    obs, state = jax.jit(env.reset)(jax.random.key(1), params)  # jitted: op by op, each op compiles alone
    action = jax.jit(policy)(jax.random.key(2), obs, state)
    assert action.shape == (3,) and action.dtype == jnp.int32
    success, collision = _first_episodes(env, params, policy, 4)
    assert success.all() and not collision.any()
