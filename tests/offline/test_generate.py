"""Collection: whole episodes in the right number, the agent axis kept, metadata, and the command's errors."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

from realax.cli import app
from realax.offline import minari_io
from realax.offline.dataset import generate_dataset
from realax.offline.generate import DataSpec, behaviour_of, build, collect, collect_each
from realax.wrappers.realism import RealismConfig

runner = CliRunner()


def test_collect_returns_whole_episodes_in_stream_order(chain_id):
    spec = DataSpec(chain_id, policy="random", episodes=37)
    setup = build(spec)
    eps = collect(setup.env, setup.params, behaviour_of(setup, spec), jax.random.key(0), 37, max_envs=8,
                  chunk=3, progress=False)
    assert eps.num_episodes == 37 and eps.num_steps == eps.lengths.sum() == len(eps.rewards)
    ends = eps.starts + eps.lengths - 1
    done = eps.terminations | eps.truncations
    assert done[ends].all() and done.sum() == 37  # each episode ends exactly at its last row
    s = eps.starts
    assert (eps.observations[s] == 0).all()  # every episode starts at the chain's start
    inner = np.setdiff1d(np.arange(eps.num_steps), ends)
    np.testing.assert_array_equal(eps.next_observations[inner], eps.observations[inner + 1])
    assert (eps.lengths <= 8).all() and (eps.truncations[ends] == (eps.lengths == 8) & ~eps.terminations[ends]).all()


def test_behaviours_side_by_side_collect_what_each_collects_alone(chain_id, monkeypatch):
    """``collect_each`` (one program, the behaviours on copies of the envs) gives every behaviour the episodes
    ``collect`` gives it alone, field by field, with a level schedule; copies that do not fit in ``max_envs``
    together run one after another."""
    from realax.offline import generate

    spec = DataSpec(chain_id, policy="random", episodes=13)
    setup = build(spec)
    bounce = lambda key, obs, state, level: (obs < 2).astype(jnp.int32)  # reads its own block's observation
    acts = [behaviour_of(setup, spec, name) for name in ("random", "chain_env:go_right")] + [bounce]
    programs = []  # the behaviours of each program run
    run = generate._collect
    monkeypatch.setattr(generate, "_collect", lambda env, params, a, *rest: programs.append(len(a)) or
                        run(env, params, a, *rest))
    for max_envs, want in ((39, [3]), (38, [1, 1, 1])):  # 3 copies of 13 envs: within the cap, then over it
        programs.clear()
        each = collect_each(setup.env, setup.params, acts, jax.random.key(4), 13, level=(0.2, 0.9),
                            max_envs=max_envs, chunk=3, progress=False)
        assert programs == want
        for act, eps in zip(acts, each, strict=True):
            alone = collect(setup.env, setup.params, act, jax.random.key(4), 13, level=(0.2, 0.9), max_envs=max_envs,
                            chunk=3, progress=False)
            for field in ("observations", "next_observations", "actions", "rewards", "terminations", "truncations",
                          "lengths", "seeds"):
                np.testing.assert_array_equal(getattr(eps, field), getattr(alone, field), err_msg=field)
        assert each[1].returns().mean() > each[0].returns().mean() and each[2].returns().sum() == 0.0  # bounce: never
    assert collect_each(setup.env, setup.params, [], jax.random.key(4), 13) == []  # nothing to run: no program


def test_multi_agent_dataset_keeps_the_agent_axis(tmp_path, monkeypatch):
    import minari

    realism = RealismConfig(action_delay=1, cost_budget=3.0)
    spec = DataSpec("realax/SpectrumMA-v0", policy="sense_and_avoid", episodes=6, level=0.8, realism=realism,
                    env_kwargs={"max_steps": 20})
    path, meta = generate_dataset(spec, tmp_path / "spectrum-ma-v0", progress=False)
    a = 4  # the default marl_mixed scenario has four radios
    assert meta["multi_agent"] and len(meta["agents"]) == a and meta["realism"] == realism.to_dict()
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    ds = minari.load_dataset("spectrum-ma-v0")
    assert ds.observation_space.shape == (a, 8, 10) and ds.action_space.shape == (a,)
    ep = ds[0]
    assert ep.observations.shape == (21, a, 8, 10) and ep.actions.shape == (20, a) and ep.rewards.shape == (20, a)
    assert ep.infos["cost"].shape == (21, 1) and ep.infos["cost"][0, 0] == 0
    assert ep.infos["alive"].shape == ep.infos["invalid_action"].shape == (21, a)  # the env's own info, per step
    # the cost is 1 where the radios' summed reward is negative (threshold 0)
    np.testing.assert_array_equal(ep.infos["cost"][1:, 0], (ep.rewards.sum(1) < 0).astype(np.float32))
    assert minari_io.verify(path) == []
    n = np.load(minari_io.export(path, "neorl", tmp_path / "npz")[0])
    assert n["obs"].shape[1:] == (a, 8, 10) and n["action"].shape[1:] == (a,) and n["reward"].shape[1:] == (a,)
    assert n["costs"].shape == (len(n["obs"]), 1)


def test_single_agent_dataset_recovers_its_gymnasium_env(tmp_path):
    spec = DataSpec("realax/Spectrum-v0", policy="random", episodes=3, env_kwargs={"scenario": "constant",
                                                                                 "max_steps": 10})
    path, _ = generate_dataset(spec, tmp_path / "spectrum-v0", progress=False)
    env = minari_io.load(path).recover_environment()
    assert env.unwrapped.params.max_steps == 10 and env.observation_space.shape == (8, 10)


def test_cli_generate_and_measure_json(chain_id, tmp_path):
    out = tmp_path / "chain-v0"
    r = runner.invoke(app, ["data", "generate", chain_id, "--policy", "chain_env:go_right", "--episodes", "50",
                            "--level", "0.5", "--seed", "1", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "50 episodes" in r.output and "transitions/s" in r.output
    res = json.loads(runner.invoke(app, ["data", "measure", str(out), "--json"]).output)
    assert 0 < res["tq"] < 1 and 0.5 <= res["saco"] <= 1.0 and res["reference_unique_pairs"] == 8


@pytest.mark.parametrize("args, message", [
    (["realax/Nope-v0"], "unknown environment id"),
    (["realax/Spectrum-v0", "--policy", "oracle"], "unknown policy 'oracle'"),
    (["realax/Spectrum-v0", "--level", "1.5"], "Invalid value for '--level'"),
    (["realax/Spectrum-v0", "--noise", "0.1"], "noise applies to continuous"),
    (["realax/Spectrum-v0", "--episodes", "0"], "Invalid value for '--episodes'"),
    (["realax/Spectrum-v0", "--disturbance", "wind"], "'action' or 'param:<field>'"),
])
def test_cli_generate_rejects_bad_input(tmp_path, args, message):
    base = ["data", "generate", *args[:1], "--out", str(tmp_path / "x-v0"), "--quiet"]
    if "--episodes" not in args:
        base += ["--episodes", "2"]
    r = runner.invoke(app, base + args[1:])
    assert r.exit_code == 2 and message in " ".join(r.output.replace("│", " ").split()), r.output
    assert not (tmp_path / "x-v0").exists()


def test_a_folder_that_is_not_an_agent_is_refused(tmp_path):
    r = runner.invoke(app, ["data", "generate", "realax/Spectrum-v0", "--policy", str(tmp_path), "--episodes", "2",
                            "--out", str(tmp_path / "x-v0")])
    assert r.exit_code != 0 and "not a saved agent" in " ".join(r.output.replace("│", " ").split())  # box may wrap


def test_calibrate_level_hits_a_fraction_of_the_expert_return(chain_id):
    from realax.offline.generate import calibrate_level

    spec = DataSpec(chain_id, policy="chain_env:go_right", episodes=10)
    setup = build(spec)
    level = calibrate_level(setup, spec, 0.5, episodes=256)
    act = behaviour_of(setup, spec)
    ret = lambda lv: collect(setup.env, setup.params, act, jax.random.key(5), 256, level=lv,  # noqa: E731
                             progress=False).returns().mean()
    r0, r1 = ret(0.0), ret(1.0)
    assert r1 == 1.0 and 0.0 < level < 1.0
    assert abs((ret(level) - r0) / (r1 - r0) - 0.5) < 0.1  # on fresh episodes
    with pytest.raises(ValueError, match="fraction"):
        calibrate_level(setup, spec, 1.5)


def test_saved_agent_policy_collects_on_the_env_it_was_trained_on(tmp_path):
    agent = tmp_path / "agent"
    r = runner.invoke(app, ["train", "qlearning", "realax/Spectrum-v0", "--scenario", "constant", "-e", "history=1",
                            "-e", "max_steps=20", "--total-timesteps", "2000", "--num-seeds", "1", "--episodes", "2",
                            "--out", str(agent)])
    assert r.exit_code == 0, r.output
    path, meta = generate_dataset(DataSpec("realax/Spectrum-v0", policy=str(agent), episodes=3), tmp_path / "a-v0",
                                  progress=False)
    # the agent's env options are taken over (its network fits history=1) and recorded
    assert meta["env_kwargs"] == {"scenario": "constant", "history": 1, "max_steps": 20}
    assert minari_io.load(path)[0].observations.shape == (21, 1, 10)
    assert meta["expert_policy"] == str(agent) and "ref_max_score" in meta  # the agent is its own expert
    with pytest.raises(ValueError, match="cannot collect with"):
        generate_dataset(DataSpec("realax/Spectrum-v0", policy=str(agent), episodes=3, env_kwargs={"history": 8}),
                         tmp_path / "b-v0", progress=False)
