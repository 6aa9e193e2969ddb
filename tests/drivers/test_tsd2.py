"""Techem smoke detector hook: what the driver file's tests do not show (edge cases of the payload)."""

from __future__ import annotations

from .helpers import decode_hex

OK = "294468506935639176F0A0009F2782290060822900000401D6311AF93E1BF93E008DC3009ED4000FE500"


def _with_payload(payload_hex: str) -> str:
    frame = bytes.fromhex(OK[:22] + payload_hex)  # L, C, M, A, CI then the payload
    return (bytes([len(frame) - 1]) + frame[1:]).hex()


def test_a_date_that_is_no_calendar_date_is_null() -> None:
    out = decode_hex(_with_payload("000000" + "00" * 8))  # day 0, month 0
    assert out["meter"] == "tsd2"
    assert out["status"] == "OK"
    assert out["prev_date"] is None


def test_an_empty_payload_is_a_decoding_error_status_not_an_exception() -> None:
    out = decode_hex(_with_payload(""))
    assert out["status"] == "DECODING_ERROR_payload"
    assert out["prev_date"] is None
    assert "error" not in out


def test_status_and_date_need_exactly_three_bytes() -> None:
    out = decode_hex(_with_payload("019F27"))
    assert out["status"] == "SMOKE"
    assert out["prev_date"] == "2019-12-31"
