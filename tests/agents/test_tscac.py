"""TSCAC: the stage-two weights against the closed form, the config's checks, and one two-stage run on
``constrained_envs.Tempt`` (its two stage programs compiled once each): stage one learns one policy per
constraint (the "tempt" learner learns the safe action), stage two leaves them unchanged and trains a main
policy that keeps constraint 0 although the reward alone would drive it to -0.5."""

import constrained_envs as ce
import jax
import numpy as np
import pytest
from test_ppo_lag import SMALL, p_tempt

from realax.agents.algorithms import make_config, make_trainer
from realax.agents.networks import actor_critic_for
from realax.agents.tscac import kl_weights
from realax.errors import RealaxError

STAGE = 8 * 16 * 40  # env steps of each stage (40 updates, one chunk)
CONFIG = {**SMALL, "total_timesteps": STAGE, "stage1_timesteps": STAGE, "updates_per_chunk": 40, "kl_coef": 1.0}


def test_weights_give_the_closed_form_policy():
    """Samples drawn from beta, weighted, have pi*'s action frequencies: pi* ∝ prod_i pi_i^alpha_i exp(A / T)."""
    beta = np.array([0.5, 0.3, 0.2])
    counts = (beta * 1000).astype(int)
    actions = np.repeat(np.arange(3), counts)
    log_prior = np.log(np.array([0.1, 0.6, 0.3]))  # sum_i alpha_i log pi_i(a|s), one state
    adv = np.array([1.0, -0.5, 0.2])
    w = kl_weights(log_prior[actions], np.log(beta)[actions], adv[actions], 2.0, 1e9)
    target = np.exp(log_prior + adv / 2.0)
    target /= target.sum()
    freq = np.array([w[actions == k].sum() for k in range(3)]) / w.sum()
    np.testing.assert_allclose(freq, target, rtol=1e-4)
    np.testing.assert_allclose(np.mean(w), 1.0, rtol=1e-5)
    assert float(kl_weights(log_prior[actions], np.log(beta)[actions], adv[actions], 2.0, 1.5).max()) == 1.5


def test_config_and_env_checks():
    env = ce.Tempt()
    with pytest.raises(RealaxError, match="aux_gammas has 3 discounts.*2 constraints"):
        make_trainer("tscac", make_config("tscac", {"aux_gammas": "0.9,0.9,0.9"}), env, env.default_params)
    with pytest.raises(RealaxError, match="aux_gammas"):
        make_config("tscac", {"aux_gammas": "0.9,2"})
    with pytest.raises(RealaxError, match=r"tscac needs a constraint vector in info\['cost_margin'\]"):
        make_trainer("tscac", make_config("tscac", {}), ce.NoCost(), ce.NoCost().default_params)
    c = make_config("tscac", CONFIG)
    assert c.stages == (1, 1) and c.num_chunks == 2
    trainer = make_trainer("tscac", c, env, env.default_params)
    assert trainer.stages == (1, 1) and [trainer.stage_of(k) for k in range(2)] == [0, 1]
    assert "stage one for 1 chunks" in c.budget_note()


@pytest.fixture(scope="module")
def run():
    """One seed, not vmapped, each stage's program compiled once (as ``realax.experiment.run`` does per stage)."""
    env = ce.Tempt()
    params = env.default_params
    trainer = make_trainer("tscac", make_config("tscac", CONFIG), env, params)
    carry = jax.jit(trainer.init)(jax.random.key(1))
    carry, m1 = jax.jit(trainer.stage_step(0))(carry)
    after_one = carry.aux.train_state.params
    carry, m2 = jax.jit(trainer.stage_step(1))(carry)
    net = actor_critic_for(env, params, SMALL["hidden"])
    p_aux = [p_tempt(net, jax.tree.map(lambda x, i=i: x[i], carry.aux.train_state.params)) for i in range(2)]
    return {"m1": jax.device_get(m1), "m2": jax.device_get(m2), "after_one": after_one, "carry": carry,
            "p_aux": p_aux, "p_main": p_tempt(net, carry.main.train_state.params)}


def test_stage_one_learns_one_policy_per_constraint(run):
    m1 = run["m1"]
    assert np.all(m1["stage"] == 1) and np.all(run["m2"]["stage"] == 2)
    assert run["p_aux"][0] < 0.1, run["p_aux"]  # the "tempt" learner learnt the safe action
    assert m1["margin_tempt"][-3:].mean() > 0.3  # its own margin, measured on its batches
    np.testing.assert_allclose(m1["margin_slack"], 0.5)  # the slack learner's signal is constant
    # stage two leaves the stage-one policies as they were
    jax.tree.map(np.testing.assert_array_equal, run["after_one"], run["carry"].aux.train_state.params)


def test_main_policy_keeps_the_constraint_the_reward_breaks(run):
    m2 = run["m2"]
    start = m2["margin_tempt"][:2].mean()  # the fresh main policy (uniform: -1/6)
    assert start < -0.08, start
    final = 0.5 - run["p_main"]
    assert final > 0.0, final  # learning the reward alone would give -0.5
    assert np.all(np.isfinite(m2["return"][-5:])) and m2["return"][-5:].mean() > 4.0  # above the safe 8 * 0.5
    steps = np.concatenate([run["m1"]["env_steps"], m2["env_steps"]])
    np.testing.assert_array_equal(steps, 128 * np.concatenate([2 * np.arange(1, 41), 80 + np.arange(1, 41)]))
