"""Telegram-stack throughput: telegrams decoded per second on one core (CRC, AES, DIF/VIF, naming, JSON).

Run: python3 benchmarks/bench_decode.py [--seconds 5] [--corpus]
Uses the fixture telegrams in tests/fixtures (real meters: plain, mode 5, mode 7, ELL CTR, compact), or
with --corpus the whole shared corpus (../shared/corpus/telegrams.jsonl: 402 telegrams of 120 drivers).
Telegrams are given as receivers give them (CRC-free), each meter's driver found by detection.
The figure is the steady state: the two warm-up passes (what a receiver does once per meter model) are
timed apart. benchmarks/decode_instructions.py gives a load-independent figure (instructions per
telegram, with valgrind).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.outputs.jsonl import to_json
from sdr_wmbus.security.keys import KeyStore, MeterConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "telegrams.jsonl"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "telegrams.jsonl"


def load(path: Path = FIXTURES) -> tuple[list[tuple[bytes, bool]], KeyStore]:
    keys = KeyStore()
    telegrams = []
    for line in path.read_text().splitlines():
        case = json.loads(line)
        try:
            data = bytes.fromhex(case["telegram"])
        except ValueError:
            continue
        telegrams.append((data, bool(case["payload_already_decrypted"])))
        if case["key"] not in ("NOKEY", '""') and case.get("meter_id"):
            keys.meters[case["meter_id"].lower()] = MeterConfig(
                id=case["meter_id"], key=bytes.fromhex(case["key"])
            )
    return telegrams, keys


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--corpus", action="store_true", help="the whole shared corpus")
    args = parser.parse_args()
    telegrams, keys = load(CORPUS if args.corpus else FIXTURES)
    decoder = TelegramDecoder(keys)
    # Warm-up, as a receiver's first minutes: the first pass loads the drivers and learns each record
    # layout and driver plan; the second makes their code (for what is seen again). Timed apart.
    learn = []
    for _ in range(2):
        pass_start = time.process_time()
        for data, already in telegrams:
            to_json(decoder.decode(data, already_decrypted=already, link_crc="none"))
        learn.append(time.process_time() - pass_start)
    # Rounds of about half a second: this (virtual) machine's speed varies from one moment to the next,
    # so the rounds' median and best are printed beside the overall rate.
    rates = []
    count = 0
    start = time.process_time()
    while time.process_time() - start < args.seconds:
        round_start, round_count = time.process_time(), 0
        while time.process_time() - round_start < 0.5:
            for data, already in telegrams:
                to_json(decoder.decode(data, already_decrypted=already, link_crc="none"))
            round_count += len(telegrams)
        rates.append(round_count / (time.process_time() - round_start))
        count += round_count
    cpu = time.process_time() - start
    tracemalloc.start()
    for data, already in telegrams:
        to_json(decoder.decode(data, already_decrypted=already, link_crc="none"))
    _, peak = tracemalloc.get_traced_memory()
    print(f"machine: {_cpu_name()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"decoded {count} telegrams in {cpu:.2f} s CPU: {count / cpu:,.0f} telegrams/s on one core")
    print(
        f"rounds of 0.5 s: median {statistics.median(rates):,.0f}/s, best {max(rates):,.0f}/s, "
        f"worst {min(rates):,.0f}/s"
    )
    print(f"peak traced memory for one pass over {len(telegrams)} telegrams: {peak / 1024:.0f} KiB")
    print(
        f"warm-up: first pass {learn[0]:.2f} s (drivers loaded, layouts and plans learnt), second pass "
        f"{learn[1]:.2f} s (their code generated), not counted above"
    )


if __name__ == "__main__":
    main()
