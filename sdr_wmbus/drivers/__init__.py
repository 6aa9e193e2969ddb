"""Drivers turn a decoded telegram into named fields.

The generic driver names standard OMS records for any meter (``total_m3``, ``flow_temperature_c``, ...,
after wmbusmeters' conventions so that users can migrate). Manufacturer drivers (one small module each,
test telegrams beside them in tests/drivers/) decode proprietary payloads or add meter-specific fields;
each declares what it matches in ``MATCH`` and provides ``decode(telegram) -> dict``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import DecodeError
from . import generic

if TYPE_CHECKING:
    from ..decoder import Telegram


@dataclass(frozen=True)
class Match:
    """One telegram pattern a driver handles; None matches anything."""

    manufacturer: str
    device_types: tuple[int, ...] | None = None
    versions: tuple[int, ...] | None = None
    cis: tuple[int, ...] | None = None

    def matches(self, telegram: Telegram) -> bool:
        ident = telegram.identity
        dll = telegram.dll
        # Proprietary frames are identified by the DLL header (that is where the meter puts its identity).
        manufacturer = dll.manufacturer if dll is not None else ident.manufacturer
        device_type = dll.device_type if dll is not None else ident.device_type
        version = dll.version if dll is not None else ident.version
        return (
            manufacturer == self.manufacturer
            and (self.device_types is None or device_type in self.device_types)
            and (self.versions is None or version in self.versions)
            and (self.cis is None or telegram.ci in self.cis)
        )


@dataclass(frozen=True)
class Driver:
    """A manufacturer driver.

    ``decode(telegram)`` returns named fields and raises DecodeError when the payload does not check out.
    ``proprietary_apl``: the (decrypted) APL is not EN 13757-3 records, so generic naming and the
    ``records`` list are left out instead of showing garbage. ``descrambles``: the driver understands a
    manufacturer security mode / scrambling the stack leaves alone (``telegram.undecoded`` is set).
    """

    name: str
    description: str
    match: tuple[Match, ...]
    decode: Callable[[Telegram], dict]
    proprietary_apl: bool = False
    descrambles: bool = False


def _load() -> dict[str, Driver]:
    from . import registry

    return {driver.name: driver for driver in registry.DRIVERS}


_DRIVERS: dict[str, Driver] | None = None


def all_drivers() -> dict[str, Driver]:
    """Every manufacturer driver by name."""
    global _DRIVERS
    if _DRIVERS is None:
        _DRIVERS = _load()
    return _DRIVERS


def driver_names() -> list[str]:
    return ["auto", "generic", *sorted(all_drivers())]


_FOUND: dict[tuple, Driver | None] = {}  # what find_driver answered, by the fields Match looks at


def find_driver(telegram: Telegram) -> Driver | None:
    source = telegram.dll if telegram.dll is not None else telegram.identity
    key = (source.manufacturer, source.device_type, source.version, telegram.ci)
    if key in _FOUND:
        return _FOUND[key]
    found = None
    for driver in all_drivers().values():
        if any(m.matches(telegram) for m in driver.match):
            found = driver
            break
    if len(_FOUND) < 10000:
        _FOUND[key] = found
    return found


def apply_drivers(telegram: Telegram, forced: str | None = None) -> dict:
    """Named fields for a decoded telegram: generic names for standard records, then the driver's."""
    if forced in (None, "auto"):
        driver = find_driver(telegram)
    elif forced == "generic":
        driver = None
    else:
        driver = all_drivers().get(forced)
        if driver is None:
            raise ValueError(f"unknown driver {forced!r}")
    if telegram.undecoded and not (driver and driver.descrambles):
        raise DecodeError(telegram.undecoded)
    standard = telegram.apl is not None and not (driver and driver.proprietary_apl)
    result: dict = {}
    if standard:
        result.update(generic.decode(telegram))
    result["driver"] = driver.name if driver else "generic"
    if driver is not None:
        result.update(driver.decode(telegram))
    if standard:
        assert telegram.apl is not None
        result["records"] = generic.records_json(telegram.apl)
        if telegram.apl.error:
            if telegram.apl.records:
                # Meters often pad or end with bytes that form no record; the records before are sound.
                telegram.warnings.append(f"stopped decoding records: {telegram.apl.error}")
            else:
                result.setdefault("error", telegram.apl.error)
    return result
