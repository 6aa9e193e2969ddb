"""Parse the telegram lines that `decode` reads: bare hex or rtl_wmbus output lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DecodeError
from .frame import Frame

_HEX_RE = re.compile(r"^[0-9a-fA-F]*$")
# rtl_wmbus: MODE;CRC_OK;3OF6_OK;TIME;RSSI;RSSI2;ID;0xHEX
_RTLWMBUS_RE = re.compile(
    r"^(?P<mode>[A-Z][0-9]?);(?P<crc>[01]);(?P<code>[01]);[^;]*;[^;]*;[^;]*;[^;]*;(?P<hex>.*)$"
)


# wmbusmeters' log and simulation form: telegram=|HEX|  (CRC-free, as wmbusmeters prints frames)
_WMBUSMETERS_RE = re.compile(r"^telegram=\|(?P<hex>[^|]*)\|")


@dataclass(frozen=True)
class InputLine:
    frame: Frame | None
    error: str | None = None
    link_crc: str = "auto"  # what the line's form says about link-layer CRCs
    already_decrypted: bool = False  # wmbusmeters' HEADER_PLAINTEXT notation: the part after _ is plain


def parse_hex(text: str) -> bytes:
    """Hex with optional 0x prefix, spaces, colons or '|' separators; one-line error otherwise."""
    cleaned = text.strip()
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    cleaned = re.sub(r"[\s:|-]", "", cleaned)
    if not cleaned:
        raise DecodeError("empty telegram")
    if not _HEX_RE.match(cleaned):
        bad = next(c for c in cleaned if c not in "0123456789abcdefABCDEF")
        raise DecodeError(f"not a hex telegram: unexpected character {bad!r}")
    if len(cleaned) % 2:
        raise DecodeError(f"not a hex telegram: odd number of hex digits ({len(cleaned)})")
    return bytes.fromhex(cleaned)


def parse_line(line: str) -> InputLine:
    """Turn one input line into a Frame (or an error message for the output object)."""
    text = line.strip()
    match = _RTLWMBUS_RE.match(text)
    try:
        if match:
            data = parse_hex(match["hex"])
            if match["crc"] != "1" or match["code"] != "1":
                return InputLine(
                    None,
                    f"rtl_wmbus reported a reception error ({match['mode']};{match['crc']};"
                    f"{match['code']}): telegram not decoded",
                )
            mode = match["mode"]
            return InputLine(Frame(data=data, mode=mode), link_crc="none")
        wmbusmeters = _WMBUSMETERS_RE.match(text)
        if wmbusmeters:
            return _maybe_plaintext(wmbusmeters["hex"], link_crc="none")
        return _maybe_plaintext(text, link_crc="auto")
    except DecodeError as exc:
        return InputLine(None, str(exc))


def _maybe_plaintext(text: str, link_crc: str) -> InputLine:
    """wmbusmeters writes a telegram whose encrypted part it shows decrypted as HEADER_PLAINTEXT: the
    bytes after the ``_`` are already plaintext (and the frame carries no link-layer CRCs)."""
    if "_" not in text:
        return InputLine(Frame(data=parse_hex(text)), link_crc=link_crc)
    header, _, plain = text.partition("_")
    if "_" in plain:
        raise DecodeError("not a hex telegram: more than one _ (HEADER_PLAINTEXT has one)")
    frame = Frame(data=parse_hex(header) + parse_hex(plain))
    return InputLine(frame, link_crc="none", already_decrypted=True)
