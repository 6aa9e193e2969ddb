"""Collects the manufacturer drivers: every module in this package that defines ``DRIVER``."""

from __future__ import annotations

import importlib
import pkgutil

from . import Driver

_SKIP = {"generic", "registry", "techem"}  # modules without a driver of their own


def _discover() -> list[Driver]:
    drivers = []
    package = importlib.import_module(__package__ or "sdr_wmbus.drivers")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        driver = getattr(module, "DRIVER", None)
        if isinstance(driver, Driver):
            drivers.append(driver)
    return drivers


DRIVERS: list[Driver] = _discover()
