"""AES primitives of EN 13757-7 / OMS, all through pycryptodome (never hand-written AES)."""

from __future__ import annotations

from Crypto.Cipher import AES
from Crypto.Hash import CMAC

# KDF-A derivation constants (OMS Vol. 2 / EN 13757-7): which key is derived.
KDF_ENC_METER_TO_OTHER = 0x00
KDF_MAC_METER_TO_OTHER = 0x01


_BLOCK_CIPHERS: dict[bytes, object] = {}  # key -> pycryptodome AES-ECB object: AES.new costs ~40 us
_MAX_BLOCK_CIPHERS = 4096


def _block_cipher(key: bytes):
    cipher = _BLOCK_CIPHERS.get(key)
    if cipher is None:
        if len(_BLOCK_CIPHERS) >= _MAX_BLOCK_CIPHERS:
            _BLOCK_CIPHERS.clear()
        cipher = _BLOCK_CIPHERS[key] = AES.new(key, AES.MODE_ECB)
    return cipher


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC decryption of whole 16-byte blocks (modes 5 and 7).

    The block decryptions are pycryptodome's (one cached cipher object per key); only the CBC chaining
    (each plaintext block XOR the previous ciphertext block, the first XOR the IV) is done here.
    """
    if not data or len(data) % 16:
        raise ValueError("CBC data must be one or more whole 16-byte blocks")
    blocks = _block_cipher(bytes(key)).decrypt(bytes(data))
    chain = bytes(iv) + bytes(data[:-16])
    return (int.from_bytes(blocks, "big") ^ int.from_bytes(chain, "big")).to_bytes(len(data), "big")


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC encryption (used to build test telegrams)."""
    return AES.new(key, AES.MODE_CBC, iv=iv).encrypt(data)


def aes_ctr_crypt(key: bytes, counter_block: bytes, data: bytes) -> bytes:
    """AES-128-CTR as used by the ELL: the last byte of the counter block counts the 16-byte blocks."""
    cipher = AES.new(key, AES.MODE_CTR, nonce=counter_block[:15], initial_value=counter_block[15])
    return cipher.encrypt(data)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """Full 16-byte AES-CMAC (AFL MACs are a truncation of it; KDF-A is one of it)."""
    mac = CMAC.new(key, ciphermod=AES)
    mac.update(data)
    return mac.digest()


def kdf_a(master_key: bytes, derivation_constant: int, message_counter: bytes, meter_id: bytes) -> bytes:
    """Derive an ephemeral key (security mode 7, KDF-A).

    message_counter and meter_id are in wire order (4 bytes each); the input is padded with 0x07 to 16.
    """
    block = bytes([derivation_constant]) + message_counter + meter_id + b"\x07" * 7
    return aes_cmac(master_key, block)
