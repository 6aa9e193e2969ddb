"""--mqtt on the commands, `serve` (central decoding, duplicates from several receivers, shared
subscriptions), --seen/--only/--ignore: end to end with a real mosquitto on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from mosquitto import broker_or_skip, free_port

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
METERS = ROOT / "samples" / "meters.toml"
DECODABLE = {"78563412", "76348799", "12345678", "80081991", "43054304", "33221100"}  # 67042798: no key


def sdr_wmbus(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sdr_wmbus", *args], capture_output=True, timeout=timeout)


class Collector:
    """A paho subscriber that keeps every message, retained ones flagged."""

    def __init__(self, url_port: int, *topics: str) -> None:
        self.messages: list[tuple[str, dict, bool]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p: (
            [c.subscribe(t, qos=1) for t in topics],
            self.ready.set(),
        )
        self.client.connect("127.0.0.1", url_port)
        self.client.loop_start()
        assert self.ready.wait(5)
        time.sleep(0.2)  # SUBACK

    def _on_message(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append((message.topic, json.loads(message.payload), bool(message.retain)))

    def on(self, prefix: str) -> list[tuple[str, dict, bool]]:
        with self.lock:
            return [m for m in self.messages if m[0].startswith(prefix)]

    def wait_for(self, prefix: str, count: int, timeout: float = 30.0) -> list[tuple[str, dict, bool]]:
        deadline = time.monotonic() + timeout
        while len(self.on(prefix)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.on(prefix)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker():
    with broker_or_skip() as instance:
        yield instance


@pytest.fixture(scope="module")
def raw_records() -> list[dict]:
    """What a keyless receiver prints for the sample recording (replay --raw-only)."""
    proc = sdr_wmbus("replay", str(SAMPLE), "--raw-only", "-q")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_replay_publishes_readings_raw_frames_status_and_discovery(broker):
    sub = Collector(broker.port, "wmbus/#")
    proc = sdr_wmbus(
        "replay", str(SAMPLE), "--meters", str(METERS), "--mqtt", broker.url(), "--receiver-name", "rx1"
    )
    assert proc.returncode == 0, proc.stderr
    readings = sub.wait_for("wmbus/meter/", len(DECODABLE))
    by_id = {topic.rsplit("/", 1)[1]: payload for topic, payload, _ in readings}
    assert set(by_id) == DECODABLE
    assert by_id["76348799"]["total_m3"] == 6.408 and by_id["76348799"]["mode"] == "C1"
    assert by_id["12345678"]["total_m3"] == 28504.27
    errors = sub.wait_for("wmbus/error/", 1)
    assert errors[0][0] == "wmbus/error/67042798"
    assert errors[0][1]["error"] == "encrypted, no key for meter 67042798"
    raw = sub.wait_for("wmbus/raw/rx1", 7)
    assert len(raw) == 7 and all(r[1]["receiver"] == "rx1" and "rssi_dbfs" in r[1] for r in raw)
    assert {r[1]["raw"] for r in raw} >= {by_id[m]["raw"] for m in DECODABLE}
    # the stdout JSON lines are still there beside MQTT
    assert len(proc.stdout.decode().splitlines()) == 7
    sub.close()
    # retained: a subscriber that comes later gets the discovery configs and the receiver's last status
    late = Collector(broker.port, "homeassistant/#", "wmbus/receiver/#")
    configs = late.wait_for("homeassistant/sensor/", 10)
    assert all(retained for _, _, retained in configs)
    total = next(p for t, p, _ in configs if t == "homeassistant/sensor/wmbus_76348799/total_m3/config")
    assert total["device_class"] == "water" and total["state_class"] == "total_increasing"
    assert total["unit_of_measurement"] == "m³" and total["state_topic"] == "wmbus/meter/76348799"
    assert "value_json['total_m3']" in total["value_template"]
    assert total["device"]["identifiers"] == ["wmbus_76348799"]
    # only the meters of the meters file are announced (the ABB meter and the keyless one are not)
    announced = {topic.split("/")[2] for topic, _, _ in configs}
    assert announced == {f"wmbus_{m}" for m in DECODABLE - {"33221100"}}
    status = late.wait_for("wmbus/receiver/rx1/status", 1)
    assert status[-1][1]["state"] == "offline"  # a finished replay says so
    late.close()


TELEGRAMS = ROOT / "samples" / "telegrams.txt"


def decode_sample(broker, *args: str) -> subprocess.CompletedProcess:
    """`sdr-wmbus decode` of samples/telegrams.txt into the broker."""
    command = [sys.executable, "-m", "sdr_wmbus", "decode", "--meters", str(METERS), "--mqtt", broker.url()]
    return subprocess.run(
        [*command, "--no-json", *args], stdin=TELEGRAMS.open("rb"), capture_output=True, timeout=60
    )


def test_home_assistant_shows_every_reading_of_a_decode_and_after_its_restart(broker):
    """The issue's check: Home Assistant (subscribing to a state topic ~300 ms after the config) running
    while `decode` publishes, then restarted."""
    pytest.importorskip("jinja2")
    from ha_sim import HomeAssistant

    ha = HomeAssistant(broker.host, broker.port, subscribe_delay=0.3)
    try:
        proc = decode_sample(broker, "--receiver-name", "rx1")
        assert proc.returncode == 0, proc.stderr
        ha.settled()
        shown = {e.entity_id: e.state for e in ha.entities.values() if e.enabled}
        assert {e.device_id for e in ha.entities.values()} == {f"wmbus_{m}" for m in DECODABLE - {"33221100"}}
        assert len(shown) >= 30 and "unknown" not in shown.values(), shown
        assert ha.log == []
        assert shown["sensor.wmbus_76348799_total_m3"] == "6.408"
        assert shown["sensor.wmbus_43054304_total_kwh"] == "9341"
        assert shown["binary_sensor.wmbus_76348799_problem"] == "on"  # the Kamstrup says DRY
        assert ha.friendly_name("sensor.wmbus_43054304_target_date") == "district heating Billing date"
        assert ha.devices["wmbus_76348799"]["model"] == "Kamstrup Multical 21 / flowIQ"
        # disabled by default: values from the past, and the Kamstrup's words that make up its status
        hidden = {e.unique_id for e in ha.entities.values() if not e.enabled}
        history = {f"wmbus_43054304_target_{n}_kwh" for n in range(2, 31, 2)} | {"wmbus_80081991_base_hca"}
        assert history | {"wmbus_76348799_current_status"} <= hidden
        current = (
            "total_m3",
            "total_kwh",
            "target_kwh",
            "target_m3",
            "consumption_hca",
            "current_consumption_hca",
        )
        assert not [u for u in hidden if u.split("_", 2)[2] in current]
        ha = ha.restart()
        ha.settled()
        assert {e.entity_id: e.state for e in ha.entities.values() if e.enabled} == shown
    finally:
        ha.close()


def test_discover_all_announces_the_meters_a_meters_file_leaves_out(broker):
    sub = Collector(broker.port, "homeassistant/#", "wmbus/meter/#")
    proc = decode_sample(broker, "--discover-all", "--no-mqtt-retain")
    assert proc.returncode == 0, proc.stderr
    sub.wait_for("wmbus/meter/", len(DECODABLE))
    time.sleep(0.3)
    announced = {topic.split("/")[2] for topic, _, _ in sub.on("homeassistant/")}
    assert announced == {f"wmbus_{m}" for m in DECODABLE}
    abb = next(p for t, p, _ in sub.on("homeassistant/sensor/wmbus_33221100/"))
    assert abb["device"]["sw_version"] == "B1.28.0" and abb["device"]["manufacturer"] == "ABB"
    sub.close()
    late = Collector(broker.port, "wmbus/meter/#")  # --no-mqtt-retain: no reading is retained
    time.sleep(0.3)
    assert late.on("wmbus/meter/") == []
    late.close()


def test_no_discovery_and_prefix(broker):
    sub = Collector(broker.port, "#")
    proc = sdr_wmbus(
        "decode", "--meters", str(METERS), "--mqtt", broker.url(), "--mqtt-prefix", "home/wmbus",
        "--no-discovery", "--no-json",
        "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    readings = sub.wait_for("home/wmbus/meter/76348799", 1)
    assert readings[0][1]["total_m3"] == 6.408
    time.sleep(0.3)
    assert not sub.on("homeassistant/")
    sub.close()


def test_an_unreachable_broker_is_one_line_and_exit_1():
    proc = sdr_wmbus("decode", "--mqtt", f"mqtt://user:secret@127.0.0.1:{free_port()}", "2e44")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "MQTT broker 127.0.0.1:" in err and "unreachable" in err
    assert err.strip().count("\n") == 0 and "secret" not in err and "Traceback" not in err


def test_seen_lists_every_meter_and_only_ignore_filter(tmp_path):
    seen = tmp_path / "seen.json"
    proc = sdr_wmbus(
        "replay", str(SAMPLE), "--meters", str(METERS), "--seen", str(seen), "--only", "76348799,1234*"
    )
    assert proc.returncode == 0, proc.stderr
    ids = [json.loads(line)["id"] for line in proc.stdout.decode().splitlines()]
    assert ids == ["76348799", "12345678"]
    listing = {entry["id"]: entry for entry in json.loads(seen.read_text())}
    assert set(listing) == DECODABLE | {"67042798"}  # every meter heard, filtered or not
    nokey = listing["67042798"]
    assert nokey["encrypted"] is True and nokey["decoded"] is False and nokey["manufacturer"] == "KAM"
    sent = [json.loads(line) for line in Path(f"{SAMPLE}.telegrams.jsonl").read_text().splitlines()]
    assert nokey["mode"] == sent[-1]["mode"] and nokey["telegrams"] == 1 and "best_rssi_dbfs" in nokey
    assert listing["78563412"]["encrypted"] is False and listing["78563412"]["decoded"] is True
    # each meter's transmitter as last measured: carrier offset and chip clock
    by_id = {json.loads(line)["id"]: json.loads(line) for line in proc.stdout.decode().splitlines()}
    kamstrup = listing["76348799"]
    assert kamstrup["last_freq_offset_hz"] == by_id["76348799"]["freq_offset_hz"]
    assert kamstrup["last_chip_rate_error_ppm"] == by_id["76348799"]["chip_rate_error_ppm"]
    assert isinstance(nokey["last_chip_rate_error_ppm"], int)
    proc = sdr_wmbus("replay", str(SAMPLE), "--ignore", "67042798,7*", "-q")
    ids = {json.loads(line)["id"] for line in proc.stdout.decode().splitlines()}
    assert ids == DECODABLE - {"78563412", "76348799"}
    bad = sdr_wmbus("replay", str(SAMPLE), "--only", "12;34")
    assert bad.returncode == 2 and "--only" in bad.stderr.decode()


class Serve:
    def __init__(self, broker, *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sdr_wmbus",
                "serve",
                "--mqtt",
                broker.url(),
                "--meters",
                str(METERS),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out.decode(), err.decode()


def publish_copies(broker, records: list[dict], receivers: dict[str, float]) -> None:
    """Each telegram as heard by each receiver (with that receiver's RSSI), interleaved."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = []
    for record in records:
        for receiver, rssi in receivers.items():
            copy = {**record, "receiver": receiver, "rssi_dbfs": rssi}
            infos.append(client.publish(f"wmbus/raw/{receiver}", json.dumps(copy), qos=1))
    for info in infos:
        info.wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def wait_connected(sub: Collector, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.get("state") == "online" for _, p, _ in sub.on(f"wmbus/receiver/{name}/status")):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not come online")


def test_serve_decodes_raw_frames_once_with_every_receiver(broker, raw_records):
    sub = Collector(broker.port, "wmbus/meter/#", "wmbus/error/#", "wmbus/receiver/#")
    serve = Serve(broker, "--receiver-name", "central", "--dedup-window", "0.5")
    wait_connected(sub, "central")
    publish_copies(broker, raw_records, {"attic": -30.5, "cellar": -12.25, "garage": -50.0})
    readings = sub.wait_for("wmbus/meter/", len(DECODABLE))
    errors = sub.wait_for("wmbus/error/", 1)
    time.sleep(1.0)  # no second reading of any telegram may follow
    code, out, err = serve.stop()
    assert code == 0, err
    readings = sub.on("wmbus/meter/")
    assert sorted(p["id"] for _, p, _ in readings) == sorted(DECODABLE)
    for _, payload, _ in readings + errors:
        assert payload["receivers"] == ["attic", "cellar", "garage"]
        assert payload["receiver"] == "cellar" and payload["rssi_dbfs"] == -12.2  # the best copy
    by_id = {p["id"]: p for _, p, _ in readings}
    assert by_id["43054304"]["total_kwh"] == 9341  # decrypted centrally (mode 7)
    assert errors[0][1]["error"] == "encrypted, no key for meter 67042798"
    assert "21 raw frames, 7 readings published, 14 copies merged" in err
    sub.close()


def test_two_serve_instances_share_the_load_and_report_each_telegram_once(broker, raw_records):
    sub = Collector(broker.port, "wmbus/meter/#", "wmbus/error/#", "wmbus/receiver/#")
    first = Serve(broker, "--receiver-name", "serve-a", "--share", "decoders", "--dedup-window", "1")
    second = Serve(broker, "--receiver-name", "serve-b", "--share", "decoders", "--dedup-window", "1")
    wait_connected(sub, "serve-a")
    wait_connected(sub, "serve-b")
    for _ in range(3):  # three bursts of copies, within one dedup window
        publish_copies(broker, raw_records, {"north": -40.0, "south": -20.0})
    sub.wait_for("wmbus/meter/", len(DECODABLE))
    time.sleep(3.0)
    results = [first.stop(), second.stop()]
    assert all(code == 0 for code, _, _ in results), results
    readings = sub.on("wmbus/meter/") + sub.on("wmbus/error/")
    # 7 telegrams x 3 batches x 2 receivers = 42 copies, spread over two instances: 7 readings in all
    assert sorted(p["id"] for _, p, _ in readings) == sorted(DECODABLE | {"67042798"})
    assert all(p["receivers"] == ["north", "south"] and p["receiver"] == "south" for _, p, _ in readings)
    served = [int(err.split(" raw frames")[0].rsplit(" ", 1)[1]) for _, _, err in results]
    assert sum(served) == 42 and min(served) > 0  # both instances took part
    sub.close()


def test_listen_raw_only_publishes_frames_and_status_and_holds_no_keys(broker):
    from sdr_wmbus.sources.rtltcp_server import RtlTcpServer

    sub = Collector(broker.port, "wmbus/#")
    sent = [json.loads(line) for line in Path(f"{SAMPLE}.telegrams.jsonl").read_text().splitlines()]
    with RtlTcpServer(SAMPLE.read_bytes(), rate=1.6e6) as server:
        args = ["listen", "--rtl-tcp", f"127.0.0.1:{server.port}", "--raw-only", "--mqtt", broker.url()]
        args += ["--receiver-name", "cellar", "--no-json", "--stats-interval", "0.5"]
        listen = subprocess.Popen(
            [sys.executable, "-m", "sdr_wmbus", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        raw = sub.wait_for("wmbus/raw/cellar", len(sent), timeout=60)
        time.sleep(1.0)  # a status publication with counters
        listen.send_signal(signal.SIGTERM)
        out, err = listen.communicate(timeout=30)
    assert listen.returncode == 0, err.decode()
    assert out == b""
    assert [r[1]["raw"] for r in raw] == [s["hex"].lower() for s in sent]
    assert all(r[1]["receiver"] == "cellar" and r[1]["mode"] in ("T1", "C1") for r in raw)
    assert {r[1]["id"] for r in raw} == DECODABLE | {"67042798"}  # the link-layer id, for routing
    assert not sub.on("wmbus/meter/") and not sub.on("homeassistant/")  # no decoding without keys
    statuses = [p for _, p, _ in sub.on("wmbus/receiver/cellar/status")]
    running = [p for p in statuses if p.get("state") == "online" and "telegrams" in p]
    assert running and running[-1]["telegrams"] == len(sent) and running[-1]["dropped_blocks"] == 0
    assert statuses[-1]["state"] == "offline"
    sub.close()
