"""Qundis (QDS) heat meters: walk-by frames (CI 0x78 with the 53-byte ``0D FF 5F`` block).

The block has the same layout as the water meters' (see :mod:`sdr_wmbus.drivers.qwater`); its unit
VIF is an energy VIF (e.g. 0x0D = 100 kJ), so the values come out as ``total_energy_consumption_kwh``,
``target_energy_kwh``, ``total_energy_consumption_storage_17_kwh`` and ``energy_delta_N_kwh``.
Radio converters (type 0x37) are matched by the qwater driver, which decodes either unit.
"""

from __future__ import annotations

from .qwater import decode

__all__ = ["decode"]
