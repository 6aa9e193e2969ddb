"""Techem FHKV data IV: what the driver file's [[test]] blocks cannot say (the compact profile reader,
a wrong key). The telegram and values wmbusmeters gives for it are [[test]] blocks in
sdr_wmbus/drivers/defs/fhkvdataiv.toml."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sdr_wmbus.app.records import Record
from sdr_wmbus.drivers.hooks.fhkvdataiv import monthly_profile

from .helpers import decode_hex

KEY = "FCF41938F63432975B52505F547FCEDF"
TELEGRAM = (
    "4E4468507620541494087AAD004005089D86B62A329B3439873999738F82461ABDE3C7AC78692B363F3B41EB68607F9C91"
    "60F550769B065B6EA00A2E44346E29FF5DC5CB86283C69324AD33D137F6F"
)
PROFILE = Record(
    header=bytes.fromhex("8D04EE1F"),
    data=bytes.fromhex("72FE" + "0300" + "1600"),  # two 16-bit months, the last one first after the base
    value=None,
    unit="",
    quantity="hca",
    storage=8,
    tariff=0,
    subunit=0,
    function="instantaneous",
    modifiers=("compact_profile",),
    offset=0,
)


def test_monthly_profile_elements_last_first() -> None:
    fields = monthly_profile(PROFILE, date(2019, 10, 31))
    assert fields == {
        "consumption_at_set_date_1_hca": 22,
        "consumption_at_set_date_1": "2019-11-30",
        "consumption_at_set_date_2_hca": 3,
        "consumption_at_set_date_2": "2019-12-31",
    }


def test_other_spacings_are_not_read() -> None:
    half_months = replace(PROFILE, data=bytes.fromhex("72FD03001600"))
    assert monthly_profile(half_months, date(2019, 10, 31)) == {}
    odd_length = replace(PROFILE, data=bytes.fromhex("72FE030016"))
    assert monthly_profile(odd_length, date(2019, 10, 31)) == {}


def test_wrong_key_is_an_error() -> None:
    assert decode_hex(TELEGRAM, KEY)["consumption_at_set_date_14_hca"] == 0
    out = decode_hex(TELEGRAM, "00" * 16)
    assert "error" in out and "current_consumption_hca" not in out
