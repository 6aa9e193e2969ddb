"""Where decoded telegrams go: JSON lines on stdout, MQTT (with Home Assistant discovery), the list of
meters seen; and which meters pass (``--only`` / ``--ignore``). Shared by decode, replay, listen, serve.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Callable

from ..errors import ConfigError
from .jsonl import JsonLinesOutput
from .seen import SeenMeters

log = logging.getLogger("sdr_wmbus.outputs")

BATCH_CONNECT_TIMEOUT_S = 5.0
RAW_FIELDS = (
    "raw",
    "mode",
    "frame_format",
    "rssi_dbfs",
    "snr_db",
    "freq_offset_hz",
    "chip_rate_error_ppm",
    "sample",
    "time_s",
)


def add_output_arguments(parser: argparse.ArgumentParser, json_flag: str | None = None) -> None:
    group = parser.add_argument_group("MQTT, Home Assistant and meter selection")
    group.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish to an MQTT broker: mqtt://[user[:password]@]host[:port] or mqtts://",
    )
    group.add_argument(
        "--mqtt-password-file",
        metavar="FILE",
        help="the MQTT password, alone on the first line of FILE (not shown in ps; or set "
        "SDR_WMBUS_MQTT_PASSWORD); the user name goes in the URL",
    )
    group.add_argument("--mqtt-prefix", default="wmbus", metavar="TOPIC", help="topic prefix (default wmbus)")
    group.add_argument(
        "--receiver-name", metavar="NAME", help="this receiver in topics and raw frames (default: host name)"
    )
    group.add_argument(
        "--mqtt-queue",
        type=int,
        default=10000,
        metavar="N",
        help="messages kept while the broker is away; the oldest are dropped (and counted) beyond",
    )
    group.add_argument("--mqtt-ca", metavar="FILE", help="CA certificate(s) for mqtts://")
    group.add_argument("--mqtt-cert", metavar="FILE", help="client certificate for mqtts://")
    group.add_argument("--mqtt-key", metavar="FILE", help="client certificate's key for mqtts://")
    group.add_argument(
        "--mqtt-insecure", action="store_true", help="mqtts:// without checking the broker's certificate"
    )
    group.add_argument(
        "--mqtt-retain",
        dest="mqtt_retain",
        action="store_const",
        const=True,
        default=None,
        help="retain every meter's readings (default: those of the meters announced to Home Assistant)",
    )
    group.add_argument(
        "--no-mqtt-retain",
        dest="mqtt_retain",
        action="store_const",
        const=False,
        help="retain no readings (a reading then waits until Home Assistant has taken up its discovery)",
    )
    group.add_argument("--no-discovery", action="store_true", help="no Home Assistant discovery configs")
    group.add_argument(
        "--discover-all",
        action="store_true",
        help="announce every meter heard to Home Assistant (default with --meters: the meters it lists)",
    )
    group.add_argument(
        "--discovery-prefix", default="homeassistant", metavar="TOPIC", help="Home Assistant discovery prefix"
    )
    group.add_argument("--no-json", action="store_true", help="no JSON lines on stdout (with --mqtt)")
    group.add_argument("--seen", metavar="FILE", help="keep a JSON list of every meter heard in FILE")
    group.add_argument("--only", metavar="ID,...", help="output only these meters (ID or prefix*)")
    group.add_argument("--ignore", metavar="ID,...", help="never output these meters (ID or prefix*)")


def parse_ids(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise ConfigError(f"{option}: expected meter ids separated by commas")
    for meter_id in ids:
        body = meter_id[:-1] if meter_id.endswith("*") else meter_id
        if not body.isalnum() or len(body) > 8 or "*" in body:
            raise ConfigError(f"{option}: {meter_id!r} is not a meter id (8 digits, or a prefix ending in *)")
    return [meter_id.lower() for meter_id in ids]


def _matches(meter_id: str, patterns: list[str]) -> bool:
    meter_id = meter_id.lower()
    return any(meter_id.startswith(p[:-1]) if p.endswith("*") else meter_id == p for p in patterns)


class OutputUnavailable(Exception):
    """An output that a one-shot command needs cannot be reached (exit status 1, not a usage error)."""


class MeterFilter:
    def __init__(self, only: list[str], ignore: list[str]) -> None:
        self.only = only
        self.ignore = ignore
        self.filtered = 0

    def passes(self, obj: dict) -> bool:
        meter_id = str(obj.get("id") or "")
        ok = not (self.only and not _matches(meter_id, self.only)) and not _matches(meter_id, self.ignore)
        if not ok:
            self.filtered += 1
        return ok

    @property
    def active(self) -> bool:
        return bool(self.only or self.ignore)


class Outputs:
    """Fan-out of telegrams (and, for receivers, raw frames and status) to every configured output."""

    def __init__(
        self,
        args: argparse.Namespace,
        pretty: bool = False,
        batch: bool = False,
        raw_only: bool = False,
        human: bool = False,
    ) -> None:
        """``raw_only``: a receiver without keys; its records go to JSON lines and the MQTT raw topic only.
        ``human``: lines for people on stdout instead of JSON (and a table of meters at the end)."""
        self.raw_only = raw_only
        self.filter = MeterFilter(parse_ids(args.only, "--only"), parse_ids(args.ignore, "--ignore"))
        if args.no_json:
            self.json = None
        elif human and not raw_only:
            from .human import HumanOutput

            self.json = HumanOutput()
        else:
            self.json = JsonLinesOutput(pretty=pretty)
        self.receiver = args.receiver_name or socket.gethostname()
        if args.no_json and not args.mqtt:
            raise ConfigError("--no-json leaves no output: add --mqtt URL")
        if args.mqtt_password_file and not args.mqtt:
            raise ConfigError("--mqtt-password-file needs --mqtt URL")
        self.seen = SeenMeters(args.seen) if args.seen else None
        self.mqtt = None
        if args.mqtt:
            self.mqtt = _open_mqtt(args, self.receiver, batch)

    def write(self, obj: dict) -> bool:
        """Send one decoded telegram everywhere; False when the meter is filtered out."""
        if self.seen is not None:
            self.seen.add(obj)
        if not self.filter.passes(obj):
            return False
        if self.json is not None:
            self.json.write(obj)
        if self.mqtt is not None and not self.raw_only:
            self.mqtt.write(obj)
        return True

    def receive(self, obj: dict) -> None:
        """A radio's result: written as a telegram, and its frame with radio metadata published on
        <prefix>/raw/<receiver> for a central ``serve``."""
        if self.write(obj) and self.mqtt is not None:
            self.mqtt.write_raw(raw_record(obj, self.receiver))

    def status(self, stats: dict) -> None:
        if self.mqtt is not None:
            self.mqtt.status(stats)

    def close(self) -> str | None:
        """Flush everything; a one-line problem (undelivered MQTT messages) or None."""
        if self.seen is not None:
            self.seen.save()
        if self.json is not None and hasattr(self.json, "close"):
            self.json.close()
        if self.mqtt is None:
            return None
        self.mqtt.close()
        stats = self.mqtt.stats()
        lost = stats.get("pending", 0) + stats.get("dropped", 0)
        if lost:
            return (
                f"MQTT: {stats.get('pending', 0)} messages could not be delivered and "
                f"{stats.get('dropped', 0)} were dropped from the full queue"
            )
        return None


def raw_record(obj: dict, receiver: str) -> dict:
    """The frame and its radio metadata: what a central ``serve`` needs to decode it again."""
    record = {"receiver": receiver}
    for field in ("id", "manufacturer", *RAW_FIELDS, "timestamp"):
        if obj.get(field) is not None:
            record[field] = obj[field]
    return record


def announced_meters(args: argparse.Namespace) -> Callable[[str], bool] | None:
    """Which meters get Home Assistant discovery: with a meters file, the meters it lists (ids or
    patterns) unless --discover-all; without one, every meter heard (None)."""
    if getattr(args, "discover_all", False) or not getattr(args, "meters", None):
        return None
    store = getattr(args, "key_store", None)  # what load_keys read, when the command used it
    if store is not None:
        return lambda meter_id: store.meter(meter_id) is not None
    from ..security.keys import KeyStore

    keys_log = logging.getLogger("sdr_wmbus.security.keys")
    level = keys_log.level
    keys_log.setLevel(logging.ERROR)  # the command that loaded it first has warned about the file
    try:
        store = KeyStore.from_file(args.meters)
    finally:
        keys_log.setLevel(level)
    return lambda meter_id: store.meter(meter_id) is not None


def _open_mqtt(args: argparse.Namespace, receiver: str, batch: bool):
    from .mqtt import MqttOutput, mqtt_settings

    settings = mqtt_settings(args.mqtt, args.mqtt_password_file)
    if args.mqtt_queue < 1:
        raise ConfigError("--mqtt-queue must be at least 1")
    if not settings.tls and (args.mqtt_ca or args.mqtt_cert or args.mqtt_key or args.mqtt_insecure):
        raise ConfigError("--mqtt-ca/--mqtt-cert/--mqtt-key/--mqtt-insecure need an mqtts:// URL")
    mqtt_log = logging.getLogger("sdr_wmbus.mqtt")
    quiet_level = mqtt_log.level
    if batch:  # a one-shot command reports an unreachable broker (or a refusal) itself, in one line
        mqtt_log.setLevel(logging.CRITICAL)
    output = MqttOutput(
        settings,
        prefix=args.mqtt_prefix,
        receiver=receiver,
        queue_size=args.mqtt_queue,
        discovery=not args.no_discovery,
        discovery_prefix=args.discovery_prefix,
        retain=args.mqtt_retain,
        announce=announced_meters(args),
        ca_certs=args.mqtt_ca,
        certfile=args.mqtt_cert,
        keyfile=args.mqtt_key,
        insecure=args.mqtt_insecure,
    )
    connected = output.wait_connected(BATCH_CONNECT_TIMEOUT_S if batch else 2.0)
    mqtt_log.setLevel(quiet_level)
    if not connected:
        if batch:  # a one-shot command fails before reading anything, so nothing is lost
            mqtt_log.setLevel(logging.CRITICAL)
            output.close(timeout=0.5)
            mqtt_log.setLevel(quiet_level)
            reason = f" ({output.last_error})" if output.last_error else ""
            raise OutputUnavailable(f"MQTT broker {settings.address()} unreachable{reason}")
        print(
            f"sdr-wmbus: MQTT broker {settings.address()} not reachable yet: messages are queued "
            f"(up to {args.mqtt_queue}) until it is",
            file=sys.stderr,
        )
    return output
