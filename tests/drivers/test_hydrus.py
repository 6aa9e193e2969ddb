"""Diehl real-data frames (security mode >= 16): real telegrams (wmbusmeters test data)."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.diehl import DEFAULT_KEYS, checksum_ok, descramble


def decode_hex(hex_text: str, already_decrypted: bool = False) -> dict:
    return TelegramDecoder().decode(
        bytes.fromhex(hex_text), already_decrypted=already_decrypted, link_crc="none"
    )


# Stored already descrambled by wmbusmeters; the real-data checksum holds for the plain records.
IZAR_RS = "1E4424238B07797389607A8F00107D041312170100426CBF23441344100100"
MODE5_HYDRUS = (
    "3E44A5116565656570067AFB0030052F2F0C13503400000DFD110A383731303134423032410B3B00000002FD74DC15"
    "C4016D3B178D29CC0113313400002F2F"
)


def test_real_data_records() -> None:
    out = decode_hex(IZAR_RS)
    assert "error" not in out, out
    assert out["security_mode"] == 29  # descrambled by the stack, whatever driver names the records
    assert out["meter"] == "hydrus"
    assert [r["dif_vif"] for r in out["records"]] == ["0413", "426c", "4413"]


def test_scrambled_frame_round_trip() -> None:
    """Scramble the plain records with a default key, as a meter would; the driver undoes it."""
    plain = bytes.fromhex(IZAR_RS)
    keystream_xor = descramble(plain, DEFAULT_KEYS[1])  # XOR is its own inverse
    scrambled = plain[:15] + keystream_xor
    out = decode_hex(scrambled.hex())
    assert "error" not in out, out
    assert (out["total_m3"], out["total_at_date_m3"]) == (71.442, 69.7)


def test_mode5_frames_are_decoded_by_the_stack() -> None:
    out = decode_hex(MODE5_HYDRUS, already_decrypted=True)
    assert out["total_m3"] == 3.45


def test_checksum() -> None:
    plain = bytes.fromhex(IZAR_RS)[15:]
    assert checksum_ok(plain, 0x7D)
    assert not checksum_ok(plain, 0x7C)


def test_corrupted_data_is_an_error() -> None:
    frame = bytearray.fromhex(IZAR_RS)
    frame[20] ^= 0x01
    out = decode_hex(frame.hex())
    assert "checksum" in out["error"]
    assert "total_m3" not in out
