"""Tolerance table: telegrams decoded by ``sdr-wmbus replay`` from ``sdr-wmbus synth`` files with one radio
impairment each (chip-rate error, carrier offset, sync slips, deviation, GFSK, jitter), as a new user
would try it.

Each case writes one cu8 file of 40 telegrams (the two default telegrams, 49 and 43 bytes, 20 times each
with a different access number, so that replay's duplicate filter keeps them all) at 15 dB Ec/N0, where
every receiver decodes an unimpaired file completely, then replays it with ``--raw-only`` and counts the
telegrams that come back exactly.

``--receiver DIR`` replays with the sdr_wmbus found in DIR (e.g. a checkout of an older commit), so the
same files measure before and after a change; synth always comes from this checkout.

Run: python3 benchmarks/bench_tolerance.py [--cases T1+1%,...] [--receiver DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name -> (synth arguments beside the common ones, replay --modes[, more replay arguments])
CASES: dict[str, tuple] = {
    "T1 nominal": (["--mode", "t"], "t,c"),
    "T1 +0.5%": (["--mode", "t", "--chip-rate-error", "0.5"], "t,c"),
    "T1 +1%": (["--mode", "t", "--chip-rate-error", "1"], "t,c"),
    "T1 -3%": (["--mode", "t", "--chip-rate-error=-3"], "t,c"),
    "T1 +5%": (["--mode", "t", "--chip-rate-error", "5"], "t,c"),
    "T1 -10%": (["--mode", "t", "--chip-rate-error=-10"], "t,c"),
    "T1 +10%": (["--mode", "t", "--chip-rate-error", "10"], "t,c"),
    "T1 -12%": (["--mode", "t", "--chip-rate-error=-12"], "t,c"),
    "T1 +12%": (["--mode", "t", "--chip-rate-error", "12"], "t,c"),
    "T1 -10% jitter 3us": (["--mode", "t", "--chip-rate-error=-10", "--jitter", "3"], "t,c"),
    "T1 +10% jitter 3us": (["--mode", "t", "--chip-rate-error", "10", "--jitter", "3"], "t,c"),
    "C1 +1%": (["--mode", "c", "--chip-rate-error", "1"], "t,c"),
    "C1 -2%": (["--mode", "c", "--chip-rate-error=-2"], "t,c"),
    "C1 +2%": (["--mode", "c", "--chip-rate-error", "2"], "t,c"),
    "S1 -2%": (["--mode", "s", "--chip-rate-error=-2"], "s"),
    "S1 +2%": (["--mode", "s", "--chip-rate-error", "2"], "s"),
    "S1 +3%": (["--mode", "s", "--chip-rate-error", "3"], "s"),
    "T1 carrier -100 kHz": (["--mode", "t", "--offset=-100k"], "t,c"),
    "T1 carrier +130 kHz": (["--mode", "t", "--offset", "130k"], "t,c"),
    "T1 carrier -150 kHz": (["--mode", "t", "--offset=-150k"], "t,c"),
    "T1 carrier +150 kHz": (["--mode", "t", "--offset", "150k"], "t,c"),
    "C1 carrier -100 kHz": (["--mode", "c", "--offset=-100k"], "t,c"),
    "C1 carrier +150 kHz": (["--mode", "c", "--offset", "150k"], "t,c"),
    "S1 carrier -150 kHz": (["--mode", "s", "--offset=-150k", "--center", "868.625M"], "s"),
    "T1 carrier -100 kHz, --max-offset 150k": (
        ["--mode", "t", "--offset=-100k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "T1 carrier +130 kHz, --max-offset 150k": (
        ["--mode", "t", "--offset", "130k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "T1 carrier -150 kHz, --max-offset 150k": (
        ["--mode", "t", "--offset=-150k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "T1 carrier +150 kHz, --max-offset 150k": (
        ["--mode", "t", "--offset", "150k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "C1 carrier -100 kHz, --max-offset 150k": (
        ["--mode", "c", "--offset=-100k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "C1 carrier +150 kHz, --max-offset 150k": (
        ["--mode", "c", "--offset", "150k"],
        "t,c",
        ["--max-offset", "150k"],
    ),
    "S1 carrier -150 kHz, --max-offset 150k": (
        ["--mode", "s", "--offset=-150k", "--center", "868.625M"],
        "s",
        ["--max-offset", "150k"],
    ),
    "T1 extra chip 0": (["--mode", "t", "--extra-chips", "0"], "t,c"),
    "T1 extra chip 1": (["--mode", "t", "--extra-chips", "1"], "t,c"),
    "T1 missing chip": (["--mode", "t", "--missing-chips", "1"], "t,c"),
    "T1 sync chip error": (["--mode", "t", "--sync-errors", "1"], "t,c"),
    "C1 extra chip 1": (["--mode", "c", "--extra-chips", "1"], "t,c"),
    "S1 extra chip 1": (["--mode", "s", "--extra-chips", "1"], "s"),
    "T1 deviation 40 kHz": (["--mode", "t", "--deviation", "40k"], "t,c"),
    "T1 deviation 80 kHz": (["--mode", "t", "--deviation", "80k"], "t,c"),
    "C1 deviation -25%": (["--mode", "c", "--deviation", "33.75k"], "t,c"),
    "C1 deviation +25%": (["--mode", "c", "--deviation", "56.25k"], "t,c"),
    "T1 GFSK BT 0.5": (["--mode", "t", "--bt", "0.5"], "t,c"),
    "C1 GFSK BT 0.5": (["--mode", "c", "--bt", "0.5"], "t,c"),
}
ISSUE_CASES = [
    "T1 +0.5%",
    "T1 +1%",
    "T1 -3%",
    "T1 +5%",
    "T1 -10%",
    "C1 +1%",
    "S1 +2%",
    "T1 carrier -100 kHz",
    "T1 carrier +130 kHz",
    "C1 carrier -100 kHz",
    "T1 extra chip 0",
]


def telegrams_file(workdir: Path) -> Path:
    """The 40 distinct telegrams: each default telegram with access numbers 0-19."""
    from sdr_wmbus.synth import DEFAULT_TELEGRAMS

    path = workdir / "telegrams.txt"
    lines = []
    for number in range(20):
        for text in DEFAULT_TELEGRAMS:
            frame = bytearray.fromhex(text)
            frame[11] = number
            lines.append(frame.hex())
    path.write_text("\n".join(lines) + "\n")
    return path


def run_case(name: str, workdir: Path, receiver: Path, rate: str, ecn0: float) -> tuple[int, int]:
    """(decoded, sent) for one case."""
    extra, modes, *more = CASES[name]
    out = workdir / f"case_{abs(hash(name)) % 10**8}_{rate}.cu8"
    here = {**os.environ, "PYTHONPATH": str(ROOT)}
    synth = [sys.executable, "-m", "sdr_wmbus", "synth", str(out), "--rate", rate]
    synth += ["--telegrams-file", str(telegrams_file(workdir))]
    synth += ["--ecn0", str(ecn0), "--offset", "0", "--seed", "1", *extra]
    if "--center" not in extra:
        synth += ["--center", "868.95M"]
    subprocess.run(synth, check=True, capture_output=True, env=here, timeout=300)
    sent = [json.loads(line) for line in Path(f"{out}.telegrams.jsonl").read_text().splitlines()]
    center = extra[extra.index("--center") + 1] if "--center" in extra else "868.95M"
    replay = [sys.executable, "-m", "sdr_wmbus", "replay", str(out), "--rate", rate, "--center", center]
    replay += ["--modes", modes, "--raw-only", "-q", *(more[0] if more else [])]
    theirs = {**os.environ, "PYTHONPATH": str(receiver)}
    # cwd elsewhere: ``python -m`` puts the working directory first on sys.path, before PYTHONPATH
    proc = subprocess.run(replay, capture_output=True, text=True, env=theirs, timeout=300, cwd=workdir)
    got = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    expected = {s["hex"].lower() for s in sent}
    matched = {record["raw"] for record in got} & expected
    out.unlink()
    Path(f"{out}.telegrams.jsonl").unlink()
    return len(matched), len(sent)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--cases", help="cases whose names contain one of these ';'-separated words; 'issue'")
    parser.add_argument("--receiver", default=str(ROOT), help="directory whose sdr_wmbus replays")
    parser.add_argument("--rate", default="1.6M")
    parser.add_argument("--ecn0", type=float, default=15.0)
    args = parser.parse_args()
    if args.cases == "issue":
        names = ISSUE_CASES
    elif args.cases:
        names = [n for n in CASES if any(part.strip() in n for part in args.cases.split(";"))]
    else:
        names = list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit(f"unknown cases: {unknown}; known: {list(CASES)}")
    print(f"receiver: {args.receiver}; {args.rate} sps, {args.ecn0:g} dB Ec/N0, 40 telegrams per case")
    print("| case | decoded |\n|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            decoded, sent = run_case(name, Path(tmp), Path(args.receiver), args.rate, args.ecn0)
            print(f"| {name} | {decoded}/{sent} |", flush=True)


if __name__ == "__main__":
    main()
