"""``sdr-wmbus replay``: an IQ recording (or stdin) through the receivers and the telegram stack."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import ConfigError
from ..outputs.fanout import Outputs, OutputUnavailable, add_output_arguments
from ..pipeline import frame_counts
from .options import (
    EXIT_ERROR,
    EXIT_OK,
    IQ_FORMATS,
    Progress,
    add_key_arguments,
    add_output_format_argument,
    add_radio_arguments,
    fail,
    load_keys,
    max_offset,
    open_recording,
    output_style,
    parse_modes,
    warn_capture,
)


def register(sub) -> None:
    rep = sub.add_parser(
        "replay",
        help="demodulate a recorded IQ file (or stdin) and decode its telegrams",
        description=(
            "Demodulate mode T1 and C1 (frame A and B) telegrams from an IQ recording and decode them. "
            "Rate, centre and format come from the options, SigMF metadata or a file name such as "
            "rtlsdr_868.950M_1M6_x.cu8. Writes one JSON line per telegram and a summary on stderr."
        ),
    )
    rep.add_argument("file", metavar="FILE", help="IQ file, SigMF recording, or '-' for stdin")
    add_radio_arguments(
        rep,
        "sample rate, e.g. 1.6M, 2400k, 1600000 (0.8M-3.2M)",
        "centre frequency the recording was tuned to (868.95M)",
    )
    rep.add_argument("--format", choices=IQ_FORMATS, help="IQ sample format")
    add_key_arguments(rep)
    add_output_format_argument(rep)
    rep.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    rep.add_argument(
        "--raw-only",
        action="store_true",
        help="no decoding: raw frames for a central 'serve' (no keys needed)",
    )
    add_output_arguments(rep)

    rep.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..decoder import TelegramDecoder
    from ..jit import warm_up
    from ..pipeline import RadioPipeline
    from ..sources import SourceError
    from ..tables.phy import CENTER_T1_C1_HZ

    try:
        modes = parse_modes(args.modes)
        offset_range = max_offset(args)
        keys = load_keys(args)
        source = open_recording(args)
    except (ConfigError, SourceError) as exc:
        return fail(str(exc))
    info = source.info
    center = info.center if info.center is not None else CENTER_T1_C1_HZ
    try:
        decoder = None if args.raw_only else TelegramDecoder(keys, driver=args.driver)
        pipeline = RadioPipeline(info.rate, center, modes, decoder, offset_range)
        outputs = Outputs(args, batch=True, raw_only=args.raw_only, **output_style(args))
    except (ValueError, ConfigError) as exc:
        return fail(str(exc))
    except OutputUnavailable as exc:
        return fail(str(exc), EXIT_ERROR)
    if not args.quiet:
        warn_capture(pipeline.receiver, offset_range, info.rate)
    jit_s = warm_up(info.rate, center, modes, quiet=args.quiet)  # not part of the throughput below
    progress = Progress(source.total_samples)
    count = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    interrupted = False
    try:
        with source:
            for block in source.blocks():
                for result in pipeline.process(block):
                    outputs.receive(result)
                    count += 1
                progress.update(source.samples_read)
            for result in pipeline.flush():
                outputs.receive(result)
                count += 1
    except KeyboardInterrupt:  # Ctrl-C: what was decoded is flushed and summed up, then exit 130
        interrupted = True
    progress.close()
    problem = outputs.close()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if not args.quiet and outputs.filter.filtered:
        print(f"sdr-wmbus: {outputs.filter.filtered} telegrams left out by --only/--ignore", file=sys.stderr)
    if not args.quiet:
        seconds = source.samples_read / info.rate
        print(
            f"sdr-wmbus: {source.samples_read:,} samples ({seconds:.2f} s at {info.rate / 1e6:g} Msps) in "
            f"{wall:.2f} s ({source.samples_read / max(cpu, 1e-9) / 1e6:.1f} M samples/s of CPU, "
            f"{seconds / max(wall, 1e-9):.1f}x real time): "
            f"{frame_counts(pipeline.stats(), pipeline.duplicates)}; "
            f"radio kernels loaded in {jit_s:.1f} s{' (interrupted)' if interrupted else ''}",
            file=sys.stderr,
        )
    if interrupted:
        return 130
    if problem:
        return fail(problem, EXIT_ERROR)
    if source.stray_bytes:
        return fail(
            f"{info.path}: truncated IQ file: {source.stray_bytes} bytes at the end do not make a whole "
            f"sample (all whole samples were decoded)",
            EXIT_ERROR,
        )
    return EXIT_OK
