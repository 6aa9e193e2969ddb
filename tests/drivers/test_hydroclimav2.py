"""BMeters HydroClima: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder

from .helpers import shortened


def decode_hex(hex_text: str, already_decrypted: bool = False) -> dict:
    return TelegramDecoder().decode(
        bytes.fromhex(hex_text), already_decrypted=already_decrypted, link_crc="none"
    )


# Frame 0x11 (version 0x85), ELL + mode 5, stored decrypted.
HC1 = (
    "5144B0095209009385088C20807A800040252F2F036E540200436ED90800426C3F3C0F1100009924293400003713DF08BC16"
    "3633960E8208D401D90879076006DA080809DA08E537000A3500DF1201830900"
)
HC3 = (
    "5144b0092110009385088c20fb7afb4040252F2F036E000000436E000000426C3F350F110001B9604734CE2E2708FD071B08"
    "8832940766070000000000000000C407260800802DD400000000000000220000"
)
# Frame 0x10 (version 0x53), unencrypted; from a (disabled) test in wmbusmeters hydroclimav2.xmq, not in
# the corpus: the temperatures are the values that test lists.
V53 = "2e44b0099861036853087a000020002F2F036E0000000F100043106A7D2C4A078F12202CB1242A06D3062100210000"


def test_frame_11_history() -> None:
    out = decode_hex(HC1, already_decrypted=True)
    assert "error" not in out, out
    assert out["meter"] == "hydroclimav2"
    assert out["average_heater_temperature_c"] == 49.19
    assert out["average_ambient_temperature_c"] == 22.71
    assert out["max_ambient_temperature_c"] == 58.2
    assert out["average_heater_temperature_last_month_c"] == 37.34
    assert out["average_ambient_temperature_last_month_c"] == 21.78
    assert [out[f"consumption_at_set_date_{n}_hca"] for n in range(1, 5)] == [468, 2265, 1913, 1632]
    assert [out[f"ambient_temperature_at_set_date_{n}_c"] for n in range(1, 4)] == [22.66, 23.12, 22.66]
    assert out["total_consumption_hca"] == 2435
    # standard records, named by the generic driver
    assert (out["current_consumption_hca"], out["target_date"]) == (596, "2025-12-31")


def test_frame_11_no_value_marker() -> None:
    out = decode_hex(HC3, already_decrypted=True)
    assert [out[f"ambient_temperature_at_set_date_{n}_c"] for n in range(1, 4)] == [19.88, 20.86, None]
    assert (out["average_ambient_temperature_c"], out["average_heater_temperature_c"]) == (20.45, 20.87)
    assert (out["max_ambient_temperature_c"], out["total_consumption_hca"]) == (20.75, 34)
    assert out["average_ambient_temperature_last_month_c"] == 18.94
    assert out["average_heater_temperature_last_month_c"] == 19.4


def test_frame_10_temperatures() -> None:
    out = decode_hex(V53)
    assert out["meter"] == "hydroclimav2"
    assert (out["average_ambient_temperature_c"], out["max_ambient_temperature_c"]) == (18.66, 47.51)
    assert out["average_ambient_temperature_last_month_c"] == 15.78
    assert out["average_heater_temperature_last_month_c"] == 17.47


def test_truncated_manufacturer_data_is_an_error() -> None:
    out = decode_hex(shortened(V53, 10))
    assert "needs 24 bytes" in out["error"]
    assert "average_ambient_temperature_c" not in out
