"""Techem FHKV data IV: a real telegram (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex

KEY = "FCF41938F63432975B52505F547FCEDF"
TELEGRAM = (
    "4E4468507620541494087AAD004005089D86B62A329B3439873999738F82461ABDE3C7AC78692B363F3B41EB68607F9C91"
    "60F550769B065B6EA00A2E44346E29FF5DC5CB86283C69324AD33D137F6F"
)


def test_records_and_monthly_profile() -> None:
    out = decode_hex(TELEGRAM, KEY)
    assert out["meter"] == "fhkvdataiv"
    assert out["current_consumption_hca"] == 2
    assert out["consumption_at_set_date_hca"] == 25
    assert out["set_date"] == "2020-12-31"
    assert (out["set_date_8"], out["consumption_at_set_date_8_hca"]) == ("2019-10-31", 0)
    assert (out["consumption_at_set_date_1"], out["consumption_at_set_date_1_hca"]) == ("2019-11-30", 22)
    assert (out["consumption_at_set_date_2"], out["consumption_at_set_date_2_hca"]) == ("2019-12-31", 3)
    assert (out["consumption_at_set_date_4"], out["consumption_at_set_date_4_hca"]) == ("2020-02-29", 0)
    assert (out["consumption_at_set_date_14"], out["consumption_at_set_date_14_hca"]) == ("2020-12-31", 0)
    assert "consumption_at_set_date_15_hca" not in out


def test_wrong_key_is_an_error() -> None:
    out = decode_hex(TELEGRAM, "00" * 16)
    assert "error" in out and "current_consumption_hca" not in out
