"""Apator 162: what the driver file's [[test]] blocks cannot say (errors, the register walk).

The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/apator162.toml.
"""

from __future__ import annotations

import pytest

from sdr_wmbus.drivers.hooks.apator162 import registers
from sdr_wmbus.errors import DecodeError

from .helpers import decode_hex, shortened

UNPADDED = "2E4401064052030205077A2D0020852F2F0F334DA39A00000071011ABF0D00039A0D00A01053850310CECC0D008943"


def test_proprietary_payload_has_no_records() -> None:
    out = decode_hex(UNPADDED, already_decrypted=True)
    assert out["total_m3"] == 904.398
    assert "records" not in out and "error" not in out


def test_register_walk() -> None:
    apl = bytes.fromhex("2F2F0F334DA39A00000071011ABF0D00039A0D00A01053850310CECC0D008943")
    found = registers(apl)
    assert found[0x10] == bytes.fromhex("CECC0D00")
    assert set(found) == {0x71, 0xA0, 0x10}
    with pytest.raises(DecodeError, match="2F2F"):
        registers(b"\x00" + apl[1:])


def test_unknown_tag_is_an_error() -> None:
    corrupted = UNPADDED.replace("0071011A", "00FE011A")
    out = decode_hex(corrupted, already_decrypted=True)
    assert "error" in out and "total_m3" not in out


def test_truncated_register_list_is_an_error() -> None:
    out = decode_hex(shortened(UNPADDED, 5), already_decrypted=True)
    assert "error" in out and "total_m3" not in out
