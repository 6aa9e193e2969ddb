"""Qundis heat meters: walk-by frames (CI 0x78, 0DFF5F block) from wmbusmeters test data."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder


def decode_hex(hex_text: str) -> dict:
    return TelegramDecoder().decode(bytes.fromhex(hex_text), link_crc="none")


# Radio converter (type 0x37) of a heat meter: the unit VIF is 0x0D (100 kJ).
CONVERTER_QQ1 = (
    "58449344414620684737780779414620689344470c0dff5f3500825a00000e0007c00dffff310803001f3c036800003e"
    "34310803000080008000800080008000800000931a92293128190c00002f02fd170000046d000f3235"
)
CONVERTER_QQA = (
    "58449344798995673E377807797989956793443E040DFF5F3500827D0000810007C006FFFF531100003F3C490900005F31"
    "8010000083003C0022000B0000000000000000000A002B00510083002F02FD170000046D16085832"
)
HEAT_STANDARD = (
    "3C449344957002372337725880226793442304DC0000200C05043900004C0500000000426C9F2CCC080551070000C2086C"
    "BE29326CFFFF046D280DB62A"
)


def test_energy_registers_in_kwh() -> None:
    out = decode_hex(CONVERTER_QQ1)
    assert "error" not in out, out
    assert out["total_energy_consumption_kwh"] == 856.416666667  # 30831 x 100 kJ
    assert (out["target_energy_kwh"], out["target_date"]) == (188.972222222, "2024-12-31")
    assert out["total_energy_consumption_storage_17_kwh"] == 856.416666667
    assert out["meter_date_storage_17"] == "2025-04-30"
    deltas = [out[f"energy_delta_{n}_kwh"] for n in range(2, 14)]
    assert deltas == [None] * 6 + [0, 188.972222222, 295.611111111, 285.805555556, 86.0277777778, 0]


def test_whole_kwh_deltas() -> None:
    out = decode_hex(CONVERTER_QQA)
    assert (out["total_energy_consumption_kwh"], out["target_energy_kwh"]) == (1153, 949)
    assert out["total_energy_consumption_storage_17_kwh"] == 1080
    deltas = [out[f"energy_delta_{n}_kwh"] for n in range(2, 14)]
    assert deltas == [131, 60, 34, 11, 0, 0, 0, 0, 10, 43, 81, 131]


def test_standard_frame_stays_generic() -> None:
    out = decode_hex(HEAT_STANDARD)
    assert out["meter"] == "generic"
    assert out["total_energy_consumption_kwh"] == 390.4


def test_corrupted_block_length_is_an_error() -> None:
    frame = bytearray.fromhex(CONVERTER_QQA)
    frame[frame.index(bytes.fromhex("0DFF5F35")) + 3] = 0x34  # LVAR one byte shorter
    out = decode_hex(frame.hex())
    assert "error" in out
    assert "total_energy_consumption_kwh" not in out
