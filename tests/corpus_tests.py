"""Print a driver's test telegrams from the shared corpus as [[test]] blocks for its driver file.

    python3 tests/corpus_tests.py kamwater >> sdr_wmbus/drivers/defs/kamwater.toml

Each block carries the telegram, key, preceding telegrams and the reference output (the run's
``name`` and ``timestamp`` left out; receiver fields of rtl_wmbus lines too), copied exactly.
"""

from __future__ import annotations

import json
import sys

from corpus import SHARED_CORPUS, load_cases

RECEIVER_FIELDS = {"_", "name", "timestamp", "device", "rssi_dbm"}


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def test_block(case: dict) -> str:
    lines = [
        "[[test]]",
        f"comment = {toml_string(case['case'] + ': ' + case['source'].split(',')[-1].strip())}",
    ]
    key = case.get("key")
    if key and key not in ("NOKEY", '""'):
        lines.append(f"key = {toml_string(key)}")
    if case.get("payload_already_decrypted"):
        lines.append("already_decrypted = true")
    if case.get("dll_crc", "none") not in ("none",) and "mismatch" not in case["dll_crc"]:
        lines.append('link_crc = "present"')
    preceding = [p["telegram"] if isinstance(p, dict) else p for p in case.get("preceding_telegrams") or []]
    if preceding:
        lines.append("preceding = [" + ", ".join(toml_string(p) for p in preceding) + "]")
    lines.append(f"telegram = {toml_string(case['telegram'])}")
    expected = {k: v for k, v in case["expected"].items() if k not in RECEIVER_FIELDS}
    lines.append("expected = '''" + json.dumps(expected, ensure_ascii=False) + "'''")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    cases = [
        c for c in load_cases(SHARED_CORPUS) if c["driver"] == argv[0] and c["kind"] in ("wmbus", "mbus")
    ]
    for case in cases:
        print("\n" + test_block(case), end="")
    return 0 if cases else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
