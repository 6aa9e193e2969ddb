"""MqttOutput against a real mosquitto: topics, payloads, status/last will, discovery, outage queueing.

Every wait polls with a deadline, and the clients reconnect within a fraction of a second, so the whole
file runs in a few seconds. Skipped where mosquitto is not installed (URL parsing runs everywhere).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from mosquitto import Mosquitto, broker_or_skip, free_port

from sdr_wmbus.errors import ConfigError
from sdr_wmbus.outputs.homeassistant import discovery_messages
from sdr_wmbus.outputs.jsonl import to_json
from sdr_wmbus.outputs.mqtt import MqttOutput, MqttSettings, parse_mqtt_url

ROOT = Path(__file__).resolve().parents[1]
FAST = {"reconnect_delay": (0.05, 0.2), "connect_timeout": 2.0}

WATER = {
    "id": "76348799",
    "manufacturer": "KAM",
    "manufacturer_name": "Kamstrup",
    "version": "0x1b",
    "device_type": "0x16",
    "media": "cold water",
    "raw": "2a44",
    "ci": ["0x8d", "0x78"],
    "security_mode": "ell_aes_ctr",
    "access_number": 17,
    "total_m3": 6.408,
    "target_m3": 6.408,
    "min_flow_temperature_storage_1_c": 127,
    "meter": "generic",
    "records": [{"quantity": "volume", "value": 6.408, "unit": "m3", "dif_vif": "0413"}],
    "name": "kitchen cold water",
    "mode": "C1",
    "frame_format": "A",
    "rssi_dbfs": -8.7,
    "snr_db": 12.6,
    "freq_offset_hz": 3580.5,
    "sample": 52484,
    "timestamp": "2026-11-21T21:17:29Z",
    "time_s": 0.0328,
}


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Subscriber:
    """A paho client that records (topic, payload, retain) of everything under its filters."""

    def __init__(
        self,
        broker: Mosquitto,
        filters: tuple[str, ...] = ("#",),
        client_id: str = "",
        persistent: bool = False,
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.filters = filters
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        self.client.reconnect_delay_set(0.05, 0.1)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "subscriber did not get its SUBACK"

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        client.subscribe([(f, 1) for f in self.filters])

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(p) for p in self.on(topic)]

    def topics(self) -> list[str]:
        with self._lock:
            return [t for t, _, _ in self.messages]

    def wait_count(self, topic: str, count: int, timeout: float = 5.0) -> list[dict]:
        assert wait_until(lambda: len(self.on(topic)) >= count, timeout), (topic, self.topics())
        return self.json_on(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    with broker_or_skip() as running:
        yield running


@pytest.fixture
def persistent_broker() -> Iterator[Mosquitto]:
    """Keeps sessions across restart, so the test's subscriber misses nothing whichever client is first."""
    with broker_or_skip(persistence=True) as running:
        yield running


@pytest.fixture
def clients() -> Iterator[list]:
    """Collects outputs and subscribers so that they are shut down even when a test fails."""
    made: list = []
    yield made
    for item in reversed(made):
        item.close()


def make_output(broker: Mosquitto, clients: list, **kwargs: object) -> MqttOutput:
    options = {"receiver": "rx1", "discovery": False, **FAST, **kwargs}
    out = MqttOutput(parse_mqtt_url(broker.url()), **options)  # type: ignore[arg-type]
    clients.append(out)
    assert out.wait_connected(5)
    return out


def subscribe(broker: Mosquitto, clients: list, *filters: str, **kwargs: object) -> Subscriber:
    sub = Subscriber(broker, filters or ("#",), **kwargs)  # type: ignore[arg-type]
    clients.append(sub)
    return sub


# --- topics and payloads -------------------------------------------------------------------------------


def test_reading_raw_and_error_topics(broker: Mosquitto, clients: list) -> None:
    sub = subscribe(broker, clients, "wmbus/#")
    out = make_output(broker, clients)
    out.write(WATER)
    raw = {"receiver": "rx1", "raw": "2a44b0", "mode": "C1", "rssi_dbfs": -8.7}
    out.write_raw(raw)
    error = {"raw": "2a44", "error": "decryption failed: check the key for meter 12345678", "id": "12345678"}
    out.write(error)
    out.write({"raw": "0102", "error": "frame too short"})

    assert sub.wait_count("wmbus/meter/76348799", 1) == [WATER]
    assert sub.on("wmbus/meter/76348799") == [to_json(WATER).encode()]  # byte for byte the JSON lines form
    # numbered, so that a central decoder can count the frames that never reach it
    assert sub.wait_count("wmbus/raw/rx1", 1) == [{**raw, "run": out.run, "seq": 1}]
    assert sub.wait_count("wmbus/error/12345678", 1) == [error]
    assert sub.wait_count("wmbus/error/unknown", 1) == [{"raw": "0102", "error": "frame too short"}]
    assert wait_until(lambda: out.published == 4 and out.pending == 0)
    assert out.dropped == 0


def test_prefix_and_receiver_are_safe_topic_levels(broker: Mosquitto, clients: list) -> None:
    sub = subscribe(broker, clients, "home/wmbus/#")
    out = make_output(broker, clients, prefix="/home/wmbus/", receiver="attic/#1")
    out.write_raw({"raw": "00"})
    assert sub.wait_count("home/wmbus/raw/attic__1", 1) == [{"raw": "00", "run": out.run, "seq": 1}]
    with pytest.raises(ConfigError):
        MqttOutput(parse_mqtt_url(broker.url()), prefix="wmbus/+")


# --- status and last will -------------------------------------------------------------------------------


def retained(broker: Mosquitto, clients: list, topic: str, count: int = 1) -> list[dict]:
    """What a subscriber that comes later gets: the retained messages only."""
    late = subscribe(broker, clients, topic)
    return late.wait_count(topic, count, timeout=2.0)


def test_status_online_retained_then_offline_after_close(broker: Mosquitto, clients: list) -> None:
    out = make_output(broker, clients)
    topic = "wmbus/receiver/rx1/status"
    assert retained(broker, clients, topic) == [{"state": "online"}]

    out.status({"frames": 3, "telegrams": 2})
    assert wait_until(lambda: retained_now(broker, topic) == {"state": "online", "frames": 3, "telegrams": 2})

    out.write(WATER)
    out.close()
    assert out.pending == 0 and out.published == 1
    assert retained(broker, clients, topic) == [{"state": "offline"}]
    with pytest.raises(RuntimeError):
        out.write(WATER)


def retained_now(broker: Mosquitto, topic: str) -> dict | None:
    """The retained message on a topic right now (a one-off subscriber)."""
    sub = Subscriber(broker, (topic,))
    try:
        wait_until(lambda: bool(sub.on(topic)), timeout=0.5)
        found = sub.json_on(topic)
        return found[-1] if found else None
    finally:
        sub.close()


PUBLISHER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from sdr_wmbus.outputs.mqtt import MqttOutput, parse_mqtt_url
out = MqttOutput(parse_mqtt_url(sys.argv[2]), receiver="doomed", discovery=False)
out.wait_connected(10)
time.sleep(60)
"""


def test_last_will_offline_when_the_process_dies(broker: Mosquitto, clients: list) -> None:
    topic = "wmbus/receiver/doomed/status"
    sub = subscribe(broker, clients, topic)
    proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(ROOT), broker.url()], env=dict(os.environ))
    try:
        assert sub.wait_count(topic, 1, timeout=10) == [{"state": "online"}]
    finally:
        proc.kill()  # SIGKILL: no close(), no DISCONNECT packet
        proc.wait()
    assert sub.wait_count(topic, 2)[1] == {"state": "offline"}
    assert retained(broker, clients, topic) == [{"state": "offline"}]


# --- Home Assistant discovery ---------------------------------------------------------------------------


def test_discovery_configs_retained_valid_and_sent_before_the_reading(
    broker: Mosquitto, clients: list
) -> None:
    live = subscribe(broker, clients, "wmbus/#", "homeassistant/#")
    out = make_output(broker, clients, discovery=True)
    out.write(WATER)
    live.wait_count("wmbus/meter/76348799", 1)
    topics = live.topics()
    config_topics = [t for t in topics if t.startswith("homeassistant/")]
    assert config_topics and max(map(topics.index, config_topics)) < topics.index("wmbus/meter/76348799")

    configs = {t: json.loads(live.on(t)[0]) for t in config_topics}
    late = subscribe(broker, clients, "homeassistant/#")
    assert wait_until(lambda: len(late.messages) == len(configs), 2.0)
    assert all(retain for _, _, retain in late.messages)
    assert {t: json.loads(p) for t, p, _ in late.messages} == configs

    unique_ids = [c["unique_id"] for c in configs.values()]
    assert len(unique_ids) == len(set(unique_ids))
    for topic, config in configs.items():
        component, key = re.fullmatch(r"homeassistant/(\w+)/wmbus_76348799/(\w+)/config", topic).groups()
        assert {"name", "unique_id", "state_topic", "value_template", "device"} <= config.keys()
        assert config["state_topic"] == "wmbus/meter/76348799"
        field = key if component == "sensor" else "status"  # the problem binary sensor reads the status
        assert f"value_json[{field!r}]" in config["value_template"]
        assert field in WATER
        assert config["device"]["identifiers"] == ["wmbus_76348799"]
    # The reading is retained too, so that Home Assistant has it whenever it subscribes.
    assert retained(broker, clients, "wmbus/meter/76348799") == [WATER]
    total = configs["homeassistant/sensor/wmbus_76348799/total_m3/config"]
    assert total["state_class"] == "total_increasing"
    assert total["device_class"] == "water"
    assert total["unit_of_measurement"] == "m³"

    # The same meter again: no configs; a new field: just its config.
    before = len(live.topics())
    out.write(WATER)
    out.write({**WATER, "flow_temperature_c": 11.5})
    live.wait_count("wmbus/meter/76348799", 3)
    new = [t for t in live.topics()[before:] if t.startswith("homeassistant/")]
    assert new == ["homeassistant/sensor/wmbus_76348799/flow_temperature_c/config"]


def test_a_reading_that_is_not_retained_waits_until_its_configs_are_taken_up(
    broker: Mosquitto, clients: list
) -> None:
    live = subscribe(broker, clients, "wmbus/meter/#", "homeassistant/#")
    out = make_output(broker, clients, discovery=True, retain=False, discovery_delay=1.0)
    configs = len(discovery_messages(WATER, "wmbus"))
    out.write(WATER)
    out.write({**WATER, "total_m3": 7.0})  # the same meter while it waits: after the first
    assert wait_until(lambda: len([t for t in live.topics() if t.startswith("homeassistant/")]) == configs)
    assert wait_until(lambda: out.pending == 2) and not live.on("wmbus/meter/76348799")  # the readings
    time.sleep(0.5)
    assert not live.on("wmbus/meter/76348799")  # confirmed, but Home Assistant needs a moment
    readings = live.wait_count("wmbus/meter/76348799", 2)
    assert [r["total_m3"] for r in readings] == [6.408, 7.0]
    assert wait_until(lambda: out.pending == 0 and out.published == configs + 2)
    started = time.monotonic()
    out.write({**WATER, "total_m3": 7.5})  # nothing new to announce: at once
    live.wait_count("wmbus/meter/76348799", 3, timeout=0.8)
    assert time.monotonic() - started < 0.8
    assert retained(broker, clients, "homeassistant/sensor/wmbus_76348799/total_m3/config")
    late = subscribe(broker, clients, "wmbus/meter/#")
    time.sleep(0.2)
    assert late.on("wmbus/meter/76348799") == []  # not retained


def test_a_held_reading_waits_through_a_broker_outage(persistent_broker: Mosquitto, clients: list) -> None:
    sub = subscribe(persistent_broker, clients, "#", client_id="test-sub-held", persistent=True)
    out = make_output(persistent_broker, clients, discovery=True, retain=False, discovery_delay=0.2)
    persistent_broker.stop()
    assert wait_until(lambda: not out.connected)
    out.write(WATER)
    configs = len(discovery_messages(WATER, "wmbus"))
    assert out.pending == configs + 1 and out.published == 0
    persistent_broker.start()
    sub.wait_count("wmbus/meter/76348799", 1)
    topics = sub.topics()
    assert max(i for i, t in enumerate(topics) if t.startswith("homeassistant/")) < topics.index(
        "wmbus/meter/76348799"
    )
    assert wait_until(lambda: out.pending == 0 and out.published == configs + 1)


def test_errors_get_no_discovery(broker: Mosquitto, clients: list) -> None:
    sub = subscribe(broker, clients, "#")
    out = make_output(broker, clients, discovery=True)
    out.write({"raw": "2a44", "error": "no key for meter 12345678", "id": "12345678", "total_m3": 1.0})
    sub.wait_count("wmbus/error/12345678", 1)
    assert not [t for t in sub.topics() if t.startswith("homeassistant/")]


# --- broker outages --------------------------------------------------------------------------------------


def test_queue_holds_readings_while_the_broker_is_down(persistent_broker: Mosquitto, clients: list) -> None:
    sub = subscribe(persistent_broker, clients, "wmbus/meter/#", client_id="test-sub-hold", persistent=True)
    out = make_output(persistent_broker, clients)
    persistent_broker.stop()
    assert wait_until(lambda: not out.connected)
    for n in range(5):
        out.write({"id": "11111111", "total_m3": n})
    assert out.pending == 5 and out.published == 0
    persistent_broker.start()
    readings = sub.wait_count("wmbus/meter/11111111", 5)
    assert [r["total_m3"] for r in readings] == [0, 1, 2, 3, 4]
    assert wait_until(lambda: out.published == 5 and out.pending == 0)
    assert out.dropped == 0


def test_full_queue_drops_the_oldest(persistent_broker: Mosquitto, clients: list, caplog) -> None:
    sub = subscribe(persistent_broker, clients, "wmbus/meter/#", client_id="test-sub-drop", persistent=True)
    out = make_output(persistent_broker, clients, queue_size=3)
    persistent_broker.stop()
    assert wait_until(lambda: not out.connected)
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.mqtt"):
        for n in range(5):
            out.write({"id": "22222222", "total_m3": n})
    assert out.dropped == 2 and out.pending == 3
    assert "queue full" in caplog.text and caplog.text.count("queue full") == 1  # rate-limited
    persistent_broker.start()
    readings = sub.wait_count("wmbus/meter/22222222", 3)
    assert wait_until(lambda: out.pending == 0)
    assert [r["total_m3"] for r in sub.json_on("wmbus/meter/22222222")] == [2, 3, 4]
    assert len(readings) == 3 and out.published == 3


def test_unconfirmed_messages_are_resent_after_a_broker_crash(broker: Mosquitto, clients: list) -> None:
    out = make_output(broker, clients, retain=True)  # retained: the crash loses subscriptions, not these
    assert retained(broker, clients, "wmbus/receiver/rx1/status") == [{"state": "online"}]
    broker.pause()
    ids = ["33333331", "33333332", "33333333"]
    for meter in ids:
        out.write({"id": meter, "total_m3": 1.5})
    assert wait_until(lambda: out.in_flight == 3)  # sent, never acknowledged
    assert out.pending == 3 and out.published == 0
    broker.kill()
    assert wait_until(lambda: not out.connected)
    broker.start()
    assert wait_until(lambda: out.published == 3 and out.pending == 0)
    for meter in ids:
        assert retained(broker, clients, f"wmbus/meter/{meter}") == [{"id": meter, "total_m3": 1.5}]
    assert out.dropped == 0


def test_dropped_discovery_is_announced_again(clients: list) -> None:
    out = MqttOutput(parse_mqtt_url(f"mqtt://127.0.0.1:{free_port()}"), queue_size=2, **FAST)  # type: ignore[arg-type]
    clients.append(out)
    configs = len(discovery_messages(WATER, "wmbus"))  # total_m3, target_m3, ..., rssi_dbfs, snr_db
    out.write(WATER)
    assert out.dropped == configs + 1 - 2
    out.write(WATER)  # its configs were lost to the full queue, so they go out again
    assert out.dropped == 2 * (configs + 1) - 2
    assert out.stats() == {"published": 0, "dropped": 2 * (configs + 1) - 2, "pending": 2}
    out.close(timeout=0.1)


def test_unreachable_broker_at_start_is_retried(broker: Mosquitto, clients: list, caplog) -> None:
    broker.stop()
    settings = parse_mqtt_url(f"mqtt://meter-reader:s3cret-pw@127.0.0.1:{broker.port}")
    with caplog.at_level(logging.INFO, logger="sdr_wmbus.mqtt"):
        # Retained, so that the subscriber (which can only connect after the broker) gets it in any case.
        out = MqttOutput(settings, receiver="rx1", discovery=False, retain=True, **FAST)  # type: ignore[arg-type]
        clients.append(out)
        assert not out.wait_connected(0.2)
        out.write(WATER)
        assert out.pending == 1
        broker.start()
        assert out.wait_connected(5)
        sub = subscribe(broker, clients, "wmbus/meter/#")
        assert sub.wait_count("wmbus/meter/76348799", 1) == [WATER]
    unreachable = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1
    assert unreachable[0].startswith(f"MQTT broker 127.0.0.1:{broker.port} unreachable")
    assert unreachable[0].endswith("retrying")
    assert "s3cret-pw" not in caplog.text


def test_close_is_bounded_when_the_broker_is_gone(broker: Mosquitto, clients: list, caplog) -> None:
    out = make_output(broker, clients)
    broker.stop()
    assert wait_until(lambda: not out.connected)
    out.write(WATER)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.mqtt"):
        out.close(timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert "1 message(s) not delivered" in caplog.text


# --- TLS -----------------------------------------------------------------------------------------------


def test_mqtts_with_a_ca_file_or_insecure(tmp_path: Path, clients: list, caplog) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    with broker_or_skip(
        extra_config=f"listener {port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
    ) as broker:
        settings = parse_mqtt_url(f"mqtts://127.0.0.1:{port}")
        for options in ({"ca_certs": str(cert)}, {"insecure": True}):
            sub = subscribe(broker, clients, "wmbus/meter/#")
            out = MqttOutput(settings, receiver="tls", discovery=False, **options, **FAST)  # type: ignore[arg-type]
            clients.append(out)
            assert out.wait_connected(5), options
            out.write(WATER)
            assert sub.wait_count("wmbus/meter/76348799", 1) == [WATER]
            out.close()
        with caplog.at_level(logging.WARNING, logger="sdr_wmbus.mqtt"):
            out = MqttOutput(settings, receiver="tls", discovery=False, **FAST)  # type: ignore[arg-type]
            clients.append(out)
            assert not out.wait_connected(0.3)  # self-signed, not trusted by default
            out.close(timeout=0.1)
        assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


# --- URL parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker.local", MqttSettings("mqtt", "broker.local", 1883)),
        ("mqtts://broker.local", MqttSettings("mqtts", "broker.local", 8883)),
        ("mqtt://10.0.0.2:1884", MqttSettings("mqtt", "10.0.0.2", 1884)),
        ("MQTT://Broker.Local:1884/", MqttSettings("mqtt", "broker.local", 1884)),
        ("mqtt://user@host", MqttSettings("mqtt", "host", 1883, "user")),
        ("mqtt://user:pa%40ss%2F@host:2000", MqttSettings("mqtt", "host", 2000, "user", "pa@ss/")),
        ("mqtts://u:p@[::1]:8884", MqttSettings("mqtts", "::1", 8884, "u", "p")),
    ],
)
def test_parse_mqtt_url(url: str, expected: MqttSettings) -> None:
    assert parse_mqtt_url(url) == expected


def test_settings_never_show_the_password() -> None:
    settings = parse_mqtt_url("mqtts://alice:hunter2@broker:8884")
    assert settings.password == "hunter2" and settings.tls
    assert settings.redacted() == "mqtts://alice:***@broker:8884"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert parse_mqtt_url("mqtt://bob@h").redacted() == "mqtt://bob@h:1883"
    assert parse_mqtt_url("mqtt://[::1]").redacted() == "mqtt://[::1]:1883"


@pytest.mark.parametrize(
    "url",
    [
        "broker.local:1883",
        "http://alice:hunter2@broker",
        "mqtt://alice:hunter2@broker:notaport",
        "mqtt://alice:hunter2@broker:70000",
        "mqtt://alice:hunter2@broker:0",
        "mqtt://alice:hunter2@broker:",
        "mqtt://alice:hunter2@",
        "mqtt://alice:hunter2@broker/topic",
        "mqtt://alice:hunter2#x@broker",
        "mqtt://alice:hunter2@broker?x=1",
        "mqtt://:hunter2@broker",
    ],
)
def test_bad_urls_fail_in_one_line_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_mqtt_url(url)
    message = str(info.value)
    assert "hunter2" not in message and "\n" not in message and message


def test_tls_options_need_mqtts() -> None:
    with pytest.raises(ConfigError, match="mqtts"):
        MqttOutput(parse_mqtt_url("mqtt://127.0.0.1:1"), ca_certs="/nonexistent/ca.pem")
    with pytest.raises(ConfigError, match="TLS"):
        MqttOutput(parse_mqtt_url("mqtts://127.0.0.1:1"), ca_certs="/nonexistent/ca.pem")
