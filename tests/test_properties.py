"""Property tests: whatever bytes arrive, the stack answers with a result or one of our own errors."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.errors import DecodeError
from sdr_wmbus.input_lines import parse_hex, parse_line
from sdr_wmbus.link.dll import (
    add_crc_format_a,
    add_crc_format_b,
    normalize_frame,
    strip_crc_format_a,
    strip_crc_format_b,
)
from sdr_wmbus.security.keys import KeyStore

DECODER = TelegramDecoder(KeyStore(default_key=bytes(range(16))))


def framed(body: bytes) -> bytes:
    """Give random bytes a consistent L field so they get past the link layer into the upper layers."""
    return bytes([len(body) + 9]) + b"\x44\x2d\x2c\x78\x56\x34\x12\x01\x07" + body


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    result = DECODER.decode(data)
    assert isinstance(result, dict)
    assert "error" in result or "id" in result


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from([0x72, 0x7A, 0x78, 0x79, 0x7B, 0x73, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0xA0]),
    st.binary(max_size=200),
    st.booleans(),
)
def test_random_upper_layers_never_raise(ci, body, already_decrypted):
    result = DECODER.decode(framed(bytes([ci]) + body), already_decrypted=already_decrypted, link_crc="none")
    assert isinstance(result, dict)
    assert len(result["id"]) == 8  # from the DLL, or from a long TPL header when one parsed


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_link_layer_raises_only_decode_errors(data):
    for func in (normalize_frame, strip_crc_format_a):
        try:
            func(data)
        except DecodeError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_line_gives_a_frame_or_an_error(line):
    parsed = parse_line(line)
    assert (parsed.frame is None) != (parsed.error is None)


@given(st.binary(max_size=64))
def test_hex_round_trip(data):
    if data:
        assert parse_hex(data.hex().upper()) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=9, max_size=255))
def test_frame_a_round_trip(body):
    frame = bytes([len(body)]) + body
    assert strip_crc_format_a(add_crc_format_a(frame)) == frame
    assert normalize_frame(add_crc_format_a(frame))[0] == frame


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=11, max_size=251))
def test_frame_b_round_trip(body):
    frame = bytes([len(body)]) + body
    assert strip_crc_format_b(add_crc_format_b(frame)) == frame
