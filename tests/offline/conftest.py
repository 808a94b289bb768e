"""Fixtures of the dataset tests: the tabular chain registered under an id for the length of a test only
(the conformance suite collects the registry, so the chain must not stay in it)."""

from __future__ import annotations

import pytest
from chain_env import CHAIN_ID

import realax
from realax import registry


@pytest.fixture
def chain_id():
    realax.register(CHAIN_ID, "chain_env:Chain")
    yield CHAIN_ID
    registry._REGISTRY.pop(CHAIN_ID, None)
