"""Apator NA-1: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

ZERO_KEY = "00" * 16
WINTER = "1C440106813591041407A0B000266A705474DDB80D9A0EB9AE2EF29D96"
SUMMER_CI_A1 = "1C440106813591041407A174013655E9B2B8085E2F256908D7498C402C"
SUMMER_MIN_FLOW = "1C440106813591041407A0FF019E3790584B0876226B94ADC34FFABDED"


def test_total_time_and_history() -> None:
    out = decode_hex(WINTER, ZERO_KEY)
    assert out["meter"] == "apatorna1"
    assert out["total_m3"] == 345.312
    assert out["meter_datetime"] == "2024-03-23 15:22"
    assert out["historic_m3"] == 300.619
    assert out["historic_age_h"] == 545
    assert out["historic_datetime"] == "2024-02-29 22:22"
    statuses = (out["frame_status"], out["current_status"], out["historic_status"])
    assert statuses == ("OK", "OK", "MINIMUM_FLOW")


def test_summer_time_frames() -> None:
    out = decode_hex(SUMMER_CI_A1, ZERO_KEY)
    assert (out["total_m3"], out["historic_m3"], out["historic_age_h"]) == (687.357, 662.325, 351)
    assert (out["meter_datetime"], out["historic_datetime"]) == ("2024-10-15 12:21", "2024-09-30 21:21")
    assert (out["frame_status"], out["historic_status"]) == ("SUMMER_TIME", "OK")
    out = decode_hex(SUMMER_MIN_FLOW, ZERO_KEY)
    assert (out["total_m3"], out["historic_m3"], out["historic_age_h"]) == (689.403, 662.325, 375)


def test_corrupted_block_fails_its_marker_check() -> None:
    corrupted = WINTER[:-6] + "000000"
    out = decode_hex(corrupted, ZERO_KEY)
    assert "error" in out and "total_m3" not in out


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(WINTER, 4), ZERO_KEY)
    assert "error" in out and "total_m3" not in out
