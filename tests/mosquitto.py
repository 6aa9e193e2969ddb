"""A real mosquitto broker for tests, on a free loopback port that survives stop()/restart().

Tests that need it use :func:`broker_or_skip`, which skips cleanly where mosquitto is not installed.
With ``persistence=True`` the broker keeps sessions and queued QoS 1 messages across a restart, so a
subscriber with a persistent session misses nothing while a publisher reconnects first.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None."""
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("mosquitto")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """One mosquitto process with its own temp dir and config; use as a context (or call cleanup())."""

    def __init__(self, binary: str, persistence: bool = False, extra_config: str = "") -> None:
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="mosquitto-test-")
        self.dir = Path(self._dir.name)
        self.config = self.dir / "mosquitto.conf"
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # Started as root, mosquitto would switch to user 'mosquitto', who cannot write our temp dir.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            f"persistence {'true' if persistence else 'false'}",
            f"persistence_location {self.dir}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        self.config.write_text("\n".join(lines) + "\n" + extra_config)
        self.process: subprocess.Popen | None = None
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise

    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 5.0) -> None:
        """Start the broker and wait until its port accepts connections."""
        assert self.process is None, "already running"
        log = open(self.dir / "mosquitto.log", "ab")  # closed in stop()
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        self._log = log
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_text()[-500:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker (SIGTERM, which also saves the persistence file); no-op if not running."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self._log.close()

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is answered (messages sit unacknowledged)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL, as in a crash: nothing is saved, connections are reset."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None
        self._log.close()

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        path = self.dir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        """Kill the broker if it still runs and remove its temp directory."""
        self.kill()
        self._dir.cleanup()

    def __enter__(self) -> Mosquitto:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def broker_or_skip(persistence: bool = False, extra_config: str = "") -> Mosquitto:
    """A running broker, or pytest.skip where mosquitto is not installed.

    ``extra_config`` is appended to the config, e.g. a second (TLS) listener on another free_port().
    """
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed")
    return Mosquitto(binary, persistence=persistence, extra_config=extra_config)
