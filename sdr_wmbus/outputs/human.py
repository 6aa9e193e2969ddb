"""Output for people: one line per telegram and a table of the meters heard at the end.

    10:02:03 T1 76348799 Kamstrup cold water (kamwater): total 6.408 m³, target 6.408 m³ · DRY · -30 dBFS
    ...
    3 meters heard:
      id        manufacturer  medium      driver    telegrams  last reading          signal
      76348799  Kamstrup      cold water  kamwater  2          total 6.408 m³        -30 dBFS

The field names stay recognisable (``total_m3`` shows as ``total 6.408 m³``); JSON (``--output-format
json``) carries everything.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from ..drivers.units import DISPLAY_UNITS

MAX_READINGS = 4
#: Values from the past (billing date, storage N, last month, ...): not "the main readings".
_HISTORICAL = re.compile(
    r"(^|_)(target|storage|previous|prev|historic|history|delta|set_date|last_month|last_year|at_error)(_|$)"
    r"|_\d+(_|$)"
)
_SKIP = {
    "id", "manufacturer", "manufacturer_name", "version", "device_type", "media", "raw", "ci", "meter",
    "status", "name", "timestamp", "time_s", "sample", "mode", "frame_format", "rssi_dbfs", "snr_db",
    "freq_offset_hz", "chip_rate_error_ppm", "access_number", "ell_access_number", "security_mode",
    "configuration", "message_counter", "records", "warnings", "error", "default_key", "receiver",
    "receivers", "heard_at",
}  # fmt: skip


def _unit_text(suffix: str) -> str:
    unit = DISPLAY_UNITS.get(suffix)
    return unit.ha_unit or suffix if unit else suffix


def reading_text(name: str, value: object) -> str:
    """``total_m3`` 6.408 -> ``total 6.408 m³``; a field without a unit as it is."""
    stem, _, suffix = name.rpartition("_")
    if stem and suffix in DISPLAY_UNITS:
        number = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{stem.replace('_', ' ')} {number} {_unit_text(suffix)}"
    return f"{name.replace('_', ' ')} {value}"


def main_readings(obj: dict, limit: int = MAX_READINGS) -> list[str]:
    """The current readings of a telegram, in the driver's order: numbers with a unit, not history."""
    out = []
    for name, value in obj.items():
        if name in _SKIP or value is None or isinstance(value, (dict, list, bool)):
            continue
        if not isinstance(value, (int, float)) or name.rpartition("_")[2] not in DISPLAY_UNITS:
            continue
        if _HISTORICAL.search(name):
            continue
        out.append(reading_text(name, value))
        if len(out) == limit:
            break
    return out


@dataclass
class _Heard:
    manufacturer: str
    media: str
    driver: str
    telegrams: int = 0
    last: str = ""
    rssi: float | None = None


class HumanOutput:
    """Lines for a terminal; ``close()`` prints the table of meters heard."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.heard: dict[str, _Heard] = {}

    def write(self, obj: dict) -> None:
        # On a terminal, first clear the line a progress bar (on stderr) may have left.
        clear = "\r\x1b[K" if self.stream.isatty() else ""
        self.stream.write(clear + self.line(obj) + "\n")
        self.stream.flush()
        meter_id = obj.get("id")
        if not meter_id:
            return
        heard = self.heard.get(meter_id)
        if heard is None:
            heard = self.heard[meter_id] = _Heard(
                str(obj.get("manufacturer_name") or obj.get("manufacturer") or ""),
                str(obj.get("media") or ""),
                str(obj.get("meter") or ""),
            )
        heard.telegrams += 1
        readings = main_readings(obj, 1)
        if readings:
            heard.last = readings[0]
        elif "error" in obj:
            heard.last = str(obj["error"])[:40]
        rssi = obj.get("rssi_dbfs")
        if isinstance(rssi, (int, float)):
            heard.rssi = rssi if heard.rssi is None else max(heard.rssi, rssi)

    def line(self, obj: dict) -> str:
        parts = []
        when = obj.get("timestamp")
        if isinstance(obj.get("time_s"), (int, float)):
            parts.append(f"{obj['time_s']:8.3f}s")
        elif isinstance(when, str) and "T" in when:
            parts.append(time.strftime("%H:%M:%S", time.localtime()))
        if obj.get("mode"):
            parts.append(str(obj["mode"]))
        head = " ".join(parts + [str(obj.get("id") or "????????")])
        who = " ".join(
            str(x) for x in (obj.get("manufacturer_name") or obj.get("manufacturer"), obj.get("media")) if x
        )
        if obj.get("name"):
            who = f"{obj['name']}: {who}" if who else str(obj["name"])
        if obj.get("meter"):
            who += f" ({obj['meter']})"
        body = []
        if "error" in obj:
            body.append(f"error: {obj['error']}")
        else:
            body.append(", ".join(main_readings(obj)) or "no readings")
            status = obj.get("status")
            if status and status != "OK":
                body.append(str(status))
        radio = []
        if isinstance(obj.get("rssi_dbfs"), (int, float)):
            radio.append(f"{obj['rssi_dbfs']:.0f} dBFS")
        if isinstance(obj.get("snr_db"), (int, float)):
            radio.append(f"SNR {obj['snr_db']:.0f} dB")
        if radio:
            body.append(", ".join(radio))
        return f"{head} {who}: " + " · ".join(body) if who else f"{head}: " + " · ".join(body)

    def close(self) -> None:
        if not self.heard:
            return
        rows = [("id", "manufacturer", "medium", "driver", "telegrams", "last reading", "signal")]
        for meter_id, heard in sorted(self.heard.items()):
            signal = f"{heard.rssi:.0f} dBFS" if heard.rssi is not None else ""
            rows.append(
                (
                    meter_id,
                    heard.manufacturer,
                    heard.media,
                    heard.driver,
                    str(heard.telegrams),
                    heard.last,
                    signal,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        count = len(self.heard)
        self.stream.write(f"\n{count} meter{'s' if count != 1 else ''} heard:\n")
        for row in rows:
            self.stream.write(
                "  "
                + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                + "\n"
            )
        self.stream.flush()
