"""Techem FHKV data III: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

LAYOUT_0F = (
    "33446850341211119480A20F9F292D005024040011BD08380904000000070000000000000000000000000001000000000003140E"
)
LAYOUT_01 = (
    "32446850059605416980A0019F334805400CFE029808B1080000000000060F4F3467AEA9A88D7B8D503E000000000000000000"
)


def test_layout_0f_with_extra_byte() -> None:
    out = decode_hex(LAYOUT_0F)
    assert out["meter"] == "fhkvdataiii"
    assert (out["current_hca"], out["current_date"]) == (4, "2021-02-05")
    assert (out["previous_hca"], out["previous_date"]) == (45, "2020-12-31")
    assert (out["temp_room_c"], out["temp_radiator_c"]) == (22.37, 23.6)


def test_layout_01() -> None:
    out = decode_hex(LAYOUT_01)
    assert (out["current_hca"], out["current_date"]) == (766, "2026-06-04")
    assert (out["previous_hca"], out["previous_date"]) == (1352, "2025-12-31")
    assert (out["temp_room_c"], out["temp_radiator_c"]) == (22.0, 22.25)


def test_truncated_or_unknown_layout_is_an_error() -> None:
    out = decode_hex(shortened(LAYOUT_01, 34))
    assert "error" in out and "current_hca" not in out
    unknown = LAYOUT_0F.replace("A20F9F29", "A27E9F29")
    out = decode_hex(unknown)
    assert "error" in out and "current_hca" not in out
