"""Transmit side of the PHY: telegram bytes to the chip streams a T1, C1 or S1 meter sends.

Used to synthesise test signals (``sdr_wmbus.synth``) and as the reference that the receiver's
decoding is checked against. All functions return numpy uint8 arrays of chips, each 0 or 1, in the
order they go on air. Frames are given CRC-free with L as in format A (the form the rest of the package
uses); the block CRCs are inserted here, as a meter would.
"""

from __future__ import annotations

import numpy as np

from ..link.dll import add_crc_format_a, add_crc_format_b
from ..tables.phy import (
    C1_PREAMBLE_PAIRS,
    S1_PREAMBLE_PAIRS,
    SYNC_C_FORMAT_A,
    SYNC_C_FORMAT_B,
    SYNC_S,
    SYNC_S_CHIPS,
    SYNC_T1_C1,
    T1_PREAMBLE_PAIRS,
    THREE_OF_SIX,
)

T1_SYNC_CHIPS = 10  # the T1 sync proper is the low 10 chips of SYNC_T1_C1: 0000111101
C1_POSTAMBLE_CHIPS = 8


def int_to_chips(value: int, width: int) -> np.ndarray:
    """The ``width`` low bits of ``value`` as chips, MSB first (how sync words are sent)."""
    return np.array([(value >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.uint8)


def _build_3of6_byte_table() -> np.ndarray:
    """Chips of every byte value, shape (256, 12): high nibble word, then low nibble word."""
    table = np.empty((256, 12), dtype=np.uint8)
    for value in range(256):
        table[value, :6] = int_to_chips(THREE_OF_SIX[value >> 4], 6)
        table[value, 6:] = int_to_chips(THREE_OF_SIX[value & 0x0F], 6)
    return table


_THREE_OF_SIX_BYTE_CHIPS = _build_3of6_byte_table()


def encode_3of6(data: bytes) -> np.ndarray:
    """3-out-of-6 line code of T1 (12 chips per byte, high nibble first, each word MSB first)."""
    values = np.frombuffer(bytes(data), dtype=np.uint8)
    return _THREE_OF_SIX_BYTE_CHIPS[values].reshape(-1).copy()


def nrz_chips(data: bytes) -> np.ndarray:
    """NRZ line code of C1: every byte MSB first, one chip per bit."""
    return np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))


def preamble_chips(pairs: int) -> np.ndarray:
    """``pairs`` times "01": the alternating preamble that lets a receiver settle."""
    if pairs < 0:
        raise ValueError(f"preamble length must not be negative, got {pairs} pairs")
    return np.tile(np.array([0, 1], dtype=np.uint8), pairs)


def postamble(last_chip: int, count: int) -> np.ndarray:
    """``count`` alternating chips starting with the complement of ``last_chip``.

    EN 13757-4 (T mode) asks for "10" pairs after a final 0 and "01" pairs after a final 1, so the
    transmitter never holds one frequency for long when it stops.
    """
    if count < 0:
        raise ValueError(f"postamble length must not be negative, got {count} chips")
    first = 1 - int(last_chip)
    return ((np.arange(count) + first) % 2).astype(np.uint8)


def check_frame(frame: bytes) -> bytes:
    """Return ``frame`` as bytes if it is a CRC-free frame (L = len - 1, at least the 10-byte header).

    Raises ValueError saying what is wrong: encoding a malformed frame would produce a signal that no
    receiver can decode, which is never what a test wants.
    """
    frame = bytes(frame)
    if len(frame) < 10:
        raise ValueError(f"frame too short: {len(frame)} bytes, the link header (L C M A) alone has 10")
    if frame[0] != len(frame) - 1:
        raise ValueError(
            f"not a CRC-free frame: L field is {frame[0]} (0x{frame[0]:02X}) but {len(frame) - 1} bytes "
            "follow it; give the frame without link-layer CRCs, L counting the bytes after L"
        )
    return frame


def t1_chips(
    frame: bytes,
    preamble_pairs: int = T1_PREAMBLE_PAIRS,
    postamble_chips: int = 4,
) -> np.ndarray:
    """Chips of one T1 (meter to other) burst: preamble, sync, 3-of-6 coded format-A frame, postamble."""
    on_air = add_crc_format_a(check_frame(frame))
    body = encode_3of6(on_air)
    return np.concatenate(
        [
            preamble_chips(preamble_pairs),
            int_to_chips(SYNC_T1_C1, T1_SYNC_CHIPS),
            body,
            postamble(body[-1], postamble_chips),
        ]
    )


def c1_chips(
    frame: bytes,
    frame_format: str = "A",
    preamble_pairs: int = C1_PREAMBLE_PAIRS,
    postamble_chips: int = C1_POSTAMBLE_CHIPS,
) -> np.ndarray:
    """Chips of one C1 (meter to other) burst: preamble, two sync words, NRZ frame with CRCs, tail.

    The second sync word tells the receiver the frame format (0x54CD: A, 0x543D: B).
    """
    frame = check_frame(frame)
    if frame_format == "A":
        on_air, second_sync = add_crc_format_a(frame), SYNC_C_FORMAT_A
    elif frame_format == "B":
        on_air, second_sync = add_crc_format_b(frame), SYNC_C_FORMAT_B
    else:
        raise ValueError(f"frame format must be 'A' or 'B', got {frame_format!r}")
    body = nrz_chips(on_air)
    return np.concatenate(
        [
            preamble_chips(preamble_pairs),
            int_to_chips(SYNC_T1_C1, 16),
            int_to_chips(second_sync, 16),
            body,
            postamble(body[-1], postamble_chips),
        ]
    )


def manchester_chips(data: bytes) -> np.ndarray:
    """Manchester line code of S1: every byte MSB first, bit 1 = chips "01", bit 0 = chips "10"."""
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))
    chips = np.empty(2 * len(bits), dtype=np.uint8)
    chips[0::2] = 1 - bits
    chips[1::2] = bits
    return chips


def s1_chips(
    frame: bytes,
    preamble_pairs: int = S1_PREAMBLE_PAIRS,
    postamble_chips: int = 4,
) -> np.ndarray:
    """Chips of one S1 burst: preamble, the 18-chip sync, Manchester coded format-A frame, postamble."""
    on_air = add_crc_format_a(check_frame(frame))
    body = manchester_chips(on_air)
    return np.concatenate(
        [
            preamble_chips(preamble_pairs),
            int_to_chips(SYNC_S, SYNC_S_CHIPS),
            body,
            postamble(body[-1], postamble_chips),
        ]
    )
