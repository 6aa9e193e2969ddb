"""Keys are secrets: run every command with known keys (right and wrong ones, on the command line, in a
key file and in meters files, also typed into the wrong field) and look for them in everything the
program writes: stdout, stderr at the most verbose level, MQTT payloads and error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mosquitto import broker_or_skip
from test_listen import Listen
from test_mqtt_cli import Collector, Serve, publish_copies, wait_connected

from sdr_wmbus.sources.rtltcp_server import RtlTcpServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
KAMWATER = "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24"
KAMWATER_KEY = "28F64A24988064A079AA2C807D6102AE"
WRONG_KEY = "0123456789ABCDEF0123456789ABCDEF"
SAMPLE_KEYS = [
    line.split('"')[1]
    for line in (ROOT / "samples" / "meters.toml").read_text().splitlines()
    if "key =" in line
]
SECRETS = [KAMWATER_KEY, WRONG_KEY, *SAMPLE_KEYS]


def leaks(text: str) -> list[str]:
    """Secrets (or their first 12 hex digits) found in a text, in any case."""
    folded = text.upper()
    return [key for key in SECRETS if key[:12].upper() in folded]


def run(*args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", *args], input=stdin, capture_output=True, text=True, timeout=180
    )
    return done.stdout + done.stderr


@pytest.fixture
def broker():
    with broker_or_skip() as instance:
        yield instance


@pytest.fixture
def files(tmp_path):
    meters = tmp_path / "meters.toml"
    meters.write_text(f'[[meter]]\nid = "76348799"\nkey = "{KAMWATER_KEY}"\nname = "kitchen"\n')
    meters.chmod(0o600)
    wmbusmeters = tmp_path / "wmbusmeters.d"
    wmbusmeters.mkdir()
    (wmbusmeters / "water").write_text(f"name=kitchen\ndriver=multical21\nid=76348799\nkey={KAMWATER_KEY}\n")
    key_file = tmp_path / "key"
    key_file.write_text(KAMWATER_KEY + "\n")
    key_file.chmod(0o600)
    key_in_id = tmp_path / "bad.toml"
    key_in_id.write_text(f'[[meter]]\nid = "{KAMWATER_KEY}"\n')
    short_key = tmp_path / "short.toml"
    short_key.write_text(f'[[meter]]\nid = "76348799"\nkey = "{KAMWATER_KEY[:-1]}"\n')
    bad_key_file = tmp_path / "badkey"
    bad_key_file.write_text(KAMWATER_KEY + "00\n")
    return {
        "meters": str(meters),
        "wmbusmeters": str(wmbusmeters),
        "key_file": str(key_file),
        "key_in_id": str(key_in_id),
        "short_key": str(short_key),
        "bad_key_file": str(bad_key_file),
    }


def test_decode_analyze_and_drivers_never_show_a_key(files):
    outputs = [
        run("decode", "--key", KAMWATER_KEY, KAMWATER),
        run("decode", "--key", WRONG_KEY, KAMWATER),
        run("decode", "--meters", files["meters"], "--output-format", "pretty", KAMWATER),
        run("decode", "--meters", files["wmbusmeters"], "--output-format", "human", KAMWATER),
        run("decode", "--key-file", files["key_file"], KAMWATER),
        run("decode", "--key-file", files["bad_key_file"], KAMWATER),
        run("decode", "--meters", files["key_in_id"], KAMWATER),
        run("decode", "--meters", files["short_key"], KAMWATER),
        run("decode", "--key", KAMWATER_KEY[:-2], KAMWATER),
        run("analyze", KAMWATER, "--key", KAMWATER_KEY),
        run("analyze", KAMWATER, "--key", KAMWATER_KEY, "--json"),
        run("analyze", KAMWATER, "--key", WRONG_KEY),
        run("drivers", "--json"),
    ]
    assert '"total_m3":6.408' in outputs[0].replace(" ", "")  # the key was used
    assert "decryption failed" in outputs[1]
    for text in outputs:
        assert not leaks(text), text[:300]


def test_replay_and_listen_never_show_a_key(broker):
    sub = Collector(broker.port, "#")
    outputs = [
        run("replay", str(SAMPLE), "--meters", str(ROOT / "samples" / "meters.toml"), "--mqtt", broker.url()),
        run("replay", str(SAMPLE), "--key", WRONG_KEY, "--output-format", "human"),
    ]
    with RtlTcpServer(SAMPLE.read_bytes(), rate=1.6e6) as server:
        listen = Listen(
            "--rtl-tcp", f"127.0.0.1:{server.port}", "--meters", str(ROOT / "samples" / "meters.toml"), "-vv"
        )
        got = listen.wait_for(7)
        listen.terminate()
    outputs.append(listen.stderr + "\n".join(json.dumps(g) for g in got))
    payloads = "\n".join(json.dumps(payload) for _, payload, _ in sub.messages)
    sub.close()
    assert sub.messages and got
    for text in [*outputs, payloads]:
        assert not leaks(text), text[:300]


def test_serve_never_shows_a_key(broker, files):
    sub = Collector(broker.port, "#")
    serve = Serve(broker, "--receiver-name", "central", "--dedup-window", "0.2", "-vv")
    wait_connected(sub, "central")
    publish_copies(broker, [{"raw": KAMWATER.lower(), "mode": "C1"}], {"attic": -30.0})
    sub.wait_for("wmbus/meter/", 1)
    _, out, err = serve.stop()
    payloads = "\n".join(json.dumps(payload) for _, payload, _ in sub.messages)
    sub.close()
    assert '"total_m3": 6.408' in payloads
    for text in (out, err, payloads):
        assert not leaks(text), text[:300]
