"""Data-record parsing: one worked example per DIF coding, DIB/VIB features, real APLs, fuzzing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdr_wmbus.app import Apl, Record, parse_apl
from sdr_wmbus.errors import DecodeError


def _apl(hex_text: str) -> Apl:
    return parse_apl(bytes.fromhex(hex_text.replace(" ", "")))


def _one(hex_text: str) -> Record:
    apl = _apl(hex_text)
    assert apl.error is None, apl.error
    assert len(apl.records) == 1, apl.records
    return apl.records[0]


def _summary(record: Record) -> tuple:
    return record.quantity, record.value, record.unit, record.storage, record.function


# ---------------------------------------------------------------------------------------------
# DIF data-field codings


@pytest.mark.parametrize(
    ("wire", "quantity", "value", "unit"),
    [
        ("01 FD08 F0", "access_number", 240, ""),  # 8-bit, unsigned quantity
        ("01 5B FE", "flow_temperature", -2, "C"),  # 8-bit, signed (type B)
        ("02 5A 6800", "flow_temperature", 10.4, "C"),  # 16-bit
        ("02 61 D0FF", "temperature_difference", -0.48, "K"),
        ("03 13 153100", "volume", 12.565, "m3"),  # 24-bit
        ("03 13 FFFFFF", "volume", -0.001, "m3"),
        ("04 13 F73E0000", "volume", 16.119, "m3"),  # 32-bit
        ("04 2B 86F1FFFF", "power", -3706, "W"),
        ("04 04 7B000000", "energy", 1230, "Wh"),  # VIF 0x04: 10 Wh steps
        ("06 03 010000000000", "energy", 1, "Wh"),  # 48-bit
        ("06 FD3A FEFFFFFFFFFF", "dimensionless", -2, ""),
        ("07 00 583B740200000000", "energy", 41171.8, "Wh"),  # 64-bit
        ("09 5B 25", "flow_temperature", 25, "C"),  # BCD 2 digits
        ("09 5B F5", "flow_temperature", -5, "C"),
        ("0A 5A 5901", "flow_temperature", 15.9, "C"),  # BCD 4 digits
        ("0B 6E 341200", "hca", 1234, ""),  # BCD 6 digits
        ("0B 2D 0200F0", "power", -200, "W"),  # negative BCD (ultraheat)
        ("0C 14 27048502", "volume", 28504.27, "m3"),  # BCD 8 digits
        ("0E 03 504069150000", "energy", 15694050, "Wh"),  # BCD 12 digits
        ("0C 13 FFFFFFFF", "volume", None, "m3"),  # not BCD: meter has no value
        ("0D FD0E 07 302E38322E3142", "firmware_version", "B1.28.0", ""),  # LVAR text
        ("0D 13 C3 563412", "volume", 123.456, "m3"),  # LVAR positive BCD
        ("0D 13 D2 3412", "volume", -1.234, "m3"),  # LVAR negative BCD
        ("0D FD0B E2 3412", "parameter_set", 0x1234, ""),  # LVAR binary
        ("00 13", "volume", None, "m3"),  # no data
        ("08 13", "volume", None, "m3"),  # selection for readout
        ("02 FD17 1111", "error_flags", 0x1111, ""),  # type D
        ("02 FB1A AE01", "relative_humidity", 43.0, "%RH"),
        ("04 FB00 07000000", "energy", 700000, "Wh"),  # 0.7 MWh
        ("04 FB09 02000000", "energy", 2_000_000_000, "J"),  # 2 GJ
        ("02 FB2D 8813", "frequency", 50.0, "Hz"),
        ("02 FD48 250A", "voltage", 259.7, "V"),
        ("02 FD5B 1000", "current", 1.6, "A"),
        ("02 FD74 DB15", "remaining_battery_lifetime", 5595, "d"),
        ("02 27 0902", "operating_time", 521, "d"),
        ("03 74 E60200", "actuality_duration", 742, "s"),
    ],
)
def test_data_codings(wire: str, quantity: str, value: object, unit: str) -> None:
    record = _one(wire)
    assert record.quantity == quantity
    assert record.unit == unit
    if isinstance(value, float):
        assert isinstance(record.value, float) and math.isclose(record.value, value, rel_tol=1e-12)
    else:
        assert record.value == value


def test_real() -> None:
    record = _one("05 2E d4c49041")  # float32 18.0961 with VIF 0x2E: kW -> W
    assert record.unit == "W" and math.isclose(record.value, 18096.107482910156)


def test_record_bytes_and_offsets() -> None:
    apl = _apl("2F2F 0C14 27048502 0D FD0E 07 302E38322E3142 2F")
    first, second = apl.records
    assert (first.header, first.data, first.offset) == (bytes.fromhex("0C14"), bytes.fromhex("27048502"), 2)
    assert second.header == bytes.fromhex("0DFD0E")
    assert second.data == bytes.fromhex("302E38322E3142")  # LVAR byte not included
    assert second.offset == 8
    assert apl.error is None and apl.manufacturer_data == b"" and not apl.more_records_follow


# ---------------------------------------------------------------------------------------------
# Date and time VIFs pick their type by length


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("02 6C FE04", "2007-04-30"),  # type G
        ("02 6C FFFF", None),
        ("03 6D 3B3B17", "23:59:59"),  # type J
        ("04 6D 32371F15", "2008-05-31 23:50"),  # type F
        ("04 6D 32B71F15", "2008-05-31 23:50"),  # summer-time bit does not matter
        ("04 6D B2371F15", None),  # IV bit
        ("06 6D 00790C742340", "2019-03-20 12:57:00"),  # type I
        ("04 FD70 200B7422", "2019-02-20 11:32"),  # FD 0x70: date of battery change
    ],
)
def test_dates(wire: str, value: str | None) -> None:
    record = _one(wire)
    assert record.value == value
    assert record.unit == ""


def test_start_date_vife_turns_value_into_date() -> None:
    record = _one("04 93 39 32371F15")
    assert (record.quantity, record.value, record.modifiers) == (
        "volume",
        "2008-05-31 23:50",
        ("start_date_of",),
    )


# ---------------------------------------------------------------------------------------------
# DIB: storage, tariff, subunit, function


@pytest.mark.parametrize(
    ("wire", "storage", "tariff", "subunit"),
    [
        ("04 13 00000000", 0, 0, 0),
        ("44 13 00000000", 1, 0, 0),
        ("84 01 13 00000000", 2, 0, 0),  # fact sheet: 82 01 -> storage 2
        ("C4 08 13 00000000", 17, 0, 0),  # CB 08 -> 1 | 8 << 1
        ("84 8F 0F 13 00000000", 510, 0, 0),  # 15 << 1 | 15 << 5
        ("84 10 03 00000000", 0, 1, 0),
        ("84 80 10 03 00000000", 0, 4, 0),  # tariff bits of the 2nd DIFE count << 2
        ("84 30 03 00000000", 0, 3, 0),
        ("84 40 FD48 00000000", 0, 0, 1),
        ("84 80 40 FD48 00000000", 0, 0, 2),
        ("84 C0 40 FD48 00000000", 0, 0, 3),
        ("C4 C0 00 14 00000000", 1, 0, 1),
    ],
)
def test_storage_tariff_subunit(wire: str, storage: int, tariff: int, subunit: int) -> None:
    record = _one(wire)
    assert (record.storage, record.tariff, record.subunit) == (storage, tariff, subunit)


@pytest.mark.parametrize(
    ("dif", "function"),
    [("02", "instantaneous"), ("12", "maximum"), ("22", "minimum"), ("32", "error")],
)
def test_functions(dif: str, function: str) -> None:
    assert _one(dif + "5A 0000").function == function


def test_ten_difes_allowed_eleven_not() -> None:
    ten = _one("84" + "80" * 9 + "00" + "13 01000000")
    assert ten.value == 0.001
    apl = _apl("84" + "80" * 10 + "00" + "13 01000000")
    assert apl.records == [] and "DIFE" in apl.error and "offset 0" in apl.error


def test_ten_vifes_allowed_eleven_not() -> None:
    ten = _one("04 93" + "BC" * 9 + "3C" + "01000000")
    assert ten.modifiers == ("backward",) * 10
    apl = _apl("04 93" + "BC" * 10 + "3C" + "01000000")
    assert apl.records == [] and "VIFE" in apl.error


# ---------------------------------------------------------------------------------------------
# VIB features: combinable VIFEs, extensions, plain text, manufacturer specific


@pytest.mark.parametrize(
    ("wire", "quantity", "value", "unit", "modifiers"),
    [
        ("0E 83 3C 807400000000", "energy", 7480, "Wh", ("backward",)),
        ("04 93 3B 01000000", "volume", 0.001, "m3", ("forward",)),
        ("04 AB 22 05000000", "power", 5, "W", ("per_hour",)),
        ("0A FD C9 FC 01 3602", "voltage", 236, "V", ("phase_l1",)),
        ("0A FD C9 FC 83 3C 3602", "voltage", 236, "V", ("phase_l3", "backward")),
        ("04 93 15 FFFFFFFF", "volume", -0.001, "m3", ("error_no_data_available",)),
        ("04 FB 82 75 3F000000", "reactive_energy", 6.3, "kVARh", ("multiplicative_correction",)),
        ("04 93 7D 01000000", "volume", 1, "m3", ("multiplicative_correction",)),
        ("02 A6 18 0000", "operating_time", 0, "h", ("error_data_error",)),
        ("02 93 52 0500", "volume", 5, "h", ("duration_of_first_lower_limit_exceed",)),
        ("04 A9 FF 01 FF240000", "power", 94.71, "W", ("manufacturer_specific_vife",)),
        ("04 A9 FF 81 02 FF240000", "power", 94.71, "W", ("manufacturer_specific_vife",)),
        ("02 FD 8E 00 0100", "firmware_version", 1, "", ("error_none",)),
    ],
)
def test_combinable_vifes(wire: str, quantity: str, value: object, unit: str, modifiers: tuple) -> None:
    record = _one(wire)
    assert (record.quantity, record.unit, record.modifiers) == (quantity, unit, modifiers)
    if isinstance(value, float):
        assert math.isclose(record.value, value)
    else:
        assert record.value == value


def test_plain_text_vif() -> None:
    record = _one("81 02 7C 03 495523 00")  # qsmoke: unit text sent last character first
    assert (record.quantity, record.unit, record.value, record.storage) == ("plain_text", "#UI", 0, 4)
    assert record.header == bytes.fromhex("81027C")  # text is not part of the header
    record = _one("02 FC 03 636261 74 0A00")  # 0xFC: text right after the VIF, then the VIFEs
    assert (record.unit, record.value, record.modifiers) == ("abc", 0.1, ("multiplicative_correction",))
    assert record.header == bytes.fromhex("02FC74")


def test_manufacturer_specific_vif() -> None:
    record = _one("02 FF 20 7100")
    assert (record.quantity, record.value, record.unit, record.modifiers) == (
        "manufacturer_specific",
        113,
        "",
        (),
    )
    assert _one("01 FF 13 FF").value == 255  # raw, unsigned
    assert _one("0B 7F 123456").value == 563412  # BCD
    assert _one("0D FF01 E3 0A0B0C").value == "0A0B0C"  # LVAR binary -> hex
    assert _one("0D FF01 03 434241").value == "CBA"  # manufacturer LVAR text: in the order sent
    assert _one("0D FF01 03 0A0B0C").value == "0A0B0C"  # ...unless it is not printable: hex
    assert _one("31 7F 1A").function == "error"


def test_extension_markers_without_e_bit_and_third_table() -> None:
    assert _one("02 7D 0100").quantity == "reserved"
    assert _one("02 7B 0100").quantity == "reserved"
    record = _one("02 EF 05 0100")
    assert (record.quantity, record.header) == ("reserved", bytes.fromhex("02EF05"))


def test_compact_profile_lvar_is_raw_hex() -> None:
    record = _one("8D 04 93 1E 06 3C FE 33000000")
    assert record.modifiers == ("compact_profile_with_registers",)
    assert record.value == "3CFE33000000"


# ---------------------------------------------------------------------------------------------
# Special DIFs and malformed data


def test_manufacturer_data_and_more_records() -> None:
    apl = _apl("04 13 01000000 0F 010203")
    assert len(apl.records) == 1 and apl.manufacturer_data == bytes.fromhex("010203")
    assert not apl.more_records_follow
    apl = _apl("04 13 01000000 1F")
    assert apl.more_records_follow and apl.manufacturer_data == b""
    apl = _apl("1F 2F2F")
    assert apl.records == [] and apl.more_records_follow and apl.manufacturer_data == b"\x2f\x2f"


def test_fillers_anywhere_and_global_readout() -> None:
    apl = _apl("2F 02 5A 6800 2F 2F 7F 02 5E 6800 2F")
    assert [r.quantity for r in apl.records] == ["flow_temperature", "return_temperature"]
    assert [r.offset for r in apl.records] == [1, 8]
    assert _apl("").records == [] and _apl("").error is None


def test_reserved_special_dif_stops_with_error() -> None:
    apl = _apl("02 5A 6800 3F 00")
    assert len(apl.records) == 1
    assert apl.error is not None and "0x3F" in apl.error and "offset 4" in apl.error


@pytest.mark.parametrize(
    ("wire", "offset"),
    [
        ("04 13 0102", 0),  # data truncated
        ("02 5A 6800 84", 4),  # DIFE missing
        ("02 5A 6800 04", 4),  # VIF missing
        ("02 5A 6800 04 93", 4),  # VIFE missing
        ("02 5A 6800 0D 13 05 4142", 4),  # LVAR text truncated
        ("02 5A 6800 0D 13", 4),  # LVAR byte missing
        ("02 5A 6800 0D 13 F8", 4),  # reserved LVAR
        ("02 5A 6800 02 7C 05 4142", 4),  # plain text truncated
    ],
)
def test_malformed_keeps_earlier_records(wire: str, offset: int) -> None:
    apl = _apl(wire)
    assert apl.error is not None and "\n" not in apl.error
    assert f"record at offset {offset}" in apl.error
    assert len(apl.records) == (1 if offset else 0)


@given(st.binary(max_size=200))
@settings(max_examples=400, deadline=None)
def test_random_bytes_never_raise(data: bytes) -> None:
    try:
        apl = parse_apl(data)
    except DecodeError:
        return
    for record in apl.records:
        assert isinstance(record.value, (int, float, str, type(None)))
        assert 0 <= record.offset < len(data)


_RECORD_LIKE = st.one_of(
    st.sampled_from([b"\x2f", b"\x0f", b"\x1f", b"\x7f", b"\x3f"]),
    st.builds(
        lambda dif, difes, vif, vifes, data: bytes([dif]) + difes + bytes([vif]) + vifes + data,
        st.integers(0, 255),
        st.binary(max_size=3),
        st.sampled_from([0x13, 0x6C, 0x6D, 0x7C, 0xFC, 0xFD, 0xFB, 0xFF, 0xEF, 0x93, 0xED]),
        st.binary(max_size=4),
        st.binary(max_size=10),
    ),
)


@given(st.lists(_RECORD_LIKE, max_size=8))
@settings(max_examples=300, deadline=None)
def test_record_like_bytes_never_raise(parts: list[bytes]) -> None:
    try:
        parse_apl(b"".join(parts))
    except DecodeError:
        pass


# ---------------------------------------------------------------------------------------------
# Real APLs with the values wmbusmeters prints for them


def test_v4_gas_meter_plaintext() -> None:
    apl = _apl("2F2F 0C14 27048502 046D 32371F15 02FD17 0000" + "2F" * 13)
    assert apl.error is None
    assert [(r.quantity, r.value, r.unit) for r in apl.records] == [
        ("volume", 28504.27, "m3"),
        ("datetime", "2008-05-31 23:50", ""),
        ("error_flags", 0, ""),
    ]


def test_v2_knx_annex_c_and_v3_customer_location() -> None:
    apl = _apl("2F2F 0B6E 341200 426C FE04 4B6E 563402 01 5B 19 0C FD10 78563412")
    assert [_summary(r) for r in apl.records] == [
        ("hca", 1234, "", 0, "instantaneous"),
        ("date", "2007-04-30", "", 1, "instantaneous"),
        ("hca", 23456, "", 1, "instantaneous"),
        ("flow_temperature", 25, "C", 0, "instantaneous"),
        ("customer_location", 12345678, "", 0, "instantaneous"),
    ]


def test_v13_qcaloric() -> None:
    apl = _apl("0B6E270100 4B6E450100 426C5F2C CB086E790000 C2086C7F21 326CFFFF 046D200B7422")
    assert apl.error is None
    assert [_summary(r) for r in apl.records] == [
        ("hca", 127, "", 0, "instantaneous"),
        ("hca", 145, "", 1, "instantaneous"),
        ("date", "2018-12-31", "", 1, "instantaneous"),
        ("hca", 79, "", 17, "instantaneous"),
        ("date", "2019-01-31", "", 17, "instantaneous"),
        ("date", None, "", 0, "error"),
        ("datetime", "2019-02-20 11:32", "", 0, "instantaneous"),
    ]


def test_v14_lansenth() -> None:
    apl = _apl("2F2F 0265 8408 4265 8308 820165 9508 02FB1A AE01 42FB1A AE01 8201FB1A A901 2F")
    assert [(r.quantity, r.value, r.unit, r.storage) for r in apl.records] == [
        ("external_temperature", 21.80, "C", 0),
        ("external_temperature", 21.79, "C", 1),
        ("external_temperature", 21.97, "C", 2),
        ("relative_humidity", 43.0, "%RH", 0),
        ("relative_humidity", 43.0, "%RH", 1),
        ("relative_humidity", 42.5, "%RH", 2),
    ]


def test_amiplus_phases_and_backward_energy() -> None:
    apl = _apl(
        "2F2F 0E03 504069150000 0B2B 300300 066D 00790C742340 0C78 37120486"
        " 0BABC8FC10 000000 0E833C 807400000000 0BAB3C 000000 0AFDC9FC01 3602 2F2F2F2F2F"
    )
    by_key = {(r.quantity, r.modifiers): r.value for r in apl.records}
    assert by_key[("energy", ())] == 15694050  # 15694.05 kWh
    assert by_key[("power", ())] == 330  # 0.33 kW
    assert by_key[("energy", ("backward",))] == 7480  # 7.48 kWh produced
    assert by_key[("voltage", ("phase_l1",))] == 236
    assert by_key[("datetime", ())] == "2019-03-20 12:57:00"
    assert by_key[("power", ("upper_limit", "accumulation_both_directions"))] == 0


def test_abb_b23_text_records() -> None:
    apl = _apl(
        "0E840017495200000004FFA015000000000DFD8E0007302E38322E3142 0DFFAA000B3030312D313131203332421F"
    )
    energy, ct, firmware, product = apl.records
    assert (energy.value, energy.unit) == (5249170, "Wh")  # 5249.17 kWh
    assert firmware.value == "B1.28.0"  # as wmbusmeters prints it
    # Manufacturer-specific text is kept in the order sent (as wmbusmeters prints it); standard
    # text records (firmware above) are reversed per EN 13757-3.
    assert product.value == "001-111 32B"
    assert apl.more_records_follow


def test_negative_values_and_bcd_sign() -> None:
    apl = _apl("042B86F1FFFF 0261 94FD 0B2D 0200F0")
    assert [r.value for r in apl.records] == [-3706, -6.2, -200]


# ---------------------------------------------------------------------------------------------
# The shared corpus (skipped where it is not checked out)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "telegrams.jsonl"


def _plain_apls() -> list[tuple[str, bytes]]:
    """APLs of unencrypted (or stored-decrypted) frames with CI 0x7A/0x72/0x78 right after the DLL."""
    apls = []
    for line in CORPUS.read_text().splitlines():
        row = json.loads(line)
        if row["kind"] != "wmbus" or row["dll_crc"] != "none" or row["ci"] not in (["7A"], ["72"], ["78"]):
            continue
        if row["security_mode"] not in (0, None) and not row["payload_already_decrypted"]:
            continue
        try:
            frame = bytes.fromhex(row["telegram"])
        except ValueError:  # a few rows carry deliberately broken hex
            continue
        header = {0x7A: 4, 0x72: 12, 0x78: 0}[frame[10]]
        apls.append((row["case"], frame[11 + header :]))
    return apls


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not available")
def test_corpus_apls_decode_without_exceptions() -> None:
    apls = _plain_apls()
    assert len(apls) > 150
    clean = 0
    for _case, apl_bytes in apls:
        apl = parse_apl(apl_bytes)
        clean += apl.error is None
    assert clean / len(apls) > 0.9  # the rest are proprietary payloads or frames with trailing bytes


# A layout seen before is reused: the records must be exactly those of a fresh walk, for any data.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sdr_wmbus.app import records as records_module  # noqa: E402

LAYOUT_APL = bytes.fromhex("2F2F0C13780000004C1350000000426C5F2C0DFD11033132330F0102")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=len(LAYOUT_APL), max_size=len(LAYOUT_APL)), st.integers(0, len(LAYOUT_APL) - 1))
def test_reused_layout_gives_the_records_of_a_fresh_walk(noise, keep_from):
    # the same structure with other data, or (from keep_from on) other bytes altogether
    mixed = bytes(a if i < keep_from else b for i, (a, b) in enumerate(zip(LAYOUT_APL, noise, strict=True)))
    records_module.parse_apl(LAYOUT_APL)  # teaches the layout
    reused = records_module.parse_apl(mixed)
    records_module.forget_layouts()
    fresh = records_module.parse_apl(mixed)
    assert reused.records == fresh.records
    assert (reused.error, reused.manufacturer_data, reused.more_records_follow) == (
        fresh.error,
        fresh.manufacturer_data,
        fresh.more_records_follow,
    )


def _data_replaced(apl: bytes, noise: bytes) -> bytearray:
    """The APL with its records' data bytes (where the layout it taught puts them) taken from noise."""
    (layout,) = records_module._LAYOUTS[records_module._layout_key(apl)]
    mixed = bytearray(apl)
    for record in layout.records:
        start, end = record[6], record[7]  # where the record's data is
        mixed[start:end] = noise[start:end]
    return mixed


def _reused_and_fresh(mixed: bytes):
    """The APL read through the layouts learnt so far, then by a fresh walk."""
    reused = records_module.parse_apl(mixed)
    records_module.forget_layouts()
    return reused, records_module.parse_apl(mixed)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=len(LAYOUT_APL), max_size=len(LAYOUT_APL)))
def test_reused_layout_with_only_the_data_changed(noise):
    records_module.forget_layouts()
    records_module.parse_apl(LAYOUT_APL)
    reused, fresh = _reused_and_fresh(bytes(_data_replaced(LAYOUT_APL, noise)))
    assert reused.records == fresh.records and reused.error == fresh.error


# Integers (signed and not, with decimal and binary exponents), BCD (with signs and invalid digits when
# the noise has them), a real, dates: every inline reading of a known layout against the record walk.
NUMBERS_APL = bytes.fromhex(
    "2F2F041311223344025934120A3B01020B2D1234560E06123456789012052B0000803F046D2B3C4D1E"
    "04FFA0150102030407FF01AABBCCDDEEFF0011"  # manufacturer-specific: unsigned, not scaled
)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=len(NUMBERS_APL), max_size=len(NUMBERS_APL)))
def test_reused_number_layout_reads_every_value_as_a_fresh_walk(noise):
    records_module.forget_layouts()
    taught = records_module.parse_apl(NUMBERS_APL)
    assert taught.error is None and len(taught.records) == 9
    reused, fresh = _reused_and_fresh(bytes(_data_replaced(NUMBERS_APL, noise)))
    assert reused.layout is not None
    assert reused.records == fresh.records and reused.error == fresh.error


# A layout whose walk stops early (a record cut off by the end of the APL): kept too, with every byte
# from where the walk stopped counted as structure.
CUT_APL = bytes.fromhex("2F2F0413112233440B2D123456426C5F2C04")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=len(CUT_APL), max_size=len(CUT_APL)), st.integers(0, len(CUT_APL)))
def test_a_layout_that_stopped_early_gives_what_a_fresh_walk_gives(noise, keep_from):
    records_module.forget_layouts()
    taught = records_module.parse_apl(CUT_APL)
    assert taught.error is not None and len(taught.records) == 3 and taught.layout is not None
    mixed = _data_replaced(CUT_APL, noise)
    mixed[keep_from:] = noise[keep_from:]  # and from keep_from on other bytes altogether
    reused, fresh = _reused_and_fresh(bytes(mixed))
    assert reused.records == fresh.records
    assert (reused.error, reused.error_offset) == (fresh.error, fresh.error_offset)
