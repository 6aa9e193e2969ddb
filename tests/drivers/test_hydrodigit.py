"""BMeters Hydrodigit: what the driver file's [[test]] blocks cannot say (absent blocks, the block
reader, errors). The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/hydrodigit.toml."""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.hydrodigit import bcd_date, decode_manufacturer_data

from .helpers import decode_hex, shortened

MONTHLY = (
    "4644B4092143658713077A9C0000000C1364390400046D212F16350F152A0F000000440F00C00F00511000D51000B20B00"
    "180C007C0C00E60C00560D00D10D00400E00C60E0000"
)
BACKFLOW_ONLY = "2144B4099163742315077A400000000C1399999999046D092A30340F050B01000000"


def test_absent_blocks_give_no_fields() -> None:
    out = decode_hex(BACKFLOW_ONLY)
    assert (out["total_m3"], out["backflow_m3"]) == (99999.999, 0.001)
    assert "January_total_m3" not in out and "leak_date" not in out and "fraud_type" not in out


def test_fraud_types_and_dates() -> None:
    fields = decode_manufacturer_data(bytes.fromhex("03" + "0B" + "A0" + "240425"))
    assert fields["fraud_type"] == "MAGNETIC_FRAUD_ATTEMPT MODULE_REMOVED"
    assert fields["fraud_date"] == "2024-04-25"
    assert bcd_date(bytes.fromhex("241399")) is None  # month 13: no date
    assert bcd_date(bytes(3)) is None


def test_truncated_monthly_block_is_an_error() -> None:
    out = decode_hex(shortened(MONTHLY, 10))
    assert "monthly totals" in out["error"]
    assert "January_total_m3" not in out and "backflow_m3" not in out
