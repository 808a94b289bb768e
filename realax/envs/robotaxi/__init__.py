"""Robo-taxi fleet coordination (RL4AMOD lineage): cities, exact matching, rebalancing, the env."""

from realax.envs.robotaxi.env import RoboTaxi, RoboTaxiParams, RoboTaxiState

__all__ = ["RoboTaxi", "RoboTaxiParams", "RoboTaxiState"]
