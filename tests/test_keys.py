"""Meters file and keys: parsed strictly, never echoed."""

import pytest

from sdr_wmbus.errors import ConfigError
from sdr_wmbus.security.keys import KeyStore, parse_key

KEY = "28F64A24988064A079AA2C807D6102AE"


def test_meters_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        f'[[meter]]\nid = "76348799"\nkey = "{KEY}"\nname = "kitchen"\ndriver = "auto"\n'
        '[[meter]]\nid = "12345678"\nname = "no key yet"\n'
    )
    store = KeyStore.from_file(path)
    assert store.key_for("76348799") == bytes.fromhex(KEY)
    assert store.key_for("12345678") is None
    assert store.meter("76348799").name == "kitchen"
    assert KEY.lower() not in repr(store).lower() and KEY not in repr(store.meter("76348799"))


def test_default_key_applies_to_unlisted_meters():
    store = KeyStore(default_key=bytes(16))
    assert store.key_for("99999999") == bytes(16)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[meter]]\nid = "1234"\n', "id must be 8 hex digits"),
        (f'[[meter]]\nid = "12345678"\nkey = "{KEY[:-2]}"\n', "key must be 32 hex digits"),
        ('[[meter]]\nid = "12345678"\ncolour = "red"\n', "unknown field(s) colour"),
        ('[[meter]\nid = "12345678"\n', "not valid TOML"),
    ],
)
def test_bad_meters_file(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        KeyStore.from_file(path)
    assert KEY[:-2] not in str(info.value)


def test_parse_key_never_quotes_the_key():
    with pytest.raises(ConfigError) as info:
        parse_key("secretsecretsecret", "--key")
    assert "secret" not in str(info.value)


# wmbusmeters meter files, as users keep them in /etc/wmbusmeters.d
WMBUSMETERS_FILE = f"name=MyTapWater\ndriver=multical21:c1\nid=76348799\nkey={KEY}\njson_floor=3\n"


def test_wmbusmeters_meter_file(tmp_path):
    path = tmp_path / "MyTapWater"
    path.write_text(WMBUSMETERS_FILE)
    store = KeyStore.from_file(path)
    meter = store.meter("76348799")
    assert (meter.name, meter.driver, meter.extra) == ("MyTapWater", "multical21", {"floor": "3"})
    assert store.key_for("76348799") == bytes.fromhex(KEY)


def test_a_folder_of_wmbusmeters_files_with_patterns_and_nokey(tmp_path):
    (tmp_path / "water").write_text(WMBUSMETERS_FILE)
    (tmp_path / "others").write_text("name=Neighbours\ndriver=auto\nid=1234*\nkey=NOKEY\n")
    (tmp_path / "two").write_text(f"name=Two\ndriver=iperl\nid=11111111,22222222\nkey={KEY}\n")
    store = KeyStore.from_file(tmp_path)
    assert store.meter("12345678").name == "Neighbours" and store.key_for("12345678") is None
    assert store.meter("22222222").driver == "iperl" and store.key_for("11111111") == bytes.fromhex(KEY)
    assert store.meter("99999999") is None


def test_wmbusmeters_settings_without_meaning_here_are_reported(tmp_path, caplog):
    path = tmp_path / "m"
    path.write_text(WMBUSMETERS_FILE + "shell=/bin/echo hi\n")
    KeyStore.from_file(path)
    assert "shell: ignored here" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"name=x\nid={KEY}\n", ":2: id must be 8 hex digits"),  # a key typed into the id line
        (f"name=x\nid=12345678\nkey={KEY[:-2]}\n", ":3: key: a key must be 32 hex digits"),
        ("name=x\nid=12345678\ncolour=red\n", ":3: unknown setting 'colour'"),
        ("name=x\n", "no id= line"),
    ],
)
def test_bad_wmbusmeters_file_never_quotes_a_key(tmp_path, text, message):
    path = tmp_path / "m"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        KeyStore.from_file(path)
    assert KEY[:20] not in str(info.value)


def test_a_key_typed_into_the_id_field_is_not_echoed(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(f'[[meter]]\nid = "{KEY}"\n')
    with pytest.raises(ConfigError) as info:
        KeyStore.from_file(path)
    assert KEY[:8] not in str(info.value)


def test_meters_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "m.toml"
    path.write_bytes(b'[[meter]]\nid = "12345678"\nname = "K\xfcche"\n')
    with pytest.raises(ConfigError, match=r"m.toml:3: not UTF-8 text"):
        KeyStore.from_file(path)


def test_readable_meters_file_with_keys_draws_a_warning(tmp_path, caplog):
    path = tmp_path / "m"
    path.write_text(WMBUSMETERS_FILE)
    path.chmod(0o644)
    KeyStore.from_file(path)
    assert "readable by other users" in caplog.text
    caplog.clear()
    path.chmod(0o600)
    KeyStore.from_file(path)
    assert "readable" not in caplog.text


def test_key_file(tmp_path):
    from sdr_wmbus.security.keys import read_key_file

    path = tmp_path / "key"
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    assert read_key_file(path) == bytes.fromhex(KEY)
