"""Techem Compact V: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

CI_A1 = (
    "36446850626262624543A1009F2777010060780000000A000000000000000000000000000000000000000000000000A0"
    "400000B4010000"
)
CI_A2 = (
    "37446850336633663943a210672c866100181c01000480794435d5000000000000000000000000000000000000000000"
    "0000000000000000"
)
VARIO = (
    "37446850792055673943A2109F2F13C500608F1D00008066E8A69B26988D335F6411450C564C5145145CA0F1DA35B9DD"
    "37A1936BBF3D31D8"
)


def test_energies() -> None:
    for telegram, previous, current in ((CI_A1, 375, 120), (CI_A2, 24966, 284), (VARIO, 50451, 7567)):
        out = decode_hex(telegram)
        assert out["meter"] == "compact5"
        assert (out["previous_kwh"], out["current_kwh"]) == (previous, current)
        assert out["total_kwh"] == previous + current


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(CI_A1, 40))
    assert "error" in out and "total_kwh" not in out
