"""Offline datasets from realax environments (DESIGN: ``offline`` -> wrappers and core).

The NeoRL-2 realism wrappers (action/observation delay, exogenous disturbance, safety cost with a budget,
conservative behaviour) are ``realax.wrappers.realism``; the S3RL snapshot-start wrapper is
``realax.wrappers.snapshot``.

- ``policies``: behaviour policies (random, baselines, saved agents) at a level, with action noise.
- ``generate``: vectorised JAX collection (``jit(scan(vmap(step)))`` per chunk) and dataset specs.
- ``minari_io``: atomic Minari-format storage, ``verify``, D4RL/NeoRL ``.npz`` exporters.
- ``write_guard``: what a dataset write may replace (only a realax dataset, only with ``overwrite``) and the
  exclusive lock on its target.
- ``measures``: TQ and SACo (Schweighofer et al. 2022).
- ``snapshots``: teacher snapshots for S3RL starts (collect, save, load, build the wrapper).
- ``cli``: the ``realax data`` command.

Nothing here is imported by ``import realax``; import the submodules you need. From the command line::

    realax data generate realax/Spectrum-v0 --policy sense_and_avoid --level 0.7 --episodes 10000 \
        --out datasets/spectrum-sa70-v0 --action-delay 2 --cost-budget 20 --measure
    realax data verify datasets/spectrum-sa70-v0
    realax data measure datasets/spectrum-sa70-v0 --json
    realax data export datasets/spectrum-sa70-v0 --format neorl --out npz/
    MINARI_DATASETS_PATH=datasets python -c "import minari; print(minari.load_dataset('spectrum-sa70-v0'))"
"""
