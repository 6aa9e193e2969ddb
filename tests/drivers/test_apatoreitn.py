"""Apator E-ITN: what the driver file's [[test]] blocks cannot say (misplaced or short blocks).

The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/apatoreitn.toml.
"""

from __future__ import annotations

from .helpers import decode_hex, shortened

CI_A0_SEAL_BROKEN = "19440186313737370408A0A1000059001C270100322DE413B415"
CI_B6_SEAL_INTACT = "25441486323737370408B60AFFFFF5450186F41B9D58A0A100007809000000001F2D6416C819"


def test_seal_word_only_in_the_status() -> None:
    out = decode_hex(CI_A0_SEAL_BROKEN)
    assert out["status"] == "SEAL_BROKEN" and "seal" not in out
    assert decode_hex(CI_B6_SEAL_INTACT)["status"] == "OK"


def test_truncated_or_misplaced_block_is_an_error() -> None:
    out = decode_hex(shortened(CI_A0_SEAL_BROKEN, 2))
    assert "error" in out and "current_hca" not in out
    no_marker = CI_B6_SEAL_INTACT.replace("9D58A0A1", "9D5800A1")
    out = decode_hex(no_marker)
    assert "error" in out and "current_hca" not in out
