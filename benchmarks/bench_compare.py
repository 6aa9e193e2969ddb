"""Throughput of this checkout's receiver against another checkout's (e.g. main), or of its radio kernels
compiled ahead of time against numba's JIT, in one process.

This machine's speed varies between processes and over minutes, so the two receivers run alternately in
the same process on the same signal held in memory (the busy synthetic band of ``sdr-wmbus bench``, or
noise alone), and the figures are process CPU time: best of N for each, and the median of the N paired
ratios.

Run: python3 benchmarks/bench_compare.py --other /work/main [--signal bench|noise] [--modes tc|tcs] [--reps 7]
     python3 benchmarks/bench_compare.py --kernels aot,jit   (this checkout both times: compiled vs JIT)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def receiver_class(name: str, checkout: Path, kernels: str):
    """CombinedReceiver of the sdr_wmbus in ``checkout``, imported as package ``name``, its radio kernels
    run as ``kernels`` says (auto, aot, jit; a checkout from before that choice always uses numba)."""
    spec = importlib.util.spec_from_file_location(
        name, checkout / "sdr_wmbus" / "__init__.py", submodule_search_locations=[str(checkout / "sdr_wmbus")]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if (checkout / "sdr_wmbus" / "kernels.py").exists():
        print(f"{name}: kernels {importlib.import_module(f'{name}.kernels').resolve(choice=kernels)}")
    return importlib.import_module(f"{name}.phy.combined").CombinedReceiver


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--other",
        default=str(ROOT),
        help="the other checkout (a directory holding sdr_wmbus/; default: this one)",
    )
    parser.add_argument(
        "--kernels", default="auto,auto", help="how the radio kernels run in this and the other receiver"
    )
    parser.add_argument("--signal", choices=("bench", "noise"), default="bench")
    parser.add_argument("--modes", default="tc")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    try:
        from sdr_wmbus.synth import busy_band as _synthetic_signal
    except ImportError:  # a checkout from before the command line was split up
        from sdr_wmbus.commands import _synthetic_signal
    this_kernels, other_kernels = args.kernels.split(",")
    This = receiver_class("this_sdr_wmbus", ROOT, this_kernels)
    Other = receiver_class("other_sdr_wmbus", Path(args.other), other_kernels)
    rate = 1.6e6
    if args.signal == "bench":
        iq = _synthetic_signal(args.seconds, rate)
    else:
        rng = np.random.default_rng(5)
        iq = rng.standard_normal(2 * int(args.seconds * rate), dtype=np.float32).view(np.complex64)
        iq *= np.float32(0.1)

    def run(cls) -> tuple[float, int]:
        receiver = cls(rate, modes=args.modes)
        began = time.process_time()
        frames = 0
        for i in range(0, len(iq), 262144):
            frames += len(receiver.process(iq[i : i + 262144]))
        frames += len(receiver.flush())
        return time.process_time() - began, frames

    run(Other)
    run(This)  # kernels loaded (or compiled) before timing
    other, this = [], []
    for _ in range(args.reps):
        seconds, other_frames = run(Other)
        other.append(seconds)
        seconds, this_frames = run(This)
        this.append(seconds)
    ratios = sorted(o / t for o, t in zip(other, this, strict=True))
    median = ratios[len(ratios) // 2]
    print(
        f"{args.signal} signal, modes {args.modes}, {len(iq):,} samples at 1.6 Msps: "
        f"other {len(iq) / min(other) / 1e6:.1f} M/s ({other_frames} frames), "
        f"this {len(iq) / min(this) / 1e6:.1f} M/s ({this_frames} frames); this/other speed: "
        f"best vs best {min(other) / min(this):.3f}, median of {args.reps} pairs {median:.3f}"
    )


if __name__ == "__main__":
    main()
