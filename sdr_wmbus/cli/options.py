"""What the commands share: exit codes, one-line errors, logging, the options for keys, outputs and the
radio, and their validation (the same --rate, --center and --modes rules in every command)."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time

from ..errors import ConfigError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """--key / --key-file / --meters / --driver / --drivers, the same for every command that decodes."""
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key", metavar="HEX", help="AES-128 key (32 hex digits) for every meter")
    keys.add_argument(
        "--key-file", metavar="FILE", help="file holding the key for every meter (not shown in ps)"
    )
    keys.add_argument(
        "--meters",
        metavar="PATH",
        help="meters file (TOML [[meter]] entries, or a wmbusmeters meter file) or a folder of them "
        "(e.g. /etc/wmbusmeters.d)",
    )
    parser.add_argument("--driver", metavar="NAME", help="force a driver (name or wmbusmeters alias)")
    parser.add_argument(
        "--drivers",
        metavar="PATH",
        action="append",
        default=[],
        help="your own driver file or folder of *.toml driver files (repeatable)",
    )


OUTPUT_FORMATS = ("auto", "human", "json", "pretty")


def add_output_format_argument(parser: argparse.ArgumentParser) -> None:
    """--output-format, the same for every command that prints telegrams."""
    parser.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default="auto",
        help="human (a line per telegram, a table of meters at the end), json (a JSON object per line), "
        "pretty (indented JSON); auto (default): human on a terminal, json otherwise",
    )


def output_style(args: argparse.Namespace) -> dict:
    """Keyword arguments for Outputs from --output-format (auto: people on a terminal get lines)."""
    style = getattr(args, "output_format", "auto") or "auto"
    if style == "auto":
        style = "human" if sys.stdout.isatty() else "json"
    return {"pretty": style == "pretty", "human": style == "human"}


def load_keys(args: argparse.Namespace):
    """The key store from --key/--key-file/--meters, with the user's drivers loaded and the drivers
    named in the meters file checked; ConfigError (one line, never quoting a key) otherwise."""
    from ..drivers import DriverFileError, driver_names, use_user_drivers
    from ..security.keys import KeyStore, parse_key, read_key_file

    if args.meters:
        store = KeyStore.from_file(args.meters)
    else:
        store = KeyStore()
        if args.key:
            store.default_key = parse_key(args.key, "--key")
        elif getattr(args, "key_file", None):
            store.default_key = read_key_file(args.key_file)
    folders = [*store.driver_folders, *getattr(args, "drivers", [])]
    if folders:
        try:
            use_user_drivers(folders)
        except DriverFileError as exc:
            raise ConfigError(str(exc)) from None
    known = driver_names()
    if getattr(args, "driver", None) and args.driver not in known:
        raise ConfigError(f"unknown driver {args.driver!r} (sdr-wmbus drivers lists them)")
    for meter in [*store.meters.values(), *(config for _, config in store.patterns)]:
        if meter.driver and meter.driver not in known:
            raise ConfigError(
                f"meter {meter.id}: unknown driver {meter.driver!r} (sdr-wmbus drivers lists them)"
            )
    args.key_store = store  # the outputs ask which meters the file lists (Home Assistant discovery)
    return store


def setup_logging(verbose: int) -> None:
    """Warnings always, progress at -v, debugging at -vv: one line each, on stderr."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="sdr-wmbus: %(message)s",
        stream=sys.stderr,
    )


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"sdr-wmbus: error: {message}", file=sys.stderr)
    return code


def number(text: str | None, what: str) -> float | None:
    """An option's number (1.6M, 868.95M, 60k), or None when the option was not given."""
    if text is None:
        return None
    try:
        return parse_si(text)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def add_max_offset_argument(parser: argparse.ArgumentParser) -> None:
    """--max-offset, the same for replay, listen and bench."""
    parser.add_argument(
        "--max-offset",
        metavar="HZ",
        default="60k",
        help="largest carrier offset to receive (default 60k, one channel per mode); more, e.g. 150k for a "
        "dongle off by up to 100 ppm, adds side channels, each costing as much CPU again",
    )


def max_offset(args: argparse.Namespace) -> float:
    value = number(args.max_offset, "--max-offset")
    if value is None or not 0 <= value <= 500e3:
        raise ConfigError(f"--max-offset: expected 0 to 500k Hz, got {args.max_offset!r}")
    return value


def warn_capture(receiver, wanted_hz: float, rate: float) -> None:
    """One line on stderr when the sampled band cannot hold the carrier range asked for."""
    for group, (low, high) in receiver.capture_hz.items():
        reach = min(-low, high)
        if reach < wanted_hz:
            name = "T1/C1" if group == "tc" else "S1"
            span = f"{low / 1e3:+.0f}..{high / 1e3:+.0f} kHz"
            print(
                f"sdr-wmbus: warning: {name} carriers received within {span} only: a wider range does not "
                f"fit in {rate / 1e6:g} Msps at this centre",
                file=sys.stderr,
            )


def parse_modes(text: str) -> str:
    modes = {m.strip().lower() for m in text.split(",") if m.strip()}
    unknown = modes - {"t", "c", "s", "t1", "c1", "s1"}
    if unknown or not modes:
        raise ConfigError(f"--modes: expected a list of t, c and s (e.g. t,c or t,c,s), got {text!r}")
    return "".join(sorted({m[0] for m in modes}))


IQ_FORMATS = ("cu8", "cs8", "cs16", "cf32", "sigmf")  # what replay and bench read
RATE_RANGE_HZ = (0.8e6, 3.2e6)  # what the receivers demodulate (and synth writes for them)
CENTER_RANGE_HZ = (800e6, 1000e6)  # the 868 MHz band with room for any tuning near it


def sample_rate(text: str | None, default: float | None = None) -> float | None:
    """--rate: a number in RATE_RANGE_HZ (``default`` when not given)."""
    value = number(text, "--rate")
    if value is None:
        return default
    low, high = RATE_RANGE_HZ
    if not low <= value <= high:
        raise ConfigError(f"--rate: {value:.0f} Hz is outside {low / 1e6:g}-{high / 1e6:g} Msps")
    return value


def center_frequency(text: str | None, default: float | None = None) -> float | None:
    """--center: a frequency in CENTER_RANGE_HZ (``default`` when not given)."""
    value = number(text, "--center")
    if value is None:
        return default
    low, high = CENTER_RANGE_HZ
    if not low <= value <= high:
        raise ConfigError(f"--center: {value / 1e6:g} MHz is outside {low / 1e6:g}-{high / 1e6:g} MHz")
    return value


def add_radio_arguments(parser: argparse.ArgumentParser, rate_help: str, center_help: str) -> None:
    """--rate, --center and --modes, worded and checked the same for replay, listen and bench."""
    parser.add_argument("--rate", metavar="HZ", help=rate_help)
    parser.add_argument("--center", metavar="HZ", help=center_help)
    parser.add_argument("--modes", default="t,c", help="modes to receive: any of t, c, s (default t,c)")
    add_max_offset_argument(parser)


FloatOrRange = float | tuple[float, float]
_SI_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_si(text: str) -> float:
    """A number with an optional k/M/G suffix: '1.6M', '1600k', '1600000', '-40k', '1.6e6'."""
    cleaned = text.strip().replace("_", "")
    scale = 1.0
    if cleaned and cleaned[-1] in _SI_SUFFIXES:
        scale = _SI_SUFFIXES[cleaned[-1]]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (examples: 1.6M, 1600k, 1600000)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def parse_value_or_range(text: str) -> FloatOrRange:
    """'X' or 'LO:HI' (each with an optional k/M/G suffix) for fixed or per-telegram random values."""
    if ":" in text:
        low_text, _, high_text = text.partition(":")
        low, high = parse_si(low_text), parse_si(high_text)
        if low > high:
            raise argparse.ArgumentTypeError(f"range {text!r} has LO > HI")
        return (low, high)
    return parse_si(text)


def positive_si(text: str) -> float:
    value = parse_si(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = parse_si(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def open_recording(args: argparse.Namespace):
    """The IQ file (or stdin) of --file/--rate/--center/--format; rate and centre checked."""
    from ..sources import open_iq

    return open_iq(
        args.file,
        fmt=args.format,
        rate=sample_rate(args.rate),
        center=center_frequency(getattr(args, "center", None)),
    )


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal and the length is known."""

    def __init__(self, total: int | None) -> None:
        self.total = total if sys.stderr.isatty() else None
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.total or time.monotonic() - self.last < 0.2:
            return
        self.last = time.monotonic()
        share = min(done / self.total, 1.0)
        bar = "#" * int(30 * share)
        print(f"\r[{bar:<30}] {share:6.1%}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.total:
            print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)
