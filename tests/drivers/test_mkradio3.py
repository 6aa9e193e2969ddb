"""Techem MK Radio 3: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

APRIL = "2F446850313233347462A2069F255900B029310000000306060906030609070606050509050505050407040605070500"
SAME_DAY = "2F446850313233347462A2067F245900F007310000000306060906030609070606050509050505050407040605070500"
DAY_AFTER = "2F446850313233347462A2067F2459001008310000000306060906030609070606050509050505050407040605070500"


def test_totals_and_dates() -> None:
    out = decode_hex(APRIL)
    assert out["meter"] == "mkradio3"
    assert out["total_m3"] == 13.8
    assert out["target_m3"] == 8.9
    assert out["prev_date"] == "2018-12-31"
    assert out["current_date"] == "2019-04-27"


def test_current_year_rolls_over_on_the_billing_day() -> None:
    out = decode_hex(SAME_DAY)
    assert (out["prev_date"], out["current_date"]) == ("2018-03-31", "2019-03-31")
    assert out["total_m3"] == 13.8


def test_current_year_stays_after_the_billing_day() -> None:
    out = decode_hex(DAY_AFTER)
    assert (out["prev_date"], out["current_date"]) == ("2018-03-31", "2018-04-01")


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(APRIL, 30))
    assert out["error"].startswith("mkradio3:")
    assert "error" in out and "total_m3" not in out
