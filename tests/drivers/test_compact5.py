"""Techem Compact V: a payload too short for both energies is an error (the telegrams wmbusmeters
decodes, with its values, are [[test]] blocks in sdr_wmbus/drivers/defs/compact5.toml)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

CI_A1 = (
    "36446850626262624543A1009F2777010060780000000A000000000000000000000000000000000000000000000000A0"
    "400000B4010000"
)


def test_truncated_payload_is_an_error() -> None:
    assert decode_hex(CI_A1)["total_kwh"] == 495
    out = decode_hex(shortened(CI_A1, 40))
    assert "error" in out and "total_kwh" not in out
