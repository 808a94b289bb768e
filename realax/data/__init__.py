"""Offline datasets from realax environments (issue 5, dataset core).

- ``realism``: NeoRL-2 realism wrappers (action/observation delay, exogenous disturbance, safety cost with a
  budget) and the conservative behaviour mode.
- ``policies``: behaviour policies (random, baselines, saved agents) at a level, with action noise.
- ``generate``: vectorised JAX collection (``jit(scan(vmap(step)))`` per chunk) and dataset specs.
- ``minari_io``: atomic Minari-format storage, ``verify``, D4RL/NeoRL ``.npz`` exporters.
- ``measures``: TQ and SACo (Schweighofer et al. 2022).
- ``cli``: the ``realax data`` command.

Nothing here is imported by ``import realax``; import the submodules you need.
"""
