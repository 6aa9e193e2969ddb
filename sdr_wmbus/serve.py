"""``sdr-wmbus serve``: the central decoder of a fleet of receivers that hold no keys.

Receivers (``sdr-wmbus listen --raw-only --mqtt URL``) publish every frame they hear, with its radio
metadata, on ``<prefix>/raw/<receiver>``. ``serve`` subscribes to them, decrypts and decodes with the
meters file, and publishes readings on ``<prefix>/meter/<id>`` (plus Home Assistant discovery), as a
receiver with keys would.

One telegram heard by several receivers arrives several times. Copies are grouped by their bytes for
``--dedup-window`` seconds after the first; then the telegram is decoded once and published once, with
the best RSSI, the receiver that heard it best and the list of all receivers that heard it.

Several ``serve`` instances can share the load with ``--share GROUP``: they subscribe to the raw frames
through the MQTT shared subscription ``$share/GROUP/<prefix>/raw/+``, so the broker hands each frame to
one of them. Copies of one telegram may then land on different instances, so every instance also
announces each copy it gets on ``<prefix>/dedup/<fingerprint>`` (which all instances subscribe to, not
shared): when the window closes, among the instances that got a copy, the one whose name sorts first
publishes the reading, with every receiver the others announced, and the others stay silent; it then
announces that it did, so a copy that comes late to another instance is not published again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from .commands import (
    EXIT_ERROR,
    EXIT_OK,
    _fail,
    add_key_arguments,
    add_output_format_argument,
    load_keys,
    output_style,
    setup_logging,
)
from .errors import ConfigError
from .frame import Frame
from .outputs.fanout import Outputs
from .outputs.jsonl import loads_object

log = logging.getLogger("sdr_wmbus.serve")

# Copies of a telegram already published are recognised for the window plus this long: copies from
# several receivers arrive within network delays, while a meter may send identical bytes again later.
DONE_MEMORY_S = 2.0
STATUS_INTERVAL_S = 60.0
BAD_INPUT_LOG_INTERVAL_S = 10.0


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add_key_arguments(parser)
    parser.add_argument(
        "--share",
        metavar="GROUP",
        help="share the raw frames with other serve instances of this group (MQTT shared subscription)",
    )
    parser.add_argument(
        "--dedup-window",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to gather copies of one telegram from several receivers (default 1)",
    )
    add_output_format_argument(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more messages on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr at the end")


def fingerprint(raw_hex: str) -> str:
    return hashlib.sha1(raw_hex.encode()).hexdigest()[:20]


@dataclass
class Copies:
    """The copies of one telegram gathered so far."""

    record: dict  # the first copy's raw record (the frame and its radio metadata)
    first_seen: float
    heard: dict[str, float | None] = field(default_factory=dict)  # receiver -> best RSSI
    claimants: set[str] = field(default_factory=set)  # serve instances that got a copy

    def add(self, receiver: str, rssi: float | None) -> None:
        old = self.heard.get(receiver)
        if receiver not in self.heard or (rssi is not None and (old is None or rssi > old)):
            self.heard[receiver] = rssi

    def best(self) -> tuple[str, float | None]:
        ranked = sorted(self.heard.items(), key=lambda item: (item[1] is None, -(item[1] or 0.0), item[0]))
        return ranked[0]


RADIO_MODES = ("T1", "C1", "S1")


def _finite_number(value: object) -> float | None:
    """A radio measurement from a payload: a finite number, else None (never trusted blindly)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


class CentralDecoder:
    """Groups raw copies, decides who publishes, decodes once and hands readings to the outputs."""

    def __init__(self, decoder, outputs: Outputs, name: str, window_s: float, shared: bool) -> None:
        self.decoder = decoder
        self.outputs = outputs
        self.name = name
        self.window_s = window_s
        self.shared = shared
        self.pending: dict[str, Copies] = {}
        self.notes: dict[str, list[tuple[str, str, float | None, float]]] = {}  # fp -> notes before a copy
        self.done: dict[str, float] = {}  # fp -> when published (or left to another instance)
        self.announce = None  # callable(fp, note) set by the MQTT side in shared mode
        self.counts = {"raw": 0, "readings": 0, "copies_merged": 0, "left_to_others": 0, "bad_input": 0}
        self._last_bad_log = 0.0

    # ------------------------------------------------------------------ inputs
    def raw(self, payload: bytes, now: float) -> None:
        """One raw frame record from a receiver."""
        self.counts["raw"] += 1
        try:
            record = loads_object(payload)
            raw_hex = str(record["raw"]).lower()
            bytes.fromhex(raw_hex)
            receiver = str(record.get("receiver") or "unknown")
            rssi = _finite_number(record.get("rssi_dbfs"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._bad(f"not a raw frame record ({type(exc).__name__}: {str(exc)[:80]})")
            return
        fp = fingerprint(raw_hex)
        if fp in self.done:
            self.counts["copies_merged"] += 1
            return
        copies = self.pending.get(fp)
        if copies is None:
            copies = self.pending[fp] = Copies(record, now)
            for instance, note_receiver, note_rssi, _ in self.notes.pop(fp, []):
                copies.claimants.add(instance)
                copies.add(note_receiver, note_rssi)
        else:
            self.counts["copies_merged"] += 1
        copies.claimants.add(self.name)
        copies.add(receiver, rssi)
        if self.shared and self.announce is not None:
            self.announce(fp, {"instance": self.name, "receiver": receiver, "rssi_dbfs": rssi})

    def note(self, fp: str, payload: bytes, now: float) -> None:
        """Another instance's announcement of a copy it got (shared mode)."""
        try:
            note = loads_object(payload)
            instance = str(note["instance"])
            receiver = str(note.get("receiver") or "unknown")
            rssi = _finite_number(note.get("rssi_dbfs"))
        except (ValueError, KeyError, TypeError):
            self._bad("not a dedup note")
            return
        if instance == self.name or fp in self.done:
            return
        if note.get("done"):  # another instance published it: later copies here are duplicates
            if self.pending.pop(fp, None) is not None:
                self.counts["left_to_others"] += 1
            self.notes.pop(fp, None)
            self.done[fp] = now
            return
        copies = self.pending.get(fp)
        if copies is None:
            self.notes.setdefault(fp, []).append((instance, receiver, rssi, now))
        else:
            copies.claimants.add(instance)
            copies.add(receiver, rssi)

    # ------------------------------------------------------------------ decisions
    def expire(self, now: float, final: bool = False) -> None:
        """Publish (or leave to another instance) every group whose window has closed.

        The dicts are in arrival order, so only their heads are looked at: constant work per message.
        """
        while self.pending:
            fp, copies = next(iter(self.pending.items()))
            if not final and now - copies.first_seen < self.window_s:
                break
            del self.pending[fp]
            self.done[fp] = now
            if min(copies.claimants) != self.name:
                self.counts["left_to_others"] += 1
                continue
            self._publish(copies)
            if self.shared and self.announce is not None:
                self.announce(fp, {"instance": self.name, "done": True})
        horizon = now - self.window_s - DONE_MEMORY_S
        while self.done:
            fp, when = next(iter(self.done.items()))
            if when >= horizon:
                break
            del self.done[fp]
        while self.notes:
            fp, notes = next(iter(self.notes.items()))
            if notes[0][3] >= horizon:
                break
            del self.notes[fp]

    def _publish(self, copies: Copies) -> None:
        record = copies.record
        receiver, rssi = copies.best()
        frame = Frame(
            data=bytes.fromhex(str(record["raw"])),
            mode=record.get("mode") if record.get("mode") in RADIO_MODES else "",
            frame_format=record.get("frame_format") if record.get("frame_format") in ("A", "B") else "",
            rssi_dbfs=rssi,
            snr_db=_finite_number(record.get("snr_db")),
            freq_offset_hz=_finite_number(record.get("freq_offset_hz")),
            chip_rate_error_ppm=_finite_number(record.get("chip_rate_error_ppm")),
        )
        result = self.decoder.decode(frame, link_crc="none")  # raw frames are CRC-free by contract
        result["receiver"] = receiver
        result["receivers"] = sorted(copies.heard)
        if record.get("timestamp"):
            result["heard_at"] = record["timestamp"]
        self.counts["readings"] += 1
        self.outputs.write(result)

    def _bad(self, reason: str) -> None:
        self.counts["bad_input"] += 1
        now = time.monotonic()
        if now - self._last_bad_log >= BAD_INPUT_LOG_INTERVAL_S:
            self._last_bad_log = now
            log.warning("ignored a message: %s (%d so far)", reason, self.counts["bad_input"])


class RawSubscriber:
    """paho client that feeds the raw frames (and dedup notes) into a queue for the main thread."""

    def __init__(self, args: argparse.Namespace, settings, name: str, shared: bool) -> None:
        self.prefix = args.mqtt_prefix
        self.raw_topic = f"{self.prefix}/raw/+"
        self.subscription = f"$share/{args.share}/{self.raw_topic}" if shared else self.raw_topic
        self.note_prefix = f"{self.prefix}/dedup/"
        self.shared = shared
        self.handler = None  # callable(topic, payload), called in paho's network thread
        self.connected = threading.Event()
        # A persistent session: while serve restarts, the broker keeps the frames for it.
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"sdr-wmbus-serve-{name}",
            clean_session=False,
        )
        if settings.username is not None:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            self.client.tls_set(ca_certs=args.mqtt_ca, certfile=args.mqtt_cert, keyfile=args.mqtt_key)
            if args.mqtt_insecure:
                self.client.tls_insecure_set(True)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.settings = settings

    def start(self, timeout: float) -> bool:
        try:
            self.client.connect(self.settings.host, self.settings.port, keepalive=60)
        except OSError as exc:
            log.warning(
                "MQTT broker %s unreachable (%s), retrying", self.settings.address(), exc.strerror or exc
            )
            self.client.connect_async(self.settings.host, self.settings.port, keepalive=60)
        self.client.loop_start()
        return self.connected.wait(timeout)

    def announce(self, fp: str, note: dict) -> None:
        self.client.publish(self.note_prefix + fp, json.dumps(note, separators=(",", ":")), qos=1)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.settings.address(), reason_code)
            return
        client.subscribe(self.subscription, qos=1)
        if self.shared:
            client.subscribe(self.note_prefix + "+", qos=1)
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set() and reason_code != 0:
            log.warning("lost the MQTT broker %s (%s), reconnecting", self.settings.address(), reason_code)
        self.connected.clear()

    def _on_message(self, client, userdata, message) -> None:
        # Decoding right here, in paho's network thread, saves a queue and a thread switch per frame;
        # meanwhile unread frames wait in the socket and the broker (QoS 1 flow control).
        if self.handler is None:
            return
        try:
            self.handler(message.topic, message.payload)
        except Exception:  # noqa: BLE001 - a message must never stop the network thread
            log.exception("internal error handling a message on %s; message dropped", message.topic)


def cmd_serve(args: argparse.Namespace) -> int:
    from .decoder import TelegramDecoder
    from .outputs.mqtt import parse_mqtt_url

    setup_logging(args.verbose)
    if not args.mqtt:
        return _fail("serve needs --mqtt URL: it decodes the raw frames that receivers publish there")
    if not args.receiver_name:
        args.receiver_name = f"serve-{socket.gethostname()}"
    try:
        if args.dedup_window < 0:
            raise ConfigError("--dedup-window must not be negative")
        if args.share is not None and not args.share.replace("-", "").replace("_", "").isalnum():
            raise ConfigError("--share: a group name of letters, digits, - and _")
        settings = parse_mqtt_url(args.mqtt)
        keys = load_keys(args)
        outputs = Outputs(args, **output_style(args))
    except ConfigError as exc:
        return _fail(str(exc))
    name = outputs.receiver
    shared = args.share is not None
    central = CentralDecoder(
        TelegramDecoder(keys, driver=args.driver), outputs, name, args.dedup_window, shared
    )
    subscriber = RawSubscriber(args, settings, name, shared)
    if shared:
        central.announce = subscriber.announce
    stopping = threading.Event()

    def stop(signum, frame) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    lock = threading.Lock()  # the network thread decodes, the main thread closes windows on time

    def handle(topic: str, payload: bytes) -> None:
        with lock:
            now = time.monotonic()
            if topic.startswith(subscriber.note_prefix):
                central.note(topic[len(subscriber.note_prefix) :], payload, now)
            else:
                central.raw(payload, now)
            central.expire(now)

    subscriber.handler = handle
    if not subscriber.start(timeout=5.0):
        print(f"sdr-wmbus: MQTT broker {settings.address()} not reachable yet: still trying", file=sys.stderr)
    source = f"$share/{args.share}/" if shared else ""
    log.info("serving: decoding %s%s/raw/+ as %s", source, args.mqtt_prefix, name)
    started = time.monotonic()
    next_status = started + STATUS_INTERVAL_S
    try:
        while not stopping.wait(0.05):
            now = time.monotonic()
            with lock:
                central.expire(now)
            if now >= next_status:
                outputs.status({"role": "serve", **central.counts})
                next_status = now + STATUS_INTERVAL_S
        subscriber.stop()  # frames already delivered have been handled; the broker keeps the rest
        with lock:
            central.expire(time.monotonic(), final=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        outputs.status({"role": "serve", **central.counts})
        problem = outputs.close()
    if not args.quiet:
        counts = central.counts
        print(
            f"sdr-wmbus: served {time.monotonic() - started:.1f} s: {counts['raw']} raw frames, "
            f"{counts['readings']} readings published, {counts['copies_merged']} copies merged, "
            f"{counts['left_to_others']} left to other instances, {counts['bad_input']} bad messages",
            file=sys.stderr,
        )
    if problem:
        return _fail(problem, EXIT_ERROR)
    return EXIT_OK
