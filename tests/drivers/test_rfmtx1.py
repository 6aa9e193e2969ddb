"""Bmeters RFM-TX1: the de-obfuscation of the older modules' frames (configuration 0x1006) and its
edge cases; the reference telegram's values are checked by the driver file's [[test]]."""

from __future__ import annotations

from sdr_wmbus.drivers.hooks import rfmtx1

from .helpers import decode_hex, shortened

# wmbusmeters test data: total 188.56 m3, meter time 2020-03-31 10:04:59.
FRAME = (
    "4644B4097172737405077AA50006101115F78184AB0F1D1E200000005904103103208047004A4800E73C00193E00"
    "453F003E4000E64000E74100F442000144001545005B460000"
)


def _with(frame_hex: str, offset: int, value: int) -> str:
    frame = bytearray(bytes.fromhex(frame_hex))
    frame[offset] = value
    return frame.hex()


def test_the_key_row_comes_from_the_access_number() -> None:
    frame = bytes.fromhex(FRAME)
    assert frame[rfmtx1.KEY_OFFSET] == 0xA5  # row 5 of the mask table
    assert rfmtx1.plain_total_bytes(frame)[2:6] == bytes.fromhex("60851800")  # 00188560 litres
    assert rfmtx1.total_litres(frame) == 188560


def test_total_and_time_through_the_stack() -> None:
    out = decode_hex(FRAME)
    assert out["meter"] == "rfmtx1" and "error" not in out
    assert (out["total_m3"], out["meter_datetime"]) == (188.56, "2020-03-31 10:04")


def test_a_total_that_is_not_bcd_is_an_error() -> None:
    frame = bytes.fromhex(FRAME)
    # Make the most significant plain byte 0xFF: sent = plain ^ key ^ mask.
    bad = 0xFF ^ frame[rfmtx1.KEY_OFFSET] ^ rfmtx1.MASKS[5][5]
    out = decode_hex(_with(FRAME, rfmtx1.TOTAL_OFFSET + 5, bad))
    assert out["error"].startswith("rfmtx1: total is not BCD")
    assert "total_m3" not in out


def test_an_impossible_meter_time_is_left_out() -> None:
    out = decode_hex(_with(FRAME, rfmtx1.TIME_OFFSET + 4, 0x13))  # month 13
    assert out["total_m3"] == 188.56 and "meter_datetime" not in out


def test_a_short_frame_is_an_error() -> None:
    out = decode_hex(shortened(FRAME, 40))
    assert out["error"].startswith("rfmtx1:")


def test_newer_modules_send_records() -> None:
    # The same meter with configuration 0x0000 and two records: volume 12.345 m3 and a date-time.
    records = "041339300000" + "046D2A06D825"
    frame = "44B4097172737405077AA5000000" + records
    out = decode_hex(f"{len(bytes.fromhex(frame)):02X}" + frame)
    assert out["meter"] == "rfmtx1"
    assert (out["total_m3"], out["meter_datetime"]) == (12.345, "2022-05-24 06:42")
