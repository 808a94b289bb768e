"""SMAX: StarCraft-style unit micromanagement with JaxMARL's rules (``realax/SMAX-v0``)."""

from realax.envs.smax.env import SMAX, SMAXParams, SMAXState
from realax.envs.smax.heuristic import heuristic_actions
from realax.envs.smax.scenarios import SCENARIOS, UNIT_TYPES, Scenario, custom

__all__ = ["SCENARIOS", "SMAX", "UNIT_TYPES", "SMAXParams", "SMAXState", "Scenario", "custom", "heuristic_actions"]
