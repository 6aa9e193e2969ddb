"""Transport layer: CI field, short/long headers, status byte and configuration field."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TruncatedError
from ..link.dll import id_from_wire
from ..tables.ci_fields import TPL_CI
from ..tables.manufacturers import manufacturer_code

STATUS_BITS = {
    0x04: "POWER_LOW",
    0x08: "PERMANENT_ERROR",
    0x10: "TEMPORARY_ERROR",
}
APPLICATION_STATUS = {0: None, 1: "BUSY", 2: "ERROR", 3: "ALARM"}


@dataclass(slots=True)  # not frozen: made for every telegram (frozen inits are slow); read-only
class TransportHeader:
    """A decoded TPL header. ``header`` is 'none', 'short' or 'long'."""

    ci: int
    header: str
    access_number: int | None = None
    status: int | None = None
    config: int | None = None
    config_ext: int | None = None
    # Long header only: the meter's own identity (the DLL address may be a radio module's).
    id: str | None = None
    manufacturer: str | None = None
    m_wire: bytes | None = None
    a_wire: bytes | None = None
    version: int | None = None
    device_type: int | None = None
    length: int = 1  # bytes including the CI

    @property
    def security_mode(self) -> int:
        return 0 if self.config is None else (self.config >> 8) & 0x1F

    @property
    def encrypted_blocks(self) -> int:
        """N of the configuration field: number of encrypted 16-byte blocks."""
        return 0 if self.config is None else (self.config >> 4) & 0x0F

    @property
    def kdf(self) -> int | None:
        """Key derivation selection of the mode-7 CF extension (1 = KDF-A)."""
        return None if self.config_ext is None else (self.config_ext >> 4) & 0x03


def status_text(status: int | None) -> str:
    """The TPL status byte as wmbusmeters-style words ('OK' when nothing is flagged)."""
    if not status:
        return "OK"
    words = []
    app = APPLICATION_STATUS[status & 0x03]
    if app:
        words.append(app)
    words += [name for bit, name in STATUS_BITS.items() if status & bit]
    if status & 0xE0:
        words.append(f"MANUFACTURER_STATUS_{status >> 5:X}")
    return " ".join(words)


def parse_tpl(frame: bytes, offset: int) -> TransportHeader:
    """Parse the TPL header whose CI is at ``frame[offset]`` (the CI must be in TPL_CI)."""
    ci = frame[offset]
    kind = TPL_CI[ci][1]
    pos = offset + 1
    if kind == "none":
        return TransportHeader(ci=ci, header="none", length=1)
    meter_id = manufacturer = m_wire = a_wire = version = device_type = None
    if kind == "long":
        if len(frame) < pos + 8:
            raise TruncatedError(f"truncated frame: long TPL header of CI 0x{ci:02X} incomplete")
        meter_id = id_from_wire(frame[pos : pos + 4])
        m_wire = bytes(frame[pos + 4 : pos + 6])
        manufacturer = manufacturer_code(frame[pos + 4] | (frame[pos + 5] << 8))
        version = frame[pos + 6]
        device_type = frame[pos + 7]
        a_wire = bytes(frame[pos : pos + 4]) + bytes(frame[pos + 6 : pos + 8])
        pos += 8
    if len(frame) < pos + 4:
        raise TruncatedError(f"truncated frame: TPL header of CI 0x{ci:02X} incomplete")
    config = frame[pos + 2] | (frame[pos + 3] << 8)
    access_number, status = frame[pos], frame[pos + 1]
    pos += 4
    config_ext = None
    if (config >> 8) & 0x1F == 7:
        if len(frame) < pos + 1:
            raise TruncatedError("truncated frame: mode 7 configuration field extension missing")
        config_ext = frame[pos]
        pos += 1
    return TransportHeader(
        ci,
        kind,
        access_number,
        status,
        config,
        config_ext,
        meter_id,
        manufacturer,
        m_wire,
        a_wire,
        version,
        device_type,
        pos - offset,
    )
