"""Soak test: an hour of signal through `sdr-wmbus listen --rtl-tcp`, faster than real time.

A stand-in rtl_tcp server (sdr_wmbus.sources.rtltcp_server) on loopback serves a 10 s synthetic band
(T1 and C1 telegrams from the sample meters, noise between them) over and over, paced at ``--speed``
times real time (a live source does not wait for a slow reader: blocks the listener cannot take are
dropped and counted, so the speed must stay below what the listener sustains). The listener runs as
a user runs it, in its own process; its resident memory is read from /proc while it works. Memory
must stay flat: the same at the end as after the first minute.

    python3 benchmarks/bench_soak.py --minutes 60 --speed 20
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from sdr_wmbus.dsp.convert import complex64_to_cu8
from sdr_wmbus.input_lines import parse_line
from sdr_wmbus.link.dll import normalize_frame
from sdr_wmbus.sources.rtltcp_server import RtlTcpServer
from sdr_wmbus.synth import synthesize

RATE = 1.6e6
LOOP_S = 10.0
CHUNK = 1 << 20  # bytes per send
ROOT = Path(__file__).resolve().parents[1]


def sample_telegrams() -> list[bytes]:
    """The bundled sample telegrams, CRC-free (the form the synthesiser takes)."""
    frames = []
    for line in (ROOT / "samples" / "telegrams.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            frames.append(normalize_frame(parse_line(line).frame.data)[0])
    return frames


def loop_signal() -> tuple[bytes, int]:
    """LOOP_S seconds of cu8 with the sample telegrams spread over it, and how many it holds."""
    frames = sample_telegrams()
    iq, sent = synthesize(
        frames,
        mode="mixed",
        sample_rate=RATE,
        offset_hz=(-20e3, 20e3),
        ppm=(-50, 50),
        ecn0_db=15.0,
        gap_s=LOOP_S / len(frames) - 0.02,
        seed=3,
    )
    need = int(LOOP_S * RATE)
    iq = np.concatenate((iq, np.zeros(max(0, need - len(iq)), np.complex64)))[:need]
    return complex64_to_cu8(iq.astype(np.complex64)).tobytes(), len(sent)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of signal to serve")
    parser.add_argument("--speed", type=float, default=10.0, help="serve at this multiple of real time")
    args = parser.parse_args()
    data, per_loop = loop_signal()
    loops = max(1, round(args.minutes * 60 / LOOP_S))
    server = RtlTcpServer(data, loop=False, rate=RATE * args.speed)
    server.data = lambda: (data[i : i + CHUNK] for _ in range(loops) for i in range(0, len(data), CHUNK))
    server.start()
    listen = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sdr_wmbus",
            "listen",
            "--rtl-tcp",
            f"127.0.0.1:{server.port}",
            "--meters",
            str(ROOT / "samples" / "meters.toml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    counted = {"telegrams": 0, "errors": 0}

    def count() -> None:
        for line in listen.stdout:
            counted["telegrams"] += 1
            counted["errors"] += "error" in json.loads(line) and "no key" not in line.decode()

    reader = threading.Thread(target=count, daemon=True)
    reader.start()
    started = time.monotonic()
    samples: list[tuple[float, float, float]] = []  # (wall s, signal s served, RSS MiB)
    while not server.finished.is_set():
        time.sleep(2.0)
        samples.append((time.monotonic() - started, server.bytes_sent / 2 / RATE, rss_mib(listen.pid)))
    time.sleep(2.0)  # let the listener drain its queue
    end_rss = rss_mib(listen.pid)
    listen.terminate()
    _, err = listen.communicate(timeout=60)
    reader.join(timeout=5)
    server.stop()
    wall = time.monotonic() - started
    signal_s = loops * LOOP_S
    after_minute = next((r for w, s, r in samples if s >= 60), samples[0][2] if samples else float("nan"))
    print(
        f"signal: {signal_s / 60:.0f} min at {RATE / 1e6:g} Msps ({loops} x {LOOP_S:g} s loop, "
        f"{per_loop} telegrams each), served over rtl_tcp on loopback"
    )
    print(f"wall time {wall:.0f} s = {signal_s / wall:.1f}x real time")
    print(f"telegrams: {counted['telegrams']} of {loops * per_loop} sent, {counted['errors']} decode errors")
    print(
        f"RSS of the listener: {after_minute:.0f} MiB after the first minute of signal, "
        f"{max(r for _, _, r in samples):.0f} MiB at most, {end_rss:.0f} MiB at the end"
    )
    print("listener summary: " + err.decode().strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
