"""BC and CQL(H) on the tabular chain (tests/offline/chain_env.py), the CQL loss by hand, and the clear
errors of the offline runner (unknown algorithm, discrete algorithm on continuous data, missing metadata)."""

import jax
import jax.numpy as jnp
import numpy as np
import offline_envs as oe
import pytest

from realax import experiment
from realax.agents import bc, cql, td3bc
from realax.agents.offline_nets import Transitions
from realax.errors import RealaxError
from realax.offline import loader
from realax.offline.generate import DataSpec, build, env_of, generate
from realax.spaces import Box

EXPERT = "offline_envs:go_right"
SMALL = {"hidden": 64, "updates_per_chunk": 500}


@pytest.fixture(scope="module", autouse=True)
def envs():
    oe.register_all()
    yield
    oe.unregister_all()


def _data(env_id, policy, level, episodes=200, expert=EXPERT, **kw):
    spec = DataSpec(env_id, policy=policy, episodes=episodes, level=level, expert=expert, val_fraction=0.0, **kw)
    eps, meta = generate(spec, progress=False)
    return eps, meta


def test_bc_recovers_the_expert_on_the_chain():
    eps, meta = _data(oe.CHAIN_ID, EXPERT, 1.0, episodes=50)
    assert meta["ref_max_score"] == 1.0 and 0 < meta["ref_min_score"] < 1  # expert always reaches the goal
    res = experiment.train_offline("bc", None, seeds=2, updates=500, overrides=SMALL, episodes=20,
                              data=(loader.transitions(eps), meta))
    assert res["return_per_seed"] == [1.0, 1.0]  # every evaluation episode reaches the goal
    assert res["score_per_seed"] == pytest.approx([100.0, 100.0])
    assert res["final_metrics"]["accuracy"] == 1.0
    # and the greedy action is "right" in every state the expert visits
    setup = build(DataSpec.from_dict(meta["spec"]))
    trainer = bc.make_train(bc.BCConfig(num_updates=500, **SMALL), loader.transitions(eps), setup.env, setup.params)
    carry, _ = jax.jit(trainer.train)(jax.random.key(3))
    pol = trainer.policy(carry)
    assert [int(pol(None, jnp.int32(s))) for s in range(4)] == [1, 1, 1, 1]


def test_cql_loss_matches_hand_computation():
    q = jnp.array([[1.0, 2.0], [0.5, -1.0]])
    q_next = jnp.array([[3.0, 0.0], [1.0, 4.0]])
    batch = Transitions(obs=None, action=jnp.array([1, 0]), reward=jnp.array([1.0, 0.0]), next_obs=None,
                        terminal=jnp.array([0.0, 1.0]), done=None)
    total, td, reg = cql.cql_loss(q, q_next, batch, gamma=0.5, alpha=2.0)
    y = np.array([1.0 + 0.5 * 3.0, 0.0])  # the second is terminal: no bootstrap
    q_a = np.array([2.0, 0.5])
    hand_td = 0.5 * np.mean((q_a - y) ** 2)
    hand_reg = np.mean([np.log(np.exp(1.0) + np.exp(2.0)) - 2.0, np.log(np.exp(0.5) + np.exp(-1.0)) - 0.5])
    assert float(td) == pytest.approx(hand_td, rel=1e-6)
    assert float(reg) == pytest.approx(hand_reg, rel=1e-6)
    assert float(total) == pytest.approx(hand_td + 2.0 * hand_reg, rel=1e-6)


def test_cql_beats_the_behaviour_policy_on_mixed_data():
    # 30 % expert, 70 % random actions: the behaviour reaches the goal in some episodes only
    eps, meta = _data(oe.CHAIN_ID, EXPERT, 0.3)
    res = experiment.train_offline("cql", None, seeds=2, updates=1500, overrides=SMALL, episodes=20,
                              data=(loader.transitions(eps), meta))
    assert res["behaviour_score"] < 70
    assert res["score_per_seed"] == pytest.approx([100.0, 100.0])  # the shortest path from every seed
    assert res["final_metrics"]["cql_reg"] > 0  # logsumexp over actions exceeds Q of the data's action


def test_runner_rejects_bad_input(tmp_path):
    eps, meta = _data(oe.REACH_ID, "offline_envs:reach_expert", 0.5, episodes=10, expert="offline_envs:reach_expert")
    data = (loader.transitions(eps), meta)
    with pytest.raises(ValueError, match="'rainbow': unknown offline algorithm"):
        experiment.train_offline("rainbow", None, data=data)
    with pytest.raises(ValueError, match="'sac': an online learner"):
        experiment.train_offline("sac", None, data=data)
    chain, chain_meta = _data(oe.CHAIN_ID, EXPERT, 1.0, episodes=5)
    with pytest.raises(ValueError, match="iql trains box/simplex actions.*discrete actions"):
        experiment.train_offline("iql", None, seeds=1, updates=1, data=(loader.transitions(chain), chain_meta))
    with pytest.raises(ValueError, match="has no field 'nope'"):
        experiment.train_offline("bc", None, overrides={"nope": 1}, data=data)
    with pytest.raises(ValueError, match="lacks \\['ref_max_score'\\]"):
        loader.check_metadata({k: v for k, v in meta.items() if k != "ref_max_score"}, "x")
    with pytest.raises(RealaxError, match="not a dataset folder"):
        loader.load(tmp_path)
    env, params = env_of(meta)
    with pytest.raises(ValueError, match="td3bc needs continuous"):
        td3bc.make_train(td3bc.TD3BCConfig(), loader.transitions(chain), *env_of(chain_meta))
    with pytest.raises(ValueError, match="action has shape"):  # a dataset of another env's actions
        bc.make_train(bc.BCConfig(), data[0]._replace(action=data[0].action[:, :0]), env, params)
    t = data[0]
    with pytest.raises(ValueError, match="NaN or infinite"):  # a garbage action would train to NaN silently
        bc.make_train(bc.BCConfig(), t._replace(action=t.action.at[0].set(jnp.nan)), env, params)
    with pytest.raises(ValueError, match="reward holds NaN"):
        bc.make_train(bc.BCConfig(), t._replace(reward=t.reward.at[0].set(jnp.inf)), env, params)


def test_discrete_actions_out_of_range_are_refused():
    from realax.agents import offline_nets as on

    eps, meta = _data(oe.CHAIN_ID, EXPERT, 1.0, episodes=4)
    t = loader.transitions(eps)
    env, params = env_of(meta)
    with pytest.raises(ValueError, match="allows 0..1"):
        on.check_transitions(t._replace(action=t.action.at[0].set(2)), env, params, "bc")
    with pytest.raises(RealaxError, match="must be bounded"):
        on.action_kind(Box(-np.inf, np.inf, (2,)))
