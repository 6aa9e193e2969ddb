"""The seeded compact-frame formats: each is a well-formed record-header sequence, no two share a
signature, and a compact frame of a seeded format decodes without the meter's full frame."""

from __future__ import annotations

from sdr_wmbus.app.compact import format_signature, record_headers
from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.tables.compact_formats import KNOWN_FORMATS


def test_every_known_format_is_a_header_sequence_with_its_own_signature():
    signatures: dict[int, str] = {}
    for headers_hex in KNOWN_FORMATS:
        headers = bytes.fromhex(headers_hex)
        assert headers_hex == headers_hex.lower()
        signature = format_signature(headers)
        other = signatures.get(signature)
        assert other is None, f"{headers_hex} and {other} share signature 0x{signature:04X}"
        signatures[signature] = headers_hex
        # zero data for every record rebuilds a full frame whose headers are the format again
        assert record_headers(_with_zero_data(headers)) == headers


def _with_zero_data(headers: bytes) -> bytes:
    from sdr_wmbus.app.records import data_field_length, read_record_header

    out = bytearray()
    pos = 0
    while pos < len(headers):
        header = read_record_header(headers, pos)
        _, length = data_field_length(header.dif, b"\x00", 0)
        out += headers[pos : header.end] + bytes(length)
        pos = header.end
    return bytes(out)


def test_multical_302_compact_frame_in_mj_decodes_without_a_full_frame():
    # Kamstrup Multical 302 (energy in MJ), compact frame of format 0x52C2 (ELL already decrypted).
    telegram = "25442D2C53160567300C8D2092C155F824389079C252C47190DE00E9DD0034EE171F33000000"
    result = TelegramDecoder().decode(bytes.fromhex(telegram), already_decrypted=True)
    assert "error" not in result, result
    volumes = [r["value"] for r in result["records"] if r["quantity"] == "volume"]
    assert volumes == [1568.308]
