"""Extended link layer (CI 0x8C-0x8F): communication control, access number, receiver address,
session number and AES-128-CTR encryption of the rest of the frame."""

from __future__ import annotations

from dataclasses import dataclass

from ..crc import crc16_en13757
from ..errors import DecryptionError, TruncatedError
from ..security.crypto import aes_ctr_crypt
from ..tables.ci_fields import ELL_CI
from ..tables.manufacturers import manufacturer_code
from .dll import LinkHeader, id_from_wire

ENC_NONE = 0
ENC_AES_CTR = 1


@dataclass(slots=True)  # not frozen: made for every telegram (frozen inits are slow); read-only
class ExtendedLinkHeader:
    """Fields of one ELL header; optional ones are None when the CI variant lacks them."""

    ci: int
    cc: int
    access_number: int
    receiver_manufacturer: str | None
    receiver_id: str | None
    session_number: int | None
    sn_wire: bytes | None
    header_length: int  # bytes including the CI, up to (not including) the payload CRC

    @property
    def encryption(self) -> int:
        """ENC bits of the session number: 0 none, 1 AES-128-CTR, others reserved."""
        if self.session_number is None:
            return ENC_NONE
        return (self.session_number >> 29) & 0x7

    @property
    def has_payload_crc(self) -> bool:
        return self.session_number is not None


def parse_ell(frame: bytes, offset: int) -> ExtendedLinkHeader:
    """Parse the ELL header whose CI is at ``frame[offset]``."""
    ci = frame[offset]
    length = ELL_CI[ci]
    # For the variants with a payload CRC, the CRC (2 bytes) belongs to the encrypted part.
    fixed = length - 2 if ci in (0x8D, 0x8F) else length
    if len(frame) < offset + 1 + length:
        raise TruncatedError(f"truncated frame: ELL CI 0x{ci:02X} needs {length} bytes after the CI")
    body = frame[offset + 1 : offset + 1 + fixed]
    receiver_m = receiver_id = None
    sn = sn_wire = None
    if ci in (0x8E, 0x8F):
        receiver_m = manufacturer_code(body[2] | (body[3] << 8))
        receiver_id = id_from_wire(body[4:8])
    if ci == 0x8D:
        sn_wire = bytes(body[2:6])
    elif ci == 0x8F:
        sn_wire = bytes(body[10:14])
    if sn_wire is not None:
        sn = int.from_bytes(sn_wire, "little")
    return ExtendedLinkHeader(
        ci=ci,
        cc=body[0],
        access_number=body[1],
        receiver_manufacturer=receiver_m,
        receiver_id=receiver_id,
        session_number=sn,
        sn_wire=sn_wire,
        header_length=1 + fixed,
    )


def ell_counter_block(dll: LinkHeader, ell: ExtendedLinkHeader) -> bytes:
    """Initial AES-CTR counter block: M, A, CC (hop and repeated-access bits cleared), SN, FN=0, BC=0."""
    assert ell.sn_wire is not None
    cc = ell.cc & ~0x12 & 0xFF
    return dll.m_wire + dll.a_wire + bytes([cc]) + ell.sn_wire + b"\x00\x00\x00"


def check_payload_crc(payload: bytes, meter_id: str, decrypted: bool) -> bytes:
    """Check the ELL payload CRC (first 2 bytes, LE) over the rest and return the rest."""
    if len(payload) < 2:
        raise TruncatedError("truncated frame: ELL payload CRC missing")
    crc = payload[0] | (payload[1] << 8)
    rest = payload[2:]
    if crc16_en13757(rest) != crc:
        if decrypted:
            raise DecryptionError(f"decryption failed: check the key for meter {meter_id}")
        raise DecryptionError(f"ELL payload CRC error for meter {meter_id}")
    return rest


def decrypt_ell_payload(
    key: bytes, dll: LinkHeader, ell: ExtendedLinkHeader, payload: bytes, meter_id: str
) -> bytes:
    """Decrypt the AES-CTR part (payload CRC onwards) and return the bytes after the verified CRC."""
    plain = aes_ctr_crypt(key, ell_counter_block(dll, ell), payload)
    return check_payload_crc(plain, meter_id, decrypted=True)
