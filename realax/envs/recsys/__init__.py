"""Recommender simulators: pure user, document and choice models (``choice``, ``interest_evolution``) and the
environments built from them -- ``realax/SlateRec-v0`` (RecSim interest evolution, ``slate``)."""

from realax.envs.recsys.slate import SlateParams, SlateRec, SlateState

__all__ = ["SlateRec", "SlateParams", "SlateState"]
