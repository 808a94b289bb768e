"""UAV traffic offloading (Mondal et al., IEEE TAES 2025): ``realax/UAVOffload-v0`` and its centralised view."""

from realax.envs.uav.central import UAVOffloadCentral
from realax.envs.uav.env import UAVOffload, UAVParams, UAVState
from realax.envs.uav.scenarios import PRESETS, Scenario, ScenarioError

__all__ = ["UAVOffload", "UAVOffloadCentral", "UAVParams", "UAVState", "PRESETS", "Scenario", "ScenarioError"]
