"""``sdr-wmbus analyze``: explain one telegram the way a person debugging a meter wants to read it.

Each layer (DLL, ELL, AFL, TPL) with its bytes and what they say, each record with its DIF/VIF bytes,
addressing (storage, tariff, subunit), value and unit, then the drivers that could decode it, best
first, and what each would print. The key, when one is given, is used and never shown.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .decoder import TelegramDecoder
from .drivers import GENERIC, apply_drivers, registry
from .drivers.status import join_status, tpl_status_words
from .frame import Frame
from .tables.ci_fields import C_FIELDS, TPL_CI
from .tables.manufacturers import MANUFACTURER_NAMES
from .telegram import Telegram

#: Fields every driver prints; they do not tell drivers apart.
_COMMON = {"meter", "status", "records"}


@dataclass
class Layer:
    name: str
    data: bytes
    notes: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """What analyze found: layers, records, the decoded output and the drivers that could read it."""

    result: dict
    layers: list[Layer] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    apl_note: str = ""
    drivers: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "layers": [{"layer": x.name, "bytes": x.data.hex(), "notes": x.notes} for x in self.layers],
            "apl": self.apl_note,
            "records": self.records,
            "drivers": self.drivers,
            "result": {k: v for k, v in self.result.items() if k != "records"},
        }


def _hex(data: bytes) -> str:
    return data.hex().upper()


def _dll_layer(telegram: Telegram) -> Layer:
    dll = telegram.dll
    assert dll is not None
    name = MANUFACTURER_NAMES.get(dll.manufacturer, "unknown manufacturer")
    return Layer(
        "DLL",
        telegram.frame[:10],
        [
            f"L={dll.length} (bytes after L, without CRCs)",
            f"C=0x{dll.c_field:02X} {C_FIELDS.get(dll.c_field, 'unknown function')}",
            f"M={dll.manufacturer} ({name})",
            f"id={dll.id} version=0x{dll.version:02x} device type=0x{dll.device_type:02x} ({dll.media})",
        ],
    )


def _layers(telegram: Telegram) -> list[Layer]:
    layers = [_dll_layer(telegram)] if telegram.dll is not None else []
    pos = 10 if telegram.dll is not None else 0
    frame = telegram.frame
    if telegram.ell is not None:
        ell = telegram.ell
        notes = [
            f"CI=0x{ell.ci:02X} extended link layer",
            f"access number={ell.access_number}",
            f"CC=0x{ell.cc:02X}",
        ]
        if ell.receiver_id:
            notes.append(f"receiver {ell.receiver_manufacturer} {ell.receiver_id}")
        if ell.session_number is not None:
            notes.append(f"session number={ell.session_number}")
            notes.append("payload AES-CTR encrypted" if ell.encryption else "payload not encrypted")
        layers.append(Layer("ELL", frame[pos : pos + ell.header_length], notes))
        pos += ell.header_length
    if telegram.afl is not None:
        afl = telegram.afl
        notes = ["CI=0x90 authentication and fragmentation layer"]
        if afl.message_counter is not None:
            notes.append(f"message counter={afl.message_counter}")
        if afl.mac is not None:
            notes.append(f"MAC of {len(afl.mac)} bytes (checked with the key)")
        layers.append(Layer("AFL", frame[pos : pos + afl.length] if telegram.ell is None else b"", notes))
        pos += afl.length
    if telegram.tpl is not None:
        tpl = telegram.tpl
        kind, header = TPL_CI.get(tpl.ci, ("?", "?"))
        notes = [
            f"CI=0x{tpl.ci:02X} {kind}, " + ("no TPL header" if header == "none" else f"{header} header")
        ]
        if tpl.access_number is not None:
            notes.append(f"access number={tpl.access_number}")
            notes.append(f"status=0x{tpl.status or 0:02X} {join_status(tpl_status_words(tpl.status))}")
        if tpl.config is not None:
            blocks = f", {tpl.encrypted_blocks} encrypted blocks" if tpl.security_mode else ""
            notes.append(f"configuration=0x{tpl.config:04X}: security mode {tpl.security_mode}{blocks}")
        if tpl.header == "long":
            notes.append(
                f"meter: id={tpl.id} {tpl.manufacturer} version=0x{tpl.version or 0:02x} "
                f"type=0x{tpl.device_type or 0:02x}"
            )
        # Behind an encrypted ELL the TPL header is part of the decrypted payload, not of the frame.
        data = frame[pos : pos + tpl.length] if telegram.ell is None else bytes([tpl.ci])[: tpl.length]
        layers.append(Layer("TPL", data, notes))
    elif telegram.ci is not None:
        note = f"CI=0x{telegram.ci:02X} manufacturer-specific payload"
        layers.append(Layer("CI", bytes([telegram.ci]), [note]))
    return layers


def _record_rows(telegram: Telegram) -> list[dict]:
    rows = []
    if telegram.apl is None:
        return rows
    for record in telegram.apl.records:
        row = {
            "offset": record.offset,
            "dif_vif": _hex(record.header),
            "data": _hex(record.data),
            "quantity": record.quantity,
            "function": record.function,
            "storage": record.storage,
            "tariff": record.tariff,
            "subunit": record.subunit,
            "modifiers": list(record.modifiers),
            "value": record.value,
            "unit": record.unit,
        }
        rows.append(row)
    return rows


def _fields_of(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in _COMMON}


def _driver_rows(telegram: Telegram, detected: str | None) -> list[dict]:
    """The drivers of this manufacturer that print something for the telegram: the detected one first,
    then by how many fields they fill."""
    manufacturers = {telegram.identity.manufacturer}
    if telegram.dll is not None:
        manufacturers.add(telegram.dll.manufacturer)
    rows = []
    for driver in registry().drivers.values():
        if driver.name != detected and not any(manufacturers & set(d.manufacturers) for d in driver.detect):
            continue
        trial = copy.copy(telegram)
        trial.warnings = []
        try:
            result = apply_drivers(trial, driver.name)
        except Exception:  # noqa: BLE001 - a driver that cannot read this telegram is simply not listed
            continue
        fields = {k: v for k, v in _fields_of(result).items() if v not in (None, "")}
        if driver.name != detected and not fields:
            continue
        rows.append(
            {
                "driver": driver.name,
                "title": driver.title,
                "detected": driver.name == detected,
                "fields": _fields_of(result),
                "filled": len(fields),
            }
        )
    rows.sort(key=lambda row: (not row["detected"], -row["filled"], row["driver"]))
    return rows


def analyze(decoder: TelegramDecoder, frame: Frame, already_decrypted: bool, link_crc: str) -> Analysis:
    result, telegram = decoder.decode_telegram(frame, already_decrypted, link_crc)
    analysis = Analysis(result)
    if telegram is None:
        return analysis
    analysis.layers = _layers(telegram)
    analysis.records = _record_rows(telegram)
    if telegram.apl is not None:
        how = "decrypted" if telegram.tpl is not None and telegram.tpl.security_mode else "plain"
        if telegram.ell is not None and telegram.ell.encryption:
            how = "decrypted (ELL)"
        analysis.apl_note = f"{how}, {len(telegram.payload)} bytes: {_hex(telegram.payload)}"
        if telegram.apl.manufacturer_data:
            analysis.apl_note += f"; manufacturer data {_hex(telegram.apl.manufacturer_data)}"
    elif telegram.payload:
        analysis.apl_note = f"proprietary payload, {len(telegram.payload)} bytes: {_hex(telegram.payload)}"
    detected = result.get("meter") if result.get("meter") != GENERIC else None
    analysis.drivers = _driver_rows(telegram, detected)
    return analysis


def _value_text(value: object, unit: str) -> str:
    if value is None:
        return "(no value)"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()


def render(analysis: Analysis, max_drivers: int = 4) -> str:
    """The analysis as text for a terminal."""
    out: list[str] = []
    result = analysis.result
    raw = result.get("raw")
    if raw:
        how = result.get("frame_format")
        crcs = f"link-layer CRCs of format {how} checked and removed" if how else "no link-layer CRCs"
        out.append(f"Telegram of {len(raw) // 2} bytes ({crcs})")
    for layer in analysis.layers:
        out.append(f"{layer.name:<4} {_hex(layer.data)}".rstrip())
        for note in layer.notes:
            out.append(f"     {note}")
    if analysis.apl_note:
        out.append(f"APL  {analysis.apl_note}")
    if analysis.records:
        out.append("")
        out.append(f"{'off':>4}  {'DIF/VIF':<14} {'data':<16} {'meaning':<44} value")
        for row in analysis.records:
            where = [row["function"]] if row["function"] != "instantaneous" else []
            where += [f"{k} {row[k]}" for k in ("storage", "tariff", "subunit") if row[k]]
            where += row["modifiers"]
            meaning = row["quantity"] + (f" ({', '.join(where)})" if where else "")
            data = row["data"] if len(row["data"]) <= 16 else row["data"][:13] + "..."
            out.append(
                f"{row['offset']:>4}  {row['dif_vif']:<14} {data:<16} {meaning:<44} "
                f"{_value_text(row['value'], row['unit'])}"
            )
    if "error" in result:
        out.append("")
        out.append(f"error: {result['error']}")
    for warning in result.get("warnings", []):
        out.append(f"warning: {warning}")
    if analysis.drivers:
        out.append("")
        out.append("Drivers that can read it, best first:")
        for row in analysis.drivers[:max_drivers]:
            mark = "detected" if row["detected"] else f"fills {row['filled']} fields"
            out.append(f"  {row['driver']} ({mark}): {row['title']}")
            shown = ", ".join(
                f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in row["fields"].items()
            )
            out.append(f"      {shown}")
        if len(analysis.drivers) > max_drivers:
            rest = ", ".join(row["driver"] for row in analysis.drivers[max_drivers:])
            out.append(f"  also: {rest}")
    elif result.get("meter") == GENERIC:
        out.append("")
        out.append("No driver knows this meter: the fields have generic names.")
    return "\n".join(out)
