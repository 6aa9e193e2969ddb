"""Data link layer: block CRCs of frame formats A and B, and the L/C/M/A header.

Frame format A: a 10-byte first block and 16-byte blocks, each followed by its CRC (sent MSB first);
L counts the bytes after L without CRCs. Frame format B: one CRC over the first 126 bytes (block 1+2)
and one over the rest; L counts the CRCs too. Everything downstream works on the CRC-free form with L
as in format A.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..crc import crc16_en13757
from ..errors import CrcError, DecodeError, TruncatedError
from ..tables.ci_fields import C_FIELDS
from ..tables.device_types import device_type_name
from ..tables.manufacturers import manufacturer_code, manufacturer_letters_valid


def format_a_length(length_field: int) -> int:
    """Bytes on air (L included) of a format-A frame whose L field is ``length_field``."""
    data_bytes = max(length_field - 9, 0)
    blocks = 1 + (data_bytes + 15) // 16
    return 1 + length_field + 2 * blocks


def plausible_link_header(frame: bytes) -> bool:
    """Whether a frame's link header (C M A, CRC-free, after L) is one a wireless M-Bus device sends:
    C is a function EN 13757-4 defines (``C_FIELDS``), M spells three letters (bit 15 aside, which
    some meters set). The radio drops a frame that fails this as a sync-word hit on noise: among the
    very many candidates noise and damaged bursts make, a first block fits its 16-bit CRC by chance
    now and then, and only about one such block in 20 passes this (every real frame does)."""
    return (
        len(frame) >= 10 and frame[1] in C_FIELDS and manufacturer_letters_valid(frame[2] | (frame[3] << 8))
    )


def strip_crc_format_a(raw: bytes) -> bytes:
    """Check and remove the block CRCs of a format-A frame; raises CrcError naming the bad block."""
    if len(raw) < 12:
        raise TruncatedError(f"truncated frame: {len(raw)} bytes, a format A frame has at least 12")
    length_field = raw[0]
    if length_field < 9:
        raise DecodeError(f"invalid L field {length_field}: a frame has at least 9 bytes after L")
    need = format_a_length(length_field)
    if len(raw) < need:
        raise TruncatedError(
            f"truncated frame: L={length_field} needs {need} bytes with CRCs, got {len(raw)}"
        )
    out = bytearray()
    pos = 0
    block_no = 1
    remaining = length_field + 1
    while remaining > 0:
        size = 10 if block_no == 1 else min(16, remaining)
        block = raw[pos : pos + size]
        crc = (raw[pos + size] << 8) | raw[pos + size + 1]
        if crc16_en13757(block) != crc:
            raise CrcError(f"CRC error in block {block_no} of frame format A")
        out += block
        pos += size + 2
        remaining -= size
        block_no += 1
    return bytes(out)


def add_crc_format_a(frame: bytes) -> bytes:
    """Insert the format-A block CRCs into a CRC-free frame (L as in format A): what a meter sends."""
    out = bytearray()
    pos = 0
    while pos < len(frame):
        size = 10 if pos == 0 else 16
        block = frame[pos : pos + size]
        out += block + crc16_en13757(block).to_bytes(2, "big")
        pos += size
    return bytes(out)


def add_crc_format_b(frame: bytes) -> bytes:
    """Format-B frame from a CRC-free one: L counts the CRCs; CRCs after byte 126 and at the end."""
    length = len(frame) - 1 + (2 if len(frame) <= 126 else 4)
    if length > 255:
        raise ValueError("frame too long for format B")
    data = bytes([length]) + frame[1:]
    first, rest = data[:126], data[126:]
    out = first + crc16_en13757(first).to_bytes(2, "big")
    if rest:
        out += rest + crc16_en13757(rest).to_bytes(2, "big")
    return out


def format_b_crc_ok(raw: bytes) -> bool:
    """True when ``raw`` (exactly L+1 bytes) carries valid format-B CRCs."""
    try:
        strip_crc_format_b(raw)
    except DecodeError:
        return False
    return True


def strip_crc_format_b(raw: bytes) -> bytes:
    """Check and remove the CRCs of a format-B frame and rewrite L to format-A semantics."""
    if len(raw) < 12:
        raise TruncatedError(f"truncated frame: {len(raw)} bytes, a format B frame has at least 12")
    length_field = raw[0]
    if length_field < 12:
        raise DecodeError(f"invalid L field {length_field} for frame format B")
    if len(raw) < length_field + 1:
        raise TruncatedError(
            f"truncated frame: L={length_field} needs {length_field + 1} bytes, got {len(raw)}"
        )
    frame = raw[: length_field + 1]
    first_end = min(len(frame), 128)  # block 1+2: up to 126 bytes then their CRC
    body1 = frame[: first_end - 2]
    crc1 = (frame[first_end - 2] << 8) | frame[first_end - 1]
    if crc16_en13757(body1) != crc1:
        raise CrcError("CRC error in block 1-2 of frame format B")
    out = bytearray(body1)
    if len(frame) > 128:
        if len(frame) < 131:
            raise DecodeError(f"invalid L field {length_field} for frame format B (empty block 3)")
        body3 = frame[128:-2]
        crc3 = (frame[-2] << 8) | frame[-1]
        if crc16_en13757(body3) != crc3:
            raise CrcError("CRC error in block 3 of frame format B")
        out += body3
    out[0] = len(out) - 1
    return bytes(out)


LINK_CRC_CHOICES = ("auto", "none", "present")


@lru_cache(maxsize=512)
def _single_bit_syndromes(covered: int) -> frozenset[int]:
    """CRC differences that one flipped bit in a block of ``covered`` bytes (or in its CRC) causes."""
    zeros = crc16_en13757(bytes(covered))
    syndromes = {1 << bit for bit in range(16)}  # a flip in the CRC itself
    for index in range(covered):
        for bit in range(8):
            block = bytearray(covered)
            block[index] = 1 << bit
            syndromes.add(crc16_en13757(bytes(block)) ^ zeros)
    return frozenset(syndromes)


def _one_bit_from_format_b(raw: bytes) -> bool:
    """True when ``raw`` (L+1 bytes) would be a valid format-B frame but for a single flipped bit.

    Such a frame is almost surely a corrupted format-B frame rather than a CRC-free one (a CRC-free
    frame lands there with probability about 8n/65536), so it is refused instead of read as data.
    """
    frame = bytes(raw)
    first_end = min(len(frame), 128)
    blocks = [(frame[: first_end - 2], frame[first_end - 2 : first_end])]
    if len(frame) > 128:
        if len(frame) < 131:
            return False
        blocks.append((frame[128:-2], frame[-2:]))
    wrong = []
    for body, crc in blocks:
        syndrome = crc16_en13757(body) ^ int.from_bytes(crc, "big")
        if syndrome:
            wrong.append((len(body), syndrome))
    return len(wrong) == 1 and wrong[0][1] in _single_bit_syndromes(wrong[0][0])


def normalize_frame(raw: bytes, link_crc: str = "auto") -> tuple[bytes, str, int]:
    """Return (CRC-free frame, how, ignored) for bytes that may or may not carry link-layer CRCs.

    ``how`` is 'none' (no CRCs were present), 'A' or 'B' (CRCs of that format checked and removed);
    ``ignored`` counts bytes after the frame (some capture tools append a checksum or junk), for the
    caller to warn about. ``link_crc`` says what the caller knows: 'none' (CRC-free, as rtl_wmbus and
    wmbusmeters print frames), 'present' (CRCs of format A or B must check) or 'auto'.

    A frame that carries CRCs is never re-read as CRC-free. In 'auto': a frame long enough for format-A
    CRCs must pass them; an L+1-byte frame is format B when its CRCs check, refused when they are one
    bit away from checking (a corrupted format-B frame), and CRC-free otherwise.
    """
    if len(raw) < 10:
        raise TruncatedError(f"truncated frame: {len(raw)} bytes, the link header alone has 10")
    length_field = raw[0]
    if length_field < 9:
        raise DecodeError(f"invalid L field {length_field}: a frame has at least 9 bytes after L")
    if len(raw) < length_field + 1:
        raise TruncatedError(f"truncated frame: L field says {length_field} bytes follow, got {len(raw) - 1}")
    trailing = len(raw) - length_field - 1
    if link_crc == "none":
        return bytes(raw[: length_field + 1]), "none", trailing
    b_frame = raw[: length_field + 1]
    if length_field >= 12 and format_b_crc_ok(b_frame):
        return strip_crc_format_b(b_frame), "B", trailing
    if len(raw) >= format_a_length(length_field):
        frame = strip_crc_format_a(raw)  # CrcError when a block does not check
        return frame, "A", len(raw) - format_a_length(length_field)
    if link_crc == "present":
        raise CrcError("CRC error: the frame checks neither as format A nor as format B")
    if trailing == 0 and length_field >= 12 and _one_bit_from_format_b(b_frame):
        raise CrcError(
            "CRC error in frame format B (one bit wrong); if the frame carries no CRCs, "
            "say so (--link-crc none)"
        )
    return bytes(b_frame), "none", trailing


@dataclass(frozen=True)
class LinkHeader:
    """The fixed DLL header: L, C, M and A fields."""

    length: int
    c_field: int
    manufacturer: str
    m_wire: bytes  # 2 bytes as sent (for IVs and counters)
    id: str  # 8 BCD digits as printed on the meter
    a_wire: bytes  # 6 bytes as sent: ID(4) version device type
    version: int
    device_type: int

    @property
    def media(self) -> str:
        return device_type_name(self.device_type, self.manufacturer)


def id_from_wire(id_bytes: bytes) -> str:
    """The meter id as printed: the 4 little-endian BCD bytes, most significant first.

    Non-BCD nibbles occur (some meters use hex ids); they are shown as hex digits, like other tools do.
    """
    return id_bytes[::-1].hex()


def parse_link_header(frame: bytes) -> LinkHeader:
    """Parse L, C, M and A of a CRC-free frame."""
    if len(frame) < 10:
        raise TruncatedError(f"truncated frame: {len(frame)} bytes, the link header has 10")
    m_value = frame[2] | (frame[3] << 8)
    return LinkHeader(
        length=frame[0],
        c_field=frame[1],
        manufacturer=manufacturer_code(m_value),
        m_wire=bytes(frame[2:4]),
        id=id_from_wire(frame[4:8]),
        a_wire=bytes(frame[4:10]),
        version=frame[8],
        device_type=frame[9],
    )
