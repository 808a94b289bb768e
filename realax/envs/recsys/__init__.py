"""Recommender simulators: ``realax/Sim2Rec-v0`` (Sim2Rec's LTS family with held-out domains) and
``realax/ShortVideo-v0`` (TSCAC's watch-time CMDP with auxiliary-signal constraints)."""

from realax.envs.recsys.short_video import ShortVideo, ShortVideoParams, ShortVideoState
from realax.envs.recsys.sim2rec import Sim2Rec, Sim2RecParams, Sim2RecState

__all__ = ["Sim2Rec", "Sim2RecParams", "Sim2RecState", "ShortVideo", "ShortVideoParams", "ShortVideoState"]
