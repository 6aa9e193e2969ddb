"""Drivers turn a decoded telegram into the named fields its users know.

A driver is a data file (``defs/<name>.toml``; format in ``FORMAT.md``): what it detects, and how each
field is found among the records, shown, looked up or computed. Proprietary payloads that are not
EN 13757-3 records are read by a small hook module (``hooks/<name>.py``) that the file names. Users add
or override drivers with files of their own (``--drivers FOLDER``). Telegrams no driver claims get
generic names (``generic.py``) and a note saying that no driver knows the meter.

Detection is one table lookup by (manufacturer, version, device type), optionally narrowed by CI.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DecodeError, DecryptionError, NoKeyError
from . import generic
from .engine import apply
from .spec import DriverFileError, DriverSpec, load_driver_file, load_library
from .status import join_status, tpl_status_words

if TYPE_CHECKING:
    from ..telegram import Telegram

DEFS = Path(__file__).parent / "defs"
LIBRARY = Path(__file__).parent / "library.toml"
GENERIC = "generic"


class DriverRegistry:
    """Drivers by name and alias, and the detection table."""

    def __init__(self, drivers: list[DriverSpec]) -> None:
        self.drivers: dict[str, DriverSpec] = {}
        for driver in drivers:
            self.drivers[driver.name] = driver  # a later file (a user's) replaces a built-in one
        self.aliases: dict[str, str] = {}
        for driver in self.drivers.values():
            for alias in driver.aliases:
                if alias not in self.drivers:
                    self.aliases[alias] = driver.name
        self.table: dict[tuple, list[DriverSpec]] = defaultdict(list)
        for driver in self.drivers.values():
            for detect in driver.detect:
                for manufacturer in detect.manufacturers:
                    for version in detect.versions or (None,):
                        for device_type in detect.device_types or (None,):
                            self.table[(manufacturer, version, device_type)].append(driver)
        self._found: dict[tuple, DriverSpec | None] = {}

    def get(self, name: str) -> DriverSpec | None:
        """A driver by its name or one of its aliases."""
        driver = self.drivers.get(name)
        if driver is None and name in self.aliases:
            driver = self.drivers[self.aliases[name]]
        return driver

    def names(self) -> list[str]:
        return sorted(self.drivers)

    def candidates(
        self, manufacturer: str, version: int, device_type: int, ci: int | None
    ) -> list[DriverSpec]:
        """Drivers whose detection covers this identity and CI, best first."""
        found: list[DriverSpec] = []
        for key in (
            (manufacturer, version, device_type),
            (manufacturer, version, None),
            (manufacturer, None, device_type),
            (manufacturer, None, None),
        ):
            for driver in self.table.get(key, ()):
                if driver not in found and _ci_ok(driver, manufacturer, version, device_type, ci):
                    found.append(driver)
        found.sort(key=lambda d: -d.priority)  # stable: exact detections before wildcards
        return found

    def find(self, telegram: Telegram) -> DriverSpec | None:
        """The driver for a telegram: by the DLL identity, else by the long TPL header's."""
        identities = []
        if telegram.dll is not None:
            dll = telegram.dll
            identities.append((dll.manufacturer, dll.version, dll.device_type))
        ident = telegram.identity
        identities.append((ident.manufacturer, ident.version, ident.device_type))
        key = (*identities, telegram.ci)
        if key in self._found:
            return self._found[key]
        found = None
        for manufacturer, version, device_type in identities:
            matches = self.candidates(manufacturer, version, device_type, telegram.ci)
            if matches:
                found = matches[0]
                break
        if len(self._found) < 10000:
            self._found[key] = found
        return found


def _ci_ok(driver: DriverSpec, manufacturer: str, version: int, device_type: int, ci: int | None) -> bool:
    for detect in driver.detect:
        if (
            manufacturer in detect.manufacturers
            and (detect.versions is None or version in detect.versions)
            and (detect.device_types is None or device_type in detect.device_types)
            and (detect.cis is None or ci in detect.cis)
        ):
            return True
    return False


_LIBRARY: dict[str, dict] | None = None


def library() -> dict[str, dict]:
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = load_library(LIBRARY) if LIBRARY.exists() else {}
    return _LIBRARY


def builtin_drivers() -> list[DriverSpec]:
    """Every driver file shipped with the package."""
    return [load_driver_file(path, library()) for path in sorted(DEFS.glob("*.toml"))]


def load_user_drivers(folder: str | Path) -> list[DriverSpec]:
    """A user's driver files (``*.toml`` in a folder, or one file); DriverFileError for a bad one."""
    path = Path(folder)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(path.glob("*.toml"))
    else:
        raise DriverFileError(f"{folder}: no such driver file or folder")
    drivers = [load_driver_file(file, library(), builtin=False) for file in files]
    for driver in drivers:
        if driver.hook:
            from .engine import hook_function

            try:
                hook_function(driver.hook)
            except DecodeError:
                raise DriverFileError(f"{driver.path}: hook {driver.hook!r} is not a built-in hook") from None
    return drivers


_REGISTRY: DriverRegistry | None = None


def registry() -> DriverRegistry:
    """The drivers in use: the built-in ones plus any the user added with :func:`use_user_drivers`."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = DriverRegistry(builtin_drivers())
    return _REGISTRY


def use_user_drivers(folders: list[str]) -> None:
    """Add (or override) drivers from the user's files for the rest of the process."""
    extra = [driver for folder in folders for driver in load_user_drivers(folder)]
    global _REGISTRY
    _REGISTRY = DriverRegistry([*builtin_drivers(), *extra])


def all_drivers() -> dict[str, DriverSpec]:
    return registry().drivers


def driver_names() -> list[str]:
    """Names a user may give to --driver or in a meters file (aliases included)."""
    reg = registry()
    return ["auto", GENERIC, *sorted([*reg.drivers, *reg.aliases])]


def find_driver(telegram: Telegram) -> DriverSpec | None:
    return registry().find(telegram)


def _status_byte(telegram: Telegram) -> int | None:
    return (
        telegram.tpl.status if telegram.tpl is not None and telegram.tpl.access_number is not None else None
    )


def apply_drivers(telegram: Telegram, forced: str | None = None) -> dict:
    """Named fields for a decoded telegram, by its driver (or generic names when none knows it)."""
    if forced in (None, "auto"):
        driver = find_driver(telegram)
    elif forced == GENERIC:
        driver = None
    else:
        driver = registry().get(forced)
        if driver is None:
            raise ValueError(f"unknown driver {forced!r}")
    if telegram.undecoded and not (driver and driver.descrambles):
        raise DecodeError(telegram.undecoded)
    if telegram.decrypted_without_mac:
        _check_decrypted_records(telegram, driver)
    result: dict = {}
    if driver is None:
        result["meter"] = GENERIC
        if telegram.apl is not None:
            result.update(generic.decode(telegram))
        result["status"] = join_status(tpl_status_words(_status_byte(telegram)))
        if forced is None or forced == "auto":
            source = telegram.dll if telegram.dll is not None else telegram.identity
            telegram.warnings.append(
                f"no driver knows this meter (manufacturer {source.manufacturer}, version "
                f"0x{source.version:02x}, device type 0x{source.device_type:02x}): fields have generic names"
            )
    else:
        result["meter"] = driver.name
        if driver.media:
            result["media"] = driver.media
        result.update(apply(driver, telegram, _status_byte(telegram)))
    if not (driver and driver.proprietary) and telegram.apl is not None:
        result["records"] = generic.records_json(telegram.apl)
        if telegram.apl.error:
            if telegram.apl.records:
                # Meters often pad or end with bytes that form no record; the records before are sound.
                telegram.warnings.append(f"stopped decoding records: {telegram.apl.error}")
            else:
                result.setdefault("error", telegram.apl.error)
    return result


def _check_decrypted_records(telegram: Telegram, driver: DriverSpec | None) -> None:
    """After AES without a MAC, only records that parse cleanly show the key was right (2F 2F alone
    passes one wrong key in 65,536). Bytes a meter sends unencrypted after the encrypted blocks say
    nothing about the key: records that stop there do not fail it."""
    if (
        (driver is not None and driver.proprietary)
        or not telegram.decrypted_without_mac
        or telegram.apl is None
    ):
        return
    apl = telegram.apl
    inside = (
        apl.error_offset is None
        or not telegram.decrypted_length
        or apl.error_offset < telegram.decrypted_length
    )
    if apl.error and inside:
        if telegram.default_key:  # a public default key only seemed to fit: the meter has its own
            raise NoKeyError(f"encrypted, no key for meter {telegram.identity.id}")
        raise DecryptionError(
            f"decryption failed: check the key for meter {telegram.identity.id} (records do not parse)"
        )
