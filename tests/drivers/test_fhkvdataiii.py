"""Techem FHKV data III: what the driver file's [[test]] blocks cannot say (unknown layouts, short
payloads, a zero day or month). The telegrams and values wmbusmeters gives for them are [[test]]
blocks in sdr_wmbus/drivers/defs/fhkvdataiii.toml."""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.fhkvdataiii import billing_dates

from .helpers import decode_hex, shortened

LAYOUT_0F = (
    "33446850341211119480A20F9F292D005024040011BD08380904000000070000000000000000000000000001000000000003140E"
)
LAYOUT_01 = (
    "32446850059605416980A0019F334805400CFE029808B1080000000000060F4F3467AEA9A88D7B8D503E000000000000000000"
)


def test_zero_day_and_month_read_as_the_first_and_december() -> None:
    # Billing date 2020-12-31; current word 0 reads as 12-01, on or before the billing day: next year.
    payload = bytes.fromhex("0F9F29" + "2D00" + "0000")
    previous, current = billing_dates(payload)
    assert (previous.isoformat(), current.isoformat()) == ("2020-12-31", "2021-12-01")


def test_truncated_or_unknown_layout_is_an_error() -> None:
    out = decode_hex(shortened(LAYOUT_01, 34))
    assert "error" in out and "current_hca" not in out
    unknown = LAYOUT_0F.replace("A20F9F29", "A27E9F29")
    out = decode_hex(unknown)
    assert "error" in out and "current_hca" not in out
