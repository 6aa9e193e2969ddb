"""Publicly known default keys are tried only when no key is configured, and the output says which
one opened the telegram; a meter with a key of its own still gets the clear "no key" error."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.keys import KeyStore

ZERO_KEY_METER = (  # an iwmtx5 water meter shipped with the all-zero key (mode 5 behind an ELL)
    "5144b4097073912218078c00247a0308400571e9615249ede52eaae09f61908f027c3877f3330ae9079528b23173ce124"
    "bcc255393e60b173c0a9f274c42dd92e4b23c14e8a41f042903358df01dd9268ad4"
)
OWN_KEY_METER = (  # a caltose HCA with a key of its own
    "5e44496a91190880fc087a744050052f05bf0c6baf613a078098e048ae47ffb93083b455065e03de9b7878c8b3bb063637"
    "ea5693160e831cc3d4e0470fabbcd4fedb09d289a0025ca7960d5c7b8064b1093037e7a0a57908edb554d17ad587"
)


def decode(hex_text: str, keys: KeyStore | None = None) -> dict:
    return TelegramDecoder(keys).decode(bytes.fromhex(hex_text), link_crc="none")


def test_the_all_zero_key_opens_a_meter_shipped_with_it_and_says_so():
    out = decode(ZERO_KEY_METER)
    assert "error" not in out, out
    assert out["default_key"] == "all-zero default key"
    assert out["records"]


def test_a_configured_key_is_used_and_no_default_is_reported():
    out = decode(ZERO_KEY_METER, KeyStore(default_key=bytes(16)))
    assert "error" not in out and "default_key" not in out


def test_a_meter_with_its_own_key_still_says_no_key():
    out = decode(OWN_KEY_METER)
    assert out["error"] == "encrypted, no key for meter 80081991"
    assert "default_key" not in out
