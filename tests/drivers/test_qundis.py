"""Qundis walk-by blocks (CI 0x78, 0DFF5F): the qundis hook's records and its edge cases.

The drivers' own test telegrams (qwater, qwaterv2, qheat, qheatv2, qcaloric) check the named fields.
"""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.qundis import BLOCK_LENGTH, VIF_OFFSET, block_records

from .helpers import decode_hex

WARM_WATER_WALK_BY = (
    "49449344954933131706780DFF5F3500823A0000600107C113FFFF29970300FF2C580303001E3B269703000A00650075"
    "0073005B0070007D0061005B004200160000002F046D1E0F113C"
)
# The same meter: standard frame (CI 0x7A) and walk-by frame one month later.
QQ5_STANDARD = (
    "39449344153119611D067A870000200C13370000004C1300000000426CFFFFCC081300000000C2086CFFFF02BB560000"
    "326CFFFF046D320D5E31"
)
QQ5_WALK_BY = (
    "49449344153119611D06780DFF5F350082EC0000F10007C113FFFF69000000FFFF000000005F31680000000080008000"
    "800080008000800080008000800080008006002F046D1C0A4132"
)
# A heat cost allocator's walk-by frame, and its standard frame of the same day.
HCA_WALK_BY = (
    "49449344939291903408780DFF5F350082180000800007B06EFFFF970000009F2C70020000BE26970000000000010018"
    "002E001F002E0023FF210008000500020000002F046D220FA227"
)
HCA_STANDARD = (
    "314493449392919034087a520000200b6e9700004b6e700200426c9f2ccb086e970000c2086cbe26326cffff046d2d16a227"
)
# A standard allocator frame with a short 0DFF5F record of another kind
HCA_SHORT_MANUFACTURER_RECORD = (
    "344465325566366018087A90040000046D1311962C01FD0C03326CFFFF01FD7300025AC2000DFF5F0C000800303081061308"
    "0BFFFC"
)


def _block(hex_text: str) -> bytes:
    frame = bytes.fromhex(hex_text)
    start = frame.index(bytes.fromhex("0DFF5F35")) + 4
    return frame[start : start + BLOCK_LENGTH]


def test_registers_become_the_standard_frame_records():
    records = block_records(_block(WARM_WATER_WALK_BY))
    by_header = {r.header.hex(): r for r in records}
    assert by_header["0c13"].value == 39.729
    assert (by_header["4c13"].value, by_header["426c"].value) == (30.358, "2023-12-31")
    assert (by_header["cc0813"].value, by_header["c2086c"].value) == (39.726, "2024-11-30")
    assert by_header["326c"].value is None  # FFFF: no error date


def test_monthly_values_are_manufacturer_records_of_storage_2_to_13():
    monthly = [r for r in block_records(_block(QQ5_WALK_BY)) if "manufacturer_specific_vife" in r.modifiers]
    assert [r.storage for r in monthly] == list(range(2, 14))
    assert {r.quantity for r in monthly} == {"volume"}
    # 0x8000 marks a month before the meter was installed: no value, never -32.768
    assert [r.value for r in monthly] == [None] * 11 + [0.006]


def test_walk_by_and_standard_frame_give_the_same_names():
    standard = decode_hex(QQ5_STANDARD)
    walk_by = decode_hex(QQ5_WALK_BY)
    assert standard["meter"] == walk_by["meter"] == "qwaterv2"
    for name in ("total_m3", "target_m3", "target_date", "target_year_m3", "target_year_date"):
        assert name in standard and name in walk_by
    assert (walk_by["total_m3"], walk_by["target_m3"], walk_by["target_date"]) == (0.069, 0.068, "2026-01-31")
    assert walk_by["target_year_date"] is None  # FFFF: no year-end reading yet
    assert [r["dif_vif"] for r in walk_by["records"]] == ["0dff5f", "046d"]  # the block's records stay inside


def test_heat_cost_allocator_block_matches_its_standard_frame():
    walk_by = decode_hex(HCA_WALK_BY)
    standard = decode_hex(HCA_STANDARD)
    assert walk_by["meter"] == standard["meter"] == "qcaloric"
    for name in ("current_consumption_hca", "set_date", "consumption_at_set_date_hca", "set_date_17"):
        assert walk_by[name] == standard[name], name
    # what an allocator's monthly words mean is not known: no monthly records
    assert not [r for r in block_records(_block(HCA_WALK_BY)) if r.storage not in (0, 1, 17)]


def test_unknown_unit_vif_leaves_the_block_undecoded():
    frame = bytearray.fromhex(WARM_WATER_WALK_BY)
    start = frame.index(bytes.fromhex("0DFF5F35")) + 4
    frame[start + VIF_OFFSET] = 0xC9  # scrambled blocks have no unit VIF there
    out = decode_hex(frame.hex())
    assert "error" not in out
    assert "total_m3" not in out
    assert out["meter_datetime"] == "2024-12-17 15:30"  # the records outside the block are still read
    assert any("not decoded" in w for w in out["warnings"])
    assert block_records(bytes(frame[start : start + BLOCK_LENGTH])) == []


def test_other_manufacturer_records_are_not_walk_by_blocks():
    assert block_records(_block(WARM_WATER_WALK_BY)[:-1]) == []  # one byte short
    out = decode_hex(HCA_SHORT_MANUFACTURER_RECORD)
    assert "error" not in out and "warnings" not in out
