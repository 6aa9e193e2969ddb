"""MQTT output: readings, raw frames, receiver status and Home Assistant discovery over paho-mqtt 2.x.

Topics (``prefix`` defaults to ``wmbus``):

* ``<prefix>/meter/<id>``: one decoded telegram as JSON (QoS 1); retained for the meters announced to
  Home Assistant (so that it shows the last reading after a restart), unless ``retain`` says otherwise
* ``<prefix>/error/<id>``: a telegram that could not be decoded (``unknown`` when the id is not known)
* ``<prefix>/raw/<receiver>``: raw frames with radio metadata, as given by the caller
* ``<prefix>/receiver/<receiver>/status``: retained ``{"state": "online", ...}``; ``{"state": "offline"}`` on
  close and, as the last will, when the process dies or the link drops
* ``homeassistant/<component>/wmbus_<id>/<field>/config``: retained discovery configs, sent before a
  meter's first reading. A reading that is not retained waits until the broker has confirmed its meter's
  new configs and ``discovery_delay`` more seconds, so that Home Assistant has subscribed to it.

Nothing is lost silently: messages wait in a bounded queue of our own and are handed to paho only while
connected, at most ``max_inflight`` at a time. A message handed over stays paho's until the broker confirms
it (paho resends it after a reconnect), so memory is bounded by ``queue_size + max_inflight`` even during a
long outage. When the queue is full the oldest message is dropped, counted in ``dropped`` and logged.

What is lost beyond us (a broker that restarts without persistence forgets the messages it held) is
counted by the receiving end: every raw frame record carries ``run`` (random, one per output) and
``seq`` (1, 2, 3 ... in the order the frames were queued), and the status carries ``raw_run`` and
``raw_seq``, the last number handed to the broker before that status, so a ``serve`` that sees a number
skipped knows how many frames it missed, even the last ones before a receiver stopped.

After a broker outage the client is back within a fraction of a second of the broker (see
:class:`Reconnect`); the password may come from a file or the environment (:func:`mqtt_settings`) and is
never shown.
"""

from __future__ import annotations

import collections
import logging
import os
import secrets
import socket
import ssl
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from ..errors import ConfigError
from .homeassistant import DiscoveryTracker
from .jsonl import to_json

log = logging.getLogger("sdr_wmbus.mqtt")

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
DROP_WARNING_INTERVAL_S = 10.0
OFFLINE = {"state": "offline"}
PASSWORD_ENV = "SDR_WMBUS_MQTT_PASSWORD"
PASSWORD_FILE_MAX_BYTES = 4096


@dataclass(frozen=True)
class MqttSettings:
    """Where and as whom to connect; ``repr`` and :meth:`redacted` never show the password."""

    scheme: str  # "mqtt" or "mqtts" (TLS)
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"

    def redacted(self) -> str:
        """The URL for messages and logs, with the password replaced by ``***``."""
        user = ""
        if self.username is not None:
            user = self.username + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"

    def address(self) -> str:
        """host:port, for one-line messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttSettings:
    """``mqtt[s]://[user[:password]@]host[:port]`` -> settings; ConfigError (never echoing the password)."""
    text = url.strip()
    if "://" not in text:
        raise ConfigError("MQTT URL must look like mqtt://[user:password@]host[:port] (or mqtts:// for TLS)")
    scheme = text.split("://", 1)[0].lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(f"MQTT URL scheme must be mqtt:// or mqtts://, not {scheme[:20]!r}")
    parts = urlsplit(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            "MQTT URL must not have a path, query or fragment (percent-encode '/', '?' and '#' in a password)"
        )
    host_port = parts.netloc.rpartition("@")[2]
    host = parts.hostname or ""
    if not host:
        raise ConfigError("MQTT URL has no host name")
    try:
        port = parts.port
    except ValueError:
        raw = host_port.rpartition(":")[2] if not host_port.endswith("]") else ""
        raise ConfigError(f"MQTT URL has a bad port {raw[:20]!r} (must be 1-65535)") from None
    if port is None:
        if host_port.endswith(":"):
            raise ConfigError("MQTT URL has an empty port")
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ConfigError(f"MQTT URL has a bad port {port} (must be 1-65535)")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError("MQTT URL has a password but no user name")
    return MqttSettings(scheme, host, port, username, password)


def mqtt_settings(
    url: str, password_file: str | None = None, environ: dict[str, str] | None = None
) -> MqttSettings:
    """The broker settings from ``--mqtt URL``, with the password from the URL, ``--mqtt-password-file``
    or the ``SDR_WMBUS_MQTT_PASSWORD`` environment variable (in that order; URL and file together are an
    error). The last two keep the password out of ``ps``. Errors are one line and never quote it."""
    settings = parse_mqtt_url(url)
    env = os.environ if environ is None else environ
    if password_file is not None:
        if settings.password is not None:
            raise ConfigError("the MQTT password is in the URL and --mqtt-password-file: give it once")
        password, source = read_password_file(password_file), "--mqtt-password-file"
    elif settings.password is None and env.get(PASSWORD_ENV):
        password, source = env[PASSWORD_ENV], PASSWORD_ENV
    else:
        return settings
    if not settings.username:
        raise ConfigError(f"a password from {source} needs a user name in the URL: mqtt://USER@host")
    return MqttSettings(settings.scheme, settings.host, settings.port, settings.username, password)


def read_password_file(path: str) -> str:
    """The password on the first (only) line of ``path``; ConfigError (never quoting the file) otherwise."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError(f"--mqtt-password-file {path}: not a regular file")
            data = handle.read(PASSWORD_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read --mqtt-password-file {path}: {exc.strerror or exc}") from None
    if len(data) > PASSWORD_FILE_MAX_BYTES:
        raise ConfigError(f"--mqtt-password-file {path}: longer than {PASSWORD_FILE_MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"--mqtt-password-file {path}: not UTF-8 text") from None
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    if "\n" in text or "\r" in text:
        raise ConfigError(f"--mqtt-password-file {path}: the password must be on one line, alone")
    if not text:
        raise ConfigError(f"--mqtt-password-file {path}: empty")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("MQTT password file %s is readable by other users: chmod 600 it", path)
    return text


class Reconnect:
    """When paho connects again; its callbacks call the methods below, which set paho's next wait.

    * A connection that had worked is lost (a broker restart, a network blip): the first try is at
      once, then one every ``retry_s`` (0.25 s) while the broker cannot be reached, so that a client is
      back (and ``serve`` subscribed again) within a fraction of a second of the broker's return; after
      ``patience_s`` (60 s) of outage, one every ``slow_retry_s`` (5 s). A refused TCP connection costs
      the broker nothing.
    * The broker refused the connection (bad credentials, not authorised), or connections keep ending
      early while the broker stays up: closed before the broker accepted them, or within ``flap_s``
      (2 s) of it, twice in a row (a TLS mismatch, or another client with the same client id taking
      the session over, each in turn): ``backoff[0]`` doubling up to ``backoff[1]`` (1 s to 30 s)
      until the broker accepts us (after a refusal) or a connection lasts. A misconfiguration must not
      make us hammer the broker. (One early end alone is normal: a broker being killed accepts a
      connection and drops it; and a broker that cannot be reached in between has restarted.)
    """

    def __init__(
        self,
        client: mqtt.Client,
        retry_s: float = 0.25,
        backoff: tuple[float, float] = (1.0, 30.0),
        patience_s: float = 60.0,
        slow_retry_s: float = 5.0,
        flap_s: float = 2.0,
    ) -> None:
        self.client = client
        self.retry_s = retry_s
        self.backoff = backoff
        self.patience_s = patience_s
        self.slow_retry_s = max(slow_retry_s, retry_s)
        self.flap_s = flap_s
        self.next_delay = retry_s
        self.uptime = 0.0  # how long the last connection lasted after being accepted
        self._outage_since = time.monotonic()
        self._connected_at: float | None = None
        self._refused = False
        self._refusing = False  # refused since the last accepted connection
        self._strikes = 0  # connections in a row that ended early (the broker up all along)
        self._backoff_next = backoff[0]
        self._set(retry_s)

    def connected(self) -> None:
        """CONNACK accepted."""
        self._connected_at = time.monotonic()
        self._refusing = False

    def refused(self) -> None:
        """CONNACK with a failure reason."""
        self._refused = True

    def disconnected(self) -> str:
        """The connection ended: 'lost' (a connection that worked), 'early' (one that ended early, once),
        'flap' (early again) or 'refused'; sets the wait before the next try."""
        now = time.monotonic()
        self.uptime = 0.0 if self._connected_at is None else now - self._connected_at
        self._connected_at = None
        if self._refused:
            self._refused = False
            self._refusing = True
            self._back_off()
            return "refused"
        self._strikes = self._strikes + 1 if self.uptime < self.flap_s else 0
        if self._strikes >= 2:
            self._back_off()
            return "flap"
        self._backoff_next = self.backoff[0]
        self._outage_since = now
        self._set(0.0)
        return "lost" if self._strikes == 0 else "early"

    def connect_failed(self) -> None:
        """The broker could not be reached (refused TCP connection, timeout, TLS failure)."""
        if self._refusing:
            self._back_off()
            return
        # The broker is away: an outage (a restart), not connections ending early.
        self._strikes = 0
        self._backoff_next = self.backoff[0]
        if time.monotonic() - self._outage_since < self.patience_s:
            self._set(self.retry_s)
        else:
            self._set(self.slow_retry_s)

    def _back_off(self) -> None:
        self._set(self._backoff_next)
        self._backoff_next = min(2 * self._backoff_next, self.backoff[1])

    def _set(self, delay: float) -> None:
        self.next_delay = delay
        self.client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]


def early_end(settings: MqttSettings, reconnect: Reconnect, reason: object) -> str:
    """Why a connection that keeps ending early ended, for a log line."""
    where = f"MQTT broker {settings.address()}"
    if reconnect.uptime > 0:
        return f"{where} closed the connection {reconnect.uptime:.1f} s after accepting it ({reason})"
    return f"{where} closed the connection before accepting it ({reason})"


def topic_level(text: object) -> str:
    """A value made safe as one topic level: no '/', wildcards or NUL; 'unknown' when empty."""
    cleaned = "".join("_" if c in "/+#\0" else c for c in str(text)).strip()
    return cleaned or "unknown"


@dataclass
class _Message:
    topic: str
    payload: bytes
    retain: bool = False
    counted: bool = True  # counted in `published` (status messages are not)
    discovery_for: str | None = None  # meter id of a discovery config (re-announce it if dropped)
    raw_seq: int = 0  # sequence number of a raw frame record


@dataclass
class _Hold:
    """A meter's readings waiting for its new discovery configs to be taken up by Home Assistant."""

    configs: int  # the meter's configs not yet confirmed by the broker
    messages: list[_Message] = field(default_factory=list)
    release_at: float | None = None  # monotonic time the readings go out (once every config is confirmed)


class MqttOutput:
    """Publishes decoded telegrams to an MQTT broker, riding out broker outages without blocking the caller.

    ``write``/``write_raw``/``status`` only queue and return; a sender thread hands messages to paho's
    network thread (started with ``loop_start``), which connects, reconnects (at once after an outage,
    with back-off after a refusal: :class:`Reconnect`) and resends what the broker had not confirmed.
    Call :meth:`close` at the end so that the offline status is published and the queue drains; a
    process that dies instead leaves the last will (offline) behind.
    """

    def __init__(
        self,
        settings: MqttSettings,
        prefix: str = "wmbus",
        receiver: str | None = None,
        queue_size: int = 10000,
        discovery: bool = True,
        client_id: str | None = None,
        connect_timeout: float = 5.0,
        *,
        discovery_prefix: str = "homeassistant",
        retain: bool | None = None,
        announce: Callable[[str], bool] | None = None,
        discovery_delay: float = 2.0,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        insecure: bool = False,
        keepalive: int = 60,
        max_inflight: int = 100,
        reconnect_delay: tuple[float, float] = (1.0, 30.0),
        retry_s: float = 0.25,
        settle_s: float = 1.0,
    ) -> None:
        """``reconnect_delay``: the back-off after the broker refused us; ``retry_s``: how often to try
        while the broker cannot be reached (see :class:`Reconnect`); ``settle_s``: after a reconnection,
        how long to hold what was queued during the outage, so that subscribers that reconnect as fast
        as we do (``serve``) are subscribed again before it goes out: a broker that restarted without
        persistence would otherwise drop it for want of subscribers."""
        prefix = prefix.strip().strip("/")
        if not prefix or any(c in prefix for c in "+#\0"):
            raise ConfigError(f"MQTT topic prefix {prefix!r} must be non-empty and free of '+' and '#'")
        if queue_size < 1 or max_inflight < 1:
            raise ConfigError("MQTT queue size and in-flight limit must be at least 1")
        if not settings.tls and (ca_certs or certfile or keyfile or insecure):
            raise ConfigError("MQTT TLS options need an mqtts:// URL")
        self.settings = settings
        self.prefix = prefix
        self.receiver = topic_level(receiver if receiver is not None else socket.gethostname())
        self.queue_size = queue_size
        self.discovery = discovery
        self.retain = retain  # None: readings of the meters announced to Home Assistant are retained
        self.discovery_delay = discovery_delay
        self.max_inflight = max_inflight
        self.status_topic = f"{prefix}/receiver/{self.receiver}/status"
        self.published = 0  # messages confirmed by the broker (readings, raw, errors, discovery)
        self.dropped = 0  # messages dropped from a full queue
        self.run = secrets.token_hex(4)  # names this output's numbering of raw frames
        self._raw_seq = 0  # the last sequence number given to a raw frame record
        self._raw_handed = 0  # the highest one handed to paho (sent before any later status)

        self._cond = threading.Condition()
        self._queue: collections.deque[_Message] = collections.deque()
        self._inflight: dict[int, _Message] = {}  # mid -> message handed to paho, not yet confirmed
        self._early_acks: set[int] = set()  # confirmations that came before publish() returned
        self._handing: list[_Message] = []  # between the queue and paho
        self._tracker = DiscoveryTracker(prefix, discovery_prefix, announce)
        self._held: dict[str, _Hold] = {}  # meter id -> readings waiting for its discovery to be taken up
        self._status: dict = {"state": "online"}
        self._status_due = False
        self._connected = False
        self._ever_connected = False
        self.settle_s = settle_s
        self._holding = False  # settling after a reconnection: nothing is handed to paho
        self._connections = 0
        self._warned_down = False
        self._refusals: set[str] = set()
        self._refusal_count = 0
        self._closing = False
        self._closed = False
        self._stop_sender = False
        self._last_drop_warning = -DROP_WARNING_INTERVAL_S

        self._client = self._make_client(client_id, connect_timeout, ca_certs, certfile, keyfile, insecure)
        self._reconnect = Reconnect(self._client, retry_s=retry_s, backoff=reconnect_delay)
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._sender.start()
        self._connect(keepalive)

    # --- setup ------------------------------------------------------------------------------------

    def _make_client(
        self,
        client_id: str | None,
        connect_timeout: float,
        ca_certs: str | None,
        certfile: str | None,
        keyfile: str | None,
        insecure: bool,
    ) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sdr-wmbus-{self.receiver[:32]}-{secrets.token_hex(3)}",
            clean_session=True,
        )
        client.connect_timeout = connect_timeout
        client.max_inflight_messages_set(self.max_inflight)
        if self.settings.username is not None:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls:
            try:
                client.tls_set(
                    ca_certs=ca_certs,
                    certfile=certfile,
                    keyfile=keyfile,
                    cert_reqs=ssl.CERT_NONE if insecure else ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise ConfigError(f"MQTT TLS setup failed: {exc}") from None
            if insecure:
                client.tls_insecure_set(True)
        client.will_set(self.status_topic, to_json(OFFLINE), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_publish = self._on_publish
        return client

    last_error: str | None = None  # why the first connection attempt failed, for one-line messages

    def _connect(self, keepalive: int) -> None:
        """First attempt in the caller's thread (to log why it failed); paho's thread retries after that."""
        host, port = self.settings.host, self.settings.port
        try:
            self._client.connect(host, port, keepalive)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            self.last_error = reason
            log.warning("MQTT broker %s unreachable (%s), retrying", self.settings.address(), reason)
            self._warned_down = True
            self._client.connect_async(host, port, keepalive)
        self._client.loop_start()

    # --- public API ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        with self._cond:
            return self._connected

    @property
    def pending(self) -> int:
        """Messages (not counting status) queued or handed to paho but not yet confirmed by the broker."""
        with self._cond:
            return self._pending_locked()

    @property
    def in_flight(self) -> int:
        """Messages (not counting status) handed to paho and not yet confirmed; paho resends them after a
        reconnect."""
        with self._cond:
            return sum(m.counted for m in self._inflight.values())

    def stats(self) -> dict[str, int]:
        """Counters for a status message."""
        with self._cond:
            return {"published": self.published, "dropped": self.dropped, "pending": self._pending_locked()}

    def wait_connected(self, timeout: float) -> bool:
        """True once connected to the broker; False if that did not happen within ``timeout`` seconds,
        or sooner when the broker refused the connection (``last_error`` says why)."""
        with self._cond:
            refusals = self._refusal_count
            self._cond.wait_for(lambda: self._connected or self._refusal_count > refusals, timeout)
            return self._connected

    def retains(self, meter_id: object) -> bool:
        """Whether this meter's readings are published retained."""
        if self.retain is not None:
            return self.retain
        return self.discovery and self._tracker.announces(meter_id)

    def write(self, obj: dict) -> None:
        """Queue one decoded telegram (after its discovery configs on a meter's first telegram)."""
        payload = to_json(obj).encode()
        meter = topic_level(obj.get("id") or "unknown")
        if "error" in obj:
            self._enqueue([_Message(f"{self.prefix}/error/{meter}", payload)])
            return
        with self._cond:
            self._check_open()
            configs = []
            if self.discovery and obj.get("id"):
                for topic, config in self._tracker.new_messages(obj):
                    body = to_json(config).encode()
                    configs.append(_Message(topic, body, retain=True, discovery_for=str(obj["id"])))
            retain = self.retains(obj.get("id") or "")
            reading = _Message(f"{self.prefix}/meter/{meter}", payload, retain=retain)
            hold = self._held.get(str(obj.get("id")))
            if hold is None and configs and not retain and self.discovery_delay > 0:
                # Home Assistant subscribes to a new entity's state topic a few hundred ms after its
                # config: a reading sent right away would be lost to it.
                hold = self._held[str(obj["id"])] = _Hold(0)
            if hold is None:
                self._enqueue_locked([*configs, reading])
                return
            hold.configs += len(configs)
            if configs:
                hold.release_at = None
            self._enqueue_locked(configs)
            self._hold_locked(hold, reading)

    def write_raw(self, payload: dict) -> None:
        """Queue one raw frame record (hex and radio metadata, built by the caller), numbered: ``run`` and
        ``seq`` let the receiving end count the records that never reached it."""
        with self._cond:
            self._check_open()
            self._raw_seq += 1
            record = {**payload, "run": self.run, "seq": self._raw_seq}
            message = _Message(f"{self.prefix}/raw/{self.receiver}", to_json(record).encode())
            message.raw_seq = self._raw_seq
            self._enqueue_locked([message])

    def status(self, stats: dict) -> None:
        """Publish retained ``{"state": "online", **stats}``; during an outage only the latest one waits."""
        with self._cond:
            self._check_open()
            self._status = {"state": "online", **stats}
            self._status_due = True
            self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``timeout`` s), publish the offline status, disconnect cleanly."""
        with self._cond:
            if self._closed or self._closing:
                return
            self._closing = True
            deadline = time.monotonic() + timeout
            self._cond.wait_for(lambda: self._pending_locked() == 0, timeout)
            left = self._pending_locked()
            self._status = dict(OFFLINE)
            self._status_due = True
            self._cond.notify_all()
            # The offline status gets a moment of its own even when draining used up the timeout.
            grace = max(deadline - time.monotonic(), 1.0) if self._connected else 0.0
            self._cond.wait_for(lambda: not self._status_pending_locked(), grace)
            self._stop_sender = True
            self._cond.notify_all()
        self._sender.join(timeout=2.0)
        self._client.disconnect()
        self._client.loop_stop()
        with self._cond:
            self._closed = True
            self._connected = False
        if left:
            log.warning("MQTT: %d message(s) not delivered to %s at exit", left, self.settings.address())
        if self.dropped:
            log.warning("MQTT: %d message(s) were dropped from the full queue", self.dropped)

    def __enter__(self) -> MqttOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queue ------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closing or self._closed:
            raise RuntimeError("MQTT output is closed")

    def _pending_locked(self) -> int:
        handing = sum(m.counted for m in self._handing)
        held = sum(len(hold.messages) for hold in self._held.values())
        return len(self._queue) + sum(m.counted for m in self._inflight.values()) + handing + held

    def _hold_locked(self, hold: _Hold, message: _Message) -> None:
        """Keep a reading back (bounded, like the queue: the oldest held reading goes first)."""
        if sum(len(h.messages) for h in self._held.values()) >= self.queue_size:
            oldest = max(self._held.values(), key=lambda h: len(h.messages))
            oldest.messages.pop(0)
            self.dropped += 1
        hold.messages.append(message)

    def _config_done_locked(self, message: _Message) -> None:
        """A discovery config was confirmed (or given up): its meter's readings go out once all were,
        ``discovery_delay`` seconds later."""
        hold = self._held.get(message.discovery_for or "")
        if hold is None:
            return
        hold.configs -= 1
        if hold.configs <= 0 and hold.release_at is None:
            hold.release_at = time.monotonic() + self.discovery_delay
            self._cond.notify_all()

    def _release_held_locked(self) -> float | None:
        """Queue the held readings that are due; seconds until the next one is (None: none waits)."""
        now = time.monotonic()
        wait = None
        for meter_id, hold in list(self._held.items()):
            if hold.release_at is None:
                continue
            if hold.release_at <= now:
                del self._held[meter_id]
                self._enqueue_locked(hold.messages)
            else:
                wait = min(wait, hold.release_at - now) if wait is not None else hold.release_at - now
        return wait

    def _status_pending_locked(self) -> bool:
        if self._status_due or any(not m.counted for m in self._handing):
            return True
        return any(not m.counted for m in self._inflight.values())

    def _enqueue(self, messages: list[_Message]) -> None:
        with self._cond:
            self._check_open()
            self._enqueue_locked(messages)

    def _enqueue_locked(self, messages: list[_Message]) -> None:
        for message in messages:
            if len(self._queue) >= self.queue_size:
                self._drop_oldest_locked()
            self._queue.append(message)
        self._cond.notify_all()

    def _drop_oldest_locked(self) -> None:
        old = self._queue.popleft()
        self.dropped += 1
        if old.discovery_for is not None:
            self._tracker.forget(old.discovery_for)
            self._config_done_locked(old)
        now = time.monotonic()
        if now - self._last_drop_warning >= DROP_WARNING_INTERVAL_S:
            self._last_drop_warning = now
            log.warning(
                "MQTT queue full (%d messages, broker %s): dropping the oldest, %d dropped so far",
                self.queue_size,
                self.settings.address(),
                self.dropped,
            )

    def _send_loop(self) -> None:
        """The one thread that calls publish(): it never holds our lock while inside paho (paho calls
        on_publish with its own lock held, so holding ours around publish() could deadlock)."""
        while True:
            with self._cond:
                while True:
                    wait = self._release_held_locked()  # seconds until the next held reading is due
                    if self._can_send_locked():
                        break
                    self._cond.wait(wait)
                if self._stop_sender:
                    return
                batch = []
                if self._status_due:
                    self._status_due = False
                    status = self._status
                    if self._raw_seq:  # how far the numbered raw frames went, for the receiving end
                        status = {**status, "raw_run": self.run, "raw_seq": self._raw_handed}
                    batch.append(_Message(self.status_topic, to_json(status).encode(), True, counted=False))
                # as many as paho may have in flight: one lock round trip for the lot, not per message
                room = self.max_inflight - len(self._inflight)
                while self._queue and len(batch) < room:
                    batch.append(self._queue.popleft())
                self._handing = batch
            sent = []
            for message in batch:
                try:
                    info = self._client.publish(message.topic, message.payload, qos=1, retain=message.retain)
                except (ValueError, TypeError) as exc:  # a topic or payload paho refuses: no retry
                    log.error("MQTT: cannot publish to %s: %s", message.topic, exc)
                    info = None
                sent.append((message, info))
                if message.raw_seq:
                    self._raw_handed = max(self._raw_handed, message.raw_seq)
            with self._cond:
                self._handing = []
                for message, info in sent:
                    # MQTT_ERR_NO_CONN still leaves the message with paho, which sends it on reconnect.
                    if info is None:
                        self.dropped += message.counted
                        self._config_done_locked(message)
                    elif info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                        log.error(
                            "MQTT: paho refused a message for %s (%s)",
                            message.topic,
                            mqtt.error_string(info.rc),
                        )
                        self.dropped += message.counted
                        self._config_done_locked(message)
                    elif info.mid in self._early_acks:
                        self._early_acks.discard(info.mid)
                        self.published += message.counted
                        self._config_done_locked(message)
                    else:
                        self._inflight[info.mid] = message
                self._cond.notify_all()

    def _can_send_locked(self) -> bool:
        if self._stop_sender:
            return True
        if not self._connected or self._holding or len(self._inflight) >= self.max_inflight:
            return False
        return self._status_due or bool(self._queue)

    # --- paho callbacks (network thread) ----------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            self._reconnect.refused()
            text = str(reason)
            with self._cond:
                self.last_error = f"it refused the connection: {text}"
                self._refusal_count += 1
                self._cond.notify_all()
            if text not in self._refusals:  # log each reason once, not on every retry
                self._refusals.add(text)
                log.error("MQTT broker %s refused the connection: %s", self.settings.address(), text)
            return
        self._reconnect.connected()
        with self._cond:
            self._connected = True
            self._connections += 1
            after_outage = self._ever_connected or self._warned_down
            if after_outage and self.settle_s > 0 and not self._closing:
                self._holding = True
                timer = threading.Timer(self.settle_s, self._settled, args=(self._connections,))
                timer.daemon = True
                timer.start()
            if self._ever_connected:
                self._tracker.reset()  # the broker may have restarted without its retained configs
            self._ever_connected = True
            self._warned_down = False
            self._refusals.clear()
            self._status_due = True  # the latest status (online, or offline while closing)
            self._cond.notify_all()
        log.info("MQTT connected to %s", self.settings.redacted())

    def _settled(self, connection: int) -> None:
        with self._cond:
            if connection == self._connections:
                self._holding = False
                self._cond.notify_all()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        kind = self._reconnect.disconnected()
        with self._cond:
            was_connected = self._connected
            self._connected = False
            closing = self._closing
            self._cond.notify_all()
        if closing:
            return
        if kind == "flap":
            log.warning(
                "%s; next try in %g s",
                early_end(self.settings, self._reconnect, reason),
                self._reconnect.next_delay,
            )
            self._warned_down = True
        elif was_connected:
            log.warning("MQTT connection to %s lost (%s), reconnecting", self.settings.address(), reason)
            self._warned_down = True

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self._reconnect.connect_failed()
        if not self._warned_down:
            self._warned_down = True
            log.warning("MQTT broker %s unreachable, retrying", self.settings.address())

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object
    ) -> None:
        with self._cond:
            message = self._inflight.pop(mid, None)
            if message is None:
                self._early_acks.add(mid)
            else:
                self.published += message.counted
                self._config_done_locked(message)
            self._cond.notify_all()
