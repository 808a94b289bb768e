"""The ``realax`` command end to end, on tiny budgets."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from realax.cli import app

runner = CliRunner()


def _ok(args):
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def test_list_shows_ids_and_spaces():
    out = _ok(["list"])
    assert "realax/Spectrum-v0" in out and "realax/SpectrumMA-v0" in out and "Discrete(11)" in out


def test_train_eval_render_roundtrip(tmp_path):
    run = tmp_path / "run"
    out = _ok(["train", "qlearning", "realax/Spectrum-v0", "--scenario", "constant", "-e", "history=1",
               "--total-timesteps", "20000", "--num-seeds", "2", "--episodes", "5", "--out", str(run)])
    assert "qlearning (greedy)" in out and "sense_and_avoid" in out and (run / "curve.png").exists()
    res = json.loads(_ok(["eval", "realax/Spectrum-v0", "--policy", str(run), "--episodes", "5", "--json"]))
    saved = json.loads((run / "metrics.json").read_text())
    assert res["mean"] == max(saved["agent_seed_means"]) == 100.0
    gif = tmp_path / "a.gif"
    _ok(["render", "realax/Spectrum-v0", "--policy", str(run), "--out", str(gif), "--steps", "5"])
    assert gif.stat().st_size > 100


def test_train_qmix_on_smax_and_eval_the_saved_recurrent_agent(tmp_path):
    run = tmp_path / "qmix"
    out = _ok(["train", "qmix", "realax/SMAX-v0", "--scenario", "3m", "--total-timesteps", "256", "--num-seeds", "1",
               "--episodes", "2", "--out", str(run), "--set", "num_envs=4", "--set", "num_steps=16", "--set", "hidden=16",
               "--set", "buffer_size=4", "--set", "learning_starts=64", "--set", "mixer_embed=8",
               "--set", "hypernet_hidden=16"])
    assert "qmix (greedy)" in out and "win rate" in out and "random" in out
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["step"] == 256 and len(saved["agent_seed_means"]) == 1
    res = json.loads(_ok(["eval", "realax/SMAX-v0", "--policy", str(run), "--episodes", "2", "--json"]))
    assert res["episodes"] == 2 and 0.0 <= res["win_rate"] <= 1.0


def test_eval_baseline_json_and_bench():
    res = json.loads(_ok(["eval", "realax/Spectrum-v0", "--scenario", "mixed", "--policy", "sense_and_avoid",
                          "--episodes", "20", "--json"]))
    assert set(res) == {"mean", "std", "episodes"} and -100 <= res["mean"] <= 100
    ma = json.loads(_ok(["eval", "realax/SpectrumMA-v0", "--policy", "random", "--episodes", "4", "--json"]))
    assert -400 <= ma["mean"] <= 400 and "win_rate" not in ma
    smax = json.loads(_ok(["eval", "realax/SMAX-v0", "--scenario", "3m", "--episodes", "16", "--json"]))
    assert smax["win_rate"] == 0.0  # random allies never beat the heuristic on 3m (0 of 10,000 in the parity run)
    out = _ok(["bench", "realax/Spectrum-v0", "--num-envs", "8", "--num-steps", "10"])
    row = next(line for line in out.splitlines() if line.startswith("| `realax/Spectrum-v0`")).split("|")
    assert row[2].strip().startswith("cpu:") and row[3].strip() == "8" and float(row[4].replace(",", "")) > 0
    assert row[6].strip() == "119"  # t, tx history, entity windows...: the state's bytes (bench.state_bytes)
    for args, msg in ((["bench"], "give one ENV_ID, or --all"), (["bench", "realax/Spectrum-v0", "--all"], "give one ENV_ID"),
                      (["bench", "--all", "--scenario", "mixed"], "--all takes no --scenario or -e")):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and msg in r.output, r.output


def test_bad_input_is_refused_with_a_message():
    r = runner.invoke(app, ["eval", "realax/Spectrum-v0", "--scenario", "nope"])
    assert r.exit_code != 0 and "unknown spectrum scenario" in r.output
    r = runner.invoke(app, ["train", "nope", "realax/Spectrum-v0"])
    assert r.exit_code != 0 and "unknown algorithm" in r.output
    r = runner.invoke(app, ["train", "ppo", "realax/Spectrum-v0", "--set", "nope=1"])
    assert r.exit_code != 0 and "no field 'nope'" in r.output


def test_set_parses_booleans_and_refuses_other_words():
    from realax.agents.algorithms import make_config

    c = make_config("mappo", {"recurrent": "true", "agent_id": "False", "lr": "0.01"})
    assert c.recurrent is True and c.agent_id is False and c.lr == 0.01
    r = runner.invoke(app, ["train", "mappo", "realax/SMAX-v0", "--set", "recurrent=maybe"])
    text = " ".join(r.output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
    assert r.exit_code == 2 and "option 'recurrent' of MAPPOConfig takes true or false" in text


def test_train_help_names_every_algorithm():
    from realax.agents.algorithms import names
    from realax.cli import ALGO_HELP

    online = names(offline=False)
    assert online and all(name in ALGO_HELP for name in online), (online, ALGO_HELP)


def test_a_saved_agents_options_match_the_same_file_by_any_path(tmp_path, monkeypatch):
    from realax.agents.checkpoint import kwargs_clash

    f = tmp_path / "city.json"
    f.write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert kwargs_clash({"scenario": str(f), "history": 2}, {"scenario": "city.json", "history": 2}) == {}
    assert kwargs_clash({"scenario": str(f), "history": 2}, {"history": 3}) == {"history": 3}
    assert kwargs_clash({"scenario": "hopper"}, {"scenario": "constant"}) == {"scenario": "constant"}
