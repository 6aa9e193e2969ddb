"""Qundis walk-by frames (CI 0x78, 0DFF5F block): real telegrams (wmbusmeters test data)."""

from __future__ import annotations

import pytest

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.drivers.hooks.qwater import decode_walk_by_block
from sdr_wmbus.errors import DecodeError


def decode_hex(hex_text: str) -> dict:
    return TelegramDecoder().decode(bytes.fromhex(hex_text), link_crc="none")


WARM_WATER_WALK_BY = (
    "49449344954933131706780DFF5F3500823A0000600107C113FFFF29970300FF2C580303001E3B269703000A00650075"
    "0073005B0070007D0061005B004200160000002F046D1E0F113C"
)
# The same meter: standard frame (CI 0x7A) and walk-by frame one month later.
QQ5_STANDARD = (
    "39449344153119611D067A870000200C13370000004C1300000000426CFFFFCC081300000000C2086CFFFF02BB560000"
    "326CFFFF046D320D5E31"
)
QQ5_WALK_BY = (
    "49449344153119611D06780DFF5F350082EC0000F10007C113FFFF69000000FFFF000000005F31680000000080008000"
    "800080008000800080008000800080008006002F046D1C0A4132"
)
CONVERTER_WALK_BY = (
    "5344934412924337353778077912924337934435070DFF5F3500828A0000100007C113FFFF966600001F3C000000003E34"
    "19580000008000800080008000800080008000005A0094009C00BB002F046D010F3235"
)
MY_QWATER_WALK_BY = (
    "4b449344483635121806780dff5f350082da0000600107c113ffff48200000bf2c91170000df212020000000800100000006"
    "0019001000160018000d001300350017002f046d370cc422c759"
)


def test_walk_by_registers() -> None:
    out = decode_hex(WARM_WATER_WALK_BY)
    assert out["meter"] == "qwater"
    assert out["total_m3"] == 39.729
    assert (out["target_m3"], out["target_date"]) == (30.358, "2023-12-31")
    assert (out["total_storage_17_m3"], out["meter_date_storage_17"]) == (39.726, "2024-11-30")
    assert out["meter_datetime"] == "2024-12-17 15:30"


def test_monthly_deltas() -> None:
    out = decode_hex(MY_QWATER_WALK_BY)
    assert (out["total_m3"], out["target_m3"], out["total_storage_17_m3"]) == (2.048, 1.791, 2.02)
    deltas = [out[f"volume_delta_{n}_m3"] for n in range(2, 14)]
    # 0x8000 marks a month without a value (wmbusmeters prints it as -32.768)
    assert deltas == [None, 0.001, 0, 0.006, 0.025, 0.016, 0.022, 0.024, 0.013, 0.019, 0.053, 0.023]


def test_walk_by_names_match_the_standard_frame() -> None:
    standard = decode_hex(QQ5_STANDARD)
    walk_by = decode_hex(QQ5_WALK_BY)
    assert standard["meter"] == "generic"
    assert standard["total_m3"] == 0.037
    assert (walk_by["total_m3"], walk_by["total_storage_17_m3"]) == (0.069, 0.068)
    assert walk_by["meter_date_storage_17"] == "2026-01-31"
    assert walk_by["target_date"] is None  # FFFF: no year-end reading yet
    for name in ("total_m3", "target_m3", "target_date", "total_storage_17_m3", "meter_date_storage_17"):
        assert name in standard and name in walk_by


def test_radio_converter() -> None:
    out = decode_hex(CONVERTER_WALK_BY)
    assert out["device_type"] == "0x37"
    assert (out["total_m3"], out["total_storage_17_m3"], out["target_m3"]) == (6.696, 5.819, 0)
    assert (out["target_date"], out["meter_date_storage_17"]) == ("2024-12-31", "2025-04-30")


def test_wrong_unit_vif_is_an_error() -> None:
    frame = bytearray.fromhex(WARM_WATER_WALK_BY)
    block_start = frame.index(bytes.fromhex("0DFF5F35")) + 4
    frame[block_start + 9] = 0x6C  # a date VIF where the unit VIF belongs
    out = decode_hex(frame.hex())
    assert "unit VIF" in out["error"]
    assert "total_m3" not in out
    with pytest.raises(DecodeError):
        decode_walk_by_block(bytes(frame[block_start : block_start + 0x34]))  # one byte short
