"""realax: JAX-native reinforcement-learning environments for real-world operations problems.

``import realax`` registers the ids (with Gymnasium too) without importing JAX; the base classes load on
first use, so a program (such as the ``realax`` command) can still configure XLA before JAX starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realax.registry import EnvSpec, list_envs, make, register, spec

__version__ = "0.2.0"

register("realax/Spectrum-v0", "realax.envs.spectrum:Spectrum", baselines="realax.baselines.spectrum")
register("realax/SpectrumMA-v0", "realax.envs.spectrum:SpectrumMA", multi_agent=True,
         baselines="realax.baselines.spectrum")
register("realax/SMAX-v0", "realax.envs.smax:SMAX", multi_agent=True)
register("realax/RoboTaxi-v0", "realax.envs.robotaxi:RoboTaxi", baselines="realax.baselines.robotaxi")


if TYPE_CHECKING:
    from realax.core import Environment, EnvParams, MultiAgentEnv
    from realax.wrappers.pettingzoo import PettingZooEnv


def __getattr__(name: str) -> Any:
    if name in ("Environment", "EnvParams", "MultiAgentEnv"):
        from realax import core

        return getattr(core, name)
    raise AttributeError(f"module 'realax' has no attribute {name!r}")


def parallel_env(id: str, strict_masks: bool = True, **kwargs: Any) -> PettingZooEnv:
    """A PettingZoo ``ParallelEnv`` for a multi-agent id; ``strict_masks=False`` turns masked actions into
    the env's no-op instead of raising."""
    from realax.wrappers.pettingzoo import PettingZooEnv

    return PettingZooEnv(id, strict_masks=strict_masks, **kwargs)


def _register_gymnasium() -> None:
    import gymnasium

    for env_id in list_envs(multi_agent=False):
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point="realax.wrappers.gymnasium:GymnasiumEnv",
                               vector_entry_point="realax.wrappers.gymnasium:GymnasiumVectorEnv",
                               kwargs={"env_id": env_id})


_register_gymnasium()

__all__ = ["Environment", "EnvParams", "MultiAgentEnv", "EnvSpec", "list_envs", "make", "register", "spec",
           "parallel_env", "__version__"]
