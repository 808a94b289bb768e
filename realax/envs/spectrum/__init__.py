"""RF spectrum access and jamming (RFRL Gym lineage)."""

from realax.envs.spectrum.env import Spectrum, SpectrumParams, SpectrumState
from realax.envs.spectrum.env_iq import SpectrumIQ, SpectrumIQParams, SpectrumIQState
from realax.envs.spectrum.env_ma import SpectrumMA

__all__ = ["Spectrum", "SpectrumParams", "SpectrumState", "SpectrumMA", "SpectrumIQ", "SpectrumIQParams", "SpectrumIQState"]
