"""How many raw frames per second one `sdr-wmbus serve` decodes and publishes through mosquitto, and how
that scales with instances sharing a subscription (``--share``).

A private mosquitto on a loopback port; ``--frames`` distinct raw frame records (half OMS security
mode 5, AES-CBC encrypted for 1,000 meter ids, half unencrypted, as receivers publish them with
``--raw-only``) wait in the broker for serve's persistent session(s); then the serve process(es) start,
decode them and publish readings (QoS 1), which a subscriber counts. The rate is readings over the
time from the first to the last reading, so interpreter start-up is not counted. The broker and the
subscriber run on this machine's cores too and compete with serve for them.

    python3 benchmarks/bench_serve.py --frames 20000 --instances 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from sdr_wmbus.security.crypto import aes_cbc_decrypt, aes_cbc_encrypt

ROOT = Path(__file__).resolve().parents[1]
# Elster gas meter, security mode 5, key 0102030405060708090A0B0C0D0E0F11 (from samples/)
ELSTER = bytes.fromhex(
    "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"
)
KEY = bytes.fromhex("0102030405060708090A0B0C0D0E0F11")
# Qundis heat cost allocator, unencrypted
QUNDIS = bytes.fromhex(
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
)


def bcd_id(number: int) -> bytes:
    digits = f"{number:08d}"
    return bytes.fromhex(digits)[::-1]


def mode5_frame(meter: int, access: int) -> bytes:
    """The Elster telegram re-encrypted for another meter id and access number."""
    header = bytearray(ELSTER[:15])
    header[4:8] = bcd_id(meter)
    header[11] = access & 0xFF
    old_iv = ELSTER[2:4] + ELSTER[4:10] + bytes([ELSTER[11]]) * 8
    plain = aes_cbc_decrypt(KEY, old_iv, ELSTER[15:])
    iv = bytes(header[2:4]) + bytes(header[4:10]) + bytes([header[11]]) * 8
    return bytes(header) + aes_cbc_encrypt(KEY, iv, plain)


def plain_frame(meter: int, access: int) -> bytes:
    frame = bytearray(QUNDIS)
    frame[4:8] = bcd_id(meter)
    frame[11] = access & 0xFF
    return bytes(frame)


def raw_records(count: int) -> list[str]:
    records = []
    for i in range(count):
        meter = 20000000 + i % 1000
        access = i // 1000
        frame = mode5_frame(meter, access) if i % 2 == 0 else plain_frame(meter + 1000, access)
        records.append(
            json.dumps(
                {"receiver": "rx1", "raw": frame.hex(), "mode": "T1", "frame_format": "A", "rssi_dbfs": -50.0}
            )
        )
    return records


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_broker(workdir: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
        f"user {os.environ.get('USER') or 'root'}\n"
    )
    broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def run(port: int, records: list[str], instances: int) -> tuple[float, int]:
    url = f"mqtt://127.0.0.1:{port}"
    prefix = f"bench{instances}"
    readings: list[float] = []
    online: set[str] = set()
    lock = threading.Lock()

    def on_message(client, userdata, message) -> None:
        if message.topic.endswith("/status"):
            if json.loads(message.payload).get("state") == "online":
                online.add(message.topic)
            return
        with lock:
            readings.append(time.monotonic())

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe(f"{prefix}/meter/#", qos=1)
    sub.subscribe(f"{prefix}/receiver/+/status", qos=1)
    sub.loop_start()

    def start_serves() -> list[subprocess.Popen]:
        online.clear()
        serves = []
        for n in range(instances):
            args = [sys.executable, "-m", "sdr_wmbus", "serve", "--mqtt", url, "--mqtt-prefix", prefix]
            args += ["--key", KEY.hex(), "--no-json", "--no-discovery", "--receiver-name", f"serve{n}", "-q"]
            args += ["--mqtt-queue", str(len(records) + 100)]
            if instances > 1:
                args += ["--share", "bench"]
            serves.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while len(online) < instances and time.monotonic() < deadline:
            time.sleep(0.05)
        return serves

    def stop(serves: list[subprocess.Popen]) -> None:
        for serve in serves:
            serve.send_signal(signal.SIGTERM)
        for serve in serves:
            serve.wait(timeout=60)

    # Once to create the persistent sessions (with their subscriptions), then the frames are queued
    # in the broker while serve is away, then serve starts again and drains them: the publisher does
    # not compete with serve for the CPU during the measurement.
    stop(start_serves())
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    infos = [pub.publish(f"{prefix}/raw/rx1", record, qos=1) for record in records]
    for info in infos:
        info.wait_for_publish(60)
    pub.loop_stop()
    serves = start_serves()
    deadline = time.monotonic() + 120
    while len(readings) < len(records) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    cpu = sum(cpu_seconds(serve.pid) for serve in serves)
    stop(serves)
    sub.loop_stop()
    with lock:
        times = sorted(readings)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return len(times) / span, len(times), cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    records = raw_records(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        try:
            print(
                f"{args.frames} distinct raw frames (half security mode 5), mosquitto on loopback, "
                f"{os.cpu_count()} cores"
            )
            for instances in args.instances:
                rate, count, cpu = run(port, records, instances)
                print(
                    f"{instances} serve instance(s): {count} readings, {rate:,.0f} frames/s "
                    f"({1e6 * cpu / max(count, 1):.0f} µs of serve CPU per frame, start-up included)"
                )
        finally:
            broker.terminate()
            broker.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
