"""Driver field formats `readable` and `datetime_minutes`, and the field keys `mask` and `invalid`."""

from sdr_wmbus.app.records import parse_apl
from sdr_wmbus.drivers.engine import field_value
from sdr_wmbus.drivers.spec import FieldSpec, LookupRule, Match


def _value(record_hex: str, fmt: str) -> object:
    (record,) = parse_apl(bytes.fromhex(record_hex)).records
    return field_value(FieldSpec(name="x", match=Match(quantities=("any",)), format=fmt), record)


def test_binary_version_with_printable_bytes_is_text():
    assert _value("02FD0F4C2B", "readable") == "+L"  # bytes 4C 2B, most significant first


def test_binary_version_with_unprintable_bytes_is_hex():
    assert _value("02FD0F9500", "readable") == "0095"
    assert _value("02FD0F2100", "readable") == "0021"  # a zero byte is not text
    assert _value("01FD0C01", "readable") == "01"
    assert _value("02FD0F0000", "readable") == "0000"


def test_bcd_keeps_its_digits():
    assert _value("0BFD0F070101", "readable") == "010107"
    assert _value("0C7828041723", "readable") == "23170428"


def test_zero_padding_is_not_part_of_the_text():
    assert _value("04FD0F00004241", "readable") == "AB"


def test_datetime_minutes_drops_the_seconds():
    assert _value("066D3B3BB36B2A00", "datetime_minutes") == "2019-10-11 19:59"
    assert _value("066D3B3BB36B2A00", "datetime") == "2019-10-11 19:59:59"
    assert _value("046D2A06D825", "datetime_minutes") == "2022-05-24 06:42"


def test_mask_takes_bits_of_the_raw_data():
    (record,) = parse_apl(bytes.fromhex("8440FF2C1C0F1100")).records
    spec = FieldSpec(name="dust", unit="counter", match=Match(quantities=("any",)), mask=0x1F)
    assert field_value(spec, record) == 28
    spec = FieldSpec(name="battery", unit="counter", match=Match(quantities=("any",)), mask=0x0F00)
    assert field_value(spec, record) == 15


def test_lookup_words_are_sorted_as_wmbusmeters_prints_them():
    (record,) = parse_apl(bytes.fromhex("01FD3A7F")).records
    days = {0x01: "SU", 0x02: "MO", 0x04: "TU", 0x08: "WE", 0x10: "TH", 0x20: "FR", 0x40: "SA"}
    spec = FieldSpec(name="days", match=Match(quantities=("any",)), lookup=(LookupRule("bits", 0xFF, days),))
    assert field_value(spec, record) == "FR MO SA SU TH TU WE"


def test_invalid_names_the_raw_data_whatever_the_scale():
    (record,) = parse_apl(bytes.fromhex("4413" + "00000080")).records  # 0x80000000 litres
    assert record.value == -2147483.648
    for sentinel in (-2147483648, 0x80000000, -2147483.648):
        spec = FieldSpec(name="target", unit="m3", match=Match(quantities=("volume",)), invalid=(sentinel,))
        assert field_value(spec, record) is None
    spec = FieldSpec(name="target", unit="m3", match=Match(quantities=("volume",)), invalid=(-32768,))
    assert field_value(spec, record) == -2147483.648


def test_bits_without_a_word_are_named_together():
    (record,) = parse_apl(bytes.fromhex("02FD170311")).records  # 0x1103
    rule = LookupRule("bits", 0xFFFF, {0x01: "DRY"}, unknown="ERROR_FLAGS_{value:X}")
    spec = FieldSpec(name="flags", match=Match(quantities=("any",)), lookup=(rule,))
    assert field_value(spec, record) == "DRY ERROR_FLAGS_1102"
