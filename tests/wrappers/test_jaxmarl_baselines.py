"""JaxMARL's own IPPO and MAPPO SMAX training scripts train on realax's SMAX 3m through the adapter (issue 17).

The scripts in ``jaxmarl_baselines/`` are JaxMARL's ``baselines/IPPO/ippo_rnn_smax.py`` and
``baselines/MAPPO/mappo_rnn_smax.py``, unchanged but for the import line a JaxMARL user changes (see their
headers). Here they run as their ``main()`` runs them, with the configs of their YAML files shrunk to a few
updates of a few envs; hydra, omegaconf and wandb (used only by ``main()`` and the logging callback) are stand-ins,
and the stand-in ``wandb.log`` records what the scripts log. Needs jaxmarl (and distrax, which the scripts
import): the ``[bench]`` extra.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import jax
import numpy as np
import pytest

pytest.importorskip("jaxmarl", reason="jaxmarl is not installed: its baseline scripts import its wrappers "
                                      "(pip install realax[bench])")

import realax.wrappers.jaxmarl as adapter  # noqa: E402

SCRIPTS = Path(__file__).parent / "jaxmarl_baselines"
NUM_ENVS, NUM_STEPS, NUM_UPDATES = 4, 16, 2
#: baselines/IPPO/config/ippo_rnn_smax.yaml and baselines/MAPPO/config/mappo_homogenous_rnn_smax.yaml (their
#: shared keys), on 3m, with NUM_ENVS/NUM_STEPS/TOTAL_TIMESTEPS/NUM_MINIBATCHES/UPDATE_EPOCHS shrunk and
#: max_steps=10 (a JaxMARL SMAX keyword), so every env ends an episode within an update's 16 steps
CONFIG = {"NUM_ENVS": NUM_ENVS, "NUM_STEPS": NUM_STEPS, "TOTAL_TIMESTEPS": NUM_UPDATES * NUM_STEPS * NUM_ENVS,
          "GRU_HIDDEN_DIM": 128, "FC_DIM_SIZE": 128, "UPDATE_EPOCHS": 2, "NUM_MINIBATCHES": 2, "GAMMA": 0.99,
          "GAE_LAMBDA": 0.95, "SCALE_CLIP_EPS": False, "VF_COEF": 0.5, "MAX_GRAD_NORM": 0.25, "ACTIVATION": "relu",
          "ENV_NAME": "HeuristicEnemySMAX", "MAP_NAME": "3m", "SEED": 0, "ANNEAL_LR": True,
          "ENV_KWARGS": {"see_enemy_actions": True, "walls_cause_death": True, "attack_mode": "closest",
                         "max_steps": 10}}
IPPO = {**CONFIG, "LR": 0.004, "CLIP_EPS": 0.05, "ENT_COEF": 0.01, "NUM_SEEDS": 1}
MAPPO = {**CONFIG, "LR": 0.002, "CLIP_EPS": 0.2, "ENT_COEF": 0.0, "OBS_WITH_AGENT_ID": True}


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, list[dict]]:
    """The script ``name`` imported with stand-ins for hydra, omegaconf and wandb; the list gets every
    ``wandb.log`` call."""
    logged: list[dict] = []
    wandb = types.ModuleType("wandb")
    wandb.log = logged.append  # type: ignore[attr-defined]
    hydra = types.ModuleType("hydra")
    hydra.main = lambda **_: (lambda f: f)  # type: ignore[attr-defined]
    omegaconf = types.ModuleType("omegaconf")
    omegaconf.OmegaConf = None  # type: ignore[attr-defined]
    for module in (wandb, hydra, omegaconf):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    spec = importlib.util.spec_from_file_location(f"jaxmarl_{name}", SCRIPTS / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.HeuristicEnemySMAX is adapter.HeuristicEnemySMAX  # the env is realax's
    return script, logged


def _check(logged: list[dict], params) -> None:
    assert len(logged) == NUM_UPDATES
    assert [int(m["env_step"]) for m in logged] == [u * NUM_ENVS * NUM_STEPS for u in range(NUM_UPDATES)]
    for m in logged:  # what the scripts log: episodes ended (max_steps 10 < 16 steps), so these are numbers
        assert np.isfinite(m["returns"]) and 0.0 <= m["win_rate"] <= 1.0
        assert np.isfinite(m["total_loss"]) and np.isfinite(m["entropy"])
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(params))


def test_jaxmarl_ippo_smax_script_trains_on_realax(monkeypatch):
    ippo, logged = _load("ippo_rnn_smax", monkeypatch)
    config = dict(IPPO)
    # as the script's main(): one jitted train, vmapped over NUM_SEEDS keys
    rngs = jax.random.split(jax.random.PRNGKey(config["SEED"]), int(config["NUM_SEEDS"]))
    out = jax.block_until_ready(jax.vmap(jax.jit(ippo.make_train(config)))(rngs))
    (train_state, *_), update_steps = out["runner_state"]
    assert int(update_steps[0]) == NUM_UPDATES
    _check(logged, train_state.params)


def test_jaxmarl_mappo_smax_script_trains_on_realax(monkeypatch):
    mappo, logged = _load("mappo_rnn_smax", monkeypatch)
    config = dict(MAPPO)
    out = jax.block_until_ready(jax.jit(mappo.make_train(config))(jax.random.PRNGKey(config["SEED"])))
    ((actor, critic), *_), update_steps = out["runner_state"]
    assert int(update_steps) == NUM_UPDATES
    _check(logged, (actor.params, critic.params))


def test_jaxmarl_log_wrapper_reads_the_adapter():
    """JaxMARL's generic LogWrapper over the adapter, vmapped: every info entry is per agent (SMAXLogWrapper and
    the MAPPO script's world-state wrapper run in the training tests above)."""
    from jaxmarl.wrappers.baselines import LogWrapper

    env = LogWrapper(adapter.HeuristicEnemySMAX(scenario=adapter.map_name_to_scenario("3m"), max_steps=3))
    obs, state = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    acts = {a: np.full(2, 4, np.int32) for a in env.agents}  # stop
    for t in range(3):
        obs, state, reward, done, info = jax.vmap(env.step)(jax.random.split(jax.random.PRNGKey(t), 2), state, acts)
    assert {k: v.shape for k, v in info.items()} == {k: (2, 3) for k in info}
    assert bool(done["__all__"].all()) and bool(info["returned_episode"].all())
    assert info["returned_episode_lengths"].tolist() == [[3, 3, 3]] * 2
