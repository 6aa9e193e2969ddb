"""Broker restarts between receivers and ``serve``: numbered raw frames, losses counted and reported,
QoS 1 redeliveries dropped, reconnection at once, a persistent session that loses nothing.

The end-to-end tests run ``sdr-wmbus serve`` in its own process against a real mosquitto on loopback,
with receivers publishing through the MQTT output that ``listen --raw-only --mqtt`` uses.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
from mosquitto import Mosquitto, broker_or_skip

from sdr_wmbus.outputs.mqtt import MqttOutput, Reconnect, parse_mqtt_url
from sdr_wmbus.serve import (
    CLAIM_GRACE_S,
    MAX_JUMP,
    MAX_RUNS,
    CentralDecoder,
    SequenceTracker,
    _numbering,
    fingerprint,
)

QUNDIS = bytes.fromhex(
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
)


def frame(n: int) -> str:
    """A distinct unencrypted telegram (heat cost allocator ``5xxxxxxx``), as hex."""
    data = bytearray(QUNDIS)
    data[4:8] = bytes.fromhex(f"{50000000 + n % 10000:08d}")[::-1]
    data[11] = (n // 10000) & 0xFF
    return data.hex()


# ---------------------------------------------------------------------- the accounting on its own


def test_skipped_numbers_are_lost_until_they_come_late():
    seq = SequenceTracker()
    assert seq.frame("r1", 1, "attic", "a") and seq.frame("r1", 2, "attic", "b")
    assert seq.frame("r1", 5, "attic", "e")
    assert seq.lost == 2
    assert seq.frame("r1", 4, "attic", "d")  # out of order: not lost after all
    assert (seq.lost, seq.late) == (1, 1)
    assert not seq.frame("r1", 5, "attic", "e")  # the same frame again: a QoS 1 redelivery
    assert seq.redelivered == 1
    assert seq.frame("r1", 5, "attic", "other bytes")  # same number, other bytes: decoded, not judged
    assert (seq.lost, seq.redelivered) == (1, 1)
    # another run (the receiver restarted): numbers before the first we hear are none of our business
    assert seq.frame("r2", 500, "attic", "x")
    assert seq.lost == 1
    assert seq.frame("r2", 499, "attic", "w")  # but one just before it, arriving late, is fine
    assert seq.lost == 1
    assert seq.frame("r2", 497, "attic", "u")  # ... and then 498 is missing
    assert seq.lost == 2


def test_a_status_counts_the_last_frames_once_they_had_time_to_come():
    seq = SequenceTracker()
    seq.frame("r1", 1, "cellar", "a")
    seq.claim("r1", 4, now=100.0)  # the receiver's status: its numbers went up to 4
    seq.claim("unknown", 9, now=100.0)  # a run never heard: nothing to count
    seq.tick(100.0 + CLAIM_GRACE_S - 0.5)
    assert seq.lost == 0  # 2-4 may still be on their way
    seq.frame("r1", 2, "cellar", "b")
    seq.tick(100.0 + CLAIM_GRACE_S)
    assert seq.lost == 2  # 3 and 4 never came
    seq.frame("r1", 4, "cellar", "d")  # a late one after all
    assert (seq.lost, seq.late) == (1, 1)
    seq.claim("r1", 4, now=200.0)  # a status that claims nothing new
    seq.tick(300.0)
    assert seq.lost == 1 and not seq.claims


def test_numbers_from_anyone_are_not_trusted_beyond_counting():
    seq = SequenceTracker()
    seq.frame("r1", 10, "x", "a")
    assert seq.frame("r1", 10 + MAX_JUMP + 5, "x", "b")  # a wild jump starts the count afresh
    assert seq.lost == 0
    assert seq.frame("r1", 3, "x", "c")  # far older than anything remembered: decoded, not counted
    assert (seq.lost, seq.redelivered, seq.late) == (0, 0, 0)
    for n in range(MAX_RUNS + 50):  # runs are forgotten beyond a bound
        seq.frame(f"run{n}", 1, "x", "a")
    assert len(seq.runs) == MAX_RUNS
    assert _numbering({"run": "ab12", "seq": 3}) == ("ab12", 3)
    bad = [{"run": "ab", "seq": True}, {"run": "ab", "seq": 0}, {"run": "ab", "seq": 2**60}, {}]
    bad += [{"run": 5, "seq": 1}, {"run": "x" * 65, "seq": 1}, {"run": "ab", "seq": 1.5}]
    assert all(_numbering(record) is None for record in bad)


class FakeDecoder:
    def decode(self, frame, link_crc):
        return {"id": "x", "raw": frame.data.hex()}


class FakeOutputs:
    def __init__(self) -> None:
        self.written: list[dict] = []

    def write(self, obj: dict) -> None:
        self.written.append(obj)


def test_a_redelivery_after_the_dedup_window_is_not_a_second_reading():
    outputs = FakeOutputs()
    central = CentralDecoder(FakeDecoder(), outputs, "serve", window_s=1.0, shared=False)
    record = {"receiver": "attic", "raw": frame(1), "run": "r1", "seq": 7}
    central.raw(json.dumps(record).encode(), now=0.0)
    central.expire(5.0)
    central.expire(30.0)  # long after the dedup window: its memory of the bytes is gone
    central.raw(json.dumps(record).encode(), now=30.0)  # resent by the broker after a reconnection
    central.expire(35.0)
    assert len(outputs.written) == 1
    assert central.counts["redelivered"] == 1 and central.counts["lost"] == 0
    # without numbers (an older receiver) the same bytes much later are another telegram
    central.raw(json.dumps({"receiver": "attic", "raw": frame(2)}).encode(), now=40.0)
    central.expire(45.0)
    central.expire(50.0)
    central.raw(json.dumps({"receiver": "attic", "raw": frame(2)}).encode(), now=50.0)
    central.expire(55.0)
    assert len(outputs.written) == 3
    # a receiver's status claims frames: counted lost when they do not come
    central.raw(json.dumps({**record, "raw": frame(3), "seq": 8}).encode(), now=60.0)
    central.status("wmbus/receiver/attic/status", b'{"state":"offline","raw_run":"r1","raw_seq":10}', 61.0)
    central.expire(61.0 + CLAIM_GRACE_S)
    assert central.counts["lost"] == 2
    assert fingerprint(frame(1)) != fingerprint(frame(2))


class FakeClient:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def reconnect_delay_set(self, low: float, high: float) -> None:
        assert low == high
        self.delays.append(low)


def test_reconnect_at_once_after_an_outage_and_back_off_after_refusals():
    client = FakeClient()
    policy = Reconnect(client, retry_s=0.25, backoff=(1.0, 30.0), flap_s=0.0)  # every connection lasts
    policy.connected()
    assert policy.disconnected() == "lost" and client.delays[-1] == 0.0  # at once
    for _ in range(3):
        policy.connect_failed()  # the broker is restarting
    assert client.delays[-3:] == [0.25, 0.25, 0.25]
    policy.refused()  # it is back, but refuses us: wrong password
    assert policy.disconnected() == "refused" and client.delays[-1] == 1.0
    policy.connect_failed()
    policy.refused()
    policy.disconnected()
    assert client.delays[-2:] == [2.0, 4.0]
    for _ in range(6):
        policy.connect_failed()
    assert client.delays[-1] == 30.0
    policy.connected()  # a connection that lasts resets it all
    assert policy.disconnected() == "lost" and client.delays[-1] == 0.0
    slow = Reconnect(FakeClient(), patience_s=0.0, slow_retry_s=5.0)  # an outage longer than patience
    slow.connect_failed()
    assert slow.next_delay == 5.0


def test_connections_that_keep_ending_early_back_off():
    client = FakeClient()
    policy = Reconnect(client, retry_s=0.25, backoff=(1.0, 30.0), flap_s=100.0)
    assert policy.disconnected() == "early" and client.delays[-1] == 0.0  # a dying broker's last accept
    policy.connected()
    assert policy.disconnected() == "flap" and client.delays[-1] == 1.0  # twice: another client's id?
    policy.connected()
    assert policy.disconnected() == "flap" and client.delays[-1] == 2.0
    policy.disconnected()  # closed before accepting us (TLS on a plain port?)
    assert client.delays[-1] == 4.0
    policy.connect_failed()  # but now it cannot be reached: it restarts, and will be back soon
    assert client.delays[-1] == 0.25
    assert policy.disconnected() == "early" and client.delays[-1] == 0.0


def test_a_broker_killed_soon_after_it_came_back_is_still_retried_at_once(monkeypatch):
    import types

    import sdr_wmbus.outputs.mqtt as module

    clock = [1000.0]
    monkeypatch.setattr(module, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    client = FakeClient()
    policy = Reconnect(client)  # the defaults
    policy.connected()
    clock[0] += 5.0  # the broker is killed 5 s after we connected
    assert policy.disconnected() == "lost" and client.delays[-1] == 0.0
    assert policy.disconnected() == "early" and client.delays[-1] == 0.0  # its last accept, dropped
    policy.connect_failed()
    assert client.delays[-1] == 0.25
    clock[0] += 61.0  # a long outage: every 5 s from then on
    policy.connect_failed()
    assert client.delays[-1] == 5.0


# ---------------------------------------------------------------------- end to end


class Serve:
    """``sdr-wmbus serve -v`` in its own process; readings (stdout) and stderr lines collected."""

    def __init__(self, broker: Mosquitto, *args: str) -> None:
        command = [sys.executable, "-m", "sdr_wmbus", "serve", "--mqtt", broker.url(), "-v", *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.readings: queue.Queue = queue.Queue()
        self.err: list[str] = []
        self.started = threading.Event()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()
        assert self.started.wait(60), self.err

    def _out(self) -> None:
        for line in self.proc.stdout:
            self.readings.put(json.loads(line))

    def _err(self) -> None:
        for line in self.proc.stderr:
            self.err.append(line.decode().rstrip())
            if "serving: decoding" in self.err[-1]:
                self.started.set()

    def wait_readings(self, count: int, timeout: float = 20.0) -> list[dict]:
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            try:
                got.append(self.readings.get(timeout=0.1))
            except queue.Empty:
                pass
        return got

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        time.sleep(0.2)
        return self.proc.returncode, "\n".join(self.err)


@pytest.fixture
def closing():
    made: list = []
    yield made
    for item in reversed(made):
        item.close() if hasattr(item, "close") else item.stop()


def receivers(broker: Mosquitto, closing: list, count: int = 2) -> list[MqttOutput]:
    made = [
        MqttOutput(parse_mqtt_url(broker.url()), receiver=f"rx{n}", discovery=False) for n in range(count)
    ]
    closing.extend(made)
    assert all(r.wait_connected(5) for r in made)
    return made


def publish(outputs: list[MqttOutput], numbers: range) -> None:
    for n in numbers:
        outputs[n % len(outputs)].write_raw({"receiver": outputs[n % len(outputs)].receiver, "raw": frame(n)})


def drained(outputs: list[MqttOutput], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(o.pending for o in outputs) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(o.pending for o in outputs)


def test_a_persistent_broker_restarted_mid_stream_loses_nothing(closing):
    """The broker stopped for 4 s while two receivers publish (persistence, as the README tells)."""
    with broker_or_skip(persistence=True) as broker:
        serve = Serve(broker, "--receiver-name", "central", "--dedup-window", "0.2")
        closing.append(serve)
        rx = receivers(broker, closing)
        stream = threading.Thread(
            target=lambda: [publish(rx, range(n, n + 1)) or time.sleep(0.05) for n in range(120)]
        )
        stream.start()  # 20 frames/s for 6 s
        time.sleep(1.0)
        broker.stop()
        time.sleep(4.0)
        broker.start()
        stream.join()
        assert drained(rx)
        readings = serve.wait_readings(120)
        code, err = serve.stop()
    assert code == 0, err
    assert sorted(r["raw"] for r in readings) == sorted(frame(n) for n in range(120))
    # a frame the broker had not confirmed when it stopped is sent again, and recognised
    assert "120 readings published" in err and " 0 raw frames lost on the way" in err
    assert "is back; subscribed again" in err and "Traceback" not in err


def test_a_broker_restart_without_persistence_loses_frames_and_serve_counts_them(closing):
    """Killed and restarted (mosquitto's defaults: no persistence) while serve could not resubscribe."""
    with broker_or_skip() as broker:
        serve = Serve(broker, "--receiver-name", "central", "--dedup-window", "0.2")
        closing.append(serve)
        rx = receivers(broker, closing)
        publish(rx, range(0, 10))
        assert len(serve.wait_readings(10)) == 10
        serve.proc.send_signal(signal.SIGSTOP)  # serve cannot reconnect before the receivers flush
        broker.kill()
        publish(rx, range(10, 16))  # queued by the receivers while the broker is away
        broker.start()
        assert drained(rx)  # delivered to a broker that has nobody subscribed: gone
        serve.proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 10
        while (
            not any("forgotten serve's session" in line for line in serve.err) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        publish(rx, range(16, 20))
        readings = serve.wait_readings(4)
        code, err = serve.stop()
    assert code == 0, err
    assert sorted(r["raw"] for r in readings) == sorted(frame(n) for n in range(16, 20))
    # frames 10-15 (three from each receiver) never arrived: every one of them counted and reported
    assert "14 raw frames, 14 readings published" in err and "6 raw frames lost on the way" in err
    assert "had forgotten serve's session" in err
    assert "3 raw frame(s) lost on the way from receiver rx" in err  # logged as soon as seen
    assert "Traceback" not in err


def test_a_client_is_back_within_a_fraction_of_a_second_of_the_broker(closing):
    with broker_or_skip() as broker:
        (out,) = receivers(broker, closing, count=1)
        for stop in (broker.stop, broker.kill):
            stop()
            deadline = time.monotonic() + 5
            while out.connected and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(3.5)  # with paho's own back-off (1 s, 2 s, 4 s) the next try would be at 7 s
            assert not out.connected
            broker.start()
            back = time.monotonic()
            assert out.wait_connected(5)
            assert time.monotonic() - back < 0.6


def test_the_backlog_waits_for_subscribers_to_come_back(closing):
    """A broker without persistence forgets its subscribers: what receivers queued during the outage
    is held a moment after they reconnect, so that a serve that reconnects as fast is there for it."""
    import paho.mqtt.client as mqtt

    def late_subscriber(port: int, after: float) -> list[str]:
        got: list[str] = []
        time.sleep(after)
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="late", clean_session=False)
        sub.on_message = lambda c, u, m: got.append(json.loads(m.payload)["raw"])
        sub.connect("127.0.0.1", port)
        sub.subscribe("wmbus/raw/#", qos=1)
        sub.loop_start()
        time.sleep(2.0)
        sub.disconnect()
        sub.loop_stop()
        return got

    with broker_or_skip() as broker:
        held = MqttOutput(parse_mqtt_url(broker.url()), receiver="held", discovery=False)  # 1 s
        hasty = MqttOutput(parse_mqtt_url(broker.url()), receiver="hasty", discovery=False, settle_s=0)
        closing.extend([held, hasty])
        assert held.wait_connected(5) and hasty.wait_connected(5)
        broker.stop()
        deadline = time.monotonic() + 5  # noticed at once, later on a loaded machine
        while held.wait_connected(0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not held.wait_connected(0)
        for out in (held, hasty):
            out.write_raw({"raw": frame(1)})
        broker.start()
        got = late_subscriber(broker.port, after=0.6)
    assert got == [frame(1)]  # the held one; the hasty one went out to nobody
    assert held.published == 1 and hasty.published == 1


def test_the_status_says_how_far_the_numbered_frames_went(closing):
    import paho.mqtt.client as mqtt

    with broker_or_skip() as broker:
        (out,) = receivers(broker, closing, count=1)
        publish([out], range(3))
        assert drained([out])
        out.close()
        got: list[dict] = []
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub.on_message = lambda c, u, m: got.append(json.loads(m.payload))
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe("wmbus/receiver/rx0/status", qos=1)
        sub.loop_start()
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        sub.disconnect()
        sub.loop_stop()
    assert got == [{"state": "offline", "raw_run": out.run, "raw_seq": 3}]
