"""Built-in scenarios, written in RFRL Gym's own JSON schema, and the random scenario generator.

``constant``, ``hopper``, ``mixed`` and ``agile`` mirror the four scenarios of RFRL Gym's ICMLA 2023 paper
(Rosen et al., Table III): 10 channels, 100 steps; (1) one constant emitter, jam, classify; (2) a fixed
hopper whose pattern is ch4, ch4, ch5, jam, classify; (3) a fixed hopper over all channels in a
non-sequential order + a constant on ch5 + a stochastic hopper over {0, 9}, dsa, detect; (4) scenario 3 +
an agile emitter, dsa, classify. ``jam_hopper`` is RFRL Gym's ``sb3_test_scenario`` (jam a fixed hopper
among constants and a second hopper). The ``jammer_*`` scenarios put a radio doing spectrum access (dsa)
against reactive, sweep and follow-the-transmitter jammers; ``dense`` and ``random`` are our harder ones.
``marl_mixed`` is the multi-agent Scenario 5 of the CCNC 2025 paper (two dsa radios, two jamming radios).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp

from realax.core import MAX_SEED, MAX_STEPS, check_int
from realax.envs.spectrum import schema as sc
from realax.envs.spectrum.dynamics import EntityParams, entity_params


def _scn(entities: dict, obs: str, reward: str, target: str | None = None, channels: int = 10,
         steps: int = 100) -> dict:
    env = {"num_channels": channels, "max_steps": steps, "observation_mode": obs, "reward_mode": reward,
           "target_entity": target}
    return {"environment": env, "entities": entities}


_CONST = {"type": "ConstantFreq"}
BUILTIN: dict[str, dict] = {
    "constant": _scn({"tv": {**_CONST, "channels": [4]}}, "classify", "jam", "tv"),
    "hopper": _scn({"hopper": {"type": "FixedHopFreq", "channels": [4, 4, 5], "rand_hop": 0}},
                   "classify", "jam", "hopper"),
    "mixed": _scn({
        "hopper": {"type": "FixedHopFreq", "channels": [3, 7, 1, 8, 0, 6, 2, 9, 4, 5], "rand_hop": 0},
        "tv": {**_CONST, "channels": [5]},
        "bursty": {"type": "StochasticHopFreq", "channels": [0, 9]},
    }, "detect", "dsa"),
    "agile": _scn({
        "hopper": {"type": "FixedHopFreq", "channels": [3, 7, 1, 8, 0, 6, 2, 9, 4, 5], "rand_hop": 0},
        "tv": {**_CONST, "channels": [5]},
        "bursty": {"type": "StochasticHopFreq", "channels": [0, 9]},
        "agile": {"type": "AgileFreq", "channels": [1, 2, 3, 4, 6, 7, 8]},
    }, "classify", "dsa"),
    "jam_hopper": _scn({
        "tv_low": {**_CONST, "channels": [0]},
        "tv_high": {**_CONST, "channels": [9]},
        "hopper": {"type": "FixedHopFreq", "channels": [1, 2, 3, 4, 5, 6, 7, 8], "rand_hop": 0},
        "hopper_2": {"type": "FixedHopFreq", "channels": [3, 6, 8, 1, 4, 2, 5, 7], "rand_hop": 0},
    }, "classify", "jam", "hopper"),
    "jammer_reactive": _scn({
        "tv": {**_CONST, "channels": [2]},
        "radar": {**_CONST, "channels": [7], "onoff": [1, 3, 2]},
        "jammer": {"type": "SimpleJammer", "channels": list(range(10))},
        "jammer_2": {"type": "SimpleJammer", "channels": list(range(10)), "avoid_repeats": False},
    }, "classify", "dsa"),
    "jammer_sweep": _scn({
        "sweep": {"type": "SweepJammer", "channels": list(range(10))},
        "sweep_2": {"type": "SweepJammer", "channels": list(range(10)), "dwell": 2},
        "tv": {**_CONST, "channels": [4]},
        "bursty": {"type": "StochasticConstantFreq", "channels": [6], "percent_on": 0.5},
    }, "detect", "dsa"),
    "jammer_follow": _scn({
        "follower": {"type": "FollowJammer", "channels": list(range(10))},
        "tv": {**_CONST, "channels": [0]},
        "hopper": {"type": "FixedHopFreq", "channels": [1, 4, 7, 2, 5, 8, 3, 6, 9], "rand_hop": 0},
        "bursty": {"type": "StochasticHopFreq", "channels": [3, 4, 5, 6]},
    }, "classify", "dsa"),
    "dense": _scn({
        "tv_1": {**_CONST, "channels": [1]},
        "tv_2": {**_CONST, "channels": [8], "onoff": [0, 5, 5]},
        "hop_1": {"type": "FixedHopFreq", "channels": [0, 3, 6, 9, 2, 5], "onoff": [1, 2, 0], "rand_hop": 0},
        "hop_2": {"type": "FixedHopFreq", "channels": [7, 4, 1, 8, 5, 2], "rand_hop": 0},
        "bursty": {"type": "StochasticHopFreq", "channels": [2, 3, 4, 5, 6, 7],
                   "channel_weights": [0.3, 0.3, 0.1, 0.1, 0.1, 0.1]},
        "agile": {"type": "AgileFreq", "channels": [0, 9]},
        "jammer": {"type": "SimpleJammer", "channels": list(range(10)), "start": 20},
    }, "classify", "dsa"),
}


def _random_entities(n: int) -> dict:
    """Placeholder table fixing the shapes of ``random``; its values come from ``sample_entities``."""
    return {f"e{i}": {"type": "FixedHopFreq", "channels": list(range(10)), "rand_hop": 0} for i in range(n)}


BUILTIN["random"] = _scn(_random_entities(4), "detect", "dsa")

# Multi-agent (RFRL Gym marl-dev format): CCNC 2025 Scenario 5, two dsa radios and two jammers.
BUILTIN["marl_mixed"] = {
    "environment": {"num_channels": 10, "max_steps": 100, "agents": {
        "dsa_detect": {"observation_mode": "detect", "reward_mode": "dsa"},
        "dsa_classify": {"observation_mode": "classify", "reward_mode": "dsa"},
        "jam_hopper": {"observation_mode": "classify", "reward_mode": "jam", "target_entity": "hopper_2"},
        "jam_tv": {"observation_mode": "detect", "reward_mode": "jam", "target_entity": "tv_high"}}},
    "entities": BUILTIN["jam_hopper"]["entities"],
}

#: the longest waterfall an observation may hold (frames of ``num_channels`` int8 cells); RFRL Gym observes 1
MAX_HISTORY = 1024

#: kinds the random generator draws from
_RANDOM_KINDS = jnp.array([sc.CONSTANT, sc.FIXED_HOP, sc.RANDOM_HOP, sc.STOCH_CONSTANT, sc.AGILE,
                           sc.REACTIVE_JAMMER, sc.FOLLOW_JAMMER])


def sample_entities(key: jax.Array, like: EntityParams, max_steps: int = 100) -> EntityParams:
    """A random entity table with the shapes of ``like``: kinds, hop orders, duty cycles, windows.

    Jittable and vmappable, so a batch of different scenarios is one ``jax.vmap`` over keys.
    """
    E, L = like.seq.shape
    C = like.cum_weights.shape[1]
    ks = jax.random.split(key, 8)
    kind = jax.random.choice(ks[0], _RANDOM_KINDS, (E,))
    seq = jax.vmap(lambda k: jax.random.permutation(k, jnp.arange(max(L, C)) % C)[:L])(jax.random.split(ks[1], E))
    seq_len = jax.random.randint(ks[2], (E,), 1, L + 1)
    w = jax.random.uniform(ks[3], (E, C)) * (jax.random.uniform(ks[4], (E, C)) < 0.5)
    w = w.at[:, 0].add(1e-3)
    cw = jnp.cumsum(w / w.sum(-1, keepdims=True), -1).at[:, -1].set(1.0 + 1e-6)
    duty = jax.random.randint(ks[5], (E, 2), 0, 6)
    always = jax.random.uniform(ks[6], (E,)) < 0.6
    onoff = jnp.stack([jnp.ones(E, jnp.int32), jnp.maximum(duty[:, 0], 1),
                       jnp.where(always, 0, duty[:, 1])], axis=1)
    start = jnp.where(jax.random.uniform(ks[7], (E,)) < 0.8, 0, jax.random.randint(ks[7], (E,), 0, max_steps // 2))
    return EntityParams(kind=kind.astype(jnp.int32), seq=seq.astype(jnp.int32), seq_len=seq_len.astype(jnp.int32),
                        cum_weights=cw, onoff=onoff.astype(jnp.int32), start=start.astype(jnp.int32),
                        stop=jnp.full((E,), MAX_STEPS, jnp.int32),
                        percent_on=jax.random.uniform(ks[4], (E,), minval=0.3, maxval=1.0),
                        avoid_repeats=jnp.ones((E,), bool))


def entity_table(scenario: sc.Scenario, seed: int = 0) -> EntityParams:
    """The scenario's entities as arrays; the ``random`` scenario's are drawn from ``seed``."""
    ents = entity_params(scenario.entities, scenario.num_channels)
    return sample_entities(jax.random.key(seed), ents) if scenario.name == "random" else ents


def resolve(scenario: str, seed: int = 0) -> sc.Scenario:
    """A built-in name or the path of an RFRL Gym JSON file; anything else is a ``ScenarioError``."""
    if not isinstance(scenario, (str, os.PathLike)):
        raise sc.ScenarioError(f"spectrum scenario must be a built-in name or a .json path (a string), got "
                               f"{sc._short(scenario)}; built-in: {sorted(BUILTIN)}")
    scenario = os.fspath(scenario)
    if scenario in BUILTIN:
        return sc.parse(BUILTIN[scenario], name=scenario, seed=seed)
    if scenario.endswith(".json"):
        return sc.load(scenario, seed=seed)
    raise sc.ScenarioError(f"unknown spectrum scenario {scenario!r}: give a path to an RFRL Gym .json file or one "
                           f"of {sorted(BUILTIN)}")


def constructor_options(owner: str, history: int, seed: int, max_steps: int | None) -> tuple[int, int, int | None]:
    """``(history, seed, max_steps)`` checked for both spectrum envs before anything is built: ``history``
    1..``MAX_HISTORY`` frames, ``seed`` 0..2**32-1, ``max_steps`` None (the scenario's) or 1..``MAX_STEPS``
    (a ``RealaxError`` names the field, the value and the range)."""
    history = check_int("history", history, 1, MAX_HISTORY, owner)
    seed = check_int("seed", seed, 0, MAX_SEED, owner)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, 1, MAX_STEPS, owner)
    return history, seed, max_steps
