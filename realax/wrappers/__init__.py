"""JAX-side wrappers (episode statistics, observation flattening) and the Gymnasium/PettingZoo adapters."""

from realax.wrappers.jax_wrappers import EpisodeStats, FlattenObservation, Wrapper

__all__ = ["EpisodeStats", "FlattenObservation", "Wrapper"]
