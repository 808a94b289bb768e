"""Recommender simulators: pure user, document and choice models (``choice``, ``interest_evolution``) and the
environments built on them -- ``realax/SlateRec-v0`` (RecSim interest evolution, ``slate``),
``realax/Sim2Rec-v0`` (Sim2Rec's LTS family with held-out domains, ``sim2rec``) and ``realax/ShortVideo-v0``
(TSCAC's watch-time CMDP with auxiliary-signal constraints, ``short_video``)."""

from realax.envs.recsys.short_video import ShortVideo, ShortVideoParams, ShortVideoState
from realax.envs.recsys.sim2rec import Sim2Rec, Sim2RecParams, Sim2RecState
from realax.envs.recsys.slate import SlateParams, SlateRec, SlateState

__all__ = ["SlateRec", "SlateParams", "SlateState", "Sim2Rec", "Sim2RecParams", "Sim2RecState", "ShortVideo",
           "ShortVideoParams", "ShortVideoState"]
