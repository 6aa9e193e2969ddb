"""Hostile and broken input (issue: hardening): nothing from the air, the broker or a file may stop a
receiver, forge a reading or produce invalid JSON. Each test uses the input quoted in the issue."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from mosquitto import broker_or_skip
from test_mqtt_cli import METERS, Collector, Serve, publish_copies, wait_connected

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.errors import CrcError
from sdr_wmbus.link.dll import add_crc_format_b, normalize_frame
from sdr_wmbus.outputs.jsonl import BadPayload, loads_object, to_json
from sdr_wmbus.security.keys import KeyStore

ROOT = Path(__file__).resolve().parents[1]
SHORT_MODE5 = "0e442d2c7856341201077a01000005"  # mode 5, no encrypted block at all
CORRUPT_B = "1e441486069c14000f0fa043f214000040030000000005ff0472bf1400f869"
INFINITE = "16442d2c7856341201077805130000807f05130000c07f"  # real32 +inf and NaN volumes


@pytest.fixture
def broker():
    with broker_or_skip() as instance:
        yield instance


def sdr_wmbus(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", *args], input=stdin, capture_output=True, timeout=120
    )


def test_short_mode5_frame_is_an_error_and_the_stream_goes_on():
    stdin = f"{SHORT_MODE5}\n{INFINITE}\n".encode()
    done = sdr_wmbus("decode", "--meters", str(METERS), stdin=stdin)
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert b"Traceback" not in done.stderr
    assert len(lines) == 2
    assert "less than one AES block" in lines[0]["error"]
    assert lines[1]["id"] == "12345678"  # the telegram after it still decodes


def test_a_bug_in_a_driver_never_ends_the_stream(monkeypatch):
    import sdr_wmbus.decoder as decoder

    def broken(*args, **kwargs):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(decoder, "apply_drivers", broken)  # what the decoder calls for the drivers
    out = TelegramDecoder().decode(bytes.fromhex(INFINITE))
    assert out["error"].startswith("internal error (ZeroDivisionError)")
    assert "total_m3" not in out and "records" not in out


def test_corrupted_format_b_frame_is_never_read_as_crc_free():
    with pytest.raises(CrcError):
        normalize_frame(bytes.fromhex(CORRUPT_B))
    out = TelegramDecoder().decode(bytes.fromhex(CORRUPT_B))
    assert "CRC error" in out["error"] and "total_m3" not in out


def test_every_single_bit_error_in_a_format_b_frame_is_refused():
    plain = bytes.fromhex("2F46C5141731425431087A0A0B00002F2F046D28") + bytes(range(20))
    plain = bytes([len(plain) - 1]) + plain[1:]
    frame_b = add_crc_format_b(plain)
    assert normalize_frame(frame_b) == (plain, "B", 0)
    for bit in range(8, 8 * len(frame_b)):  # the L field itself is checked by length
        corrupted = bytearray(frame_b)
        corrupted[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(CrcError):
            normalize_frame(bytes(corrupted))


def test_format_a_frame_with_a_bad_crc_and_trailing_bytes_is_refused():
    from sdr_wmbus.link.dll import add_crc_format_a

    plain = bytes.fromhex(INFINITE)
    frame_a = bytearray(add_crc_format_a(plain) + b"\x00\x01")
    frame_a[12] ^= 0x10
    with pytest.raises(CrcError):
        normalize_frame(bytes(frame_a))


def test_crc_free_frames_are_read_as_such_when_the_caller_says_so():
    hex_text = "19442423860775035048A251520015BEB6B2E1ED623A18FC74A5"  # one bit from a format-B CRC
    assert "error" in TelegramDecoder().decode(bytes.fromhex(hex_text))
    assert "error" not in TelegramDecoder().decode(bytes.fromhex(hex_text), link_crc="none")
    done = sdr_wmbus("decode", "--link-crc", "none", hex_text)
    assert done.returncode == 0 and "error" not in json.loads(done.stdout)
    done = sdr_wmbus("decode", f"telegram=|{hex_text}|")  # wmbusmeters' form is CRC-free
    assert done.returncode == 0 and "error" not in json.loads(done.stdout)


def test_non_finite_numbers_become_null_and_the_json_is_strict():
    done = sdr_wmbus("decode", INFINITE)
    text = done.stdout.decode()
    assert "Infinity" not in text and "NaN" not in text
    out = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert out["total_m3"] is None
    assert to_json({"a": float("inf"), "b": [float("nan"), 1.5]}) == '{"a":null,"b":[null,1.5]}'


@pytest.mark.parametrize(
    "payload",
    [b"[" * 100_000, b"{" * 100_000, b'{"raw":' + b"[" * 50 + b"]" * 50 + b"}", b"\xff\xfe", b"x" * 100_000],
)
def test_bounded_json_parser_refuses_hostile_payloads(payload):
    with pytest.raises(BadPayload):
        loads_object(payload)


def test_serve_survives_hostile_payloads(broker):
    sub = Collector(broker.port, "wmbus/meter/#", "wmbus/receiver/#")
    serve = Serve(broker, "--receiver-name", "central", "--dedup-window", "0.2")
    wait_connected(sub, "central")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    hostile = [
        b"[" * 100_000,
        b'{"raw": "' + SHORT_MODE5.encode() + b'", "rssi_dbfs": "loud", "snr_db": [1], "mode": {}}',
        b'{"raw": 5}',
        b"\xff" * 10,
        b"null",
    ]
    for payload in hostile:
        client.publish("wmbus/raw/evil", payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    good = {"raw": INFINITE, "mode": "T1", "timestamp": "2026-12-01T00:00:00Z"}
    publish_copies(broker, [good], {"attic": -30.0})
    readings = sub.wait_for("wmbus/meter/", 1)
    time.sleep(0.5)
    code, _, err = serve.stop()
    assert code == 0, err
    assert [p["id"] for _, p, _ in readings] == ["12345678"]  # still decoding after the hostile ones
    assert "Traceback" not in err


def test_a_line_that_is_not_utf8_is_one_error_and_the_rest_decodes():
    stdin = f"{INFINITE}\n".encode() + b"\xff\xfe\x80 bad\n" + f"{INFINITE}\n".encode()
    done = sdr_wmbus("decode", stdin=stdin)
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert b"Traceback" not in done.stderr
    assert [("error" in x) for x in lines] == [False, True, False]
    assert "not text" in lines[1]["error"]


def test_wmbusmeters_header_plaintext_notation():
    """wmbusmeters prints a decrypted telegram as HEADER_PLAINTEXT: the part after _ is plaintext."""
    line = "2E44A5119870659930037A06002005_2F2F0C933E842784060A3B00000A5A5901C4016D3B37DF2CCC01933E24032606"
    out = json.loads(sdr_wmbus("decode", line).stdout)
    assert "error" not in out and out["total_m3"] == 6842.784
    assert "error" in json.loads(sdr_wmbus("decode", line.replace("_", "")).stdout)  # no key: encrypted


def _mode5_frame(key: bytes, plain: bytes) -> bytes:
    """A short-header mode-5 telegram of meter 12345678 (KAM, water) carrying ``plain`` encrypted."""
    from sdr_wmbus.security.crypto import aes_cbc_encrypt

    dll = bytes.fromhex("442D2C7856341201 07".replace(" ", ""))
    access = 0x21
    blocks = len(plain) // 16
    config = 0x0500 | (blocks << 4)
    iv = dll[1:3] + dll[3:9] + bytes([access]) * 8
    body = bytes([0x7A, access, 0x00, config & 0xFF, config >> 8]) + aes_cbc_encrypt(key, iv, plain)
    return bytes([len(dll) + len(body)]) + dll + body


def test_a_key_that_only_makes_2f2f_does_not_give_a_reading():
    """About 1 wrong key in 65,536 decrypts to a payload starting with 2F 2F: the records must parse too
    (here: what such a key gives, a last record cut off inside the decrypted bytes)."""
    key = bytes(range(16))
    garbage = bytes.fromhex("2F2F0C13112233440C13112233440C13")  # 2F2F, then a record without its data
    good = bytes.fromhex("2F2F0C13785634120C13112233442F2F")
    decoder = TelegramDecoder(KeyStore(default_key=key))
    out = decoder.decode(_mode5_frame(key, garbage), link_crc="none")
    assert out["error"] == "decryption failed: check the key for meter 12345678 (records do not parse)"
    assert "total_m3" not in out and "records" not in out
    out = decoder.decode(_mode5_frame(key, good), link_crc="none")
    assert "error" not in out and out["total_m3"] == 12345.678
