"""One JSON object per telegram, one per line (or indented with --format pretty)."""

from __future__ import annotations

import json
import sys
from typing import TextIO


def to_json(obj: dict, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(obj, indent=2, ensure_ascii=False)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class JsonLinesOutput:
    """Writes each telegram's object and flushes, so a pipeline downstream sees it at once."""

    def __init__(self, stream: TextIO | None = None, pretty: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.pretty = pretty

    def write(self, obj: dict) -> None:
        self.stream.write(to_json(obj, self.pretty) + "\n")
        self.stream.flush()
