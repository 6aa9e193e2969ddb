"""What a broker restart costs: frames published by receivers against readings out of ``sdr-wmbus serve``.

A private mosquitto on a loopback port; one ``sdr-wmbus serve`` (its own process, as deployed) decodes
the raw frames that ``--receivers`` receivers publish at ``--rate`` frames/s in all (each receiver is the
MQTT output that ``listen --raw-only --mqtt`` uses, in this process: numbered raw frame records, QoS 1,
queued while the broker is away). ``--at`` seconds into the stream the broker is stopped (SIGTERM:
mosquitto saves its persistence file) or killed (SIGKILL, as in a crash) and started again ``--down``
seconds later on the same port. A persistent broker is told to save its state (SIGUSR1) once serve has
subscribed, as the autosave of a broker that has run for a while would have. With ``--serve-late S``,
serve is frozen (SIGSTOP) while the broker is down and thawed S seconds after it is back: a serve that
is slow to come back (on another machine, busy) or, what comes to the same, receivers that flush their
backlog before it. Every frame is a distinct telegram (half OMS security mode 5), so every frame should
become one reading.

Counted at the end: frames published; readings serve wrote (its JSON lines on stdout, one per telegram);
the frames that never became a reading (the actual loss); and the loss serve itself counted and reported
(``raw frames lost on the way`` in its summary, from the receivers' sequence numbers). Every loss must be
counted: the last two columns must agree. Readings also go to the broker; a subscriber with a persistent
session counts those that reach it.

    python3 benchmarks/bench_broker_restart.py                 # the four broker set-ups
    python3 benchmarks/bench_broker_restart.py --serve-late 3  # serve back 3 s after the broker
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parents[1]
# --code DIR: receivers and serve from another checkout (an older version, to compare); before any import
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(ROOT / "tests"))

from bench_serve import KEY, mode5_frame, plain_frame  # noqa: E402
from mosquitto import Mosquitto, find_mosquitto  # noqa: E402

from sdr_wmbus.outputs.mqtt import MqttOutput, parse_mqtt_url  # noqa: E402

SCENARIOS = {
    # name: (mosquitto config, how the broker goes down)
    "persistent-stop": ("persistence true\nautosave_interval 60\nmax_queued_messages 100000\n", "stop"),
    "persistent-kill": ("persistence true\nautosave_interval 60\nmax_queued_messages 100000\n", "kill"),
    "plain-stop": ("", "stop"),  # mosquitto's defaults: no persistence
    "plain-kill": ("", "kill"),
}
PREFIX = "bench"


def frames(count: int) -> list[bytes]:
    return [
        mode5_frame(30000000 + i % 1000, i // 1000)
        if i % 2 == 0
        else plain_frame(40000000 + i % 1000, i // 1000)
        for i in range(count)
    ]


class Serve:
    """``sdr-wmbus serve`` in its own process; its JSON lines and stderr are read as they come."""

    def __init__(self, url: str) -> None:
        args = [sys.executable, "-m", "sdr_wmbus", "serve", "--mqtt", url, "--mqtt-prefix", PREFIX]
        args += ["--key", KEY.hex(), "--no-discovery", "--receiver-name", "bench-serve", "-v"]
        args += ["--dedup-window", "0.2"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(CODE)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=CODE)
        self.readings: list[str] = []
        self.stderr: list[tuple[float, str]] = []
        self.subscribed = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self.readings.append(json.loads(line)["raw"])

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            text = line.decode(errors="replace").rstrip()
            self.stderr.append((time.monotonic(), text))
            if "serving: decoding" in text:
                self.subscribed.set()

    def back_at(self, since: float) -> float | None:
        """When serve said it had subscribed again after ``since``."""
        for when, text in self.stderr:
            if when >= since and ("subscribed again" in text or "forgotten serve's session" in text):
                return when
        return None

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        for thread in self._threads:
            thread.join(timeout=5)
        return "\n".join(text for _, text in self.stderr)


class Counter:
    """Readings as they reach the broker's subscribers (a persistent session, reconnecting fast)."""

    def __init__(self, port: int) -> None:
        self.raws: set[str] = set()
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="bench-counter", clean_session=False
        )
        self.client.reconnect_delay_set(0.1, 0.1)  # type: ignore[arg-type]
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{PREFIX}/meter/#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        with self.lock:
            self.raws.add(json.loads(message.payload)["raw"])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run(name: str, args: argparse.Namespace, binary: str) -> dict:
    config, how = SCENARIOS[name]
    broker = Mosquitto(binary, extra_config=config)
    try:
        url = broker.url()
        counter = Counter(broker.port)
        serve = Serve(url)
        if not serve.subscribed.wait(60):
            raise SystemExit("serve did not start: " + "\n".join(t for _, t in serve.stderr))
        time.sleep(0.5)
        if "persistence true" in config:
            broker.process.send_signal(signal.SIGUSR1)  # save now, as its autosave would have by now
        options = {"settle_s": args.settle} if "settle_s" in inspect.signature(MqttOutput).parameters else {}
        receivers = [
            MqttOutput(parse_mqtt_url(url), prefix=PREFIX, receiver=f"rx{n}", discovery=False, **options)
            for n in range(args.receivers)
        ]
        for receiver in receivers:
            receiver.wait_connected(10)
        sent = frames(args.frames)
        started = time.monotonic()
        down_at = started + args.at
        up_at = down_at + args.down
        broker_down = False
        restarted_at = None
        frozen = False

        def events(now: float) -> None:
            nonlocal broker_down, restarted_at, frozen
            if not broker_down and now >= down_at:
                if args.serve_late > 0:
                    serve.proc.send_signal(signal.SIGSTOP)
                    frozen = True
                broker.kill() if how == "kill" else broker.stop()
                broker_down = True
            elif broker_down and restarted_at is None and now >= up_at:
                broker.start()
                restarted_at = time.monotonic()
            elif frozen and restarted_at is not None and now >= restarted_at + args.serve_late:
                serve.proc.send_signal(signal.SIGCONT)
                frozen = False

        for i, frame in enumerate(sent):
            due = started + i / args.rate
            while True:
                now = time.monotonic()
                events(now)
                if now >= due:
                    break
                time.sleep(min(0.005, due - now))
            record = {
                "receiver": f"rx{i % args.receivers}",
                "raw": frame.hex(),
                "mode": "T1",
                "rssi_dbfs": -60.0,
            }
            receivers[i % args.receivers].write_raw(record)
        while restarted_at is None or frozen:
            events(time.monotonic())
            time.sleep(0.005)
        deadline = time.monotonic() + 60
        while any(r.pending for r in receivers) and time.monotonic() < deadline:
            time.sleep(0.05)
        dropped = sum(r.dropped for r in receivers)
        for receiver in receivers:
            receiver.close()
        # the receivers' last status says how far their numbers went: serve counts what never came after
        # its grace time (10 s)
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and len(set(serve.readings)) < len(sent):
            time.sleep(0.1)
        if len(set(serve.readings)) < len(sent):
            time.sleep(max(0.0, deadline - time.monotonic()))
        back = serve.back_at(restarted_at + args.serve_late)
        err = serve.stop()
        time.sleep(0.5)
        counter.close()
    finally:
        broker.cleanup()
    summary = re.search(r"(\d+) raw frames lost on the way, (\d+) redelivered", err)
    wanted = {frame.hex() for frame in sent}
    decoded = set(serve.readings) & wanted
    return {
        "scenario": name,
        "published": len(sent),
        "readings": len(decoded),
        "duplicates": len(serve.readings) - len(set(serve.readings)),
        "lost": len(wanted - decoded),
        "counted": int(summary.group(1)) if summary else None,
        "redelivered": int(summary.group(2)) if summary else None,
        "receiver_dropped": dropped,
        "at_subscriber": len(counter.raws & wanted),
        "serve_back_s": None if back is None else round(back - restarted_at - args.serve_late, 2),
        "log": [
            f"{when - restarted_at:+.2f} s {text}"
            for when, text in serve.stderr
            if any(word in text for word in ("lost", "forgotten", "is back", "redelivered"))
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=800)
    parser.add_argument("--rate", type=float, default=40.0, help="frames/s from all receivers together")
    parser.add_argument("--receivers", type=int, default=2)
    parser.add_argument("--at", type=float, default=5.0, help="seconds into the stream the broker goes down")
    parser.add_argument("--down", type=float, default=10.0, help="seconds the broker stays down")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="receivers hold their backlog this long after a reconnection",
    )
    parser.add_argument(
        "--serve-late",
        type=float,
        default=0.0,
        metavar="S",
        help="serve frozen until S s after the broker is back",
    )
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario")
    parser.add_argument("--code", metavar="DIR", help="receivers and serve from this checkout (to compare)")
    args = parser.parse_args()
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("mosquitto is not installed")
    if CODE != ROOT:
        print(f"receivers and serve from {CODE}")
    print(
        f"{args.frames} frames from {args.receivers} receivers at {args.rate:g}/s; the broker goes down "
        f"{args.at:g} s in for {args.down:g} s; receivers settle {args.settle:g} s after reconnecting"
        + (f"; serve frozen until {args.serve_late:g} s after the broker is back" if args.serve_late else "")
    )
    ok = True
    for name in args.scenarios:
        result = run(name, args, binary)
        ok &= result["lost"] == (result["counted"] or 0)  # an older serve counts nothing
        if args.json:
            print(json.dumps(result))
            continue
        print(
            f"{name:16s} published {result['published']}, readings {result['readings']}, "
            f"lost {result['lost']}, counted lost by serve {result['counted']}, "
            f"redelivered {result['redelivered']}, serve subscribed again {result['serve_back_s']} s "
            f"after it could, readings at a subscriber {result['at_subscriber']}"
        )
        for line in result["log"]:
            print(f"    {line}")
    print("every loss counted" if ok else "LOSSES NOT COUNTED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
