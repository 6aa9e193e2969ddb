"""Techem MK Radio 3a: a real telegram (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

LEGACY = (
    "36446850420656625072A20C007C3110250000293400373A002E38000E15002F37003A39003835002F24003930001D25"
    "00312500162900"
)


def test_total_target_and_monthly_history() -> None:
    out = decode_hex(LEGACY)
    assert out["meter"] == "mkradio3a"
    assert out["total_m3"] == 948.8
    assert out["target_m3"] == 9.3
    assert out["target_date"] == "2024-11-28"
    months = {name: value for name, value in out.items() if name.startswith("last_")}
    assert months == {
        "last_nov_m3": 9.3,
        "last_oct_m3": 11.3,
        "last_sep_m3": 10.2,
        "last_aug_m3": 3.5,
        "last_jul_m3": 10.2,
        "last_jun_m3": 11.5,
        "last_may_m3": 10.9,
        "last_apr_m3": 8.3,
        "last_mar_m3": 10.5,
        "last_feb_m3": 6.6,
        "last_jan_m3": 8.6,
        "last_dec_m3": 6.3,
    }


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(LEGACY, 3))
    assert "error" in out and "total_m3" not in out
