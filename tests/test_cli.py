"""`sdr-wmbus decode` as a user runs it: arguments, stdin pipelines, keys, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from sdr_wmbus.cli import main

V4 = "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"
V4_KEY = "0102030405060708090A0B0C0D0E0F11"
V6 = "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24"
V6_KEY = "28F64A24988064A079AA2C807D6102AE"
V7 = "23442D2C998734761B168D2087D19EAD217F1779EDA86AB6710008190000081900007F13"
V13 = "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
RTLWMBUS = "T1;1;1;2019-04-03 19:00:42.000;97;148;12345678;0x" + V13.lower()


def run(args: list[str], stdin: str = "", monkeypatch=None, capsys=None) -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(args)
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


def test_decode_hex_argument(monkeypatch, capsys):
    code, out, _ = run(["decode", V13], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert out[0]["id"] == "78563412"
    assert out[0]["current_consumption_hca"] == 127


def test_decode_with_key(monkeypatch, capsys):
    code, out, err = run(["decode", V4, "--key", V4_KEY], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert out[0]["total_m3"] == 28504.27
    assert V4_KEY.lower() not in (json.dumps(out) + err).lower()


def test_stdin_one_line_per_input_line_in_order(monkeypatch, capsys):
    stdin = "\n".join([V13, "zz-not-hex", RTLWMBUS, "ABC", "", "# comment", V4]) + "\n"
    code, out, _ = run(["decode"], stdin, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert len(out) == 5
    assert out[0]["current_consumption_hca"] == 127
    assert out[1]["error"].startswith("not a hex telegram: unexpected character 'z'")
    assert out[2]["mode"] == "T1" and out[2]["current_consumption_hca"] == 127
    assert out[3]["error"] == "not a hex telegram: odd number of hex digits (3)"
    assert out[4]["error"] == "encrypted, no key for meter 12345678"
    assert out[4]["manufacturer"] == "ELS"


def test_state_carries_between_lines(monkeypatch, capsys, tmp_path):
    meters = tmp_path / "meters.toml"
    meters.write_text(f'[[meter]]\nid = "76348799"\nkey = "{V6_KEY}"\nname = "kitchen"\n')
    code, out, _ = run(["decode", "--meters", str(meters), V6], monkeypatch=monkeypatch, capsys=capsys)
    assert out[0]["name"] == "kitchen" and out[0]["total_m3"] == 6.408


def test_already_decrypted(monkeypatch, capsys):
    code, out, _ = run(["decode", "--already-decrypted", V7], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert out[0]["total_m3"] == 6.408


def test_wrong_key_message(monkeypatch, capsys):
    code, out, _ = run(["decode", V4, "--key", "00" * 16], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert out[0]["error"] == "decryption failed: check the key for meter 12345678"
    assert "total_m3" not in out[0]


def test_crc_error_and_truncated_frame(monkeypatch, capsys):
    frame_a = "314493441234567835084D9E7A740000200B6E2701004B6E45010042BBD76C5F2CCB086E790000C2086C7F21326C0540FFFF046D200B74221FDA"  # noqa: E501
    broken = frame_a[:30] + ("0" if frame_a[30] != "0" else "1") + frame_a[31:]
    code, out, _ = run(["decode", broken, V13[:40]], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert out[0]["error"] == "CRC error in block 2 of frame format A"
    assert out[1]["error"].startswith("truncated frame")


def test_pretty_format(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["decode", "--format", "pretty", V13]) == 0
    text = capsys.readouterr().out
    assert text.startswith("{\n  ")
    assert json.loads(text)["device_datetime"] == "2019-02-20 11:32"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", V4, "--key", "1234"], "--key: a key must be 32 hex digits"),
        (["decode", V4, "--driver", "nosuch"], "unknown driver 'nosuch'"),
        (["decode", V4, "--meters", "/nonexistent/meters.toml"], "cannot read meters file"),
    ],
)
def test_usage_errors_are_one_line(args, message, monkeypatch, capsys):
    code, out, err = run(args, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert out == []
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_console_script_end_to_end():
    """The installed entry point, through a real pipe."""
    proc = subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", "decode", "--key", V4_KEY],
        input=f"{V4}\n{RTLWMBUS}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line.get("total_m3") for line in lines] == [28504.27, None]
    assert lines[1]["current_consumption_hca"] == 127
    assert proc.stderr == ""
