"""Per-meter AES keys: a TOML meters file and --key. Keys are secrets: never printed, never logged."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ID_RE = re.compile(r"^[0-9a-fA-F]{8}$")


def parse_key(text: str, where: str) -> bytes:
    """32 hex digits -> 16 bytes; the error names where the key came from, never the key itself."""
    cleaned = text.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", cleaned):
        raise ConfigError(f"{where}: a key must be 32 hex digits (AES-128)")
    return bytes.fromhex(cleaned)


@dataclass(frozen=True)
class MeterConfig:
    id: str
    key: bytes | None = field(default=None, repr=False)
    name: str | None = None
    driver: str | None = None


@dataclass
class KeyStore:
    """Keys and names by meter id; ``default_key`` (from --key) applies to meters not listed."""

    meters: dict[str, MeterConfig] = field(default_factory=dict)
    default_key: bytes | None = field(default=None, repr=False)

    def key_for(self, meter_id: str) -> bytes | None:
        meter = self.meters.get(meter_id.lower())
        if meter is not None and meter.key is not None:
            return meter.key
        return self.default_key

    def meter(self, meter_id: str) -> MeterConfig | None:
        return self.meters.get(meter_id.lower())

    def __repr__(self) -> str:  # keys never end up in a log line or traceback
        return f"KeyStore({len(self.meters)} meters, default key {'set' if self.default_key else 'unset'})"

    @classmethod
    def from_file(cls, path: str | Path) -> KeyStore:
        """Read a meters file::

        [[meter]]
        id = "12345678"
        key = "000102030405060708090A0B0C0D0E0F"   # optional
        name = "kitchen water"                     # optional
        driver = "kamwater"                        # optional
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read meters file {path}: {exc.strerror}") from None
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # The message names line and column only; it never quotes the (possibly secret) content.
            raise ConfigError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None
        entries = doc.get("meter", [])
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: meters must be given as [[meter]] tables")
        store = cls()
        for number, entry in enumerate(entries, start=1):
            where = f"{path}: meter #{number}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: must be a table")
            unknown = set(entry) - {"id", "key", "name", "driver"}
            if unknown:
                raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            meter_id = str(entry.get("id", "")).strip()
            if not _ID_RE.match(meter_id):
                raise ConfigError(f"{where}: id must be 8 digits, got {meter_id!r}")
            key = entry.get("key")
            if key is not None and not isinstance(key, str):
                raise ConfigError(f"{where} ({meter_id}): key must be a string of 32 hex digits")
            store.meters[meter_id.lower()] = MeterConfig(
                id=meter_id,
                key=parse_key(key, f"{where} ({meter_id})") if key else None,
                name=entry.get("name"),
                driver=entry.get("driver"),
            )
        return store
