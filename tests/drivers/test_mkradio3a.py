"""Techem MK Radio 3a: what the driver file's [[test]] block cannot say (the first half of a month,
short payloads). The telegram and values wmbusmeters gives for it are a [[test]] block in
sdr_wmbus/drivers/defs/mkradio3a.toml."""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.mkradio3a import monthly_tenths

from .helpers import decode_hex, shortened

LEGACY = (
    "36446850420656625072A20C007C3110250000293400373A002E38000E15002F37003A39003835002F24003930001D25"
    "00312500162900"
)


def test_month_halves_straddle_slots_early_in_a_month() -> None:
    history = [(1, 2), (3, 4)] + [(0, 0)] * 10
    assert monthly_tenths(history, early_in_month=True)[:3] == [1, 2 + 3, 4 + 0]
    assert monthly_tenths(history, early_in_month=False)[:3] == [1 + 2, 3 + 4, 0]


def test_truncated_payload_is_an_error() -> None:
    assert decode_hex(LEGACY)["total_m3"] == 948.8
    out = decode_hex(shortened(LEGACY, 3))
    assert "error" in out and "total_m3" not in out
