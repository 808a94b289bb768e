"""JAX-side wrappers (episode statistics, observation flattening, NeoRL-2 realism in ``realism``, S3RL
snapshot starts in ``snapshot``) and the Gymnasium/PettingZoo adapters."""

from realax.wrappers.jax_wrappers import EpisodeStats, FlattenObservation, Wrapper

__all__ = ["EpisodeStats", "FlattenObservation", "Wrapper"]
