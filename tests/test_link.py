"""Link layer: CRC, frame formats A and B, M-field and header fields (worked examples from the spec)."""

import pytest

from sdr_wmbus.crc import crc16_en13757
from sdr_wmbus.errors import CrcError, DecodeError, TruncatedError
from sdr_wmbus.link.dll import (
    format_a_length,
    normalize_frame,
    parse_link_header,
    strip_crc_format_a,
    strip_crc_format_b,
)
from sdr_wmbus.tables.device_types import device_type_name
from sdr_wmbus.tables.manufacturers import manufacturer_code, manufacturer_value

QCALORIC_PLAIN = bytes.fromhex(
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
)
QCALORIC_FRAME_A = bytes.fromhex(
    "314493441234567835084D9E7A740000200B6E2701004B6E45010042BBD76C5F2CCB086E790000C2086C7F21326C0540"
    "FFFF046D200B74221FDA"
)
QCALORIC_FRAME_B = bytes.fromhex(
    "334493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B74227D9D"
)


def test_crc_check_value():
    assert crc16_en13757(b"123456789") == 0xC2B7


def test_crc_first_block_of_knx_example():
    assert crc16_en13757(bytes.fromhex("29449344443322115508")) == 0x6CB1


def test_crc_empty_is_complement_of_init():
    assert crc16_en13757(b"") == 0xFFFF


@pytest.mark.parametrize(
    ("code", "value", "wire"),
    [
        ("KAM", 0x2C2D, "2d2c"),
        ("TCH", 0x5068, "6850"),
        ("HYD", 0x2324, "2423"),
        ("QDS", 0x4493, "9344"),
        ("ELS", 0x1593, "9315"),
        ("APA", 0x0601, "0106"),
        ("EFE", 0x14C5, "c514"),
        ("CEN", 0x0CAE, "ae0c"),
    ],
)
def test_manufacturer_codes(code, value, wire):
    assert manufacturer_value(code) == value
    assert manufacturer_code(value) == code
    assert value.to_bytes(2, "little").hex() == wire


def test_manufacturer_bit15_is_ignored():
    assert manufacturer_code(0x2C2D | 0x8000) == "KAM"


def test_manufacturer_value_rejects_bad_code():
    with pytest.raises(ValueError):
        manufacturer_value("K4M")


def test_format_a_lengths():
    assert format_a_length(9) == 12
    assert format_a_length(0x29) == 48  # spec: L=0x29 is 48 bytes on air
    assert format_a_length(255) == 290


def test_strip_format_a_matches_plain():
    assert strip_crc_format_a(QCALORIC_FRAME_A) == QCALORIC_PLAIN


def test_strip_format_a_names_bad_block():
    broken = bytearray(QCALORIC_FRAME_A)
    broken[20] ^= 0x01  # inside block 2
    with pytest.raises(CrcError, match="block 2"):
        strip_crc_format_a(bytes(broken))


def test_strip_format_b_rewrites_l():
    assert strip_crc_format_b(QCALORIC_FRAME_B) == QCALORIC_PLAIN


def test_strip_format_b_three_blocks():
    # Sensostar (spec V11): L=0xC2, CRCs over bytes 0-125 and 128-192.
    frame = bytes.fromhex(
        "C244C5140443054300048C200E900F002C25895E02003B0877D31DA840B17A0E009007100F8FAD4C4E61400DA4F3B1F7E2"
        "73CC4C5C07F93CD20B237345DB39F9A98F8415E1C4B7A25C86E4C22D05C3352FA7E2E5627031F14643063F1DC8FE2C3245"
        "9B6F02E4234B447B18E4BFDA8C4DA9B1EDE6CF29D0B2122A3E8B9DEEBEE3E6DBE6617B4E709EC6B595179CB01C2C0BDE67"
        "23A345B708652880C114A58DA07C73AD9EB8ACB17FA0A88F19BC84CB1FC56672DE8A9603FD0C05010002FD0B2111F60B"
    )
    plain = strip_crc_format_b(frame)
    assert len(plain) == 0xC2 + 1 - 4
    assert plain[0] == 0xC2 - 4
    assert plain.endswith(bytes.fromhex("03FD0C05010002FD0B2111"))


def test_normalize_detects_each_form():
    assert normalize_frame(QCALORIC_PLAIN) == (QCALORIC_PLAIN, "none", 0)
    assert normalize_frame(QCALORIC_FRAME_A) == (QCALORIC_PLAIN, "A", 0)
    assert normalize_frame(QCALORIC_FRAME_B) == (QCALORIC_PLAIN, "B", 0)


def test_normalize_truncated():
    with pytest.raises(TruncatedError, match="truncated"):
        normalize_frame(QCALORIC_PLAIN[:-5])


def test_normalize_reports_trailing_bytes():
    frame, how, ignored = normalize_frame(QCALORIC_PLAIN + b"\xfe\xd0")
    assert (frame, how, ignored) == (QCALORIC_PLAIN, "none", 2)


def test_normalize_bad_l_field():
    with pytest.raises(DecodeError, match="L field"):
        normalize_frame(bytes([5]) + bytes(20))


def test_link_header_fields():
    header = parse_link_header(QCALORIC_PLAIN)
    assert header.length == 0x31
    assert header.c_field == 0x44
    assert header.manufacturer == "QDS"
    assert header.id == "78563412"
    assert header.version == 0x35
    assert header.device_type == 0x08
    assert header.media == "heat cost allocation"


def test_knx_example_address():
    header = parse_link_header(bytes.fromhex("0944AE0C785634120107"))
    assert (header.manufacturer, header.id, header.version, header.device_type) == ("CEN", "12345678", 1, 7)
    assert header.media == "water"


def test_techem_private_device_types():
    assert device_type_name(0x62, "TCH") == "warm water"
    assert device_type_name(0x62, "KAM") == "reserved"
