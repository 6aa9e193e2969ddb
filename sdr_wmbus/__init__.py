"""sdr_wmbus: a software-defined Wireless M-Bus receiver and telegram decoder."""

from .jit import configure_cache as _configure_cache

__version__ = "0.1.0"

_configure_cache()  # before anything imports numba: compiled kernels go to the user's cache folder
