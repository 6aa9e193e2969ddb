"""BFW 240 radio: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder


def decode_hex(hex_text: str) -> dict:
    return TelegramDecoder().decode(bytes.fromhex(hex_text), link_crc="none")


FEBRUARY = (
    "3644D7088877700002087ADBC000002F2F9E1F03C10388152A00000000000000000000000000000204000404000EE2020A"
    "C1321D280221"
)
MARCH = (
    "3644D7088877700002087A8BC000002F2F011F03C1038D152A0000000000000000000000000200040400040E00E20A23C1"
    "1D238D010321"
)
EMPTY = (
    "3644D7087670700002087A27C000002F2F011F000000000B36000000000000000000000000000000000000000000000000"
    "000000010321"
)
SHORT_HISTORY = (
    "3644D7084774700002087AE1C000002F2F481F0144010014700000000000000000000000000000000000000000379B0144"
    "AC0100040321"
)


def history(out: dict) -> list[int]:
    return [out[f"prev_{n:02d}_hca"] for n in range(1, 19)]


def test_february() -> None:
    out = decode_hex(FEBRUARY)
    assert "error" not in out, out
    assert out["meter"] == "bfw240radio"
    assert (out["current_hca"], out["prev_hca"], out["device_date"]) == (904, 961, "2021-02-28")
    assert history(out) == [541, 961, 522, 226, 14, 4, 4, 4, 2] + [0] * 9
    assert "records" not in out  # the APL is not records: no generic garbage


def test_history_shifts_by_a_month() -> None:
    out = decode_hex(MARCH)
    assert (out["current_hca"], out["prev_hca"], out["device_date"]) == (909, 961, "2021-03-01")
    assert history(out) == [909, 541, 961, 522, 226, 14, 4, 4, 4, 2] + [0] * 8


def test_new_meter() -> None:
    out = decode_hex(EMPTY)
    assert (out["current_hca"], out["prev_hca"], out["device_date"]) == (0, 0, "2021-03-01")
    assert history(out) == [0] * 18


def test_short_history() -> None:
    out = decode_hex(SHORT_HISTORY)
    assert (out["current_hca"], out["prev_hca"], out["device_date"]) == (256, 324, "2021-03-04")
    assert history(out) == [256, 172, 324, 155, 55] + [0] * 13


def test_corrupted_date_is_an_error() -> None:
    out = decode_hex(FEBRUARY[:-6] + "2A0221")  # day 0x2A is not BCD
    assert out["error"].startswith("bfw240radio")
    assert "current_hca" not in out
