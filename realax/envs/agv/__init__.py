"""AGV path planning in warehouses (Yin et al. 2024, RND-PPO scenes; JaxNav robot): ``realax/AGV-v0`` (one AGV)
and ``realax/MultiAGV-v0`` (several AGVs, navigation or pick-and-deliver)."""

from realax.envs.agv.env import AGV, DISCRETE, AGVParams, AGVState
from realax.envs.agv.layout import Layout, LayoutError, occupancy_grid
from realax.envs.agv.multi import MultiAGV, MultiAGVState
from realax.envs.agv.scenarios import PRESETS, Scenario, ScenarioError

__all__ = ["AGV", "MultiAGV", "AGVParams", "AGVState", "MultiAGVState", "DISCRETE", "Layout", "LayoutError",
           "occupancy_grid", "PRESETS", "Scenario", "ScenarioError"]
