"""Mode 5 without a MAC: the key is judged by the records in the decrypted bytes only. A meter that
appends unencrypted bytes after its encrypted blocks (Apator Metrix Unismart gas meter, wmbusmeters
test data, all-zero key) decodes; a wrong key still fails."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.keys import KeyStore

UNISMART = (
    "6044B8059430040001037A1D005085E2B670BCF1A5C87E0C1A51DA18924EF984613DA2A9CD39D8F4C7208326C76D42DB"
    "EADF80D574192B71BD7C4F56A7F1513151768A9DB804883B28CB085CA2D0F7438C361CB9E2734712ED9BFBB2A14EF55208"
)


def _decode(key: bytes) -> dict:
    return TelegramDecoder(KeyStore(default_key=key)).decode(bytes.fromhex(UNISMART), link_crc="none")


def test_unencrypted_bytes_after_the_encrypted_blocks_do_not_fail_the_key():
    result = _decode(bytes(16))
    assert "error" not in result, result
    quantities = [r["quantity"] for r in result["records"]]
    assert "model_version" in quantities and quantities.count("datetime") == 3
    assert any("stopped decoding records" in w for w in result["warnings"])


def test_a_wrong_key_still_fails():
    result = _decode(bytes.fromhex("000102030405060708090A0B0C0D0E0F"))
    assert result["error"].startswith("decryption failed")
