"""RFRL Gym scenario files: a strict schema, a loader that never evaluates content, and the arrays.

The JSON layout, entity classes and their fields follow RFRL Gym (Rosen et al., ICMLA 2023;
``vtnsiSDD/rfrl-gym`` ``scenarios/*.json`` and ``rfrl_gym/entities/*.py``); its multi-agent branch
(``marl-dev``, Vangaru et al., CCNC 2025) replaces the environment's observation/reward/target keys with an
``agents`` table. RFRL Gym builds entities with ``eval`` of file content; here every field is checked
against the schema below and copied into numbers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection
from typing import Any, NoReturn

import numpy as np

from realax.core import MAX_STEPS
from realax.errors import RealaxError
from realax.files import read_json

# Entity kinds (codes used inside jit). 0 pads unused entity slots.
NONE, CONSTANT, FIXED_HOP, RANDOM_HOP, STOCH_CONSTANT, AGILE, REACTIVE_JAMMER, FOLLOW_JAMMER = range(8)

#: RFRL Gym class names (and ours) -> kind. A sweep jammer is a fixed hopper over sorted channels.
ENTITY_TYPES = {
    "ConstantFreq": CONSTANT,
    "FixedHopFreq": FIXED_HOP,
    "StochasticHopFreq": RANDOM_HOP,
    "StochasticConstantFreq": STOCH_CONSTANT,
    "AgileFreq": AGILE,
    "SimpleJammer": REACTIVE_JAMMER,
    "SweepJammer": FIXED_HOP,
    "FollowJammer": FOLLOW_JAMMER,
}
OBS_MODES = ("detect", "classify")
REWARD_MODES = ("dsa", "jam")

_ENTITY_FIELDS = {"type", "channels", "onoff", "start", "stop", "rand_hop", "channel_weights",
                  "percent_on", "avoid_repeats", "dwell", "modem_params"}
_ENV_FIELDS = {"num_channels", "max_steps", "observation_mode", "reward_mode", "target_entity",
               "agents", "detector", "comments"}
_AGENT_FIELDS = {"observation_mode", "reward_mode", "target_entity"}
_TOP_FIELDS = {"environment", "entities", "render"}
#: fields accepted for compatibility but meaningless here (IQ generation, detectors, the PyQt renderer)
_UNUSED_ENTITY = {"modem_params"}
_UNUSED_ENV = {"detector", "comments"}


#: bounds on what a file may ask for, checked before any array is built (the arrays are [entities, hop list]
#: and [history, channels] int8 frames): channels 1..127 and entities + agents + 1 <= 127 because occupancy
#: codes are int8 (0 free, 1..E entities, E+1..E+A radios, then the collision code); hop lists up to 1024
#: entries (RFRL Gym's files use at most 10); times (max_steps, start, onoff, dwell) up to ``MAX_STEPS``.
MAX_CHANNELS = 127
MAX_HOP = 1024
MAX_CODES = 127


class ScenarioError(RealaxError):
    """A scenario that does not follow the schema; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Entity:
    label: str
    kind: int
    channels: tuple[int, ...]  # hop order for hoppers; channels[0] for constants
    onoff: tuple[int, int, int] = (1, 1, 0)  # [starts on, steps on, steps off]; 0 = never toggle
    start: int = 0
    stop: int = MAX_STEPS
    weights: tuple[float, ...] = ()  # random hopper: probability of each entry of ``channels``
    percent_on: float = 1.0  # stochastic constant: probability of transmitting each step
    avoid_repeats: bool = True  # reactive jammer: prefer a channel other than its last one
    modem: tuple = ()  # the file's ``modem_params`` as sorted (key, value) pairs (lists as tuples), unchecked:
    # only ``realax/SpectrumIQ-v0`` reads it (``realax.envs.spectrum.iq.modem_spec`` validates it there)


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    observation_mode: str
    reward_mode: str
    target: int  # 1-based entity index, 0 = none


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    num_channels: int
    max_steps: int
    entities: tuple[Entity, ...]
    agents: tuple[AgentSpec, ...]  # one for single-agent files
    unused: tuple[str, ...] = ()  # accepted fields that have no effect here (IQ-only, renderer)
    multi_agent_file: bool = False
    detector: tuple = ()  # the file's ``environment.detector`` as frozen pairs (read by the IQ env only)


def _fail(path: str, msg: str) -> NoReturn:
    raise ScenarioError(f"scenario field {path}: {msg}")


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int(v: Any, path: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        _fail(path, f"expected an integer, got {_short(v)}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        _fail(path, f"{v} is outside the allowed range {lo}..{'' if hi is None else hi}")
    return v


def _float(v: Any, path: str, lo: float, hi: float) -> float:
    # compared as Python numbers: np.isfinite raises a TypeError on an int beyond float (10**400)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        _fail(path, f"expected a number in [{lo}, {hi}], got {_short(v)}")
    return float(v)


def _choice(v: Any, path: str, allowed: Collection[Any]) -> Any:
    if not isinstance(v, (str, type(None))) or v not in allowed:
        _fail(path, f"{_short(v)} is not one of {list(allowed)}")
    return v


def _known(d: Any, path: str, allowed: set[str]) -> dict:
    if not isinstance(d, dict):
        _fail(path, f"expected an object, got {type(d).__name__}")
    for k in d:
        if k not in allowed:
            _fail(f"{path}.{k}", f"unknown field; allowed fields: {sorted(allowed)}")
    return d


def freeze(v: Any) -> Any:
    """JSON content as hashable tuples: an object becomes sorted (key, value) pairs, a list a tuple."""
    if isinstance(v, dict):
        return tuple(sorted((str(k), freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(freeze(x) for x in v)
    return v


def _entity(label: str, d: Any, num_channels: int, rng: np.random.Generator) -> tuple[Entity, list[str]]:
    path = f"entities.{label}"
    d = _known(d, path, _ENTITY_FIELDS)
    if "type" not in d:
        _fail(f"{path}.type", f"missing; one of {sorted(ENTITY_TYPES)}")
    kind = ENTITY_TYPES[_choice(d["type"], f"{path}.type", sorted(ENTITY_TYPES))]
    chans = d.get("channels")
    if not isinstance(chans, list) or not 1 <= len(chans) <= MAX_HOP:
        _fail(f"{path}.channels", f"expected a list of 1..{MAX_HOP} channel indices, got {_short(chans)}")
    chans = [_int(c, f"{path}.channels[{i}]", 0, num_channels - 1) for i, c in enumerate(chans)]
    onoff = d.get("onoff", [1, 1, 0])
    if not isinstance(onoff, list) or len(onoff) != 3:
        _fail(f"{path}.onoff", f"expected [start_on, steps_on, steps_off], got {onoff!r}")
    onoff = (_int(onoff[0], f"{path}.onoff[0]", 0, 1), _int(onoff[1], f"{path}.onoff[1]", 0, MAX_STEPS),
             _int(onoff[2], f"{path}.onoff[2]", 0, MAX_STEPS))
    start = _int(d["start"], f"{path}.start", 0, MAX_STEPS) if d.get("start") is not None else 0
    # a stop beyond the longest episode means "never stops": any non-negative integer, kept as MAX_STEPS
    stop = min(_int(d["stop"], f"{path}.stop", 0), MAX_STEPS) if d.get("stop") is not None else MAX_STEPS
    if d["type"] == "StochasticConstantFreq" and "onoff" in d:
        _fail(f"{path}.onoff", "StochasticConstantFreq takes percent_on, not onoff")
    if "dwell" in d:  # ours: steps spent on each channel of a hop/sweep, RFRL's [1, dwell, 0] duty cycle
        if "onoff" in d:
            _fail(f"{path}.dwell", "give either dwell or onoff, not both")
        onoff = (1, _int(d["dwell"], f"{path}.dwell", 1, MAX_STEPS), 0)
    if _int(d.get("rand_hop", 0), f"{path}.rand_hop", 0, 1) == 1:
        chans = list(rng.permutation(chans))  # RFRL shuffles the hop order once, at construction
    if d["type"] == "SweepJammer":
        chans = sorted(chans)
    weights: tuple[float, ...] = ()
    if "channel_weights" in d and d["channel_weights"] != []:
        w = d["channel_weights"]
        if not isinstance(w, list) or len(w) != len(chans):
            _fail(f"{path}.channel_weights", f"expected {len(chans)} probabilities, got {_short(w)}")
        weights = tuple(_float(x, f"{path}.channel_weights[{i}]", 0.0, 1.0) for i, x in enumerate(w))
        if abs(sum(weights) - 1.0) > 0.01:
            _fail(f"{path}.channel_weights", f"probabilities sum to {sum(weights):.3f}, not 1")
    percent_on = _float(d.get("percent_on", 1.0), f"{path}.percent_on", 0.0, 1.0)
    avoid = d.get("avoid_repeats", True)
    if not isinstance(avoid, bool):
        _fail(f"{path}.avoid_repeats", f"expected true or false, got {avoid!r}")
    unused = [f"{path}.{k}" for k in d if k in _UNUSED_ENTITY]
    ent = Entity(label, kind, tuple(int(c) for c in chans), onoff, start, stop, weights, percent_on, avoid,
                 freeze(d["modem_params"]) if "modem_params" in d else ())
    return ent, unused


def _agent(d: Any, path: str, labels: list[str]) -> AgentSpec:
    d = _known(d, path, _AGENT_FIELDS)
    obs = _choice(d.get("observation_mode", "detect"), f"{path}.observation_mode", OBS_MODES)
    rew = _choice(d.get("reward_mode", "dsa"), f"{path}.reward_mode", REWARD_MODES)
    target = d.get("target_entity")
    if target is not None:
        _choice(target, f"{path}.target_entity", labels)
    if rew == "jam" and target is None:
        _fail(f"{path}.target_entity", f"reward_mode 'jam' needs a target entity, one of {labels}")
    return AgentSpec(obs, rew, 0 if target is None else labels.index(target) + 1)


def parse(data: Any, name: str = "scenario", seed: int = 0) -> Scenario:
    """Validate a decoded scenario (RFRL Gym single- or multi-agent format) and build a ``Scenario``."""
    data = _known(data, "<top>", _TOP_FIELDS)
    for key in ("environment", "entities"):
        if key not in data:
            _fail(key, "missing")
    env = _known(data["environment"], "environment", _ENV_FIELDS)
    for key in ("num_channels", "max_steps"):
        if key not in env:
            _fail(f"environment.{key}", "missing")
    num_channels = _int(env["num_channels"], "environment.num_channels", 1, MAX_CHANNELS)
    max_steps = _int(env["max_steps"], "environment.max_steps", 1, MAX_STEPS)
    ents = _known(data["entities"], "entities", set(data["entities"]) if isinstance(data["entities"], dict) else set())
    if len(ents) > 120 - num_channels:
        _fail("entities", f"{len(ents)} entities is too many: at most 120 - num_channels = {120 - num_channels} "
                          "(occupancy codes are int8)")
    rng = np.random.default_rng(seed)
    entities, unused = [], [f"environment.{k}" for k in env if k in _UNUSED_ENV]
    for label, d in ents.items():
        e, u = _entity(label, d, num_channels, rng)
        entities.append(e)
        unused += u
    labels = [e.label for e in entities]
    multi = "agents" in env
    if multi:
        for k in ("observation_mode", "reward_mode", "target_entity"):
            if k in env:
                _fail(f"environment.{k}", "a multi-agent scenario sets this per agent under 'agents'")
        agents_d = env["agents"]
        if not isinstance(agents_d, dict) or not agents_d:
            _fail("environment.agents", "expected a non-empty object of agents")
        most = max_agents(max(len(entities), 1))
        if len(agents_d) > most:
            _fail("environment.agents", f"{len(agents_d)} agents is too many with {len(entities)} entities: at most "
                                        f"{most} (entities + agents + 1 collision code <= {MAX_CODES}, int8)")
        agents = tuple(_agent(a, f"environment.agents.{k}", labels) for k, a in agents_d.items())
    else:
        for k in ("observation_mode", "reward_mode"):
            if k not in env:
                _fail(f"environment.{k}", f"missing; one of {list(OBS_MODES if k[0] == 'o' else REWARD_MODES)}")
        target = env.get("target_entity")
        if env["reward_mode"] == "dsa":  # RFRL ignores the target in dsa mode; files name one anyway
            target = target if target in labels else None
        agents = (_agent({k: env.get(k) for k in _AGENT_FIELDS if k in env} | {"target_entity": target},
                         "environment", labels),)
    if "render" in data:
        render_keys = set(data["render"]) if isinstance(data["render"], dict) else set()
        unused += [f"render.{k}" for k in _known(data["render"], "render", render_keys)]
    detector = freeze(env["detector"]) if "detector" in env else ()
    return Scenario(name, num_channels, max_steps, tuple(entities), agents, tuple(unused), multi, detector)


def max_agents(num_entities: int) -> int:
    """The most radios a band with ``num_entities`` entity slots can hold: codes ``E + A + 1 <= 127``."""
    return MAX_CODES - 1 - num_entities


def load(path: str | os.PathLike, seed: int = 0) -> Scenario:
    """Read an RFRL Gym scenario JSON file (data only: nothing in it is executed)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError(f"scenario path must be a string, got {_short(path)}")
    data = read_json(path, "scenario file", ScenarioError)
    return parse(data, name=os.path.basename(str(path)), seed=seed)
