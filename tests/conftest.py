"""Test-session settings, applied before JAX is imported (see realax/_xla.py)."""

from realax import _xla

_xla.configure()
