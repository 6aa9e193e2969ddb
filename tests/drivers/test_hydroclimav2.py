"""BMeters HydroClima (hook shared by the hydroclima and hydroclimav2 driver files): what their
[[test]] blocks cannot say (unknown layouts, the status word, short data). The telegrams and values
wmbusmeters gives for them are [[test]] blocks in sdr_wmbus/drivers/defs/hydroclima*.toml."""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.hydroclimav2 import decode_manufacturer_data

from .helpers import decode_hex, shortened

# Frame 0x11 (version 0x85), ELL + mode 5, stored decrypted; status word 0x0100, TPL status 0x40.
HC3 = (
    "5144b0092110009385088c20fb7afb4040252F2F036E000000436E000000426C3F350F110001B9604734CE2E2708FD071B08"
    "8832940766070000000000000000C407260800802DD400000000000000220000"
)
# Frame 0x10 (version 0x53), unencrypted.
V53 = "2e44b0099861036853087a000020002F2F036E0000000F100043106A7D2C4A078F12202CB1242A06D3062100210000"


def test_status_word_joins_the_status_only() -> None:
    out = decode_hex(HC3, already_decrypted=True)
    assert out["status"] == "ERROR_FLAGS_100 UNKNOWN_40"
    assert "error_flags" not in out


def test_unknown_layout_gives_no_fields() -> None:
    assert decode_manufacturer_data(bytes.fromhex("9D1300023ED97AEC7BC5908A32C1")) == {}
    assert decode_manufacturer_data(b"") == {}


def test_truncated_manufacturer_data_is_an_error() -> None:
    out = decode_hex(shortened(V53, 10))
    assert "needs 24 bytes" in out["error"]
    assert "average_ambient_temperature_c" not in out
