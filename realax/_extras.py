"""Optional dependencies: a missing one names the extra that installs it.

``pip install realax`` gives the environments, spaces, registry and the Gymnasium adapter with only jax, flax,
optax, gymnasium and numpy. Everything else comes with an extra (``pyproject.toml``)::

    [render]   matplotlib, pillow           env.render pictures that need matplotlib
    [marl]     pettingzoo                   realax.parallel_env, realax.wrappers.pettingzoo
    [offline]  minari[hdf5], scipy, tqdm    datasets (realax.offline), the exact LP references
    [cli]      typer, tqdm, tensorboardX    the ``realax`` command (+ [render])
    [wandb]    wandb                        ``realax train --wandb``
    [all]      marl + offline + cli

Two ways to ask for one, both raising ``MissingExtra`` (a ``ModuleNotFoundError``, so existing
``except ImportError`` handlers keep working) with the ``pip install`` line to run::

    pettingzoo = require("pettingzoo", extra="marl")      # anywhere, also inside a function
    from realax._extras import typer                       # at the top of a module: an import, not a call
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: the extra that installs each optional top-level module (``from realax._extras import NAME`` reads it)
EXTRA_OF: dict[str, str] = {
    "matplotlib": "render",
    "PIL": "render",
    "pettingzoo": "marl",
    "minari": "offline",
    "h5py": "offline",
    "scipy": "offline",
    "typer": "cli",
    "tqdm": "cli",
    "tensorboardX": "cli",
    "wandb": "wandb",
}


class MissingExtra(ModuleNotFoundError):
    """An optional dependency is not installed; the message says which extra installs it."""

    def __init__(self, module: str, extra: str, what: str | None = None, cause: BaseException | None = None):
        self.extra = extra
        missing = str(getattr(cause, "name", None) or module)
        state = ("is not installed" if missing.partition(".")[0] == module.partition(".")[0]
                 else f"cannot be imported ({cause})")
        need = f"{what} needs {module!r}, which" if what else f"the optional dependency {module!r}"
        super().__init__(f"{need} {state}; install it with: pip install 'realax[{extra}]'",
                         name=module)


def require(module: str, *, extra: str | None = None, what: str | None = None) -> ModuleType:
    """Import ``module`` (``"pettingzoo"``, ``"minari.data_collector"``), or raise ``MissingExtra`` naming
    ``extra`` (default: looked up in ``EXTRA_OF`` by the top-level name) and, when given, ``what`` needs it.
    A missing dependency of the module itself (minari without h5py) is reported the same way."""
    top = module.partition(".")[0]
    extra = extra if extra is not None else EXTRA_OF.get(top)
    if extra is None:
        raise KeyError(f"no extra is known for {module!r}; pass extra=")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise MissingExtra(module, extra, what, err) from err


def __getattr__(name: str) -> ModuleType:
    """``from realax._extras import typer``: the module, or ``MissingExtra`` naming its extra."""
    if name in EXTRA_OF:
        return require(name)
    raise AttributeError(f"module 'realax._extras' has no attribute {name!r}")
