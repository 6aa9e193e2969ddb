"""Authentication and fragmentation layer (CI 0x90, EN 13757-7): fragment fields, message counter, MAC."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DecodeError, TruncatedError

# MCL authentication type -> MAC length in bytes (AES-CMAC truncations; 8/9 are GMAC).
MAC_LENGTHS = {0: 0, 3: 2, 4: 4, 5: 8, 6: 12, 7: 16, 8: 12, 9: 16}


@dataclass(slots=True)  # not frozen: made for every telegram (frozen inits are slow); read-only
class AuthFragmentHeader:
    """Decoded AFL fields; optional ones are None when absent."""

    fcl: int
    mcl: int | None
    key_info: int | None
    message_counter: int | None
    mcr_wire: bytes | None
    mac: bytes | None
    message_length: int | None
    ml_wire: bytes | None
    length: int  # total bytes including CI and AFLL

    @property
    def fragment_id(self) -> int:
        return self.fcl & 0xFF

    @property
    def more_fragments(self) -> bool:
        return bool(self.fcl & 0x4000)

    @property
    def auth_type(self) -> int | None:
        return None if self.mcl is None else self.mcl & 0x0F

    def mac_input_prefix(self) -> bytes:
        """MCL, MCR and ML as they enter the CMAC before the TPL bytes."""
        prefix = b"" if self.mcl is None else bytes([self.mcl])
        prefix += self.mcr_wire or b""
        prefix += self.ml_wire or b""
        return prefix


def parse_afl(frame: bytes, offset: int) -> AuthFragmentHeader:
    """Parse the AFL starting at its CI (``frame[offset] == 0x90``)."""
    if len(frame) < offset + 4:
        raise TruncatedError("truncated frame: AFL header incomplete")
    afll = frame[offset + 1]
    end = offset + 2 + afll
    if len(frame) < end:
        raise TruncatedError(f"truncated frame: AFL length {afll} runs past the end")
    body = frame[offset + 2 : end]
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(body):
            raise DecodeError("malformed AFL: fields exceed the AFL length")
        chunk = bytes(body[pos : pos + n])
        pos += n
        return chunk

    fcl = int.from_bytes(take(2), "little")
    mcl = take(1)[0] if fcl & 0x2000 else None
    key_info = int.from_bytes(take(2), "little") if fcl & 0x0200 else None
    mcr_wire = take(4) if fcl & 0x0800 else None
    mac = None
    if fcl & 0x0400:
        auth_type = (mcl or 0) & 0x0F
        if auth_type not in MAC_LENGTHS:
            raise DecodeError(f"unsupported AFL authentication type {auth_type}")
        mac = take(MAC_LENGTHS[auth_type])
    ml_wire = take(2) if fcl & 0x1000 else None
    return AuthFragmentHeader(
        fcl=fcl,
        mcl=mcl,
        key_info=key_info,
        message_counter=None if mcr_wire is None else int.from_bytes(mcr_wire, "little"),
        mcr_wire=mcr_wire,
        mac=mac,
        message_length=None if ml_wire is None else int.from_bytes(ml_wire, "little"),
        ml_wire=ml_wire,
        length=2 + afll,
    )
