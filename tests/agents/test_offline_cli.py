"""``realax data train`` and ``realax train dqn --set dataset=DIR`` end to end on datasets written to disk
(Minari format), and their errors."""

import json

import offline_envs as oe
import pytest
from typer.testing import CliRunner

from realax.cli import app
from realax.offline.dataset import generate_dataset
from realax.offline.generate import DataSpec

runner = CliRunner()


def flat(output: str) -> str:
    """The output with rich's box drawing and line wrapping removed."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    oe.register_all()
    root = tmp_path_factory.mktemp("data")
    chain = DataSpec(oe.CHAIN_ID, policy="offline_envs:go_right", episodes=40, level=1.0, expert="offline_envs:go_right")
    reach = DataSpec(oe.REACH_ID, policy="offline_envs:reach_expert", episodes=10, expert="offline_envs:reach_expert")
    generate_dataset(chain, root / "chain-expert-v0", progress=False)
    generate_dataset(reach, root / "reach-expert-v0", progress=False)
    yield root
    oe.unregister_all()


def test_data_train_scores_bc_on_a_stored_dataset(datasets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run folders go to runs/ here
    r = runner.invoke(app, ["data", "train", "bc", str(datasets / "chain-expert-v0"), "--seeds", "2", "--steps", "300",
                            "--episodes", "10", "--set", "hidden=32", "--set", "updates_per_chunk=300", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["env_id"] == oe.CHAIN_ID and res["seeds"] == 2 and res["num_updates"] == 300
    assert res["score_per_seed"] == pytest.approx([100.0, 100.0])  # expert data, expert recovered
    assert res["behaviour_score"] == pytest.approx(100.0)
    text = runner.invoke(app, ["data", "train", "bc", str(datasets / "chain-expert-v0"), "--seeds", "1", "--steps",
                               "100", "--episodes", "5", "--set", "hidden=16", "--set", "updates_per_chunk=100"])
    assert text.exit_code == 0 and "normalised score" in text.output and "behaviour (dataset) score 100.0" in text.output


def test_data_train_errors(datasets, tmp_path):
    cases = [(["td3bc", str(datasets / "chain-expert-v0")], "td3bc trains box/simplex actions"),
             (["sac", str(datasets / "chain-expert-v0")], "'sac': an online learner (use `realax train`)"),
             (["nope", str(datasets / "chain-expert-v0")], "'nope': unknown offline algorithm"),
             (["bc", str(tmp_path)], "not a dataset folder"),
             (["bc", str(datasets / "chain-expert-v0"), "--set", "bogus"], "must look like KEY=VALUE")]
    for args, message in cases:
        r = runner.invoke(app, ["data", "train", *args])
        assert r.exit_code == 2 and message in flat(r.output), (args, r.output)


def test_train_dqn_hybrid_from_the_command_line(datasets, tmp_path):
    r = runner.invoke(app, ["train", "dqn", oe.CHAIN_ID, "--total-timesteps", "2000", "--num-seeds", "1",
                            "--episodes", "5", "--set", f"dataset={datasets / 'chain-expert-v0'}", "--set", "hidden=32",
                            "--set", "learning_starts=100", "--set", "updates_per_chunk=100", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["agent_mean"] == 1.0  # expert data in every batch: the greedy policy walks to the goal
    bad = runner.invoke(app, ["train", "dqn", oe.REACH_ID, "--total-timesteps", "100"])
    assert bad.exit_code == 2 and "dqn needs discrete actions" in flat(bad.output)
