"""The MQTT password from --mqtt-password-file or SDR_WMBUS_MQTT_PASSWORD (not in ps), and never shown:
a broker that wants it, a known password, and every output searched for it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from mosquitto import broker_or_skip

from sdr_wmbus.errors import ConfigError
from sdr_wmbus.outputs.mqtt import PASSWORD_ENV, MqttSettings, mqtt_settings, read_password_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
METERS = ROOT / "samples" / "meters.toml"
# Characters a URL would need percent-encoded, and one that is not ASCII: a file takes them as they are.
PASSWORD = "Zq7-pä ss:w@rd/#?%-secret"
WATER = "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24"


def password_file(tmp_path: Path, text: str = PASSWORD + "\n", name: str = "mqtt-password") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# ---------------------------------------------------------------------- where the password comes from


def test_the_password_comes_from_the_url_the_file_or_the_environment(tmp_path):
    url = "mqtt://sdr@broker"
    assert mqtt_settings("mqtt://sdr:inurl@broker", environ={}).password == "inurl"
    from_file = mqtt_settings(url, str(password_file(tmp_path)), environ={})
    assert from_file == MqttSettings("mqtt", "broker", 1883, "sdr", PASSWORD)
    crlf = password_file(tmp_path, PASSWORD + "\r\n", "crlf")
    assert mqtt_settings(url, str(crlf), environ={}).password == PASSWORD
    assert mqtt_settings(url, environ={PASSWORD_ENV: PASSWORD}).password == PASSWORD
    assert mqtt_settings("mqtt://sdr:inurl@broker", environ={PASSWORD_ENV: "env"}).password == "inurl"
    assert mqtt_settings("mqtt://broker", environ={PASSWORD_ENV: ""}).password is None  # empty: unset
    assert PASSWORD not in repr(from_file) and PASSWORD not in from_file.redacted()


@pytest.mark.parametrize(
    ("url", "content", "env", "message"),
    [
        ("mqtt://sdr:inurl@broker", PASSWORD, None, "in the URL and --mqtt-password-file"),
        ("mqtt://broker", PASSWORD, None, "needs a user name in the URL"),
        ("mqtt://broker", None, PASSWORD, f"a password from {PASSWORD_ENV} needs a user name"),
        ("mqtt://sdr@broker", "", None, "empty"),
        ("mqtt://sdr@broker", "\n", None, "empty"),
        ("mqtt://sdr@broker", f"{PASSWORD}\n{PASSWORD}\n", None, "on one line, alone"),
        ("mqtt://sdr@broker", f"user:{PASSWORD}\nmore", None, "on one line, alone"),
        ("mqtt://sdr@broker", PASSWORD * 300, None, "longer than 4096 bytes"),
        ("mqtt://sdr@broker", b"\xff\xfe" + PASSWORD.encode(), None, "not UTF-8"),
    ],
)
def test_bad_password_settings_are_one_line_without_the_password(tmp_path, url, content, env, message):
    path = None
    if content is not None:
        path = tmp_path / "pw"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        path.chmod(0o600)
    with pytest.raises(ConfigError) as info:
        mqtt_settings(
            url, None if path is None else str(path), environ={} if env is None else {PASSWORD_ENV: env}
        )
    text = str(info.value)
    assert message in text and "\n" not in text
    assert PASSWORD not in text and "secret" not in text


def test_a_password_file_that_cannot_be_read(tmp_path):
    cases = [
        (tmp_path / "missing", "No such file"),
        (tmp_path, "Is a directory"),
        ("/dev/zero", "not a regular"),
    ]
    for path, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            read_password_file(str(path))
        assert str(path) in str(info.value)


def test_a_password_file_others_can_read_is_warned_about(tmp_path, caplog):
    path = password_file(tmp_path)
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.mqtt"):
        read_password_file(str(path))
        assert not caplog.records
        path.chmod(0o644)
        assert read_password_file(str(path)) == PASSWORD
    assert "readable by other users: chmod 600 it" in caplog.text and PASSWORD not in caplog.text


def test_cli_usage_errors_for_the_password_file(tmp_path):
    cases = [
        (["--mqtt", "mqtt://sdr@127.0.0.1:1", "--mqtt-password-file", str(tmp_path / "nope")], "cannot read"),
        (["--mqtt-password-file", str(password_file(tmp_path))], "--mqtt-password-file needs --mqtt URL"),
    ]
    for args, message in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "sdr_wmbus", "decode", *args, WATER], capture_output=True, timeout=60
        )
        err = proc.stderr.decode()
        assert proc.returncode == 2 and message in err, err
        assert err.count("\n") == 1 and "Traceback" not in err and PASSWORD not in err


# ---------------------------------------------------------------------- against a broker that wants it


@pytest.fixture
def secured(tmp_path):
    """A mosquitto that lets in user 'sdr' with PASSWORD only."""
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not os.access(tool, os.X_OK):
        pytest.skip("mosquitto_passwd is not installed")
    users = tmp_path / "users"
    subprocess.run([tool, "-c", "-b", str(users), "sdr", PASSWORD], check=True, capture_output=True)
    users.chmod(0o600)
    with broker_or_skip(extra_config=f"allow_anonymous false\npassword_file {users}\n") as broker:
        yield broker


class Everything:
    """Every message on the broker, as user sdr."""

    def __init__(self, port: int) -> None:
        self.payloads: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.username_pw_set("sdr", PASSWORD)
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe("#", qos=1), self.ready.set())
        self.client.on_message = lambda c, u, m: self.payloads.append((m.topic, m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(5)
        time.sleep(0.2)

    def on(self, prefix: str) -> list[dict]:
        return [json.loads(p) for t, p in list(self.payloads) if t.startswith(prefix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def never_shown(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        assert PASSWORD.encode() not in data
        assert b"Zq7-p" not in data  # not even a part of it
        assert b"Zq7-p%C3%A4" not in data  # nor percent-encoded


def test_listen_and_serve_get_the_password_from_a_file_and_the_environment(secured, tmp_path):
    from sdr_wmbus.sources.rtltcp_server import RtlTcpServer

    everything = Everything(secured.port)
    url = f"mqtt://sdr@127.0.0.1:{secured.port}"
    secret = password_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    serve = subprocess.Popen(
        [sys.executable, "-m", "sdr_wmbus", "serve", "--mqtt", url, "--meters", str(METERS), "-vv"]
        + ["--receiver-name", "central", "--dedup-window", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, PASSWORD_ENV: PASSWORD, "PYTHONUNBUFFERED": "1"},
    )
    # The receiver publishes each telegram once (the server's repeats are duplicates): serve must be
    # subscribed before it starts, or the first copies go to nobody.
    serve_lines: list[bytes] = []
    serving = threading.Event()

    def read_serve_stderr() -> None:
        for line in serve.stderr:
            serve_lines.append(line)
            if b"serving: decoding" in line:
                serving.set()

    reader = threading.Thread(target=read_serve_stderr, daemon=True)
    reader.start()
    assert serving.wait(60), b"".join(serve_lines)
    time.sleep(0.3)
    with RtlTcpServer(SAMPLE.read_bytes(), rate=1.6e6) as server:
        listen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sdr_wmbus",
                "listen",
                "--rtl-tcp",
                f"127.0.0.1:{server.port}",
                "--raw-only",
            ]
            + ["--mqtt", url, "--mqtt-password-file", str(secret), "--receiver-name", "cellar", "-vv"]
            + ["--stats-interval", "0.5"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        cmdlines = []
        deadline = time.monotonic() + 60
        while len(everything.on("wmbus/meter/")) < 6 and time.monotonic() < deadline:
            if not cmdlines:
                cmdlines = [Path(f"/proc/{p.pid}/cmdline").read_bytes() for p in (serve, listen)]
            time.sleep(0.1)
        listen.send_signal(signal.SIGTERM)
        listen_out, listen_err = listen.communicate(timeout=30)
    time.sleep(0.5)
    serve.send_signal(signal.SIGTERM)
    serve_out = serve.stdout.read()
    serve.wait(timeout=30)
    reader.join(timeout=10)
    serve_err = b"".join(serve_lines)
    everything.close()
    assert listen.returncode == 0 and serve.returncode == 0, (listen_err, serve_err)
    readings = everything.on("wmbus/meter/")
    assert {r["id"] for r in readings} == {
        "78563412",
        "76348799",
        "12345678",
        "80081991",
        "43054304",
        "33221100",
    }
    assert all(r["receivers"] == ["cellar"] for r in readings)
    assert "MQTT connected to mqtt://sdr:***@127.0.0.1" in serve_err.decode()  # what -v shows of it
    everything_published = b"\n".join(t.encode() + b" " + p for t, p in everything.payloads)
    never_shown(listen_out, listen_err, serve_out, serve_err, everything_published, *cmdlines)


def test_a_wrong_password_is_refused_in_one_line_that_does_not_show_it(secured, tmp_path):
    wrong = password_file(tmp_path, "Zq7-pä wrong-secret\n", "wrong")
    for args, env in [
        (["--mqtt-password-file", str(wrong)], {}),
        ([], {PASSWORD_ENV: "Zq7-pä wrong-secret"}),
    ]:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sdr_wmbus",
                "decode",
                "--mqtt",
                f"mqtt://sdr@127.0.0.1:{secured.port}",
            ]
            + [*args, WATER],
            capture_output=True,
            timeout=60,
            env={**os.environ, **env},
        )
        err = proc.stderr.decode()
        assert proc.returncode == 1, err
        assert err.strip().splitlines()[-1] == (
            f"sdr-wmbus: error: MQTT broker 127.0.0.1:{secured.port} unreachable "
            "(it refused the connection: Not authorized)"
        )
        assert (
            "Traceback" not in err
            and "wrong-secret" not in err
            and "wrong-secret" not in proc.stdout.decode()
        )
