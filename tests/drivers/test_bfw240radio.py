"""BFW 240 radio: what the driver file's [[test]] blocks cannot say (no records, status bits, errors).

The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/bfw240radio.toml.
"""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.bfw240radio import monthly_history

from .helpers import decode_hex

FEBRUARY = (
    "3644D7088877700002087ADBC000002F2F9E1F03C10388152A00000000000000000000000000000204000404000EE2020A"
    "C1321D280221"
)


def test_register_dump_is_not_records_and_vendor_status_bits_are_silent() -> None:
    out = decode_hex(FEBRUARY)
    assert out["meter"] == "bfw240radio" and "error" not in out
    assert "records" not in out  # the APL is not records: no generic garbage
    assert out["status"] == "OK"  # TPL status 0xC0: vendor bits of unknown meaning
    power_low = FEBRUARY.replace("7ADBC000", "7ADBC400")
    assert decode_hex(power_low)["status"] == "POWER_LOW"


def test_history_pairs_newest_first() -> None:
    groups = bytes(24) + bytes.fromhex("3412AB")  # last group: months 1 (0x2AB) and 2 (0x134)
    assert monthly_history(groups)[:2] == [0x2AB, 0x134]


def test_corrupted_date_is_an_error() -> None:
    out = decode_hex(FEBRUARY[:-6] + "2A0221")  # day 0x2A is not BCD
    assert out["error"].startswith("bfw240radio")
    assert "current_hca" not in out
