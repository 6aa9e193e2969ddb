"""Techem smoke detector (TCH, version 0x76, device type 0xF0, CI 0xA0): plain proprietary payload.

    0  status: 0x00 OK, 0x01 SMOKE, 0x80 DEFECT; any other value is reported as STATUS_<hex>
    1  previous billing date (2 bytes, packed: day b4-0, month b8-5, year b15-9 from 2000)
    3  more bytes (not decoded)

A payload too short to hold the status and the date gives status ``DECODING_ERROR_payload`` and a null
date, as wmbusmeters reports it, rather than a decoding error: the meter is known, its payload is not
usable. A date that is no calendar date is null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError
from .techem import previous_billing_date

if TYPE_CHECKING:
    from ...telegram import Telegram

STATUS_WORDS = {0x00: "OK", 0x01: "SMOKE", 0x80: "DEFECT"}
MIN_PAYLOAD_LENGTH = 3


def decode(telegram: Telegram) -> dict:
    """Status word and previous billing date."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        return {"status": "DECODING_ERROR_payload", "prev_date": None}
    status = payload[0]
    try:
        prev_date: str | None = previous_billing_date("tsd2", payload).isoformat()
    except DecodeError:
        prev_date = None
    return {"status": STATUS_WORDS.get(status, f"STATUS_{status:02X}"), "prev_date": prev_date}
