"""realax: JAX-native reinforcement-learning environments for real-world operations problems.

``import realax`` registers the ids (with Gymnasium too) without importing JAX; the base classes load on
first use, so a program (such as the ``realax`` command) can still configure XLA before JAX starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realax.registry import EnvSpec, list_envs, make, register, spec

__version__ = "0.2.0"

# max_episode_steps: the horizon under default options (``params.max_steps`` of ``make(id)``; a test checks each):
# Spectrum: the built-in "hopper" / "mixed" (IQ) / "marl_mixed" scenarios' max_steps; SMAX: JaxMARL's default 100 steps;
# RoboTaxi: RL4AMOD's max_steps 20; UAVOffload: the mondal2025 preset's 50; AGV and MultiAGV: the simple_static
# preset's 400; SlateRec: 1000, a cap RecSim does not have (its sessions end on the time budget); Sim2Rec: its
# code's time_budget 140; ShortVideo: 200 app slots. Options can change it; the Gymnasium adapters report the
# built env's own.
register("realax/Spectrum-v0", "realax.envs.spectrum:Spectrum", max_episode_steps=100,
         baselines="realax.baselines.spectrum")
register("realax/SpectrumIQ-v0", "realax.envs.spectrum:SpectrumIQ", max_episode_steps=100,
         baselines="realax.baselines.spectrum")
register("realax/SpectrumMA-v0", "realax.envs.spectrum:SpectrumMA", multi_agent=True, max_episode_steps=100,
         baselines="realax.baselines.spectrum")
register("realax/SMAX-v0", "realax.envs.smax:SMAX", multi_agent=True, max_episode_steps=100)
register("realax/RoboTaxi-v0", "realax.envs.robotaxi:RoboTaxi", max_episode_steps=20,
         baselines="realax.baselines.robotaxi")
register("realax/UAVOffload-v0", "realax.envs.uav:UAVOffload", multi_agent=True, max_episode_steps=50,
         baselines="realax.baselines.uav")
register("realax/UAVOffloadCentral-v0", "realax.envs.uav:UAVOffloadCentral", max_episode_steps=50,
         baselines="realax.baselines.uav")
register("realax/AGV-v0", "realax.envs.agv:AGV", max_episode_steps=400, baselines="realax.baselines.agv")
register("realax/MultiAGV-v0", "realax.envs.agv:MultiAGV", multi_agent=True, max_episode_steps=400,
         baselines="realax.baselines.agv")
register("realax/SlateRec-v0", "realax.envs.recsys:SlateRec", max_episode_steps=1000,
         baselines="realax.baselines.recsys")
register("realax/Sim2Rec-v0", "realax.envs.recsys:Sim2Rec", max_episode_steps=140,
         baselines="realax.baselines.recsys_sim2rec")
register("realax/ShortVideo-v0", "realax.envs.recsys:ShortVideo", max_episode_steps=200,
         baselines="realax.baselines.recsys_short_video")


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
    """Each single-agent id with Gymnasium. Its ``max_episode_steps`` is left ``None`` in Gymnasium's registry
    on purpose: ``gymnasium.make`` wraps ``TimeLimit(registered value)`` around every env it builds
    (gymnasium 1.x ``envs/registration.py``, ``make``) and ``make_vec`` hands the registered value to the vector
    entry point, whatever options the user passed -- so ``make(id, max_steps=500)`` would be cut at the
    default 100, and ``make(id, scenario=...)`` would report the default scenario's horizon. Instead the
    adapters fill ``env.spec.max_episode_steps`` with the horizon of the env actually built
    (``params.max_steps``, which the env truncates at itself), and a ``max_episode_steps=k`` passed to
    ``make``/``make_vec`` truncates at ``k`` on top of it (``TimeLimit`` for ``make``, the vector env itself
    for ``make_vec``)."""
    import gymnasium

    for env_id in list_envs(multi_agent=False):
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point="realax.wrappers.gymnasium:GymnasiumEnv",
                               vector_entry_point="realax.wrappers.gymnasium:GymnasiumVectorEnv",
                               kwargs={"env_id": env_id})


_register_gymnasium()

__all__ = ["Environment", "EnvParams", "MultiAgentEnv", "EnvSpec", "list_envs", "make", "register", "spec",
           "parallel_env", "__version__"]
