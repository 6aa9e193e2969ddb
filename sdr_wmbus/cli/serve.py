"""``sdr-wmbus serve``: the central decoder for a fleet of keyless receivers (MQTT in, readings out)."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time

from ..errors import ConfigError
from ..outputs.fanout import Outputs, add_output_arguments
from ..outputs.mqtt import mqtt_settings
from ..serve import STATUS_INTERVAL_S, CentralDecoder, RawSubscriber
from .options import (
    EXIT_ERROR,
    EXIT_OK,
    add_key_arguments,
    add_output_format_argument,
    fail,
    load_keys,
    output_style,
    setup_logging,
)

log = logging.getLogger("sdr_wmbus.serve")


def register(sub) -> None:
    srv = sub.add_parser(
        "serve",
        help="central decoder: decode the raw frames that receivers publish to MQTT, publish readings",
        description=(
            "Subscribe to <prefix>/raw/+ (frames published by 'listen --raw-only --mqtt'), decode them with "
            "the meters file and publish readings on <prefix>/meter/<id>, with Home Assistant discovery. "
            "Copies of one telegram heard by several receivers are published once, with the best RSSI and "
            "the list of receivers. Several instances share the load with --share GROUP."
        ),
    )
    _add_arguments(srv)
    add_output_arguments(srv)

    srv.set_defaults(run=run)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_key_arguments(parser)
    parser.add_argument(
        "--share",
        metavar="GROUP",
        help="share the raw frames with other serve instances of this group (MQTT shared subscription)",
    )
    parser.add_argument(
        "--dedup-window",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to gather copies of one telegram from several receivers (default 1)",
    )
    add_output_format_argument(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more messages on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr at the end")


def run(args: argparse.Namespace) -> int:
    from ..decoder import TelegramDecoder

    setup_logging(args.verbose)
    if not args.mqtt:
        return fail("serve needs --mqtt URL: it decodes the raw frames that receivers publish there")
    if not args.receiver_name:
        args.receiver_name = f"serve-{socket.gethostname()}"
    try:
        if args.dedup_window < 0:
            raise ConfigError("--dedup-window must not be negative")
        if args.share is not None and not args.share.replace("-", "").replace("_", "").isalnum():
            raise ConfigError("--share: a group name of letters, digits, - and _")
        settings = mqtt_settings(args.mqtt, args.mqtt_password_file)
        keys = load_keys(args)
        outputs = Outputs(args, **output_style(args))
    except ConfigError as exc:
        return fail(str(exc))
    name = outputs.receiver
    shared = args.share is not None
    central = CentralDecoder(
        TelegramDecoder(keys, driver=args.driver), outputs, name, args.dedup_window, shared
    )
    try:
        subscriber = RawSubscriber(args, settings, name, shared)
    except ConfigError as exc:
        outputs.close()
        return fail(str(exc))
    if shared:
        central.announce = subscriber.announce
    stopping = threading.Event()

    def stop(signum, frame) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    lock = threading.Lock()  # the network thread decodes, the main thread closes windows on time

    def handle(topic: str, payload: bytes) -> None:
        with lock:
            now = time.monotonic()
            if topic.startswith(subscriber.note_prefix):
                central.note(topic[len(subscriber.note_prefix) :], payload, now)
            elif topic.startswith(subscriber.status_prefix):
                central.status(topic, payload, now)
            else:
                central.raw(payload, now)
            central.expire(now)

    subscriber.handler = handle
    if not subscriber.start(timeout=5.0):
        print(f"sdr-wmbus: MQTT broker {settings.address()} not reachable yet: still trying", file=sys.stderr)
    source = f"$share/{args.share}/" if shared else ""
    log.info("serving: decoding %s%s/raw/+ as %s", source, args.mqtt_prefix, name)
    started = time.monotonic()
    next_status = started + STATUS_INTERVAL_S
    try:
        while not stopping.wait(0.05):
            now = time.monotonic()
            with lock:
                central.expire(now)
            if now >= next_status:
                outputs.status({"role": "serve", **central.counts})
                next_status = now + STATUS_INTERVAL_S
        subscriber.stop()  # frames already delivered have been handled; the broker keeps the rest
        with lock:
            central.expire(time.monotonic(), final=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        outputs.status({"role": "serve", **central.counts})
        problem = outputs.close()
    if not args.quiet:
        counts = central.counts
        print(
            f"sdr-wmbus: served {time.monotonic() - started:.1f} s: {counts['raw']} raw frames, "
            f"{counts['readings']} readings published, {counts['copies_merged']} copies merged, "
            f"{counts['left_to_others']} left to other instances, {counts['bad_input']} bad messages, "
            f"{counts['lost']} raw frames lost on the way, {counts['redelivered']} redelivered",
            file=sys.stderr,
        )
    if problem:
        return fail(problem, EXIT_ERROR)
    return EXIT_OK
