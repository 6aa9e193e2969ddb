"""Strict JSON in and out: one object per telegram and line out, bounded parsing of what comes in.

Out: never ``NaN``/``Infinity`` (Home Assistant and every strict parser reject them): a non-finite
number becomes ``null``. In: payloads from the network are size- and nesting-bounded before parsing,
so a hostile message cannot exhaust the stack or memory.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TextIO

try:  # a C serializer about five times faster than the standard library's; optional
    import orjson
except ImportError:  # pragma: no cover - platforms without an orjson wheel
    orjson = None

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_NESTING = 32


def _finite(obj: object) -> object:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(value) for value in obj]
    return obj


def to_json(obj: object, pretty: bool = False) -> str:
    """Strict JSON text of ``obj``; non-finite numbers become null."""
    if orjson is not None:
        try:  # orjson writes NaN and infinity as null, as wanted
            return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
        except TypeError:  # integers beyond 64 bits, keys that are not text: the standard library's way
            pass
    indent, separators = (2, None) if pretty else (None, (",", ":"))
    try:
        return json.dumps(
            obj,
            indent=indent,
            separators=separators,
            ensure_ascii=False,
            allow_nan=False,
            check_circular=False,
        )
    except ValueError:  # NaN or infinity somewhere: rare, so only then walk the object
        return json.dumps(_finite(obj), indent=indent, separators=separators, ensure_ascii=False)


class BadPayload(ValueError):
    """A network payload that is not the JSON object expected (too big, too deep, not JSON)."""


def loads_object(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict:
    """Parse a JSON object from the network, refusing oversized or deeply nested input."""
    if len(payload) > max_bytes:
        raise BadPayload(f"payload of {len(payload)} bytes (at most {max_bytes})")
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        raise BadPayload("payload is not UTF-8 text") from None
    # Nesting can be no deeper than the number of brackets: a cheap bound that needs no scan.
    if text.count("[") + text.count("{") > MAX_NESTING and _nesting(text) > MAX_NESTING:
        raise BadPayload(f"JSON nested deeper than {MAX_NESTING} levels")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadPayload(f"not JSON ({str(exc)[:60]})") from None
    if not isinstance(obj, dict):
        raise BadPayload(f"a JSON {type(obj).__name__}, not an object")
    return obj


def _nesting(text: str) -> int:
    """Deepest bracket nesting outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class JsonLinesOutput:
    """Writes each telegram's object and flushes, so a pipeline downstream sees it at once."""

    def __init__(self, stream: TextIO | None = None, pretty: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.pretty = pretty

    def write(self, obj: dict) -> None:
        self.stream.write(to_json(obj, self.pretty) + "\n")
        self.stream.flush()
