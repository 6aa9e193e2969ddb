"""Zenner 0B hook: what the driver file's tests do not show (short manufacturer data)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

# wmbusmeters' status test telegram with the configuration set to plain (mode 0) so that it can be cut.
STATUS = "1E44496A677308500B167AD80000002F2F0F80BF1B0080BF1B0000A6420000"


def test_short_manufacturer_data_is_an_error() -> None:
    out = decode_hex(shortened(STATUS, 4))
    assert "manufacturer data is 9 bytes" in out["error"]
    assert "total_m3" not in out


def test_twelve_bytes_are_enough() -> None:
    out = decode_hex(shortened(STATUS, 1))
    assert out["total_m3"] == 17.062 and out["status"] == "STATUS_1BBF80"
