"""The GRU policy option of IPPO/MAPPO (``MultiPPOConfig.recurrent``): it solves a task that needs memory,
its update replays exactly the policy that collected the data, and its saved policy carries a memory."""

import jax
import numpy as np
import pytest

import realax
from realax.agents import ippo, mappo
from realax.agents.evaluate import RecurrentPolicy, actor, evaluate, stateful_actor
from tests.agents.test_ippo import LEARN
from tests.tuned import jit_tuned

# two radios jamming the hopper 4, 4, 5 while seeing one step of the spectrum: after a 4 the next channel is
# 4 or 5, so a memoryless policy is right at most 2 steps in 3 (team return <= ~134 of 200)
HOPPER = {"scenario": "hopper", "history": 1}
OPTIMUM = 200.0
# the GRU reaches a team return of ~197 within ~8k steps; the feed-forward policy keeps LEARN's full budget, so
# its score is the memoryless ceiling, not an undertrained one
GRU_TIMESTEPS = 16_000


@pytest.fixture(scope="module")
def hopper():
    return realax.make("realax/SpectrumMA-v0", **HOPPER)


@pytest.fixture(scope="module")
def trained(hopper):
    env, params = hopper
    runs = {}
    for recurrent in (False, True):
        budget = GRU_TIMESTEPS if recurrent else LEARN["total_timesteps"]
        trainer = ippo.make_train(ippo.IPPOConfig(**{**LEARN, "total_timesteps": budget}, recurrent=recurrent), env, params)
        carry, _ = jit_tuned(jax.vmap(trainer.train))(jax.random.split(jax.random.key(0), 3))
        team = jax.jit(jax.vmap(lambda c, k, t=trainer: evaluate(env, params, t.policy(c), k, 8).sum(-1).mean()))(
            carry, jax.random.split(jax.random.key(1), 3))
        runs[recurrent] = (trainer, carry, np.asarray(team))
    return runs


def test_gru_solves_what_a_memoryless_policy_cannot(trained):
    # measured: recurrent 200, 200, 200; feed-forward 130, 130, 68
    assert trained[True][2].min() >= 0.9 * OPTIMUM, trained[True][2]
    assert trained[False][2].max() < 0.75 * OPTIMUM, trained[False][2]


def test_update_replays_the_policy_that_collected_the_rollout(hopper, trained):
    """One epoch, one minibatch, no learning: the probability ratio of every replayed action must be 1 (KL 0),
    which holds only if each sequence restarts from its stored memory and clears it where episodes start.
    The rollouts (64 steps) cross episode ends (100 steps) every other update."""
    env, params = hopper
    trainer, carry, _ = trained[True]
    check = ippo.make_train(ippo.IPPOConfig(**{**LEARN, "lr": 0.0, "update_epochs": 1, "num_minibatches": 1,
                                               "num_steps": 64, "updates_per_chunk": 2}, recurrent=True), env, params)
    _, metrics = jax.jit(jax.vmap(check.step))(carry)
    assert float(metrics["entropy"].max()) < 0.5  # a sharp policy, so a wrong replay would show
    assert float(np.abs(metrics["approx_kl"]).max()) < 1e-5, metrics["approx_kl"]


def test_recurrent_policy_carries_memory_and_refuses_the_memoryless_path(hopper, trained):
    env, params = hopper
    trainer, carry, _ = trained[True]
    policy = trainer.policy(jax.tree.map(lambda x: x[0], carry))
    assert isinstance(policy, RecurrentPolicy) and policy.initial.shape == (env.num_agents, LEARN["hidden"])
    memory0, act = stateful_actor(env, params, policy)
    obs, state = jax.jit(env.reset)(jax.random.key(0), params)
    a, memory = jax.jit(act)(jax.random.key(1), obs, state, memory0)  # jitted: one compilation, not ~200 op-by-op
    assert a.shape == (env.num_agents,) and not np.allclose(np.asarray(memory), 0.0)
    with pytest.raises(TypeError, match="recurrent"):
        actor(env, params, policy)


def test_recurrent_mappo_runs_on_smax_through_the_experiment():
    from realax import experiment

    env, params = realax.make("realax/SMAX-v0", scenario="3m")
    r = experiment.run("mappo", env, params, {"num_envs": 8, "num_steps": 16, "total_timesteps": 256, "hidden": 32,
                                              "updates_per_chunk": 2, "recurrent": True}, progress=False,
                       evaluate=False)  # the run only: the GRU test above evaluates recurrent agents
    assert np.all(np.isfinite(r.curve_returns)) and r.curve_steps[-1] == 256
    with pytest.raises(ValueError, match="divisible by num_minibatches"):
        mappo.make_train(mappo.MAPPOConfig(num_envs=1, num_minibatches=4, recurrent=True), env, params)
