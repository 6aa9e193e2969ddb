"""BMeters Hydrodigit: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder

from .helpers import shortened


def decode_hex(hex_text: str, already_decrypted: bool = False) -> dict:
    return TelegramDecoder().decode(
        bytes.fromhex(hex_text), already_decrypted=already_decrypted, link_crc="none"
    )


FRAUD_ELL = "2444B4090155240317068C00487AC00000000C1335670000046D172EEA280F030000000000"
MONTHLY = (
    "4644B4092143658713077A9C0000000C1364390400046D212F16350F152A0F000000440F00C00F00511000D51000B20B00"
    "180C007C0C00E60C00560D00D10D00400E00C60E0000"
)
LEAK_UNSET_MONTHS = (
    "4944B4092243658713077A7F0000000C1363020400046D242C12360F950A24042507000000A405006E0700850900CA0B00"
    "4A0E00FFFFFFFFFFFF020000020000250000B3010095030000"
)
BACKFLOW_ONLY = "2144B4099163742315077A400000000C1399999999046D092A30340F050B01000000"
MODE5_FILLERS = (
    "3044B4090123456713067A190020052F2F0C1315000000046D0136A7270F050B000000002F2F2F2F2F2F2F2F2F2F2F69E5"
)


def test_fraud_block_after_ell() -> None:
    out = decode_hex(FRAUD_ELL)
    assert out["meter"] == "hydrodigit"
    assert out["total_m3"] == 6.735
    assert out["meter_datetime"] == "2023-08-10 14:23"
    assert out["contents"] == "BATTERY_VOLTAGE FRAUD_DATE"
    assert out["voltage_v"] == 3.7
    assert out["fraud_type"] == "NO_TYPE_INFO"
    assert out["fraud_date"] is None


def test_monthly_totals_and_backflow() -> None:
    out = decode_hex(MONTHLY)
    assert out["total_m3"] == 43.964
    assert out["contents"] == "BACKFLOW BATTERY_VOLTAGE MONTHLY_DATA"
    assert (out["voltage_v"], out["backflow_m3"]) == (3.05, 0.015)
    months = [
        out[f"{m}_total_m3"]
        for m in (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        )
    ]
    assert months == [39.08, 40.32, 41.77, 43.09, 29.94, 30.96, 31.96, 33.02, 34.14, 35.37, 36.48, 37.82]


def test_leak_date_and_months_before_installation() -> None:
    out = decode_hex(LEAK_UNSET_MONTHS)
    assert out["contents"] == "BACKFLOW BATTERY_VOLTAGE LEAK_DATE MONTHLY_DATA"
    assert out["leak_date"] == "2024-04-25"
    assert out["backflow_m3"] == 0.007
    assert (out["January_total_m3"], out["May_total_m3"], out["December_total_m3"]) == (14.44, 36.58, 9.17)
    assert out["June_total_m3"] is None and out["July_total_m3"] is None  # FFFFFF: no value yet


def test_backflow_only() -> None:
    out = decode_hex(BACKFLOW_ONLY)
    assert (out["total_m3"], out["backflow_m3"], out["voltage_v"]) == (99999.999, 0.001, 3.2)
    assert "January_total_m3" not in out


def test_mode5_frame_with_fillers() -> None:
    out = decode_hex(MODE5_FILLERS, already_decrypted=True)
    assert (out["total_m3"], out["backflow_m3"], out["voltage_v"]) == (0.015, 0, 3.2)
    assert out["meter_datetime"] == "2021-07-07 22:01"


def test_truncated_monthly_block_is_an_error() -> None:
    out = decode_hex(shortened(MONTHLY, 10))
    assert "monthly totals" in out["error"]
    assert "January_total_m3" not in out and "backflow_m3" not in out
