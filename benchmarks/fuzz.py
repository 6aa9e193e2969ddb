"""Fuzzing the telegram stack and the radio: nothing from the air, a file or the broker may crash a
receiver, hang it, print invalid JSON or turn a frame whose CRC or MAC failed into a reading.

    python3 benchmarks/fuzz.py --stack 5000000 --phy 100000 --workers 2 --seconds 7200
    python3 benchmarks/fuzz.py --atheris --seconds 600        # coverage-guided, where atheris installs

Stack inputs are mutations of real telegrams (../shared/corpus and tests/fixtures): bit flips, byte
changes, insertions, deletions, truncation, splices, random CI fields, random DIF/VIF records, a right
or a wrong key or none, the meter's driver or a random one forced; plus frames carrying format A/B CRCs
with one or two bits corrupted (they must be refused) and mode-7 frames with a corrupted MAC (refused).
PHY inputs are T1, C1 (A/B) and S1 bursts of real telegrams with chips flipped, inserted or deleted,
sync words repeated, frames cut short, random bodies after a good header, or plain random IQ, fed
through one long-running receiver. Input n of worker w is drawn from its own seed (w, n), so any one
can be made again: ``replay_phy`` replays the inputs before a finding on a fresh receiver.

Checks per input: no exception escapes (the stack reports problems in ``error``; "internal error"
counts as a failure), no input slower than 50 ms (the radio: plus the input's air time), the output
is strict JSON, a refused frame gives no reading; over the run, memory stays bounded. A frame the
radio puts out that was never sent is invented: one that decodes to a reading (with the corpus keys)
is a failure; one the decoder refuses (16-bit CRCs fit by chance now and then among the very many
candidates damaged bursts make) is counted and listed with its reason, as "invented frames refused
by the decoder". (Chips flipped so that the burst carries another valid frame, e.g. two bit errors
151 bits apart in a format-B block, send that frame: it is not invented.) Exit status 1 when
anything failed; every failure is printed with its input so it can become a regression test.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sdr_wmbus.decoder import TelegramDecoder  # noqa: E402
from sdr_wmbus.drivers import registry  # noqa: E402
from sdr_wmbus.link.dll import add_crc_format_a, add_crc_format_b  # noqa: E402
from sdr_wmbus.outputs.jsonl import to_json  # noqa: E402
from sdr_wmbus.security.keys import KeyStore, MeterConfig  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus"
SOURCES = [
    SHARED / "telegrams.jsonl",
    SHARED / "telegrams_edge_cases.jsonl",
    ROOT / "tests" / "fixtures" / "telegrams.jsonl",
]
SLOW_S = 0.050
CIS = [
    0x72,
    0x7A,
    0x78,
    0x79,
    0x7B,
    0x73,
    0x8C,
    0x8D,
    0x8E,
    0x8F,
    0x90,
    0xA0,
    0xA1,
    0xA2,
    0xB6,
    0x6E,
    0x71,
    0x00,
    0xFF,
]
RECORD_BITS = [
    b"\x04\x13",
    b"\x0c\x13",
    b"\x02\xfd\x17",
    b"\x42\x6c",
    b"\x04\x6d",
    b"\x0d\xff\x5f",
    b"\x01\xfd\x0c",
    b"\x84\x10\x13",
    b"\x05\x13",
    b"\x8f\x7f",
    b"\x0f",
    b"\x1f",
    b"\x2f",
    b"\x8d\xef",
    b"\x0d\x78\xff",
]


def load_seeds() -> list[dict]:
    seeds = []
    for path in SOURCES:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            case = json.loads(line)
            try:
                data = bytes.fromhex(case["telegram"])
            except (ValueError, KeyError):
                continue
            key = case.get("key")
            key_bytes = bytes.fromhex(key) if key and len(key) == 32 else None
            seeds.append(
                {"data": data, "key": key_bytes, "already": bool(case.get("payload_already_decrypted"))}
            )
    return seeds


# ------------------------------------------------------------------------------------------------ stack
def mutate(rng: random.Random, data: bytes, seeds: list[dict]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
        op = rng.randrange(11)
        if op == 0 and buf:  # flip bits
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:  # replace a byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:  # insert bytes
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.randrange(1, 8))
        elif op == 3 and len(buf) > 1:  # delete bytes
            i = rng.randrange(len(buf))
            del buf[i : i + rng.randrange(1, 8)]
        elif op == 4:  # truncate
            del buf[rng.randrange(len(buf) + 1) :]
        elif op == 5:  # splice another telegram's tail
            other = rng.choice(seeds)["data"]
            buf[rng.randrange(len(buf) + 1) :] = other[rng.randrange(len(other) + 1) :]
        elif op == 6 and len(buf) > 10:  # another CI
            buf[10] = rng.choice(CIS)
        elif op == 7:  # records that stress the DIF/VIF walker
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.choice(RECORD_BITS) + rng.randbytes(rng.randrange(0, 9))
        elif op == 8:  # extreme values
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.choice((b"\xff" * 8, b"\x00" * 8, b"\x7f\x80" * 4, b"\x2f" * 6))
        elif op == 9:
            buf = bytearray(rng.randbytes(rng.randrange(0, 300)))
        if op != 10 and buf and rng.random() < 0.8:
            buf[0] = max(len(buf) - 1, 0) & 0xFF  # keep the L field consistent: get past the link layer
    return bytes(buf)


CRC_PERIOD_BITS = 151  # x^151 = 1 modulo EN 13757's CRC polynomial: two errors 151 bits apart cancel


def corrupt_bits(rng: random.Random, frame: bytes, count: int) -> bytes:
    """Flip ``count`` distinct bits after the L field (the L field is checked by length anyway).

    Two flips a multiple of 151 bits apart are not detectable by the CRC at all (format B's blocks are
    longer than that; format A's 16-byte blocks are not): such pairs are not drawn, as no receiver
    could refuse them.
    """
    while True:
        bits = rng.sample(range(8, 8 * len(frame)), count)
        if count < 2 or abs(bits[0] - bits[1]) % CRC_PERIOD_BITS:
            break
    buf = bytearray(frame)
    for bit in bits:  # numbered as sent, most significant bit of each byte first (as the CRC sees them)
        buf[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(buf)


def warm_up(seeds: list[dict], drivers: list[str]) -> None:
    """Decode every seed once (with its key, without, as if decrypted) and force every driver once, so
    that first-use costs (imports of hooks and cipher modes, caches) are not taken for slow inputs."""
    plain = TelegramDecoder(KeyStore())
    for case in seeds:
        for decoder in (TelegramDecoder(KeyStore(default_key=case["key"])), plain):
            for already in (False, True):
                decoder.decode(case["data"], already_decrypted=already, link_crc="none")
                decoder.decode(case["data"], already_decrypted=already, link_crc="auto")
    for name in drivers:
        forced = TelegramDecoder(KeyStore(), driver=name)
        for case in seeds[:40]:
            forced.decode(case["data"], already_decrypted=case["already"], link_crc="none")


class Failure(Exception):
    pass


def check_output(out: object) -> None:
    if not isinstance(out, dict):
        raise Failure("decode returned no dict")
    error = out.get("error")
    if isinstance(error, str) and error.startswith("internal error"):
        raise Failure(f"internal error: {error}")
    text = to_json(out)

    def strict(name: str) -> object:
        raise Failure(f"non-strict JSON constant {name}")

    json.loads(text, parse_constant=strict)


def stack_worker(args: tuple) -> dict:
    """(seed, inputs, seconds[, slow_s]) -> stats and failures."""
    seed, count, seconds = args[:3]
    slow_s = args[3] if len(args) > 3 else SLOW_S
    rng = random.Random(seed)
    seeds = load_seeds()
    drivers = sorted(registry().drivers)
    keyed = []  # telegrams whose encrypted part carries an integrity check: AFL MAC (mode 7) or ELL CRC
    for case in seeds:
        if case["key"] and not case["already"]:
            plain = TelegramDecoder(KeyStore(default_key=case["key"])).decode(case["data"], link_crc="none")
            if "error" not in plain and plain.get("security_mode") in (7, "ell_aes_ctr"):
                keyed.append(case)
    stats = {
        "inputs": 0,
        "crc_checks": 0,
        "mac_checks": 0,
        "errors": 0,
        "readings": 0,
        "slowest_ms": 0.0,
        "retimed": 0,
    }
    failures: list[str] = []
    warm_up(seeds, drivers)
    gc.collect()
    gc.freeze()  # what start-up built stays out of the collector's way, as in the commands
    deadline = time.monotonic() + seconds
    decoders = {}
    rss_start = None
    while stats["inputs"] < count and time.monotonic() < deadline:
        seed_case = rng.choice(seeds)
        kind = rng.random()
        key = seed_case["key"] if rng.random() < 0.7 else (rng.randbytes(16) if rng.random() < 0.5 else None)
        forced = rng.choice(drivers) if rng.random() < 0.1 else None
        link_crc = "none"
        must_fail = False
        already = seed_case["already"] and rng.random() < 0.8
        if (
            kind < 0.08
            and len(seed_case["data"]) >= 12
            and seed_case["data"][0] + 1 == len(seed_case["data"])
        ):
            # A frame with link-layer CRCs, one or two bits corrupted, must be refused. Only a caller who
            # says CRCs are present gets that for every format-B frame: given as bare hex ("auto"), an
            # L+1-byte frame may be CRC-free, so only a one-bit error is recognised there.
            plain = seed_case["data"]
            format_a = rng.random() < 0.5 or len(plain) > 250
            framed = add_crc_format_a(plain) if format_a else add_crc_format_b(plain)
            link_crc = rng.choice(("auto", "present"))
            bits = rng.choice((1, 2)) if format_a or link_crc == "present" else 1
            data = corrupt_bits(rng, framed, bits)
            must_fail = True
            stats["crc_checks"] += 1
        elif kind < 0.12 and keyed:
            # A keyed telegram whose encrypted part carries an integrity check (AFL MAC, ELL payload CRC)
            # with that part corrupted and the right key: it must be refused, never give other readings.
            # (Mode 5 has no such check: on air the link-layer CRCs are what protect it.)
            case = rng.choice(keyed)
            data = bytearray(case["data"])
            if len(data) < 40 or case["already"]:
                continue
            position = rng.randrange(len(data) - 16, len(data))
            data[position] ^= 1 << rng.randrange(8)
            data = bytes(data)
            key = case["key"]
            already = False
            stats["mac_checks"] += 1
            must_fail = None  # checked below: no reading may differ from the uncorrupted telegram's
        else:
            data = mutate(rng, seed_case["data"], seeds)
        store = KeyStore(default_key=key)
        cache_key = (key, forced)
        decoder = decoders.get(cache_key)
        if decoder is None:
            if len(decoders) > 64:
                decoders.clear()
            decoder = decoders[cache_key] = TelegramDecoder(store, driver=forced)
        stats["inputs"] += 1
        started = time.thread_time()  # CPU time: the bound is on our work, not on a busy machine
        try:
            out = decoder.decode(data, already_decrypted=already, link_crc=link_crc)
            elapsed = time.thread_time() - started
            check_output(out)
            if elapsed > slow_s:  # the input, or a hiccup of the (virtual) machine? Time it again.
                again = []
                for _ in range(2):
                    retry = TelegramDecoder(KeyStore(default_key=key), driver=forced)
                    began = time.thread_time()
                    retry.decode(data, already_decrypted=already, link_crc=link_crc)
                    again.append(time.thread_time() - began)
                stats["retimed"] += 1
                elapsed = min(again)
                if elapsed > slow_s:
                    raise Failure(f"slow input: {elapsed * 1000:.0f} ms (each time)")
            stats["slowest_ms"] = max(stats["slowest_ms"], elapsed * 1000)
            if must_fail and "error" not in out:
                raise Failure("a frame with a corrupted CRC gave a reading")
            if must_fail is None and "error" not in out:
                reference = TelegramDecoder(KeyStore(default_key=key)).decode(
                    bytes(case["data"]), link_crc="none"
                )
                readings = {
                    k: v for k, v in out.items() if k.rsplit("_", 1)[-1] in ("m3", "kwh", "hca", "kw")
                }
                expected = {k: reference.get(k) for k in readings}
                if readings != expected:
                    raise Failure("a telegram with a corrupted encrypted part gave other readings")
            stats["errors" if "error" in out else "readings"] += 1
        except Failure as exc:
            failures.append(
                f"{exc}: decode {data.hex()} key={'yes' if key else 'no'} driver={forced} "
                f"already_decrypted={already} link_crc={link_crc}"
            )
        except Exception as exc:  # noqa: BLE001 - that is exactly what the fuzzer looks for
            failures.append(f"exception {type(exc).__name__}: {exc}: decode {data.hex()}")
        if stats["inputs"] == 2000:
            rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if len(failures) > 50:
            break
    stats["rss_start_kib"] = rss_start or 0
    stats["rss_end_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"stats": stats, "failures": failures}


# ------------------------------------------------------------------------------------------------ PHY
PHY_RATE, PHY_CENTER = 1.6e6, 868.625e6  # one tuning for T1, C1 and S1, as the command's default
_OFFSETS = {"t": 868.95e6 - PHY_CENTER, "c": 868.95e6 - PHY_CENTER, "s": 868.3e6 - PHY_CENTER}
_CHIP_RATES = {"t": 100e3, "c": 100e3, "s": 32.768e3}
_DEVIATIONS = {"t": 50e3, "c": 45e3, "s": 50e3}


def phy_frames() -> list[bytes]:
    """The telegrams the PHY fuzzer sends: every corpus frame a radio can carry (L+1 bytes)."""
    return [
        s["data"] for s in load_seeds() if 12 <= len(s["data"]) <= 255 and s["data"][0] + 1 == len(s["data"])
    ]


def burst(chips, mode: str):
    """Clean 2-FSK IQ of ``chips`` on the mode's carrier in the fuzzer's tuning (unit amplitude)."""
    import numpy as np

    spc = PHY_RATE / _CHIP_RATES[mode]
    index = np.minimum((np.arange(int(len(chips) * spc)) / spc).astype(np.int64), len(chips) - 1)
    freq = _OFFSETS[mode] + _DEVIATIONS[mode] * (2.0 * chips[index] - 1.0)
    return np.exp(1j * 2 * np.pi * np.cumsum(freq) / PHY_RATE)


def carried_frame(chips, mode: str, frame_format: str, frame: bytes) -> bytes | None:
    """The other frame that a burst of ``frame`` with chips flipped in place carries, if its chips
    still decode (hard decisions) to a frame whose CRCs fit: two bit errors a multiple of 151 bits
    apart in a format-B block, or chips that make another code word, fit any CRC check. Such a frame
    was sent, not invented by the receiver (the stack part leaves such pairs out for the same reason).
    """
    import numpy as np

    from sdr_wmbus.errors import DecodeError
    from sdr_wmbus.link.dll import strip_crc_format_a, strip_crc_format_b
    from sdr_wmbus.phy.encode import C1_POSTAMBLE_CHIPS
    from sdr_wmbus.tables.phy import THREE_OF_SIX_DECODE

    raw_len = len(add_crc_format_b(frame) if frame_format == "B" else add_crc_format_a(frame))
    per_byte = {"t": 12, "c": 8, "s": 16}[mode]
    start = len(chips) - raw_len * per_byte - (C1_POSTAMBLE_CHIPS if mode == "c" else 4)
    body = chips[start : start + raw_len * per_byte]
    if mode == "c":
        raw = np.packbits(body).tobytes()
    elif mode == "t":
        words = [int("".join(map(str, body[i : i + 6])), 2) for i in range(0, len(body), 6)]
        nibbles = [THREE_OF_SIX_DECODE.get(word) for word in words]
        if None in nibbles:
            return None
        raw = bytes((hi << 4) | lo for hi, lo in zip(nibbles[0::2], nibbles[1::2], strict=True))
    else:
        pairs = body.reshape(-1, 2)
        if np.any(pairs[:, 0] == pairs[:, 1]):
            return None
        raw = np.packbits(pairs[:, 1]).tobytes()
    try:
        carried = strip_crc_format_b(raw) if frame_format == "B" else strip_crc_format_a(raw)
    except DecodeError:
        return None
    return carried if carried != frame else None


def phy_input(seed: int, number: int, frames: list[bytes]) -> tuple[str, object, list[bytes]]:
    """Input ``number`` of run ``seed``: (description, IQ block, the frames it sends).

    Each input draws from its own generators, so any one can be made again on its own (a regression
    test replays the few inputs before an invented frame; see ``replay_phy``).
    """
    import numpy as np

    from sdr_wmbus.phy.encode import c1_chips, s1_chips, t1_chips

    rng = random.Random(seed * 1_000_003 + number)
    nprng = np.random.default_rng((seed, number))
    mode = rng.choice("tcs")
    frame = rng.choice(frames)
    what = rng.randrange(6)
    if what == 5:
        n = rng.randrange(1000, 20000)
        block = (nprng.standard_normal(n) + 1j * nprng.standard_normal(n)).astype(np.complex64)
        return f"input {seed}:{number}: random IQ", block, []
    frame_format = "A"
    if mode == "t":
        chips = t1_chips(frame)
    elif mode == "c":
        frame_format = rng.choice("AB") if len(frame) <= 251 else "A"
        chips = c1_chips(frame, frame_format)
    else:
        chips = s1_chips(frame)
    chips = chips.copy()
    sent = [frame]
    if what == 0:  # flip a few chips
        for _ in range(rng.randrange(1, 12)):
            chips[rng.randrange(len(chips))] ^= 1
        carried = carried_frame(chips, mode, frame_format, frame)
        if carried is not None:
            sent.append(carried)
    elif what == 1:  # insert or delete chips
        i = rng.randrange(len(chips))
        chips = (
            np.delete(chips, slice(i, i + rng.randrange(1, 4)))
            if rng.random() < 0.5
            else np.insert(chips, i, nprng.integers(0, 2, rng.randrange(1, 4)).astype(np.uint8))
        )
    elif what == 2:  # cut short
        chips = chips[: rng.randrange(len(chips))]
    elif what == 3:  # sync words and preambles over and over
        chips = np.tile(chips[: rng.randrange(20, 80)], rng.randrange(2, 40))
    else:  # random body after a good header
        tail = rng.randrange(40, len(chips))
        chips[tail:] = nprng.integers(0, 2, len(chips) - tail).astype(np.uint8)
    signal = burst(chips, mode)
    n = len(signal)
    noise = 0.05 * (nprng.standard_normal(n) + 1j * nprng.standard_normal(n))
    quiet = rng.randrange(500, 5000)  # a receiver always hears some noise between bursts
    gap = (0.05 * (nprng.standard_normal(quiet) + 1j * nprng.standard_normal(quiet))).astype(np.complex64)
    block = np.concatenate([gap, (signal + noise).astype(np.complex64), gap])
    return f"input {seed}:{number}: mode {mode} case {what} frame {frame.hex()}", block, sent


def warm_up_block(frames: list[bytes]):
    """What phy_worker's receiver hears before the first input: a T1, a C1 and an S1 burst."""
    import numpy as np

    from sdr_wmbus.phy.encode import c1_chips, s1_chips, t1_chips

    warm = []
    for make in (t1_chips, c1_chips, s1_chips):
        warm.append(np.zeros(4000, dtype=np.complex64))
        warm.append(burst(make(frames[0]), "s" if make is s1_chips else "t").astype(np.complex64))
    return np.concatenate(warm)


def replay_phy(seed: int, number: int, samples: int, before: int = 3) -> list:
    """The frames a fresh receiver puts out for inputs ``number - before`` .. ``number`` of run
    ``seed`` (and the flush after them), where the long-running receiver of phy_worker had taken
    ``samples`` samples before input ``number`` (the fuzzer prints both): the fresh one starts at the
    same phase of its decimation, so it decides as that one did, and shows what the fuzzer found."""
    import numpy as np

    from sdr_wmbus.phy.combined import CombinedReceiver

    frames = phy_frames()
    blocks = [phy_input(seed, k, frames)[1] for k in range(number - before, number + 1)]
    receiver = CombinedReceiver(PHY_RATE, PHY_CENTER, "tcs")
    start = len(warm_up_block(frames)) + samples - sum(len(block) for block in blocks[:-1])
    lead = start % math.lcm(*(r.channel.decim for r in receiver.receivers))
    out = receiver.process(np.zeros(lead, dtype=np.complex64))
    for k, block in zip(range(number - before, number + 1), blocks, strict=True):
        out += receiver.process(block)
        if (k + 1) % 500 == 0:  # as phy_worker does
            out += receiver.flush()
    return out + receiver.flush()


def phy_worker(args: tuple) -> dict:
    """(seed, inputs, seconds[, slow_s]) -> stats and failures."""

    from sdr_wmbus.phy.combined import CombinedReceiver

    seed, count, seconds = args[:3]
    slow_s = args[3] if len(args) > 3 else SLOW_S
    frames = phy_frames()
    receiver = CombinedReceiver(PHY_RATE, PHY_CENTER, "tcs")
    decoder = TelegramDecoder(corpus_keys(load_seeds()))  # an invented frame must not read, key or not
    receiver.process(warm_up_block(frames))  # compile every kernel before anything is timed
    receiver.flush()
    stats = {
        "inputs": 0,
        "frames": 0,
        "invented_readings": 0,
        "invented_refused": 0,
        "slowest_ms": 0.0,
        "samples": 0,
        "retimed": 0,
    }
    failures: list[str] = []
    refused: list[str] = []
    sent: dict[bytes, int] = {}  # frame -> the input that sent it last
    transmitted = set(frames)  # only these are ever sent (some damaged): any of them is a true frame

    def check_frames(out_frames: list, description: str) -> None:
        """Every frame decodes to strict JSON; one never sent (invented: junk whose CRCs matched by
        chance, or a real telegram changed) is counted, and it fails the run if it gives a reading."""
        for got in out_frames:
            stats["frames"] += 1
            out = decoder.decode(got)
            check_output(out)
            if got.data in sent or got.data in transmitted:
                continue
            what = f"{got.mode}/{got.frame_format} {invented_origin(got.data, transmitted)}"
            if "error" in out:
                stats["invented_refused"] += 1
                refused.append(f"{what}, refused ({out['error']}): {got.data.hex()} from {description}")
            else:
                stats["invented_readings"] += 1
                raise Failure(f"a frame that was never sent gave a reading ({what}): {got.data.hex()}")

    deadline = time.monotonic() + seconds
    rss_start = None
    while stats["inputs"] < count and time.monotonic() < deadline:
        description, block, sending = phy_input(seed, stats["inputs"], frames)
        description += f" (after {stats['samples']} samples)"
        for frame in sending:
            sent[frame] = stats["inputs"]
        stats["inputs"] += 1
        stats["samples"] += len(block)
        started = time.thread_time()
        try:
            out_frames = receiver.process(block)
            elapsed = time.thread_time() - started
            allowed = slow_s + len(block) / PHY_RATE  # a burst may take its own air time plus 50 ms
            if elapsed > allowed:  # the input, or a hiccup of the (virtual) machine? Time it again.
                again = []
                for _ in range(2):
                    fresh = CombinedReceiver(PHY_RATE, PHY_CENTER, "tcs")
                    began = time.thread_time()
                    fresh.process(block)
                    again.append(time.thread_time() - began)
                stats["retimed"] += 1
                elapsed = min(again)
                if elapsed > allowed:
                    raise Failure(f"slow input: {elapsed * 1000:.0f} ms for {len(block)} samples (each time)")
            stats["slowest_ms"] = max(stats["slowest_ms"], elapsed * 1000)
            check_frames(out_frames, description)
        except Failure as exc:
            failures.append(f"{exc}: {description}")
        except Exception as exc:  # noqa: BLE001
            failures.append(f"exception {type(exc).__name__}: {exc}: {description}")
        if stats["inputs"] % 500 == 0:
            try:
                check_frames(receiver.flush(), description + ", flushed")
            except Failure as exc:
                failures.append(f"{exc}: {description}, flushed")
            for old_frame in [f for f, number in sent.items() if number < stats["inputs"] - 50]:
                del sent[old_frame]  # frames of recent inputs may still come out of the receiver
        if stats["inputs"] == 1000:
            rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if len(failures) > 50:
            break
    stats["rss_start_kib"] = rss_start or 0
    stats["rss_end_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"stats": stats, "failures": failures, "refused": refused}


def corpus_keys(seeds: list[dict]) -> KeyStore:
    """The corpus meters' keys by meter id: a real telegram changed in the air must not decode to a
    reading even by a receiver that holds its meter's key."""
    store = KeyStore()
    for case in seeds:
        if case["key"] and not case["already"]:
            out = TelegramDecoder(KeyStore(default_key=case["key"])).decode(case["data"], link_crc="none")
            if "error" not in out and out.get("id"):
                store.add(out["id"], MeterConfig(out["id"], case["key"]), "corpus")
    return store


def invented_origin(data: bytes, transmitted: set[bytes]) -> str:
    """Where an invented frame came from: the nearest transmitted frame of its length a few bits
    away (a real telegram changed, e.g. by a CRC repair), or junk whose CRCs matched by chance."""
    best = None
    for frame in transmitted:
        if len(frame) == len(data):
            bits = sum(bin(a ^ b).count("1") for a, b in zip(frame, data, strict=True))
            best = bits if best is None else min(best, bits)
    if best is not None and best <= 8:
        return f"real telegram with {best} bit{'s' if best > 1 else ''} changed"
    return "junk"


# ------------------------------------------------------------------------------------------------ atheris
def run_atheris(seconds: float) -> int:
    """Coverage-guided fuzzing of the stack with atheris (libFuzzer), seeded with the corpus telegrams."""
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris): coverage-guided fuzzing skipped")
        return 0
    import tempfile

    atheris.instrument_all()  # coverage of every module loaded so far: the whole stack and the drivers
    keyed = TelegramDecoder(KeyStore(default_key=bytes(range(16))))
    plain = TelegramDecoder(KeyStore())

    def one(data: bytes) -> None:
        decoder = keyed if data[:1] and data[0] & 1 else plain
        check_output(decoder.decode(data[1:], link_crc="auto" if data[:1] and data[0] & 2 else "none"))

    seeds = tempfile.mkdtemp(prefix="sdr-wmbus-atheris-")
    for number, case in enumerate(load_seeds()):
        Path(seeds, f"seed{number}").write_bytes(b"\x00" + case["data"])
    sys.argv = [sys.argv[0], f"-max_total_time={int(seconds)}", "-max_len=300", seeds]
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
    return 0


def run(
    kind: str, worker, count: int, workers: int, seconds: float, seed: int
) -> tuple[dict, list[str], list[str]]:
    per = math.ceil(count / workers)
    jobs = [(seed + i, per, seconds) for i in range(workers)]
    if workers == 1:
        results = [worker(jobs[0])]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(worker, jobs)
    total: dict = {}
    failures: list[str] = []
    refused: list[str] = []
    for result in results:
        failures += result["failures"]
        refused += result.get("refused", [])
        for name, value in result["stats"].items():
            if name in ("slowest_ms", "rss_start_kib", "rss_end_kib"):
                total[name] = max(total.get(name, 0), value)
            else:
                total[name] = total.get(name, 0) + value
    return total, failures, refused


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", type=int, default=100_000, help="telegram-stack inputs")
    parser.add_argument("--phy", type=int, default=2_000, help="radio inputs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=600.0, help="time bound per part")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing of the stack instead")
    args = parser.parse_args()
    if args.atheris:
        return run_atheris(args.seconds)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    failed = False
    for kind, worker, count in (("stack", stack_worker, args.stack), ("phy", phy_worker, args.phy)):
        if count <= 0:
            continue
        started = time.monotonic()
        stats, failures, refused = run(kind, worker, count, args.workers, args.seconds, args.seed)
        elapsed = time.monotonic() - started
        growth = (stats["rss_end_kib"] - stats["rss_start_kib"]) / 1024 if stats.get("rss_start_kib") else 0.0
        print(
            f"{kind}: {stats['inputs']:,} inputs in {elapsed:.0f} s, {len(failures)} failures; "
            f"{json.dumps(stats)}"
        )
        print(
            f"{kind}: peak RSS {stats['rss_end_kib'] / 1024:.0f} MiB, growth after warm-up {growth:.1f} MiB"
        )
        if refused:
            print(f"{kind}: invented frames refused by the decoder: {len(refused)}")
            for line in refused[:20]:
                print(f"  REFUSED {line}")
        for failure in failures[:20]:
            print(f"  FAIL {failure}")
        failed |= bool(failures) or growth > 64
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
