"""Apator 162: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

# CRC-stripped T1 frame, mode 5 with the all-zero key (spec V12).
ENCRYPTED = (
    "6e4401068888888805077a85006085bc2630713819512eb4cd87fba554fb43f67cf9654a68ee8e194088160df752e716238292e8"
    "af1ac20986202ee561d743602466915e42f1105d9c6782a54504e4f099e65a7656b930c73a30775122d2fdf074b5035cfaa7e005"
    "0bf32faae03a77"
)
# Already-decrypted payloads: lead 0x0F, FF padding; no padding; 4-byte checksum; 0x7C history block.
PADDED = (
    "6E4401062020202005077A9A0060852F2F0F0A734393CC0000435B0183001A54E06F630291342510030F00007B013E0B00003E0B"
    "00003E0B00003E0B00003E0B00003E0B00003E0B0000650000003D0000003D0000003D00000000000000A0910CB003FFFFFFFFFF"
    "FFFFFFFFFFA62B"
)
UNPADDED = "2E4401064052030205077A2D0020852F2F0F334DA39A00000071011ABF0D00039A0D00A01053850310CECC0D008943"
LONG_CHECKSUM = (
    "704401060404040405077A0E0060852F2F0F766DFB96010000430600808F67DB8F67DB01010000102F1F01007B01000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000A05F5C1804FFFFFFFFFF"
    "FFFFFFFFFF26BCD649"
)
HISTORY_7C = (
    "6E4401060336530005077A210060852F2F0F141F539A12000243EE0E84E3BDD9B6593A040500001082C800007C01B2C4000064C1"
    "0000B3BD00000DB900000EB500009FB0000054AB0000EDA30000A39D0000BF980000E394000038900000488B0000A034CB8C04FF"
    "FFFFFFFFFFFA8A"
)


def test_encrypted_frame_with_zero_key() -> None:
    out = decode_hex(ENCRYPTED, "00" * 16)
    assert out["meter"] == "apator162"
    assert out["total_m3"] == 4.848
    assert "records" not in out and "error" not in out


def test_already_decrypted_register_lists() -> None:
    cases = ((PADDED, 3.843), (UNPADDED, 904.398), (LONG_CHECKSUM, 73.519), (HISTORY_7C, 51.33))
    for telegram, total in cases:
        out = decode_hex(telegram, already_decrypted=True)
        assert out["meter"] == "apator162"
        assert out["total_m3"] == total
        assert "error" not in out


def test_unknown_tag_is_an_error() -> None:
    corrupted = UNPADDED.replace("0071011A", "00FE011A")
    out = decode_hex(corrupted, already_decrypted=True)
    assert "error" in out and "total_m3" not in out


def test_truncated_register_list_is_an_error() -> None:
    out = decode_hex(shortened(UNPADDED, 5), already_decrypted=True)
    assert "error" in out and "total_m3" not in out
