"""GWF water meter: the manufacturer block after DIF 0x0F (the records before it are standard).

The block starts with a type byte. Type 0x01 is followed by two bytes that are understood::

    0  type (0x01)
    1  status flags: 0x02 continuous flow, 0x08 broken pipe, 0x20 battery low, 0x40 backflow
    2  bit 0: power saving mode; bits 3-7: remaining battery life in half years

Any other type is a layout we cannot read: it is reported as UNKNOWN_MFCT_STATUS_<type> in the status
(and the battery life stays unknown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine import lookup_words
from ..spec import LookupRule

if TYPE_CHECKING:
    from ...telegram import Telegram

KNOWN_TYPE = 0x01
FLAGS = LookupRule(
    "bits",
    0xFF,
    {0x02: "CONTINUOUS_FLOW", 0x08: "BROKEN_PIPE", 0x20: "BATTERY_LOW", 0x40: "BACKFLOW"},
    unknown="MFCT_FLAGS_{value:X}",
    together=True,
)


def decode(telegram: Telegram) -> dict:
    """Status words, power mode and battery life from the manufacturer block, when there is one."""
    block = telegram.apl.manufacturer_data if telegram.apl is not None else b""
    if not block:
        return {}
    kind = block[0]
    if kind != KNOWN_TYPE:
        return {"mfct_status": f"UNKNOWN_MFCT_STATUS_{kind:X}"} if kind else {}
    if len(block) < 3:
        return {}
    flags, power = block[1], block[2]
    return {
        "mfct_status": " ".join(sorted(lookup_words((FLAGS,), flags))),
        "power_mode": "SAVING" if power & 0x01 else "NORMAL",
        "battery_y": (power >> 3) * 0.5,
    }
