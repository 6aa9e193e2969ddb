"""``sdr-wmbus synth``: write a test signal (IQ file) of chosen telegrams and impairments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..synth import DEFAULT_TELEGRAMS, INTEGER_FORMATS, IQ_FORMATS, Synthesizer, iq_format_for
from ..tables.phy import CENTER_T1_C1_HZ
from .options import (
    center_frequency,
    fail,
    non_negative_float,
    non_negative_int,
    parse_value_or_range,
    positive_int,
    positive_si,
    sample_rate,
)


def register(sub) -> None:
    syn = sub.add_parser(
        "synth",
        help="write a synthetic T1/C1 IQ test signal",
        description="Write an IQ file with chosen telegrams, mode, rate, offset, chip-rate error and noise, "
        "plus the list of what was sent.",
    )
    add_synth_arguments(syn)

    syn.set_defaults(run=run)


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sdr-wmbus synth`` (the parser is the sub-command's)."""
    parser.add_argument(
        "output", metavar="OUTPUT", help="IQ file to write, format from the extension ('-': stdout, cu8)"
    )
    parser.add_argument(
        "--telegram",
        dest="telegrams",
        action="append",
        default=[],
        metavar="HEX",
        help="telegram to send (repeatable); CRC-free or with link-layer CRCs",
    )
    parser.add_argument(
        "--telegrams-file",
        metavar="FILE",
        help="file with one telegram per line (hex or rtl_wmbus line; '#' comments)",
    )
    parser.add_argument(
        "--mode",
        choices=("t", "c", "s", "mixed", "all"),
        default="t",
        help="T1, C1, S1, T1/C1 alternating (mixed) or T1/C1/S1 in turn (all); default t",
    )
    parser.add_argument(
        "--frame-format", choices=("A", "B"), default="A", help="frame format of C1 telegrams (default A)"
    )
    parser.add_argument("--rate", metavar="HZ", help="sample rate (1.6M; 0.8M-3.2M)")
    parser.add_argument("--center", metavar="HZ", help="tuning frequency (868.95M)")
    parser.add_argument(
        "--offset",
        type=parse_value_or_range,
        default=0.0,
        metavar="HZ|LO:HI",
        help="carrier offset, fixed or drawn per telegram (write --offset=-40k:40k for negative LO)",
    )
    parser.add_argument(
        "--ppm",
        type=parse_value_or_range,
        default=0.0,
        metavar="PPM|LO:HI",
        help="chip-rate error in ppm, fixed or drawn per telegram (--ppm=-50:50 for negative LO)",
    )
    parser.add_argument(
        "--chip-rate-error",
        type=parse_value_or_range,
        default=0.0,
        metavar="PCT|LO:HI",
        help="chip-rate error in percent, fixed or drawn per telegram (adds to --ppm; mode T allows "
        "+-10 %%, S +-2 %%)",
    )
    parser.add_argument(
        "--jitter",
        type=non_negative_float,
        default=0.0,
        metavar="US",
        help="each chip transition moves by up to +-US microseconds (uniform; mode T allows 3)",
    )
    parser.add_argument(
        "--deviation",
        type=parse_value_or_range,
        default=None,
        metavar="HZ|LO:HI",
        help="FSK deviation, fixed or drawn per telegram (default: T1/S1 50k, C1 45k)",
    )
    parser.add_argument(
        "--bt",
        type=non_negative_float,
        default=0.0,
        metavar="BT",
        help="Gaussian frequency shaping (GFSK) with this bandwidth-time product, e.g. 0.5 (default: none)",
    )
    parser.add_argument(
        "--extra-chips",
        default="",
        metavar="CHIPS",
        help="chips sent between the preamble and the sync word, e.g. 1 or 0 (a sync slip)",
    )
    parser.add_argument(
        "--missing-chips",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="leave out the last N preamble chips before the sync word",
    )
    parser.add_argument(
        "--sync-errors",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="send N chips of the sync word inverted (positions drawn per telegram)",
    )
    parser.add_argument(
        "--ecn0", type=float, default=None, metavar="DB", help="Ec/N0 in dB (chip energy / noise density)"
    )
    parser.add_argument(
        "--gap", type=non_negative_float, default=0.01, metavar="S", help="seconds between bursts (0.01)"
    )
    parser.add_argument(
        "--amplitude", type=positive_si, default=0.5, metavar="A", help="burst amplitude, full scale 1 (0.5)"
    )
    parser.add_argument("--repeat", type=positive_int, default=1, metavar="N", help="send the list N times")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (0)")
    parser.add_argument("--format", choices=IQ_FORMATS, default=None, help="IQ format (default: from OUTPUT)")
    parser.add_argument(
        "--list", metavar="FILE", help="where to write what was sent, JSON lines (OUTPUT.telegrams.jsonl)"
    )


def _read_telegrams(args: argparse.Namespace) -> list[bytes]:
    """CRC-free frames from --telegram and --telegrams-file, or the defaults; ValueError on bad input."""
    from ..input_lines import parse_line
    from ..link.dll import normalize_frame

    sources: list[tuple[str, str]] = [(f"--telegram {i + 1}", text) for i, text in enumerate(args.telegrams)]
    if args.telegrams_file:
        try:
            lines = Path(args.telegrams_file).read_text().splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read {args.telegrams_file}: {exc.strerror or exc}") from None
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                sources.append((f"{args.telegrams_file}:{number}", line))
    if not sources:
        sources = [(f"default telegram {i + 1}", text) for i, text in enumerate(DEFAULT_TELEGRAMS)]
    frames = []
    for where, text in sources:
        parsed = parse_line(text)
        if parsed.frame is None:
            raise ValueError(f"{where}: {parsed.error}")
        try:
            frame, _, ignored = normalize_frame(parsed.frame.data)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if ignored:
            raise ValueError(f"{where}: {ignored} bytes after the end of the frame")
        frames.append(frame)
    return frames


def run(args: argparse.Namespace) -> int:
    """``sdr-wmbus synth``: write the IQ file and the list of sent telegrams; 0 on success, 2 on errors."""

    # '-' writes to stdout; cu8 there by default, as rtl_sdr pipes carry it.
    fmt = args.format or ("cu8" if args.output == "-" else iq_format_for(args.output))
    if fmt is None:
        known = ", ".join(IQ_FORMATS)
        return fail(f"cannot tell the IQ format from {args.output!r}; give --format ({known})")
    try:
        args.rate = sample_rate(args.rate, 1.6e6)  # the same rules as replay, listen and bench
        args.center = center_frequency(args.center, CENTER_T1_C1_HZ)
    except ConfigError as exc:
        return fail(str(exc))
    try:
        telegrams = _read_telegrams(args) * args.repeat
        plan = Synthesizer(
            telegrams,
            mode=args.mode,
            frame_format=args.frame_format,
            sample_rate=args.rate,
            center=args.center,
            offset_hz=args.offset,
            ppm=args.ppm,
            ecn0_db=args.ecn0,
            gap_s=args.gap,
            amplitude=args.amplitude,
            seed=args.seed,
            chip_rate_error_pct=args.chip_rate_error,
            jitter_s=args.jitter * 1e-6,
            deviation_hz=args.deviation,
            bt=args.bt,
            extra_chips=args.extra_chips,
            missing_chips=args.missing_chips,
            sync_errors=args.sync_errors,
        )
    except ValueError as exc:
        return fail(str(exc))
    from ..sources import IQFileWriter, SourceError
    from ..sources.files import write_sidecar_meta

    sent = plan.sent
    gain = plan.integer_gain() if fmt in INTEGER_FORMATS else 1.0
    list_path = args.list
    if list_path is None and args.output != "-":
        list_path = args.output + ".telegrams.jsonl"
    try:
        description = f"sdr-wmbus synth: {len(sent)} telegrams, mode {args.mode}, seed {args.seed}"
        # Written as it is produced: memory stays flat however long the signal.
        with IQFileWriter(args.output, fmt, args.rate, args.center, description) as writer:
            for block in plan.blocks():
                writer.write(block * np.float32(gain) if gain != 1.0 else block)
        sidecar = None
        if args.output != "-" and fmt != "sigmf":  # replay then finds rate, centre and format by itself
            sidecar = write_sidecar_meta(args.output, fmt, args.rate, args.center, description)
        if list_path:
            with open(list_path, "w") as handle:
                for entry in sent:
                    handle.write(json.dumps(entry) + "\n")
    except (OSError, ValueError, SourceError) as exc:
        return fail(f"cannot write output: {exc}")
    counts = {m: sum(1 for e in sent if e["mode"] == m) for m in ("T1", "C1", "S1")}
    summary = ", ".join(f"{n} {m}" for m, n in counts.items() if n)
    plural = "s" if len(sent) != 1 else ""
    print(
        f"sdr-wmbus synth: {len(sent)} telegram{plural} ({summary}), {plan.total_samples} samples "
        f"({plan.total_samples / args.rate:.3f} s at {args.rate / 1e6:g} Msps) -> {args.output} [{fmt}]"
        + (f", scaled by {gain:.3g} to avoid clipping" if gain != 1.0 else "")
        + (f", list -> {list_path}" if list_path else "")
        + (f", metadata -> {sidecar}" if sidecar else ""),
        file=sys.stderr,
    )
    return 0
