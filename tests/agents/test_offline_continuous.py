"""TD3+BC, IQL, CQL (on SAC) and continuous BC on small continuous datasets (a Box action and a simplex
action), beating the random policy and the behaviour; the IQL expectile loss, CQL's penalty and the simplex
pieces by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import offline_envs as oe
import pytest

from realax import experiment
from realax.agents import cql, iql, td3bc
from realax.agents import offline_nets as on
from realax.agents.evaluate import evaluate
from realax.offline import loader
from realax.offline.generate import DataSpec, env_of, generate
from tests.tuned import jit_tuned

SMALL = {"hidden": 64, "updates_per_chunk": 1000}


@pytest.fixture(scope="module", autouse=True)
def envs():
    oe.register_all()
    yield
    oe.unregister_all()


@pytest.fixture(scope="module")
def reach(envs):
    # 30 % expert, 70 % uniform random actions
    spec = DataSpec(oe.REACH_ID, policy="offline_envs:reach_expert", episodes=100, level=0.3,
                    expert="offline_envs:reach_expert", val_fraction=0.0)
    eps, meta = generate(spec, progress=False)
    return loader.transitions(eps), meta


@pytest.fixture(scope="module")
def allocate(envs):
    spec = DataSpec(oe.ALLOCATE_ID, policy="offline_envs:allocate_expert", episodes=100, level=0.3,
                    expert="offline_envs:allocate_expert", val_fraction=0.0)
    eps, meta = generate(spec, progress=False)
    return loader.transitions(eps), meta


def test_expectile_loss_and_simplex_pieces_by_hand():
    u = jnp.array([2.0, -1.0, 0.0])
    np.testing.assert_allclose(iql.expectile_loss(u, 0.7), [0.7 * 4.0, 0.3 * 1.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(on.action_targets(jnp.array([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 3.0, 1.0]]),
                                                 "simplex"),
                               [[0.5, 0.25, 0.25], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.75, 0.25]], rtol=1e-6)
    space = oe.Allocate().action_space()
    assert on.action_kind(space) == "simplex" and on.action_kind(oe.Reach().action_space()) == "box"
    out = on.squash("simplex", space)(jnp.array([[3.0, -2.0, 0.5]]))
    assert float(out.sum()) == pytest.approx(1.0) and bool((out > 0).all())
    box = on.squash("box", oe.Reach().action_space())(jnp.array([-50.0, 0.0, 50.0]))
    np.testing.assert_allclose(box, [-1.0, 0.0, 1.0], atol=1e-6)
    returns = on.episode_returns(np.array([1.0, 2.0, 3.0, 4.0]), np.array([False, True, False, True]))
    np.testing.assert_allclose(returns, [3.0, 7.0])
    data = on.Transitions(None, None, jnp.array([1.0, 2.0, 3.0, 4.0]), None, None, jnp.array([0, 1, 0, 1], bool))
    assert on.reward_scale(data) == pytest.approx(2 / 4)  # mean length 2 over return spread 7 - 3


def test_cql_penalty_against_a_loop():
    rng = np.random.default_rng(1)
    q_data = rng.normal(size=(2, 3))
    props = [(rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 4))) for _ in range(3)]
    got = cql.conservative_penalty(jnp.asarray(q_data), [tuple(map(jnp.asarray, p)) for p in props], 0.5)
    for i in range(2):
        lse = [0.5 * np.log(sum(np.exp((q[i, b, k] - lp[b, k]) / 0.5) for q, lp in props for k in range(4)))
               for b in range(3)]
        assert float(got[i]) == pytest.approx(np.mean(lse) - q_data[i].mean(), rel=1e-5)


@pytest.mark.parametrize("algo", ["td3bc", "iql"])
def test_continuous_learners_beat_behaviour_on_a_box_action(reach, algo):
    """One seed (jax 0.10.2, the suite's flags): TD3+BC 84.3, IQL 96.9; behaviour 34.4."""
    res = experiment.train_offline(algo, None, seeds=1, updates=2000, overrides=SMALL, episodes=20, data=reach)
    assert 30 < res["behaviour_score"] < 70
    assert min(res["score_per_seed"]) > res["behaviour_score"] + 15  # well above the data and random (0)


def test_bc_imitates_the_mixed_behaviour_on_a_simplex_action(allocate):
    res = experiment.train_offline("bc", None, seeds=1, updates=1000, overrides=SMALL, episodes=20, data=allocate)
    assert res["behaviour_score"] < 50
    assert abs(res["score_mean"] - res["behaviour_score"]) < 15  # BC imitates the mixed behaviour, no better


@pytest.mark.parametrize("algo, floor", [("td3bc", 60), ("iql", 85)])
def test_continuous_learners_on_a_simplex_action(allocate, algo, floor):
    """One seed (jax 0.10.2, the suite's flags): TD3+BC 95.5, IQL 95.3; behaviour 27.1."""
    data, meta = allocate
    res = experiment.train_offline(algo, None, seeds=1, updates=2000, overrides=SMALL, episodes=20, data=allocate)
    assert min(res["score_per_seed"]) > floor > res["behaviour_score"] + 20  # towards the expert (100)
    env, params = env_of(meta)
    make = {"td3bc": (td3bc.make_train, td3bc.TD3BCConfig), "iql": (iql.make_train, iql.IQLConfig)}[algo]
    trainer = make[0](make[1](num_updates=10, updates_per_chunk=10, hidden=16), data, env, params)
    a = jax.vmap(trainer.policy(trainer.init(jax.random.key(0))), in_axes=(None, 0))(None, data.obs[:50])
    np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)  # the actor's output is a point on the simplex
    assert bool((a >= 0).all())


@pytest.mark.parametrize("dataset, floor", [("reach", 60), ("allocate", 53)])
def test_cql_on_sac_beats_behaviour(request, dataset, floor):
    """CQL(H) on SAC, one seed × 1,000 updates of 128 transitions and 5 sampled actions per proposal (jitted at
    XLA level 1: at the suite's level 0 and the defaults this test took ten minutes). Measured (jax 0.10.2, the
    suite's flags): Reach 64.0 (behaviour 34.4; with two seeds 69, 77, and 96, 94 at 2,000 updates); Allocate
    61.0 (behaviour 27.1; two seeds 61, 63, and 64, 68 at 2,000)."""
    updates = 1000
    data, meta = request.getfixturevalue(dataset)
    env, params = env_of(meta)
    trainer = cql.make_train(cql.CQLConfig(num_updates=updates, num_seeds=1, batch_size=128, num_random=5, **SMALL),
                             data, env, params)
    carry, metrics = jit_tuned(jax.vmap(trainer.train))(jax.random.split(jax.random.key(0), 1))
    assert float(np.asarray(metrics["cql_reg"])[:, -1].mean()) > 0  # sampled actions outscore the data's: pushed down
    score = float(loader.normalised_score(jax.jit(lambda cr, k: evaluate(env, params, trainer.policy(cr), k, 20).mean())(
        jax.tree.map(lambda x: x[0], carry), jax.random.key(1)), meta))
    behaviour = float(loader.normalised_score(meta["behaviour_return"], meta))
    assert score > max(floor, behaviour + 20), (score, behaviour)
