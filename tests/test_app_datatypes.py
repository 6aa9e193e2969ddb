"""EN 13757-3 Annex A data types: worked examples from the fact sheet and real meters."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdr_wmbus.app import datatypes as dt
from sdr_wmbus.errors import DecodeError


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("25", 25),
        ("5901", 159),
        ("341200", 1234),
        ("27048502", 2850427),  # V4 volume register
        ("504069150000", 15694050),  # 12 digits (amiplus energy)
        ("F5", -5),  # 0xF in the top nibble is the sign
        ("0200F0", -2),  # ultraheat power register, 6 digits negative
        ("785634F2", -2345678),
        ("00", 0),
    ],
)
def test_bcd(wire: str, expected: int) -> None:
    assert dt.decode_bcd(bytes.fromhex(wire)) == expected


@pytest.mark.parametrize("wire", ["1A", "FFFF", "FFFFFFFF", "0A", "F0FF", ""])
def test_bcd_rejects_non_digits(wire: str) -> None:
    with pytest.raises(DecodeError):
        dt.decode_bcd(bytes.fromhex(wire))


@given(st.binary(min_size=1, max_size=10))
@settings(max_examples=200, deadline=None)
def test_bcd_random_bytes(data: bytes) -> None:
    digits = data[::-1].hex()
    try:
        value = dt.decode_bcd(data)
    except DecodeError:
        assert not digits.isdigit()
        return
    if digits.isdigit():
        assert value == int(digits)
    else:
        assert digits[0] == "f" and value == -int(digits[1:] or "0")


@pytest.mark.parametrize(
    ("wire", "signed", "expected"),
    [
        ("FF", True, -1),
        ("FF", False, 255),
        ("D0FF", True, -48),
        ("000080", True, -8388608),
        ("86F1FFFF", True, -3706),  # qualcosonic power
        ("010000000080", True, -(1 << 47) + 1),
        ("583B740200000000", True, 41171800),
        ("FFFFFFFFFFFFFFFF", False, (1 << 64) - 1),
    ],
)
def test_integers(wire: str, signed: bool, expected: int) -> None:
    assert dt.decode_int(bytes.fromhex(wire), signed=signed) == expected


def test_real() -> None:
    assert dt.decode_real(struct.pack("<f", 21.5)) == 21.5
    assert math.isclose(dt.decode_real(bytes.fromhex("d4c49041")), 18.0961075)
    assert dt.decode_real(struct.pack("<f", float("nan"))) is None
    with pytest.raises(DecodeError):
        dt.decode_real(b"\x00\x00")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("FE04", "2007-04-30"),  # fact sheet example
        ("5F2C", "2018-12-31"),
        ("7F21", "2019-01-31"),
        ("0101", "2000-01-01"),
        ("FFFF", None),  # meter says: no date
        ("0000", None),  # day 0 / month 0
        ("E1F7", None),  # year 127 ("every year") is no calendar date
        ("3F22", None),  # 2019-02-31 does not exist
    ],
)
def test_type_g(wire: str, expected: str | None) -> None:
    assert dt.decode_date_g(bytes.fromhex(wire)) == expected


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("32371F15", "2008-05-31 23:50"),  # hundred-year bits = 1
        ("200B7422", "2019-02-20 11:32"),
        ("3B37DF2C", "2022-12-31 23:59"),
        ("A0371F15", None),  # IV bit set
        ("3C0B7422", None),  # minute 60
        ("FFFFFFFF", None),
    ],
)
def test_type_f(wire: str, expected: str | None) -> None:
    assert dt.decode_datetime_f(bytes.fromhex(wire)) == expected


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("00790C742340", "2019-03-20 12:57:00"),  # amiplus device time
        ("2C1AA1D52100", "2022-01-21 01:26:44"),  # itron meter_datetime
        ("0C080AF42500", "2023-05-20 10:08:12"),
        ("00F90C742340", None),  # IV bit
    ],
)
def test_type_i(wire: str, expected: str | None) -> None:
    assert dt.decode_datetime_i(bytes.fromhex(wire)) == expected


def test_type_j() -> None:
    assert dt.decode_time_j(bytes.fromhex("3B3B17")) == "23:59:59"
    assert dt.decode_time_j(bytes.fromhex("000C08")) == "08:12:00"
    assert dt.decode_time_j(bytes.fromhex("3C0000")) is None


def test_datetime_by_length() -> None:
    assert dt.decode_datetime(bytes.fromhex("FE04")) == "2007-04-30"
    assert dt.decode_datetime(bytes.fromhex("3B3B17")) == "23:59:59"
    assert dt.decode_datetime(bytes.fromhex("32371F15")) == "2008-05-31 23:50"
    assert dt.decode_datetime(bytes.fromhex("00790C742340")) == "2019-03-20 12:57:00"
    with pytest.raises(DecodeError):
        dt.decode_datetime(b"\x00" * 5)
    with pytest.raises(DecodeError):
        dt.decode_date_g(b"\x00")


@pytest.mark.parametrize(
    ("lvar", "length"),
    [(0x00, 0), (0x07, 7), (0xBF, 191), (0xC0, 0), (0xC5, 5), (0xD3, 3), (0xE8, 8), (0xEF, 15),
     (0xF0, 16), (0xF4, 32), (0xF5, 48), (0xF6, 64)],
)  # fmt: skip
def test_lvar_lengths(lvar: int, length: int) -> None:
    assert dt.lvar_length(lvar) == length


@pytest.mark.parametrize("lvar", [0xCA, 0xCF, 0xDA, 0xF7, 0xFF])
def test_lvar_reserved(lvar: int) -> None:
    with pytest.raises(DecodeError):
        dt.lvar_length(lvar)


def test_lvar_values() -> None:
    assert dt.decode_lvar(0x07, bytes.fromhex("302E38322E3142")) == "B1.28.0"  # text, sent reversed
    assert dt.decode_lvar(0xC3, bytes.fromhex("563412")) == 123456
    assert dt.decode_lvar(0xD2, bytes.fromhex("3412")) == -1234
    assert dt.decode_lvar(0xE2, bytes.fromhex("3412")) == 0x1234
    assert dt.decode_lvar(0xF0, bytes(range(16))) == bytes(range(16)).hex().upper()
    assert dt.decode_lvar(0xE0, b"") is None
    assert dt.decode_lvar(0x00, b"") == ""
    with pytest.raises(DecodeError):
        dt.decode_lvar(0xC2, bytes.fromhex("3A12"))  # not BCD
    with pytest.raises(DecodeError):
        dt.decode_lvar(0xC2, bytes.fromhex("34"))  # too short


def test_text_is_latin1_and_reversed() -> None:
    assert dt.decode_text(b"\xe9cba") == "abc\u00e9"


def test_date_text_accepts_exactly_the_dates_that_exist():
    # the date check is written out (for speed): it must refuse what datetime.date refuses, no more
    import datetime

    from sdr_wmbus.app.datatypes import _date_text

    def reference(year, month, day):
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            return None

    for year in (0, 1, 1899, 1900, 1999, 2000, 2023, 2024, 2099, 2100, 2127, 2400, 9999, 10000):
        for month in range(0, 16):
            for day in range(0, 33):
                assert _date_text(year, month, day) == reference(year, month, day), (year, month, day)
    assert _date_text(None, 1, 1) is None
