"""The telegram value type: everything the stack learnt about one telegram, as drivers read it.

It lives apart from the decoder so that drivers (which read it) and the decoder (which fills it and
calls the drivers) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .app.records import Apl, parse_apl
from .link.afl import AuthFragmentHeader
from .link.dll import LinkHeader
from .link.ell import ExtendedLinkHeader
from .security.tpl import TransportHeader
from .tables.device_types import device_type_name


@dataclass(slots=True)  # not frozen: made for every telegram (frozen inits are slow); read-only
class Identity:
    """Who the telegram is about: from the long TPL header when present, else from the DLL."""

    id: str
    manufacturer: str
    version: int
    device_type: int
    m_wire: bytes
    a_wire: bytes

    @property
    def media(self) -> str:
        return device_type_name(self.device_type, self.manufacturer)

    @classmethod
    def from_long_header(cls, tpl: TransportHeader) -> Identity:
        return cls(
            tpl.id or "",
            tpl.manufacturer or "",
            tpl.version or 0,
            tpl.device_type or 0,
            tpl.m_wire or b"",
            tpl.a_wire or b"",
        )


@dataclass(slots=True)
class Telegram:
    """Everything the stack learnt about one telegram; drivers read it."""

    frame: bytes
    identity: Identity
    dll: LinkHeader | None = None
    ell: ExtendedLinkHeader | None = None
    afl: AuthFragmentHeader | None = None
    tpl: TransportHeader | None = None
    ci: int | None = None
    payload: bytes = b""  # manufacturer-specific CI: bytes after the CI; else the decrypted APL
    # The meter's key from the key store, for drivers that decrypt proprietary payloads themselves.
    key: bytes | None = field(default=None, repr=False)
    # Why the stack left the payload undecoded (a manufacturer security mode); a driver may handle it.
    undecoded: str | None = None
    # AES-CBC ran without a MAC to check it (mode 5, mode 7 without AFL MAC): the records must parse.
    decrypted_without_mac: bool = False
    default_key: str | None = None  # which public default key opened the payload (none configured)
    # How many bytes at the start of the APL were decrypted (0: not known, e.g. a rebuilt compact frame);
    # bytes a meter appends unencrypted after them say nothing about the key.
    decrypted_length: int = 0
    warnings: list[str] = field(default_factory=list)
    # This meter's values kept from earlier telegrams, by driver name and field (fields with
    # remember = true); the decoder hands every telegram of a meter the same dict.
    remembered: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)
    # The APL's bytes, walked into records when a driver first asks (a proprietary payload never is).
    apl_bytes: bytes | None = field(default=None, repr=False)
    _apl: Apl | None = field(default=None, repr=False)

    @property
    def apl(self) -> Apl | None:
        """The records of the application layer (None: the telegram has no EN 13757-3 APL)."""
        if self._apl is None and self.apl_bytes is not None:
            self._apl = parse_apl(self.apl_bytes)
        return self._apl

    @apl.setter
    def apl(self, apl: Apl | None) -> None:
        self._apl, self.apl_bytes = apl, None
