"""realax's own error types: bad input gets one of these, with a message naming what is wrong and what is
allowed (DESIGN §2). They subclass ``ValueError``, so code that already catches ``ValueError`` keeps working;
the ``realax`` command turns them into a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations


class RealaxError(ValueError):
    """Bad input: an unknown id or option, a malformed file, an out-of-range value, an unusable folder."""


class LockedError(RealaxError):
    """Another live process holds the write lock of a dataset or run folder."""
