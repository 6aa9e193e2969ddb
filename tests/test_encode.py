"""Transmit-side PHY encoding (sdr_wmbus.phy.encode) against the spec's vectors (wmbus.md 1.2-1.5, V10)."""

from __future__ import annotations

import numpy as np
import pytest

from sdr_wmbus.link.dll import add_crc_format_a, strip_crc_format_a, strip_crc_format_b
from sdr_wmbus.phy.encode import (
    c1_chips,
    check_frame,
    encode_3of6,
    int_to_chips,
    nrz_chips,
    postamble,
    preamble_chips,
    t1_chips,
)
from sdr_wmbus.tables.phy import THREE_OF_SIX, THREE_OF_SIX_DECODE

V10_CHIPS = "5A971C3B13B44EC65A2DC34E58D2CE6A9D2999659658D58E58B59C4DA4EC"
V10_ON_AIR = bytes.fromhex("0F442D2C7856341201326FCFA000010203047678")
V10_FRAME = V10_ON_AIR[:10] + V10_ON_AIR[12:18]  # CRCs 6FCF and 7678 removed
V13 = bytes.fromhex(
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
)


def chips_from_hex(text: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))


def chips_to_int(chips: np.ndarray) -> int:
    return int("".join(str(int(c)) for c in chips), 2)


def decode_3of6(chips: np.ndarray) -> bytes:
    """Reference decoder straight from the table, to check that encoding round-trips."""
    words = [chips_to_int(chips[i : i + 6]) for i in range(0, len(chips), 6)]
    nibbles = [THREE_OF_SIX_DECODE[w] for w in words]
    return bytes((hi << 4) | lo for hi, lo in zip(nibbles[::2], nibbles[1::2], strict=True))


def test_3of6_spec_example():
    chips = encode_3of6(bytes.fromhex("2944"))
    assert chips.dtype == np.uint8
    assert len(chips) == 24
    assert chips_to_int(chips) == 0x3A571C


def test_3of6_table_words():
    for nibble, code in enumerate(THREE_OF_SIX):
        chips = encode_3of6(bytes([nibble * 0x11]))
        assert chips_to_int(chips[:6]) == code == chips_to_int(chips[6:])
        assert chips[:6].sum() == 3


def test_3of6_round_trip_all_bytes():
    data = bytes(range(256))
    chips = encode_3of6(data)
    assert set(np.unique(chips)) <= {0, 1}
    assert decode_3of6(chips) == data


def test_nrz_msb_first():
    assert chips_to_int(nrz_chips(b"\x54\xcd")) == 0x54CD
    assert nrz_chips(b"\x80").tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_helpers():
    assert int_to_chips(0x3D, 10).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    assert preamble_chips(3).tolist() == [0, 1, 0, 1, 0, 1]
    assert postamble(0, 4).tolist() == [1, 0, 1, 0]
    assert postamble(1, 3).tolist() == [0, 1, 0]
    with pytest.raises(ValueError):
        preamble_chips(-1)


def test_v10_crc_vector():
    assert add_crc_format_a(V10_FRAME) == V10_ON_AIR


def test_t1_chips_v10():
    chips = t1_chips(V10_FRAME)
    assert chips.dtype == np.uint8
    assert chips[:38].tolist() == [0, 1] * 19
    assert chips[38:48].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    np.testing.assert_array_equal(chips[48:-4], chips_from_hex(V10_CHIPS))
    assert chips[-4:].tolist() == ([1, 0, 1, 0] if chips[-5] == 0 else [0, 1, 0, 1])
    assert decode_3of6(chips[48:-4]) == V10_ON_AIR


def test_t1_correlator_word_and_length():
    # Spec 1.3: the preamble tail plus sync is 0x543D; 1.5: L=0x29 -> 48 bytes -> 626 chips (2 postamble).
    chips = t1_chips(V10_FRAME)
    assert chips_to_int(chips[32:48]) == 0x543D
    frame = bytes([0x29]) + bytes(range(0x29))
    assert len(t1_chips(frame, postamble_chips=2)) == 626
    assert len(t1_chips(frame, preamble_pairs=25, postamble_chips=8)) == 50 + 10 + 12 * 48 + 8


@pytest.mark.parametrize("frame", [V10_FRAME, V13])
def test_c1_format_a(frame: bytes):
    chips = c1_chips(frame, "A")
    assert chips[:32].tolist() == [0, 1] * 16
    assert chips_to_int(chips[32:64]) == 0x543D54CD
    on_air = add_crc_format_a(frame)
    body = chips[64 : 64 + 8 * len(on_air)]
    assert strip_crc_format_a(np.packbits(body).tobytes()) == frame
    tail = chips[64 + 8 * len(on_air) :]
    assert len(tail) >= 2
    assert tail[0] != body[-1] and all(tail[i] != tail[i + 1] for i in range(len(tail) - 1))


@pytest.mark.parametrize("frame", [V10_FRAME, V13])
def test_c1_format_b(frame: bytes):
    chips = c1_chips(frame, "B", preamble_pairs=20)
    assert chips[:40].tolist() == [0, 1] * 20
    assert chips_to_int(chips[40:72]) == 0x543D543D
    length = len(frame) + 2  # one CRC for frames up to 126 bytes
    raw = np.packbits(chips[72 : 72 + 8 * length]).tobytes()
    assert raw[0] == length - 1
    assert strip_crc_format_b(raw) == frame


def test_bad_frames_rejected():
    with pytest.raises(ValueError, match="L field"):
        t1_chips(V10_FRAME + b"\x00")
    with pytest.raises(ValueError, match="L field"):
        c1_chips(V10_ON_AIR)
    with pytest.raises(ValueError, match="too short"):
        check_frame(b"\x02\x44\x00")
    with pytest.raises(ValueError, match="frame format"):
        c1_chips(V10_FRAME, "C")
