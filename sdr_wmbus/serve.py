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

Nothing is lost silently between the receivers and ``serve``: receivers number their raw frames (``run``
and ``seq`` in each record, ``raw_run``/``raw_seq`` in their status), and ``serve`` counts every number
that never arrives as a lost frame (logged, in its status and in its summary), drops QoS 1 redeliveries
of frames it already had, reconnects at once after a broker outage and resubscribes with its persistent
session (so a broker with persistence keeps the frames for it across the broker's restart).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from .errors import ConfigError
from .frame import Frame
from .outputs.fanout import Outputs
from .outputs.jsonl import loads_object
from .outputs.mqtt import Reconnect, early_end

log = logging.getLogger("sdr_wmbus.serve")

# Copies of a telegram already published are recognised for the window plus this long: copies from
# several receivers arrive within network delays, while a meter may send identical bytes again later.
DONE_MEMORY_S = 2.0
STATUS_INTERVAL_S = 60.0
BAD_INPUT_LOG_INTERVAL_S = 10.0
LOSS_LOG_INTERVAL_S = 10.0
# A receiver's status says how far its numbered frames went; frames still on their way get this long.
CLAIM_GRACE_S = 10.0
SEQ_WINDOW = 1024  # recent sequence numbers remembered per receiver run (redeliveries, late frames)
MAX_RUNS = 256  # receiver runs tracked at once (the least recently heard is forgotten beyond)
MAX_SEQ = 2**53
MAX_JUMP = 10_000_000  # a larger jump in a run's numbers is not believed to be a loss


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


@dataclass
class _Run:
    """The numbered frames of one receiver run seen so far."""

    receiver: str
    base: int  # numbers up to this one came before we listened
    highest: int
    recent: dict[int, str] = field(default_factory=dict)  # number -> fingerprint, the last SEQ_WINDOW


class SequenceTracker:
    """Counts the raw frames that never arrived, from the numbers receivers give them.

    Each receiver run (``run``, random per process) numbers its raw frame records 1, 2, 3 ...; a number
    skipped is a frame lost on the way (a broker that restarted without persistence, a full queue in
    the broker or the receiver); the same number with the same bytes again is a QoS 1 redelivery.
    Frames that arrive late (out of order, or after being counted lost) are taken back off the count.
    The frames a run sent before we first heard it are none of our business. A receiver's status tells
    how far its numbers went (``raw_seq``), so the last frames before it stopped are counted too, once
    they have had ``CLAIM_GRACE_S`` to arrive.

    Anyone may publish raw frames, so numbers are not trusted beyond counting: a number that comes again
    with other bytes is not a redelivery (the frame is decoded, nothing is counted), a number too old to
    check is decoded, and a jump of more than MAX_JUMP starts the run's count afresh.
    """

    def __init__(self) -> None:
        self.runs: OrderedDict[str, _Run] = OrderedDict()
        self.claims: dict[str, tuple[int, float]] = {}  # run -> (raw_seq from its status, when)
        self.lost = 0  # numbers never seen (so far)
        self.redelivered = 0
        self.late = 0  # frames that came after later numbers (or after being counted lost)
        self._gaps_unlogged = 0
        self._lost_unlogged = 0
        self._last_gap = ("", 0, 0)
        self._last_log = -LOSS_LOG_INTERVAL_S

    def frame(self, run: str, seq: int, receiver: str, fp: str) -> bool:
        """One numbered frame (``fp``: its fingerprint); False when it is a redelivery of one seen."""
        fp = fp[:20]  # a fingerprint is 20 characters; a dedup note's topic may say anything
        state = self.runs.get(run)
        if state is None or seq - state.highest > MAX_JUMP:
            if state is not None:
                log.warning(
                    "receiver %s: frame numbers jumped from %d to %d; counting afresh",
                    receiver,
                    state.highest,
                    seq,
                )
            self.runs[run] = _Run(receiver, base=seq - 1, highest=seq, recent={seq: fp})
            self.runs.move_to_end(run)
            if len(self.runs) > MAX_RUNS:
                self.runs.popitem(last=False)
            return True
        self.runs.move_to_end(run)
        if seq > state.highest:
            skipped = seq - state.highest - 1
            state.highest = seq
            state.recent[seq] = fp
            if skipped:
                self.lost += skipped
                self._report_gap(state.receiver, seq - skipped, seq - 1)
            self._trim(state)
            return True
        known = state.recent.get(seq)
        if known is not None:
            if known != fp:
                return True  # not ours to judge: decoded, not counted
            self.redelivered += 1
            return False
        if seq <= state.highest - SEQ_WINDOW:
            return True  # too old to tell: decoded, not counted
        self.late += 1
        if seq <= state.base:  # older than the first we heard: we were listening after all
            self.lost += state.base - seq
            state.base = seq - 1
        else:
            self.lost -= 1
        state.recent[seq] = fp
        return True

    def claim(self, run: str, seq: int, now: float) -> None:
        """A receiver's status: its numbered frames went up to ``seq``."""
        state = self.runs.get(run)
        if state is not None and seq > state.highest:
            self.claims[run] = (seq, now)

    def tick(self, now: float) -> None:
        """Count the frames a status announced that have not come within the grace time."""
        for run, (seq, when) in list(self.claims.items()):
            state = self.runs.get(run)
            if state is None or seq <= state.highest:
                del self.claims[run]
            elif now - when >= CLAIM_GRACE_S:
                del self.claims[run]
                self.lost += seq - state.highest
                self._report_gap(state.receiver, state.highest + 1, seq)
                state.highest = seq
                self._trim(state)
        self.log_losses()

    def _trim(self, state: _Run) -> None:
        if len(state.recent) > 2 * SEQ_WINDOW:
            floor = state.highest - SEQ_WINDOW
            state.recent = {n: fp for n, fp in state.recent.items() if n > floor}

    def _report_gap(self, receiver: str, first: int, last: int) -> None:
        self._gaps_unlogged += 1
        self._lost_unlogged += last - first + 1
        self._last_gap = (receiver, first, last)
        self.log_losses()

    def log_losses(self, now_too: bool = False) -> None:
        """One warning per LOSS_LOG_INTERVAL_S at most (``now_too``: even sooner, at the end), with what
        was found missing since the last."""
        now = time.monotonic()
        if not self._gaps_unlogged or (now - self._last_log < LOSS_LOG_INTERVAL_S and not now_too):
            return
        self._last_log = now
        receiver, first, last = self._last_gap
        if self._gaps_unlogged == 1:
            numbers = f"number {first}" if first == last else f"numbers {first} to {last}"
            where = f"from receiver {receiver} ({numbers} never arrived)"
        else:
            where = f"in {self._gaps_unlogged} gaps, the last from receiver {receiver}"
        log.warning(
            "%d raw frame(s) lost on the way %s; %d lost in all (did the broker restart without "
            "persistence, or drop messages from a full queue?)",
            self._lost_unlogged,
            where,
            self.lost,
        )
        self._gaps_unlogged = self._lost_unlogged = 0


def _numbering(record: dict) -> tuple[str, int] | None:
    """A record's (run, seq), when it carries a valid pair (receivers before 0.x did not)."""
    run, seq = record.get("run"), record.get("seq")
    if not isinstance(run, str) or not 0 < len(run) <= 64:
        return None
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < MAX_SEQ:
        return None
    return run, seq


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
        self.sequences = SequenceTracker()
        self._counts = {"raw": 0, "readings": 0, "copies_merged": 0, "left_to_others": 0, "bad_input": 0}
        self._last_bad_log = 0.0

    @property
    def counts(self) -> dict[str, int]:
        """Counters for the status and the summary."""
        seq = self.sequences
        return {**self._counts, "lost": seq.lost, "redelivered": seq.redelivered, "late": seq.late}

    # ------------------------------------------------------------------ inputs
    def raw(self, payload: bytes, now: float) -> None:
        """One raw frame record from a receiver."""
        self._counts["raw"] += 1
        try:
            record = loads_object(payload)
            raw_hex = str(record["raw"]).lower()
            bytes.fromhex(raw_hex)
            receiver = str(record.get("receiver") or "unknown")
            rssi = _finite_number(record.get("rssi_dbfs"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._bad(f"not a raw frame record ({type(exc).__name__}: {str(exc)[:80]})")
            return
        numbering = _numbering(record)
        fp = fingerprint(raw_hex)
        if numbering is not None and not self.sequences.frame(*numbering, receiver, fp):
            return  # a QoS 1 redelivery of a frame already handled
        if fp in self.done:
            self._counts["copies_merged"] += 1
            if self.shared and self.announce is not None and numbering is not None:
                # the others count this receiver's numbers too
                run, seq = numbering
                self.announce(
                    fp, {"instance": self.name, "receiver": receiver, "run": run, "seq": seq, "late": True}
                )
            return
        copies = self.pending.get(fp)
        if copies is None:
            copies = self.pending[fp] = Copies(record, now)
            for instance, note_receiver, note_rssi, _ in self.notes.pop(fp, []):
                copies.claimants.add(instance)
                copies.add(note_receiver, note_rssi)
        else:
            self._counts["copies_merged"] += 1
        copies.claimants.add(self.name)
        copies.add(receiver, rssi)
        if self.shared and self.announce is not None:
            note = {"instance": self.name, "receiver": receiver, "rssi_dbfs": rssi}
            if numbering is not None:
                note["run"], note["seq"] = numbering
            self.announce(fp, note)

    def status(self, receiver_topic: str, payload: bytes, now: float) -> None:
        """A receiver's retained status: how far its numbered raw frames went."""
        try:
            status = loads_object(payload)
        except ValueError:
            self._bad("not a receiver status")
            return
        numbering = _numbering({"run": status.get("raw_run"), "seq": status.get("raw_seq")})
        if numbering is not None:
            self.sequences.claim(*numbering, now)

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
        if instance == self.name:
            return
        numbering = _numbering(note)
        if numbering is not None:  # a frame another instance got: its number is not missing here
            self.sequences.frame(*numbering, receiver, fp)
        if note.get("late") or fp in self.done:
            return
        if note.get("done"):  # another instance published it: later copies here are duplicates
            if self.pending.pop(fp, None) is not None:
                self._counts["left_to_others"] += 1
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
                self._counts["left_to_others"] += 1
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
        self.sequences.tick(now)
        if final:
            self.sequences.log_losses(now_too=True)

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
        self._counts["readings"] += 1
        self.outputs.write(result)

    def _bad(self, reason: str) -> None:
        self._counts["bad_input"] += 1
        now = time.monotonic()
        if now - self._last_bad_log >= BAD_INPUT_LOG_INTERVAL_S:
            self._last_bad_log = now
            log.warning("ignored a message: %s (%d so far)", reason, self._counts["bad_input"])


class RawSubscriber:
    """paho client that feeds the raw frames, dedup notes and receiver statuses to ``handler``.

    A persistent session (``clean_session=False`` and a client id made of the instance name): while
    ``serve`` is away, the broker keeps the QoS 1 frames for it (and, with persistence, across its own
    restart). It subscribes again on every connection, in case the broker forgot the session.
    """

    def __init__(self, args: argparse.Namespace, settings, name: str, shared: bool) -> None:
        self.prefix = args.mqtt_prefix.strip().strip("/")
        self.raw_topic = f"{self.prefix}/raw/+"
        self.subscription = f"$share/{args.share}/{self.raw_topic}" if shared else self.raw_topic
        self.note_prefix = f"{self.prefix}/dedup/"
        self.status_prefix = f"{self.prefix}/receiver/"
        self.shared = shared
        self.handler = None  # callable(topic, payload), called in paho's network thread
        self.connected = threading.Event()
        self.client_id = f"sdr-wmbus-serve-{name}"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False
        )
        if settings.username is not None:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            try:
                self.client.tls_set(ca_certs=args.mqtt_ca, certfile=args.mqtt_cert, keyfile=args.mqtt_key)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"MQTT TLS setup failed: {exc}") from None
            if args.mqtt_insecure:
                self.client.tls_insecure_set(True)
        self.reconnect = Reconnect(self.client)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.settings = settings
        self.connections = 0
        self._down_logged = False
        self._refusals: set[str] = set()

    def start(self, timeout: float) -> bool:
        try:
            self.client.connect(self.settings.host, self.settings.port, keepalive=60)
        except OSError as exc:
            log.warning(
                "MQTT broker %s unreachable (%s), retrying", self.settings.address(), exc.strerror or exc
            )
            self._down_logged = True
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
            self.reconnect.refused()
            if str(reason_code) not in self._refusals:  # each reason once, not on every retry
                self._refusals.add(str(reason_code))
                log.warning("MQTT broker %s refused the connection: %s", self.settings.address(), reason_code)
            return
        self.reconnect.connected()
        self._refusals.clear()
        self.connections += 1
        client.subscribe(self.subscription, qos=1)
        client.subscribe(self.status_prefix + "+/status", qos=1)
        if self.shared:
            client.subscribe(self.note_prefix + "+", qos=1)
        session = getattr(flags, "session_present", False)
        if self.connections > 1 and not session:
            log.warning(
                "MQTT broker %s had forgotten serve's session (restarted without persistence?): frames "
                "published before serve subscribed again are lost; missing frames are counted",
                self.settings.address(),
            )
        elif self._down_logged:
            log.warning("MQTT broker %s is back; subscribed again", self.settings.address())
        else:
            log.info(
                "MQTT connected to %s (%s session)", self.settings.redacted(), "resumed" if session else "new"
            )
        self._down_logged = False
        self.connected.set()

    def _on_connect_fail(self, client, userdata) -> None:
        self.reconnect.connect_failed()
        if not self._down_logged:
            self._down_logged = True
            log.warning("MQTT broker %s unreachable, retrying", self.settings.address())

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        kind = self.reconnect.disconnected()
        was_connected = self.connected.is_set()
        self.connected.clear()
        if reason_code == 0:  # our own disconnect() at the end
            return
        if kind == "flap":
            hint = f": is another serve running as {self.client_id} (the same --receiver-name)?"
            log.warning(
                "%s%s next try in %g s",
                early_end(self.settings, self.reconnect, reason_code),
                hint if self.reconnect.uptime > 0 else ";",
                self.reconnect.next_delay,
            )
            self._down_logged = True
        elif was_connected:
            log.warning("lost the MQTT broker %s (%s), reconnecting", self.settings.address(), reason_code)
            self._down_logged = True

    def _on_message(self, client, userdata, message) -> None:
        # Decoding right here, in paho's network thread, saves a queue and a thread switch per frame;
        # meanwhile unread frames wait in the socket and the broker (QoS 1 flow control).
        if self.handler is None:
            return
        try:
            self.handler(message.topic, message.payload)
        except Exception:  # noqa: BLE001 - a message must never stop the network thread
            log.exception("internal error handling a message on %s; message dropped", message.topic)
