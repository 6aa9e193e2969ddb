"""Apator E-ITN: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

CI_A0_SEAL_BROKEN = "19440186313737370408A0A1000059001C270100322DE413B415"
CI_B6_SEAL_INTACT = "25441486323737370408B60AFFFFF5450186F41B9D58A0A100007809000000001F2D6416C819"


def test_direct_block() -> None:
    out = decode_hex(CI_A0_SEAL_BROKEN)
    assert out["meter"] == "apatoreitn"
    assert (out["current_hca"], out["previous_hca"]) == (1, 89)
    assert out["current_date"] == "2022-09-18"
    assert out["season_start_date"] == "2016-05-01"
    assert (out["esb_date"], out["status"]) == ("2019-08-28", "SEAL_BROKEN")
    assert (out["temp_room_avg_c"], out["temp_room_prev_avg_c"]) == (21.703125, 19.890625)


def test_block_after_ci_b6_prefix() -> None:
    out = decode_hex(CI_B6_SEAL_INTACT)
    assert (out["current_hca"], out["previous_hca"]) == (0, 2424)
    assert out["current_date"] == "2022-08-31"
    assert (out["esb_date"], out["status"]) == (None, "OK")
    assert (out["temp_room_avg_c"], out["temp_room_prev_avg_c"]) == (25.78125, 22.390625)


def test_truncated_or_misplaced_block_is_an_error() -> None:
    out = decode_hex(shortened(CI_A0_SEAL_BROKEN, 2))
    assert "error" in out and "current_hca" not in out
    no_marker = CI_B6_SEAL_INTACT.replace("9D58A0A1", "9D5800A1")
    out = decode_hex(no_marker)
    assert "error" in out and "current_hca" not in out
