"""RtlSdrSource against a stand-in for pyrtlsdr's RtlSdr: bytes, drops, settings, errors, stopping."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from typing import Any

import numpy as np
import pytest

from sdr_wmbus.sources import rtlsdr as rtlsdr_module
from sdr_wmbus.sources.errors import SourceError
from sdr_wmbus.sources.live import Gap
from sdr_wmbus.sources.rtlsdr import RtlSdrSource

RATE = 1.6e6
CENTER = 868.95e6
BLOCK = 512  # bytes per callback: the smallest size librtlsdr accepts
BLOCK_SAMPLES = BLOCK // 2
WAIT_S = 3.0  # deadline for anything a test waits for; normally reached in milliseconds


class FakeLibUSBError(OSError):
    """Like pyrtlsdr's LibUSBError: an OSError whose errno is the (negative) libusb code."""

    def __init__(self, errno: int, msg: str = "") -> None:
        super().__init__(msg)
        self.errno = errno


def _setting(name: str) -> property:
    def get(self: FakeRtlSdr) -> Any:
        return self.values[name]

    def put(self: FakeRtlSdr, value: Any) -> None:
        if name in self.config.get("fail", ()):
            raise FakeLibUSBError(-1, f"Could not set {name} to {value}")
        self.sets.append((name, value))
        self.values[name] = value

    return property(get, put)


class FakeRtlSdr:
    """pyrtlsdr's RtlSdr as RtlSdrSource uses it; read_bytes_async follows ``config['script']``.

    Script steps: an int delivers that many blocks; "gate" waits for ``gate.release()``; "stream"
    delivers a block every 2 ms until cancelled; "raise" fails like a lost device; the end returns.
    Each block goes out in one reused ctypes buffer that is scribbled over after the callback, as
    librtlsdr reuses its buffers: a source that keeps a reference instead of a copy is caught.
    """

    config: dict[str, Any] = {}
    instances: list[FakeRtlSdr] = []
    serials = {"00000001": 0, "stick-b": 2}

    sample_rate = _setting("sample_rate")
    center_freq = _setting("center_freq")
    freq_correction = _setting("freq_correction")
    gain = _setting("gain")

    def __init__(self, device_index: int = 0, serial_number: str | None = None) -> None:
        if self.config.get("open_error") is not None:
            raise self.config["open_error"]
        self.index = device_index
        self.values: dict[str, Any] = {
            "sample_rate": 2.048e6,
            "center_freq": 80e6,
            "freq_correction": 0,
            "gain": 0.0,
        }
        self.sets: list[tuple[str, Any]] = []
        self.valid_gains_db = [0.0, 0.9, 1.4, 37.2, 38.6, 40.2, 42.1, 49.6]
        self.bias_tee_calls: list[bool] = []
        self.produced: list[bytes] = []
        self.delivered = 0
        self.cancels = 0
        self.closes = 0
        self.reading = False
        self.misuse: list[str] = []  # calls the real library would fail or crash on
        self.cancelled = threading.Event()
        self.gate = threading.Semaphore(0)
        self.instances.append(self)

    @classmethod
    def get_device_index_by_serial(cls, serial: str) -> int:
        if serial not in cls.serials:
            raise FakeLibUSBError(-5)
        return cls.serials[serial]

    def set_bias_tee(self, enabled: bool) -> int:
        if self.config.get("bias_tee_error"):
            raise FakeLibUSBError(-1, "Could not set Bias Tee mode")
        self.bias_tee_calls.append(enabled)
        return 0

    def read_bytes_async(self, callback, num_bytes: int = 1024, context: Any = None) -> None:
        if self.closes:
            self.misuse.append("read after close")
        self.reading = True
        buffer = (ctypes.c_ubyte * num_bytes)()
        try:
            for step in self.config.get("script", []):
                if step == "gate":
                    if not self.gate.acquire(timeout=WAIT_S):
                        self.misuse.append("gate never opened")
                        return
                elif step == "stream":
                    deadline = time.monotonic() + WAIT_S
                    while not self.cancelled.is_set() and time.monotonic() < deadline:
                        self._deliver(callback, buffer, num_bytes)
                        time.sleep(0.002)
                elif step == "raise":
                    raise FakeLibUSBError(-4, f"Could not read {num_bytes} bytes")
                else:
                    for _ in range(step):
                        if self.cancelled.is_set():
                            return
                        self._deliver(callback, buffer, num_bytes)
                if self.cancelled.is_set():
                    return
        finally:
            self.reading = False

    def _deliver(self, callback, buffer, num_bytes: int) -> None:
        data = np.random.default_rng(1000 + self.delivered).integers(0, 256, num_bytes, dtype=np.uint8)
        ctypes.memmove(buffer, data.tobytes(), num_bytes)
        if not self.cancelled.is_set():  # pyrtlsdr skips callbacks once cancelled
            self.produced.append(data.tobytes())
            callback(buffer, self)
        self.delivered += 1
        ctypes.memset(buffer, 0xAA, num_bytes)

    def cancel_read_async(self) -> None:
        if not self.reading:
            self.misuse.append("cancel while not reading")
        self.cancels += 1
        self.cancelled.set()

    def close(self) -> None:
        if self.reading:
            self.misuse.append("close while reading")
        self.closes += 1


def fake_class(**config: Any) -> type[FakeRtlSdr]:
    """A FakeRtlSdr subclass with its own config and list of instances."""
    return type("Fake", (FakeRtlSdr,), {"config": config, "instances": []})


def make_source(factory: type[FakeRtlSdr], **kwargs: Any) -> RtlSdrSource:
    kwargs.setdefault("block_bytes", BLOCK)
    return RtlSdrSource(RATE, CENTER, device_factory=factory, **kwargs)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def drain(source: RtlSdrSource) -> list:
    """Everything chunks() yields until it ends, within the deadline."""
    items = []
    deadline = time.monotonic() + WAIT_S
    for item in source.chunks(poll_s=0.02):
        items.append(item)
        assert time.monotonic() < deadline, "chunks() did not end"
    return items


# ---------------------------------------------------------------------------------------------- data
def test_every_byte_arrives_in_order_when_the_consumer_keeps_up():
    factory = fake_class(script=[40, "gate", "stream"])
    source = make_source(factory)
    source.start()
    fake = factory.instances[0]
    received = []
    for item in source.chunks(poll_s=0.02):
        assert not isinstance(item, Gap)
        received.append(item.tobytes())
        if len(received) == 40:
            source.stop()
            fake.gate.release()  # the next block finds the source stopping and cancels the read
    source.close()
    assert b"".join(received) == b"".join(fake.produced[:40])
    assert source.stats.blocks == 40 and source.stats.samples == 40 * BLOCK_SAMPLES
    assert source.stats.dropped_blocks == 0 and source.error is None
    assert fake.misuse == []


def test_blocks_the_consumer_is_too_slow_for_are_counted_logged_and_reported_as_a_gap(caplog):
    caplog.set_level(logging.WARNING, logger="sdr_wmbus.source")
    factory = fake_class(script=[10, "gate", 1, "gate", "stream"])
    source = make_source(factory, queue_blocks=2)
    source.start()
    fake = factory.instances[0]
    wait_for(lambda: fake.delivered == 10, "ten blocks")
    assert source.stats.dropped_blocks == 8
    assert source.stats.dropped_samples == 8 * BLOCK_SAMPLES
    assert any("too slow" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)

    items = source.chunks(poll_s=0.02)
    first, second = next(items), next(items)
    fake.gate.release()  # one more block, after the dropped ones
    gap, third = next(items), next(items)
    assert isinstance(gap, Gap) and gap.samples == 8 * BLOCK_SAMPLES
    assert gap.seconds == pytest.approx(8 * BLOCK_SAMPLES / RATE)
    assert [first.tobytes(), second.tobytes(), third.tobytes()] == [fake.produced[i] for i in (0, 1, 10)]
    assert source.stats.blocks == 3 and source.stats.samples == 3 * BLOCK_SAMPLES
    assert source.stats.dropped_blocks == 8

    source.stop()
    fake.gate.release()
    assert [i for i in items if isinstance(i, Gap)] == []
    source.close()
    assert fake.misuse == []


# ---------------------------------------------------------------------------------------------- settings
def test_settings_are_applied_with_automatic_gain_and_no_ppm():
    factory = fake_class(script=["stream"])
    with make_source(factory, device="1") as source:
        fake = factory.instances[0]
        assert fake.index == 1
        assert fake.sets == [("sample_rate", 1600000), ("center_freq", 868950000), ("gain", "auto")]
        assert fake.bias_tee_calls == []
        assert source.describe() == "RTL-SDR #1"
    assert fake.closes == 1 and fake.misuse == []


def test_ppm_nearest_gain_bias_tee_and_device_by_serial(caplog):
    caplog.set_level(logging.INFO, logger="sdr_wmbus.source")
    factory = fake_class(script=["stream"])
    with make_source(factory, device="stick-b", gain=40, ppm=-3, bias_tee=True) as source:
        fake = factory.instances[0]
        assert fake.index == 2
        assert ("freq_correction", -3) in fake.sets
        assert fake.values["gain"] == 40.2 and source.gain == 40.2
        assert fake.bias_tee_calls == [True]
        assert source.describe() == "RTL-SDR #2 (serial stick-b)"
    assert any("40.2 dB" in r.getMessage() for r in caplog.records)
    assert fake.closes == 1


def test_factory_default_serial_is_not_taken_for_an_index():
    factory = fake_class(script=["stream"])
    with make_source(factory, device="00000001", gain="38.0") as source:
        assert factory.instances[0].index == 0
        assert factory.instances[0].values["gain"] == 38.6
        assert source.describe() == "RTL-SDR #0 (serial 00000001)"


@pytest.mark.parametrize(
    "device, expected",
    [
        (None, (0, None)),
        (3, (3, None)),
        ("0", (0, None)),
        ("12", (12, None)),
        ("00000001", (None, "00000001")),
        ("serial:7", (None, "7")),
        ("mystick", (None, "mystick")),
    ],
)
def test_device_is_an_index_or_a_serial_number(device, expected):
    source = make_source(fake_class(), device=device)
    assert (source.index, source.serial) == expected


def test_set_ppm_while_running_skips_unchanged_values_and_logs_failures(caplog):
    factory = fake_class(script=["stream"])
    with make_source(factory) as source:
        fake = factory.instances[0]
        source.set_ppm(4)
        source.set_ppm(4)
        assert [s for s in fake.sets if s[0] == "freq_correction"] == [("freq_correction", 4)]
        fake.config["fail"] = {"freq_correction"}
        source.set_ppm(9)  # logged, not raised
        assert source.ppm == 4
        assert any("+9 ppm" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


# ---------------------------------------------------------------------------------------------- errors
def one_line_error(source: RtlSdrSource) -> str:
    with pytest.raises(SourceError) as info:
        source.start()
    message = str(info.value)
    assert "\n" not in message and message
    return message


def test_no_device_mentions_the_kernel_driver():
    factory = fake_class(open_error=OSError("Could not open SDR (device index = 0)"))
    message = one_line_error(make_source(factory))
    assert message.startswith("no RTL-SDR found at index 0") and "dvb_usb_rtl28xxu" in message


@pytest.mark.parametrize("errno, words", [(-6, "busy"), (-3, "udev")])
def test_busy_or_forbidden_device(errno, words):
    factory = fake_class(open_error=FakeLibUSBError(errno, "Could not open SDR (device index = 0)"))
    assert words in one_line_error(make_source(factory))


def test_unknown_serial_number():
    message = one_line_error(make_source(fake_class(), device="nosuch"))
    assert "serial number 'nosuch'" in message


@pytest.mark.parametrize(
    "error, words",
    [
        (
            AttributeError(
                "/usr/lib/aarch64-linux-gnu/librtlsdr.so.0: undefined symbol: rtlsdr_set_dithering"
            ),
            ["undefined symbol: rtlsdr_set_dithering", "pip install pyrtlsdrlib"],
        ),
        (ModuleNotFoundError("No module named 'rtlsdr'", name="rtlsdr"), ["pip install pyrtlsdr"]),
        (
            ImportError("Error loading librtlsdr. Make sure librtlsdr is in your path"),
            ["cannot load librtlsdr", "pip install pyrtlsdrlib"],
        ),
        (OSError("librtlsdr.so.0: cannot open shared object file"), ["cannot load librtlsdr", "pyrtlsdrlib"]),
    ],
)
def test_library_problems_say_what_to_install(monkeypatch, error, words):
    def broken() -> Any:
        raise error

    monkeypatch.setattr(rtlsdr_module, "load_rtlsdr", broken)
    message = one_line_error(RtlSdrSource(RATE, CENTER))
    for word in words:
        assert word in message


def test_client_mode_pyrtlsdr(monkeypatch):
    monkeypatch.setattr(rtlsdr_module, "load_rtlsdr", lambda: None)
    assert "RTLSDR_CLIENT_MODE" in one_line_error(RtlSdrSource(RATE, CENTER))


@pytest.mark.parametrize(
    "config, words",
    [
        ({"fail": {"sample_rate"}}, "sample rate 1600000 Hz"),
        ({"fail": {"center_freq"}}, "centre frequency"),
        ({"fail": {"gain"}}, "automatic gain"),
        ({"bias_tee_error": True}, "bias tee"),
    ],
)
def test_a_failing_setting_is_named_and_the_device_closed(config, words):
    factory = fake_class(**config)
    source = make_source(factory, bias_tee=True)
    assert words in one_line_error(source)
    assert factory.instances[0].closes == 1
    source.close()
    assert factory.instances[0].closes == 1


def test_a_pyrtlsdr_without_bias_tee():
    factory = type("NoBiasTee", (fake_class(),), {"set_bias_tee": None})
    assert "bias tee" in one_line_error(make_source(factory, bias_tee=True))


@pytest.mark.parametrize("kwargs", [{"block_bytes": 1000}, {"block_bytes": 0}, {"gain": "loud"}])
def test_bad_arguments(kwargs):
    with pytest.raises(SourceError):
        make_source(fake_class(), **kwargs)


# ---------------------------------------------------------------------------------------------- stopping
def test_stop_from_another_thread_ends_chunks_promptly_and_closes_once():
    factory = fake_class(script=["stream"])
    source = make_source(factory)
    source.start()
    fake = factory.instances[0]
    stopped_at = None
    received = 0
    for item in source.chunks(poll_s=0.02):
        received += not isinstance(item, Gap)
        if received == 3 and stopped_at is None:
            stopped_at = time.monotonic()
            threading.Thread(target=source.stop).start()
    assert stopped_at is not None and time.monotonic() - stopped_at < 0.5
    source.close()
    source.close()
    assert fake.cancels == 1 and fake.closes == 1
    assert source.error is None and fake.misuse == []


def test_stop_before_the_first_block_cancels_when_it_arrives():
    factory = fake_class(script=["gate", "stream"])
    source = make_source(factory)
    source.start()
    fake = factory.instances[0]
    wait_for(lambda: fake.reading, "the read to start")
    source.stop()
    assert fake.cancels == 0  # librtlsdr's loop may not run yet: cancelling now would close the device
    fake.gate.release()
    assert drain(source) == []
    source.close()
    assert fake.cancels == 1 and fake.closes == 1 and fake.misuse == []


def test_device_that_stops_delivering_ends_chunks_with_an_error():
    factory = fake_class(script=[3])  # then read_bytes_async returns, as when the stick is pulled out
    source = make_source(factory)
    source.start()
    assert len(drain(source)) == 3
    assert source.error == "RTL-SDR stopped delivering samples (unplugged?)"
    source.close()
    assert factory.instances[0].closes == 1 and factory.instances[0].cancels == 0


def test_read_error_ends_chunks_with_a_one_line_error():
    factory = fake_class(script=[2, "raise"])
    source = make_source(factory)
    source.start()
    assert len(drain(source)) == 2
    assert source.error is not None and "\n" not in source.error
    assert source.error.startswith("RTL-SDR read failed: Could not read 512 bytes")
    source.close()
