"""Peak memory (max RSS) of ``sdr-wmbus replay`` and ``bench``, over files of different lengths, and where
it goes: the interpreter and numpy, the compiled kernels (or numba's import and the first numba kernel
loaded, which sets up LLVM), the package's modules, the buffers while decoding.

Each measurement is its own process (``/usr/bin/time``-style max RSS from ``resource`` in a child), run
with the sdr_wmbus found in ``--receiver DIR`` (default: this checkout), so an older checkout can be
measured on the same files; once with the radio kernels compiled ahead of time and once with numba's
JIT (``--kernels``).

Run: python3 benchmarks/bench_memory.py [--receiver DIR] [--seconds 10,60] [--kernels aot,jit]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BREAKDOWN = r"""
import os, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
def anonymous():
    for line in open('/proc/self/smaps_rollup'):
        if line.startswith('Anonymous'):
            return int(line.split()[1]) / 1024
steps = [('interpreter', rss())]
import numpy as np
steps.append(('+ numpy', rss()))
try:
    from sdr_wmbus import kernels
except ImportError:  # a checkout from before the kernels were compiled ahead of time: numba always
    kernels = None
jit = kernels is None or os.environ.get('SDR_WMBUS_KERNELS') == 'jit'
if jit:
    import numba
    steps.append(('+ numba (import)', rss()))
else:
    kernels.resolve(choice='aot')
from sdr_wmbus.dsp.fm import discriminate
discriminate(np.zeros(16, np.complex64), 0j)
if jit:
    steps.append(('+ first numba kernel (LLVM set up, from the cache)', rss()))
else:
    steps.append(('+ the compiled kernels (one extension module)', rss()))
import sdr_wmbus.cli, sdr_wmbus.decoder, sdr_wmbus.pipeline
steps.append(('+ sdr_wmbus modules (radio, telegram stack, outputs)', rss()))
from sdr_wmbus.phy.combined import CombinedReceiver
from sdr_wmbus.sources import open_iq
receiver = CombinedReceiver(float(sys.argv[2]), modes=sys.argv[3])
with open_iq(sys.argv[1], rate=float(sys.argv[2])) as source:
    for block in source.blocks():
        receiver.process(block)
receiver.flush()
steps.append(('+ the other kernels and the buffers, after the file', rss()))
previous = 0.0
for name, value in steps:
    print(f'| {name} | {value - previous:+.0f} | {value:.0f} |')
    previous = value
print(f'| of which private (anonymous) | | {anonymous():.0f} |')
print(f"| numba imported | | {'numba' in sys.modules} |")
"""


def peak_of(argv: list[str], receiver: Path, kernels: str) -> float:
    """Max RSS in MiB of ``python3 argv`` run with PYTHONPATH=receiver and SDR_WMBUS_KERNELS=kernels."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(receiver), "SDR_WMBUS_KERNELS": kernels}
    # cwd elsewhere: ``python -m`` puts the working directory first on sys.path, before PYTHONPATH
    out = subprocess.run(
        [sys.executable, "-c", code, sys.executable, *argv], capture_output=True, text=True, env=env, cwd="/"
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receiver", default=str(ROOT), help="directory whose sdr_wmbus is measured")
    parser.add_argument("--seconds", default="10,60", help="lengths of the synthetic files (s)")
    parser.add_argument(
        "--kernels",
        default="aot,jit",
        help="how the radio kernels run, each measured in turn: aot (compiled ahead of time), jit (numba); "
        "a checkout from before they could be compiled ahead of time always uses numba",
    )
    args = parser.parse_args()
    receiver = Path(args.receiver)
    backends = args.kernels.split(",")

    here = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"receiver: {receiver}")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for seconds in [float(s) for s in args.seconds.split(",")]:
            path = Path(tmp) / f"band_{seconds:g}s_868.625M_1M6.cu8"
            repeat = max(1, int(seconds / 0.6))  # the 7 sample telegrams every ~0.6 s (T1, C1 and S1)
            synth = [sys.executable, "-m", "sdr_wmbus", "synth", str(path), "--mode", "all", "--center"]
            synth += [
                "868.625M",
                "--telegrams-file",
                str(ROOT / "samples" / "telegrams.txt"),
                "--gap",
                "0.08",
            ]
            synth += ["--repeat", str(repeat), "--ecn0", "15"]
            subprocess.run(synth, check=True, capture_output=True, env=here)
            files.append((seconds, path))
        for kernels in backends:
            # a first run builds the compiled kernels (in a child process) if need be: not measured
            peak_of(
                ["-m", "sdr_wmbus", "replay", str(files[0][1]), "--rate", "1.6M", "-q"], receiver, kernels
            )
            print(f"\nPeak RSS, kernels: {kernels}\n")
            print("| command | " + " | ".join(f"{s:g} s file" for s, _ in files) + " |")
            print("|---|" + "---|" * len(files))
            for modes in ("t,c", "t,c,s"):
                replay = ["-m", "sdr_wmbus", "replay", "--rate", "1.6M", "--modes", modes, "-q"]
                peaks = [peak_of([*replay, str(p)], receiver, kernels) for _, p in files]
                print(f"| replay --modes {modes} | " + " | ".join(f"{v:.0f} MiB" for v in peaks) + " |")
            bench = ["-m", "sdr_wmbus", "bench", "--rate", "1.6M", "--repeat", "1"]
            peaks = [peak_of([*bench, str(p)], receiver, kernels) for _, p in files]
            print("| bench FILE | " + " | ".join(f"{v:.0f} MiB" for v in peaks) + " |")
            peaks = [
                peak_of(
                    ["-m", "sdr_wmbus", "bench", "--seconds", f"{s:g}", "--repeat", "1"], receiver, kernels
                )
                for s, _ in files
            ]
            print("| bench --seconds (synthetic) | " + " | ".join(f"{v:.0f} MiB" for v in peaks) + " |")
            print(f"\nWhere the memory of `replay --modes t,c,s` goes (RSS, MiB), kernels: {kernels}\n")
            print("| step | added | total |\n|---|---|---|")
            env = {**os.environ, "PYTHONPATH": str(receiver), "SDR_WMBUS_KERNELS": kernels}
            out = subprocess.run(
                [sys.executable, "-c", BREAKDOWN, str(files[0][1]), "1.6e6", "tcs"],
                capture_output=True,
                text=True,
                env=env,
                cwd="/",
            )
            print(out.stdout.strip() or out.stderr)


if __name__ == "__main__":
    main()
