"""Per-meter settings and AES keys: our TOML meters file, wmbusmeters meter files, --key/--key-file.

Keys are secrets: never printed, never logged, never quoted in an error (an error names the file, the
line and the setting, not the value, because a key typed into the wrong field must not leak either).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[0-9a-fA-F]{8}$")
_ID_PATTERN_RE = re.compile(r"^[0-9a-fA-F]{0,7}\*$")
_KEY_RE = re.compile(r"[0-9a-fA-F]{32}")
#: wmbusmeters meter-file settings we take over.
WMBUSMETERS_USED = {"name", "driver", "id", "key"}
#: wmbusmeters settings that have no meaning here (reported once, then ignored).
WMBUSMETERS_IGNORED = {
    "shell",
    "alarmshell",
    "selectfields",
    "pollinterval",
    "bus",
    "identitymode",
    "alarmtimeout",
    "alarmexpectedactivity",
    "linkmodes",
}
_WMBUSMETERS_PREFIXES = ("json_", "field_", "calculate_")
_WMBUSMETERS_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def parse_key(text: str, where: str) -> bytes:
    """32 hex digits -> 16 bytes; the error names where the key came from, never the key itself."""
    cleaned = text.strip().replace(" ", "")
    if not _KEY_RE.fullmatch(cleaned):
        raise ConfigError(f"{where}: a key must be 32 hex digits (AES-128)")
    return bytes.fromhex(cleaned)


def read_key_file(path: str | Path) -> bytes:
    """A key kept in a file of its own (--key-file), so that it is not visible in ``ps``."""
    try:
        text = Path(path).read_bytes().decode("ascii")
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"key file {path}: not 32 hex digits") from None
    warn_if_readable_by_others(Path(path), "key file")
    return parse_key(text, f"key file {path}")


def warn_if_readable_by_others(path: Path, what: str) -> None:
    """Keys in a file others can read are not secret: say so once (like ssh does)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH) and os.name == "posix":
        log.warning("%s %s holds keys and is readable by other users: chmod 600 it", what, path)


@dataclass(frozen=True)
class MeterConfig:
    id: str
    key: bytes | None = field(default=None, repr=False)
    name: str | None = None
    driver: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # constant fields added to every reading


@dataclass
class KeyStore:
    """Meter settings by id (exact ids, or prefix patterns such as ``1234*``); ``default_key`` (from
    --key) applies to meters not listed. ``driver_folders`` are user driver folders named in the file."""

    meters: dict[str, MeterConfig] = field(default_factory=dict)
    default_key: bytes | None = field(default=None, repr=False)
    patterns: list[tuple[str, MeterConfig]] = field(default_factory=list)
    driver_folders: list[str] = field(default_factory=list)
    public_keys: bool = False

    def meter(self, meter_id: str) -> MeterConfig | None:
        meter_id = meter_id.lower()
        meter = self.meters.get(meter_id)
        if meter is None:
            for prefix, config in self.patterns:
                if meter_id.startswith(prefix):
                    return config
        return meter

    def key_for(self, meter_id: str) -> bytes | None:
        meter = self.meter(meter_id)
        if meter is not None and meter.key is not None:
            return meter.key
        return self.default_key

    def __repr__(self) -> str:  # keys never end up in a log line or traceback
        return f"KeyStore({len(self.meters)} meters, default key {'set' if self.default_key else 'unset'})"

    def add(self, id_text: str, config: MeterConfig, where: str) -> None:
        """One meter, or several (``id=1,2``), or a pattern (``1234*``, ``*``)."""
        for one in id_text.split(","):
            one = one.strip().lower()
            if _ID_RE.match(one):
                self.meters[one] = MeterConfig(one, config.key, config.name, config.driver, config.extra)
            elif _ID_PATTERN_RE.match(one):
                self.patterns.append((one[:-1], config))
                self.patterns.sort(key=lambda item: -len(item[0]))  # the most specific pattern first
            else:
                # The value is not quoted: a key typed into the id field must not end up in a log.
                raise ConfigError(f"{where}: id must be 8 hex digits (or a pattern such as 1234*)")

    @classmethod
    def from_file(cls, path: str | Path) -> KeyStore:
        """Read a meters file (ours, TOML), a wmbusmeters meter file, or a folder of either."""
        path = Path(path)
        store = cls()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise ConfigError(f"meters folder {path} holds no meter files")
            for file in files:
                store._load(file)
        else:
            store._load(path)
        return store

    def _load(self, path: Path) -> None:
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read meters file {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            raise ConfigError(f"{path}:{line}: not UTF-8 text") from None
        if looks_like_wmbusmeters(text):
            self._load_wmbusmeters(path, text)
        else:
            self._load_toml(path, text)
        if self.public_keys:
            return
        if any(m.key for m in self.meters.values()) or any(c.key for _, c in self.patterns):
            warn_if_readable_by_others(path, "meters file")

    def _load_toml(self, path: Path, text: str) -> None:
        """Our format::

        drivers = "my-drivers"                     # optional: driver files (relative to this file)
        [[meter]]
        id = "12345678"
        key = "000102030405060708090A0B0C0D0E0F"   # optional
        name = "kitchen water"                     # optional
        driver = "kamwater"                        # optional
        """
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # The message names line and column only; it never quotes the (possibly secret) content.
            raise ConfigError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None
        unknown_top = set(doc) - {"meter", "drivers", "public_keys"}
        if unknown_top:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown_top))}")
        self.public_keys = bool(doc.get("public_keys", False))  # published test keys: no secrecy warning
        folders = doc.get("drivers", [])
        for folder in folders if isinstance(folders, list) else [folders]:
            self.driver_folders.append(str((path.parent / str(folder)).resolve()))
        entries = doc.get("meter", [])
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: meters must be given as [[meter]] tables")
        for number, entry in enumerate(entries, start=1):
            where = f"{path}: meter #{number}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: must be a table")
            unknown = set(entry) - {"id", "key", "name", "driver"}
            if unknown:
                raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            meter_id = entry.get("id", "")
            if not isinstance(meter_id, str):
                raise ConfigError(f"{where}: id must be a string of 8 digits")
            key = entry.get("key")
            if key is not None and not isinstance(key, str):
                raise ConfigError(f"{where}: key must be a string of 32 hex digits")
            name = entry.get("name")
            driver = entry.get("driver")
            config = MeterConfig(
                id=meter_id.strip(),
                key=parse_key(key, where) if key else None,
                name=str(name) if name is not None else None,
                driver=str(driver) if driver is not None else None,
            )
            self.add(meter_id, config, where)

    def _load_wmbusmeters(self, path: Path, text: str) -> None:
        """A wmbusmeters meter file (``/etc/wmbusmeters.d/*``): ``name=``, ``driver=``, ``id=``,
        ``key=`` lines; ``json_X=`` become constant fields; settings without meaning here are reported."""
        values: dict[str, str] = {}
        extra: dict[str, str] = {}
        lines: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            found = _WMBUSMETERS_LINE.match(line)
            if not found:
                raise ConfigError(f"{path}:{number}: not a setting=value line")
            setting, value = found.group(1), found.group(2).strip()
            lines[setting] = number
            if setting in WMBUSMETERS_USED:
                values[setting] = value
            elif setting.startswith("json_"):
                extra[setting[5:]] = value
            elif setting in WMBUSMETERS_IGNORED or setting.startswith(_WMBUSMETERS_PREFIXES):
                log.warning("%s:%d: wmbusmeters setting %s: ignored here", path, number, setting)
            else:
                raise ConfigError(f"{path}:{number}: unknown setting {setting!r}")
        if "id" not in values:
            raise ConfigError(f"{path}: no id= line")
        key_text = values.get("key", "")
        key = None
        if key_text and key_text.upper() != "NOKEY":
            key = parse_key(key_text, f"{path}:{lines['key']}: key")
        driver = values.get("driver", "").split(":")[0].strip() or None  # "multical21:c1": mode ignored
        config = MeterConfig(
            id=values["id"], key=key, name=values.get("name") or None, driver=driver, extra=extra
        )
        self.add(values["id"], config, f"{path}:{lines['id']}")


def looks_like_wmbusmeters(text: str) -> bool:
    """wmbusmeters files are bare ``setting=value`` lines (values unquoted); ours are TOML tables."""
    lines = [x for x in text.splitlines() if x.strip() and not x.lstrip().startswith("#")]
    if not lines or any(x.lstrip().startswith("[") for x in lines):
        return False
    toml_values = ('"', "'", "[", "{")
    bare = all(
        _WMBUSMETERS_LINE.match(x) and not x.split("=", 1)[1].strip().startswith(toml_values) for x in lines
    )
    return bool(bare)
