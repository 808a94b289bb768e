"""One 1-D device mesh for a batch axis (DESIGN §7): training and data generation spread their environment
batch over several devices with ``jax.sharding``, nothing home-made.

A run's carry (vmapped over seeds) holds arrays with an environment axis (env states, observations, running
returns: ``[seeds, num_envs, ...]``) and arrays without one (network parameters, optimiser state, keys).
``batch_shardings`` splits the first kind along that axis over the mesh and replicates the rest; under
``jax.jit`` the compiler then places the work where the data is and inserts the reductions a loss over the
batch needs (gradients are summed across devices by XLA, not by a hand-written all-reduce). Shardings never
change what a program computes, only where: an array wrongly taken for a batch one (a parameter with a
dimension equal to ``num_envs``) is only split, not altered. What can differ between a sharded and an
unsharded run is the order of float sums across devices (round-off, ~1e-7 relative per sum).

Random bits are the same sharded or not, with either setting of ``jax_threefry_partitionable`` (JAX's
default, ``True``, lets each device draw only its part of them).

Several processes (``jax.distributed.initialize``) see every process's devices in ``jax.devices()``; the mesh
is over all of them, and each process holds its own devices' part of the batch.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from realax.errors import RealaxError

#: the mesh's one axis
AXIS = "batch"


def mesh(devices: int | None = None, local: bool = False) -> Mesh:
    """A 1-D mesh over the first ``devices`` devices (``None``: all of them, every process's, or with
    ``local`` this process's only)."""
    available = jax.local_devices() if local else jax.devices()
    n = len(available) if devices is None else devices
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(available):
        raise RealaxError(f"devices must be an integer from 1 to {len(available)} (the devices JAX sees: "
                          f"{available[0].platform} x{len(available)}), got {devices!r}; on CPU, "
                          f"XLA_FLAGS=--xla_force_host_platform_device_count=N makes N devices")
    return Mesh(np.array(available[:n]), (AXIS,))


def check_divides(mesh: Mesh, size: int, what: str) -> None:
    """A clear error when ``size`` (``what``: the option that sets it) does not split evenly over the mesh."""
    if size % mesh.size:
        raise RealaxError(f"{what} = {size} does not split over {mesh.size} devices: give a multiple of "
                          f"{mesh.size}, or fewer devices")


def batch_shardings(tree: Any, mesh: Mesh, size: int, axis: int) -> Any:
    """Per leaf of ``tree`` (arrays or shape structs): split along ``axis`` over the mesh when that axis has
    ``size`` entries, replicated otherwise."""

    def one(leaf: Any) -> NamedSharding:
        shape = getattr(leaf, "shape", ())
        if len(shape) > axis and shape[axis] == size:
            return NamedSharding(mesh, PartitionSpec(*([None] * axis), AXIS))
        return NamedSharding(mesh, PartitionSpec())

    return jax.tree.map(one, tree)


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def mesh_for(size: int, devices: int | None = None, what: str = "the batch") -> Mesh:
    """The mesh of this process's devices a batch of ``size`` is split over: ``devices`` of them (``size`` must
    split evenly), or with ``None`` the most that split it evenly (all of them for a batch that is a multiple
    of the device count)."""
    if devices is None:
        devices = max(d for d in range(1, len(jax.local_devices()) + 1) if size % d == 0)
    m = mesh(devices, local=True)
    check_divides(m, size, what)
    return m


def split_leading(tree: Any, mesh: Mesh) -> Any:
    """``tree``'s arrays placed on ``mesh``, split along their first axis (unchanged on a one-device mesh)."""
    if mesh.size == 1:
        return tree
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(AXIS)))


def join(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join a run of ``num_processes`` processes (``jax.distributed.initialize``; on CPU the processes talk
    through gloo). Call it before anything starts JAX's backend; afterwards ``jax.devices()`` lists every
    process's devices and ``mesh()`` spans them all."""
    if not isinstance(num_processes, int) or num_processes < 1:
        raise RealaxError(f"num_processes must be a whole number >= 1, got {num_processes!r}")
    if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise RealaxError(f"process_id must be from 0 to {num_processes - 1} (num_processes - 1), got {process_id!r}")
    if ":" not in str(coordinator):
        raise RealaxError(f"coordinator must be HOST:PORT (process 0's address, e.g. localhost:12355), got {coordinator!r}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes, process_id)


def to_host(tree: Any) -> Any:
    """A host copy of ``tree`` (NumPy arrays; random keys as keys). With several processes the parts held by
    other processes' devices are gathered: that is a collective, so every process must call it at the same
    point of the program."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    def one(x: Any) -> Any:
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):  # keys travel as their raw bits
            bits = multihost_utils.process_allgather(jax.random.key_data(x), tiled=True)
            return jax.random.wrap_key_data(bits, impl=jax.random.key_impl(x))
        return multihost_utils.process_allgather(x, tiled=True)

    return jax.tree.map(one, tree)


def barrier(name: str) -> None:
    """Wait until every process of the run reaches the barrier of this ``name`` (no-op with one process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
