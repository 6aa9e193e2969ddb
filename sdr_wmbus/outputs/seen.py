"""The list of every meter heard (``--seen FILE``): to find "which meter is mine" and add its key.

Every telegram counts, whether it decoded or not, filtered or not: the point is to see the meters one
cannot decode yet. The file is JSON (a list sorted by id), rewritten atomically (temp file + rename) at
most every few seconds and at the end, so it can be read at any time.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..errors import ConfigError

WRITE_INTERVAL_S = 5.0


class SeenMeters:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.meters: dict[str, dict] = {}
        self._last_write = 0.0
        self._dirty = False
        try:  # keep what an earlier run saw: the list grows over days of listening
            if self.path.exists() and self.path.stat().st_size:
                for entry in json.loads(self.path.read_text(encoding="utf-8")):
                    self.meters[str(entry["id"])] = entry
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"--seen {path}: not a list written by sdr-wmbus ({exc})") from None
        parent = self.path.parent
        if not parent.is_dir():
            raise ConfigError(f"--seen {path}: directory {parent} does not exist")

    def add(self, obj: dict) -> None:
        """Record one telegram's meter (decoded or not)."""
        meter_id = obj.get("id")
        if not meter_id:
            return
        now = obj.get("timestamp") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        entry = self.meters.get(str(meter_id))
        if entry is None:
            entry = self.meters[str(meter_id)] = {"id": str(meter_id), "telegrams": 0, "first_seen": now}
        entry["telegrams"] += 1
        entry["last_seen"] = now
        for field in (
            "manufacturer",
            "manufacturer_name",
            "media",
            "device_type",
            "version",
            "mode",
            "driver",
        ):
            if obj.get(field) is not None and obj.get(field) != "generic":
                entry[field] = obj[field]
        rssi = obj.get("rssi_dbfs")
        if rssi is not None:
            entry["last_rssi_dbfs"] = rssi
            entry["best_rssi_dbfs"] = max(rssi, entry.get("best_rssi_dbfs", rssi))
        # The transmitter's carrier and chip clock as last measured: a meter far off either is a meter
        # with a cheap or ageing crystal (and a carrier offset common to all meters is the dongle's).
        for field in ("freq_offset_hz", "chip_rate_error_ppm"):
            if obj.get(field) is not None:
                entry[f"last_{field}"] = obj[field]
        error = obj.get("error")
        security = obj.get("security_mode")
        entry["encrypted"] = bool(security) or (error is not None and "encrypted" in error)
        if error is None:
            entry["decoded"] = True
            entry.pop("error", None)
        else:
            entry.setdefault("decoded", False)
            entry["error"] = error
        self._dirty = True
        if time.monotonic() - self._last_write >= WRITE_INTERVAL_S:
            self.save()

    def save(self) -> None:
        if not self._dirty:
            return
        listing = [self.meters[key] for key in sorted(self.meters)]
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(listing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise ConfigError(f"--seen {self.path}: cannot write: {exc.strerror}") from None
        self._dirty = False
        self._last_write = time.monotonic()
