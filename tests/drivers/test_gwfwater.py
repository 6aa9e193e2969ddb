"""GWF water meter: the manufacturer block after DIF 0x0F (the corpus cases are in the driver file)."""

from __future__ import annotations

from types import SimpleNamespace

from sdr_wmbus.drivers.hooks import gwfwater

from .helpers import decode_hex

# wmbusmeters test data (payload shown decrypted); the manufacturer block is 0F 01 00 E3.
RECORDS = (
    "3944E61E46441510020E8C04427250076819E61E3C07B10020452F2F"
    "03748B05000413DC690D004413A4630D00426C213C02FD74B514"
)


def with_block(block: str) -> str:
    frame = bytes.fromhex(RECORDS + block)
    return (bytes([len(frame) - 1]) + frame[1:]).hex()


def test_every_flag_power_mode_normal_and_battery() -> None:
    out = decode_hex(with_block("0F016A10"), already_decrypted=True)
    assert out["meter"] == "gwfwater"
    assert out["status"] == "BACKFLOW BATTERY_LOW BROKEN_PIPE CONTINUOUS_FLOW"
    assert (out["power_mode"], out["battery_y"]) == ("NORMAL", 1)


def test_unnamed_flags_are_named_together() -> None:
    out = decode_hex(with_block("0F0185E3"), already_decrypted=True)
    assert out["status"] == "MFCT_FLAGS_85"


def test_unknown_block_type_is_a_status_word_and_no_battery() -> None:
    out = decode_hex(with_block("0F7F00E3"), already_decrypted=True)
    assert out["status"] == "UNKNOWN_MFCT_STATUS_7F"
    assert out["battery_y"] is None and "power_mode" not in out
    assert out["total_m3"] == 879.068


def test_no_block_gives_only_the_records() -> None:
    out = decode_hex(with_block("2F2F2F2F"), already_decrypted=True)  # the frame must stay 32 bytes
    assert out["status"] == "OK" and out["battery_y"] is None and "power_mode" not in out
    assert out["total_m3"] == 879.068


def test_short_or_type_zero_block_says_nothing() -> None:
    for block in (b"\x01", b"\x01\x00", b"\x00\x00\xe3"):
        telegram = SimpleNamespace(apl=SimpleNamespace(manufacturer_data=block))
        assert gwfwater.decode(telegram) == {}
