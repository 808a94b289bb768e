"""The test suite, a regular package: some third-party distributions (pyswarms, mobile-env) install a top-level
``tests`` package into site-packages, which would otherwise shadow this folder in ``from tests... import``."""
