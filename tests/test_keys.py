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
        ('[[meter]]\nid = "1234"\n', "id must be 8 digits"),
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
