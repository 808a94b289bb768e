"""RL4AMOD's city files (MIT) live beside the project, never inside it: ``../shared/data/amod`` or
``$REALAX_AMOD_DATA``; tests that need them skip when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("REALAX_AMOD_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data" / "amod"))
FILES = sorted(DATA.glob("scenario_*.json"))
needs_data = pytest.mark.skipif(len(FILES) == 0, reason=f"RL4AMOD city files not found in {DATA} "
                                "(set REALAX_AMOD_DATA to their folder)")
BROOKLYN = DATA / "scenario_nyc_brooklyn.json"
