"""Compact frames (CI 0x79 / 0x7B / 0x73): format signatures and rebuilding the full APL.

A compact frame sends only the data bytes of its records plus a 16-bit *format signature* (CRC of the
record headers) and a *full-frame CRC* (CRC of the rebuilt record sequence). A receiver learns the
headers from a full frame of the same meter (:func:`record_headers`, :func:`format_signature`), and
later rebuilds compact frames with :func:`expand_compact` and checks them with :func:`full_frame_crc`.
See fact sheet §7.1.
"""

from __future__ import annotations

from sdr_wmbus.app.records import (
    DIF_GLOBAL_READOUT,
    DIF_IDLE_FILLER,
    DIF_MANUFACTURER_DATA,
    DIF_MORE_RECORDS_FOLLOW,
    data_field_length,
    is_reserved_special_dif,
    read_record_header,
)
from sdr_wmbus.crc import crc16_en13757
from sdr_wmbus.errors import DecodeError, TruncatedError


def format_signature(headers: bytes) -> int:
    """CRC-16/EN-13757 over the concatenated record headers (as from :func:`record_headers`)."""
    return crc16_en13757(bytes(headers))


def full_frame_crc(apl: bytes) -> int:
    """CRC-16/EN-13757 over a full record sequence (CI excluded), to check a rebuilt compact frame."""
    return crc16_en13757(bytes(apl))


def _data_span(dif: int, buf: bytes, pos: int, what: str) -> int:
    """Number of bytes the data field at ``pos`` occupies, LVAR length byte included."""
    lvar, length = data_field_length(dif, buf, pos)
    size = length + (1 if lvar is not None else 0)
    if pos + size > len(buf):
        raise TruncatedError(f"{what} needs {size} data bytes at offset {pos}, {len(buf) - pos} left")
    return size


def record_headers(data: bytes) -> bytes:
    """Concatenated DIF/DIFE/VIF/VIFE bytes of all records of a full APL, without data and fillers.

    Stops before DIF 0x0F/0x1F (manufacturer data). The text of a plain-text VIF stays in, because
    it is part of the VIB and is needed to rebuild the frame. Malformed data raises DecodeError.
    """
    buf = bytes(data)
    out = bytearray()
    pos = 0
    while pos < len(buf):
        dif = buf[pos]
        if dif == DIF_IDLE_FILLER:
            pos += 1
            continue
        if dif in (DIF_MANUFACTURER_DATA, DIF_MORE_RECORDS_FOLLOW):
            break
        if dif == DIF_GLOBAL_READOUT:
            out.append(dif)
            pos += 1
            continue
        if is_reserved_special_dif(dif):
            raise DecodeError(f"reserved special-function DIF 0x{dif:02X} at offset {pos}")
        header = read_record_header(buf, pos)
        out += buf[pos : header.end]
        pos = header.end + _data_span(dif, buf, header.end, f"record at offset {header.offset}")
    return bytes(out)


def expand_compact(headers: bytes, values: bytes) -> bytes:
    """Rebuild the full record sequence from a known format and the data bytes of a compact frame.

    Each header takes as many bytes from ``values`` as its DIF asks for (LVAR fields: the length byte
    comes from ``values``). A header DIF 0x0F/0x1F takes all remaining values as manufacturer data.
    Trailing 0x2F fillers in ``values`` (encryption padding) are dropped; any other surplus, or too
    few values, raises :class:`DecodeError`.
    """
    fmt = bytes(headers)
    vals = bytes(values)
    out = bytearray()
    h_pos = 0
    v_pos = 0
    while h_pos < len(fmt):
        dif = fmt[h_pos]
        if dif in (DIF_IDLE_FILLER, DIF_GLOBAL_READOUT):
            out.append(dif)
            h_pos += 1
            continue
        if dif in (DIF_MANUFACTURER_DATA, DIF_MORE_RECORDS_FOLLOW):
            if h_pos + 1 != len(fmt):
                raise DecodeError(f"format continues after manufacturer-data DIF at offset {h_pos}")
            out.append(dif)
            out += vals[v_pos:]
            return bytes(out)
        if is_reserved_special_dif(dif):
            raise DecodeError(f"reserved special-function DIF 0x{dif:02X} in format at offset {h_pos}")
        header = read_record_header(fmt, h_pos)
        out += fmt[h_pos : header.end]
        size = _data_span(dif, vals, v_pos, f"format record at offset {h_pos}")
        out += vals[v_pos : v_pos + size]
        v_pos += size
        h_pos = header.end
    surplus = vals[v_pos:]
    if surplus.strip(bytes((DIF_IDLE_FILLER,))):
        raise DecodeError(f"{len(surplus)} compact value bytes left over after the last record")
    return bytes(out)
