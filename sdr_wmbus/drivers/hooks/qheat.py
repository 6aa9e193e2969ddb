"""Qundis Q heat 5.5 as wmbusmeters' older qheat driver reads it: walk-by blocks (see :mod:`.qundis`)
and, for frames of a radio converter, the meter's identity from the enhanced-identification record.

A converter's walk-by frame (CI 0x78) has the converter's address in its link header and the heat
meter's in an enhanced-identification record ``07 79``: ID (4 bytes, BCD, little-endian), manufacturer
(2), version (1), device type (1). wmbusmeters' qheat driver reports the meter behind the converter: its
id and its medium (e.g. "heat volume at inlet") instead of the converter's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...link.dll import id_from_wire
from ...tables.device_types import device_type_name
from ...tables.manufacturers import manufacturer_code
from .qundis import records

if TYPE_CHECKING:
    from ...telegram import Telegram

__all__ = ["decode", "records"]

ENHANCED_ID_HEADER = bytes.fromhex("0779")


def decode(telegram: Telegram) -> dict:
    """id and media of the meter named by an enhanced-identification record, when there is one."""
    if telegram.apl is None:
        return {}
    for record in telegram.apl.records:
        if record.header == ENHANCED_ID_HEADER and len(record.data) == 8:
            data = record.data
            manufacturer = manufacturer_code(data[4] | data[5] << 8)
            return {"id": id_from_wire(data[:4]), "media": device_type_name(data[7], manufacturer)}
    return {}
