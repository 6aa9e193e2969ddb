"""Compact frames: format signature, header extraction and rebuilding (fact sheet §7.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdr_wmbus.app import expand_compact, format_signature, full_frame_crc, parse_apl, record_headers
from sdr_wmbus.errors import DecodeError


def _h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


MC21_FORMAT = _h("02FF20 0413 4413 615B 6167")
MC21_VALUES = _h("7100 08190000 08190000 7F 13")
MC21_FULL = _h("02FF20 7100 0413 08190000 4413 08190000 615B 7F 6167 13")


def test_multical21_example() -> None:
    assert format_signature(MC21_FORMAT) == 0xA8ED  # on air: ED A8
    full = expand_compact(MC21_FORMAT, MC21_VALUES)
    assert full == MC21_FULL
    assert full_frame_crc(full) == 0xB66A  # on air: 6A B6
    assert record_headers(MC21_FULL) == MC21_FORMAT
    values = {r.quantity: r.value for r in parse_apl(full).records}
    assert values["volume"] == 6.408 and values["flow_temperature"] == 127


def test_kamheat_learn_then_expand() -> None:
    # wmbusmeters:0187 — a full frame (CI 0x78) teaches the format, a later CI 0x79 frame uses it.
    full = _h("030FC51000 430F921000 0314072B05 426CBE2B 022D0C00 01FF2100")
    compact = _h("E26D CD65 C51000921000152B05BE2B0C0000")
    headers = record_headers(full)
    assert headers == _h("030F 430F 0314 426C 022D 01FF21")
    assert format_signature(headers) == int.from_bytes(compact[0:2], "little")
    rebuilt = expand_compact(headers, compact[4:])
    assert full_frame_crc(rebuilt) == int.from_bytes(compact[2:4], "little")
    records = parse_apl(rebuilt).records
    assert records[0].value == 42_930_000_000  # J; wmbusmeters: 11925 kWh
    assert records[2].value == 3387.09


def test_fillers_and_manufacturer_data_are_not_headers() -> None:
    apl = _h("2F2F 0413 01000000 2F 0D FD0E 03 434241 0F 0102")
    assert record_headers(apl) == _h("0413 0DFD0E")


def test_lvar_length_comes_from_values() -> None:
    headers = _h("0413 0DFD0E")
    rebuilt = expand_compact(headers, _h("01000000 03 434241"))
    assert rebuilt == _h("0413 01000000 0DFD0E 03 434241")
    assert parse_apl(rebuilt).records[1].value == "ABC"


def test_plain_text_vif_stays_in_format() -> None:
    apl = _h("02 7C 03 495523 0500")
    headers = record_headers(apl)
    assert headers == _h("027C03495523")
    assert expand_compact(headers, _h("0500")) == apl


def test_manufacturer_data_in_format_takes_rest() -> None:
    assert expand_compact(_h("0413 0F"), _h("01000000 AABB")) == _h("0413 01000000 0F AABB")
    with pytest.raises(DecodeError):
        expand_compact(_h("0F 0413"), _h("01000000"))


def test_trailing_fillers_are_dropped() -> None:
    assert expand_compact(MC21_FORMAT, MC21_VALUES + b"\x2f" * 5) == MC21_FULL


@pytest.mark.parametrize(
    ("headers", "values"),
    [
        ("0413", "010000"),  # too few values
        ("0413", "0100000001"),  # surplus value bytes
        ("0D13", ""),  # LVAR byte missing
        ("0D13", "F8"),  # reserved LVAR
        ("0D13", "04 4142"),  # LVAR data short
        ("84", ""),  # header truncated in DIFE
        ("0493", "00000000"),  # header truncated in VIFE
        ("3F", ""),  # reserved special function
    ],
)
def test_mismatches_raise_decode_error(headers: str, values: str) -> None:
    with pytest.raises(DecodeError):
        expand_compact(_h(headers), _h(values))


@pytest.mark.parametrize("apl", ["0413 0100", "84", "3F", "0D13 05 41"])
def test_record_headers_rejects_malformed(apl: str) -> None:
    with pytest.raises(DecodeError):
        record_headers(_h(apl))


@given(st.binary(max_size=40), st.binary(max_size=60))
@settings(max_examples=300, deadline=None)
def test_random_input_only_raises_decode_error(headers: bytes, values: bytes) -> None:
    for call in (lambda: expand_compact(headers, values), lambda: record_headers(headers + values)):
        try:
            call()
        except DecodeError:
            pass


_FIXED_LENGTH = {0x0: 0, 0x1: 1, 0x2: 2, 0x3: 3, 0x4: 4, 0x5: 4, 0x6: 6, 0x7: 8,
                 0x9: 1, 0xA: 2, 0xB: 3, 0xC: 4, 0xE: 6}  # fmt: skip


@st.composite
def _record(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A well-formed record: (header, data) with random DIFEs, VIFEs and an LVAR now and then."""
    code = draw(st.sampled_from(sorted(_FIXED_LENGTH) + [0xD]))
    difes = draw(st.lists(st.integers(0, 0x7F), max_size=3))
    dif = code | draw(st.sampled_from([0x00, 0x10, 0x40])) | (0x80 if difes else 0)
    dib = bytes([dif]) + bytes(b | 0x80 for b in difes[:-1]) + bytes(difes[-1:])
    vifes = draw(st.lists(st.integers(0, 0x7F), max_size=3))
    vif = draw(st.sampled_from([0x13, 0x6D, 0x5A, 0x7F, 0x6E]))
    vib = bytes([vif | (0x80 if vifes else 0)]) + bytes(b | 0x80 for b in vifes[:-1]) + bytes(vifes[-1:])
    if code == 0xD:
        text = draw(st.binary(max_size=12))
        data = bytes([len(text)]) + text
    else:
        data = draw(st.binary(min_size=_FIXED_LENGTH[code], max_size=_FIXED_LENGTH[code]))
    return dib + vib, data


@given(st.lists(st.tuples(_record(), st.booleans()), max_size=8))
@settings(max_examples=200, deadline=None)
def test_learn_and_rebuild_round_trip(records: list[tuple[tuple[bytes, bytes], bool]]) -> None:
    apl = b"".join(header + data + (b"\x2f" if filler else b"") for (header, data), filler in records)
    headers = b"".join(header for (header, _), _ in records)
    values = b"".join(data for (_, data), _ in records)
    assert record_headers(apl) == headers
    assert expand_compact(headers, values) == b"".join(h + d for (h, d), _ in records)
    assert parse_apl(apl).error is None
