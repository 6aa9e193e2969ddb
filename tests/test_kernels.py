"""The radio kernels compiled ahead of time against numba's JIT: the same frames either way, numba not even
imported with the compiled ones, the JIT when they cannot be built, argument types checked as numba's
dispatcher would type them."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from sdr_wmbus import aot, kernels

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"

# Runs the command line, then says which kernels ran and whether numba was ever imported.
DRIVER = """
import sys
from sdr_wmbus import kernels
from sdr_wmbus.cli import main
code = main(sys.argv[1:])
print(f"kernels={kernels.backend()} numba={'numba' in sys.modules}", file=sys.stderr)
if kernels.backend() == "aot":  # a call outside the compiled types runs under the JIT, same result
    import numpy as np
    from sdr_wmbus.dsp.convert import complex64_to_cs8
    iq = (np.arange(64) * (0.01 + 0.02j)).astype(np.complex64)
    assert np.array_equal(complex64_to_cs8(iq[::2]), complex64_to_cs8(iq[::2].copy()))
    numba = "numba" in sys.modules
    print(f"strided call: fallbacks={complex64_to_cs8.fallbacks} numba={numba}", file=sys.stderr)
sys.exit(code)
"""


def can_compile() -> str | None:
    """Why this machine cannot build the compiled kernels, or None."""
    if importlib.util.find_spec("numba.pycc") is None:
        return "numba.pycc is gone"
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    if os.environ.get("SDR_WMBUS_KERNELS", "auto").lower() == "auto":
        from sdr_wmbus.kernels import resolve

        if resolve(quiet=True) != "aot":  # e.g. a C compiler but no C++ one: the build failed
            return "the compiled kernels could not be built here (failed.txt in the kernels cache says why)"
    return None


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}  # NUMBA_CACHE_DIR: this process's
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def frames(stdout: str) -> list[dict]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    for line in lines:
        line.pop("timestamp")  # the wall clock
    return lines


@pytest.fixture(scope="module")
def corner_files(tmp_path_factory) -> list[tuple[Path, list[str]]]:
    """The bundled recording and two synthetic bands full of corners: all three modes with chip-rate
    errors, jitter and offsets at a low Ec/N0 (weak decisions, repairs, noise candidates), and frame B
    at 2.4 Msps with three channels."""
    folder = tmp_path_factory.mktemp("kernels")
    telegrams = str(ROOT / "samples" / "telegrams.txt")
    band = folder / "band_868.625M_1M6.cu8"
    frame_b = folder / "frame_b_868.95M_2M4.cs16"
    synth = [
        ["synth", str(band), "--mode", "all", "--center", "868.625M", "--telegrams-file", telegrams],
        ["--chip-rate-error=-3:3", "--jitter", "2", "--offset=-30k:30k", "--ecn0", "9", "--repeat", "2"],
        ["synth", str(frame_b), "--mode", "mixed", "--frame-format", "B", "--rate", "2.4M"],
        ["--telegrams-file", telegrams, "--offset=-120k:120k", "--ecn0", "12", "--seed", "4"],
    ]
    for command in (synth[0] + synth[1], synth[2] + synth[3]):
        done = subprocess.run([sys.executable, "-m", "sdr_wmbus", *command], cwd=ROOT, capture_output=True)
        assert done.returncode == 0, done.stderr
    return [
        (SAMPLE, ["--meters", str(ROOT / "samples" / "meters.toml")]),
        (band, ["--modes", "t,c,s", "--rate", "1.6M"]),
        (frame_b, ["--max-offset", "150k", "--rate", "2.4M"]),
    ]


@pytest.mark.skipif(can_compile() is not None, reason=f"cannot compile ahead of time: {can_compile()}")
def test_compiled_and_jit_kernels_give_the_same_frames(corner_files, tmp_path):
    """Every file replayed with the compiled kernels (numba never imported) and with the JIT that a
    machine without a C compiler falls back to (told once): identical JSON, radio measurements too."""
    no_compiler = {"CC": str(tmp_path / "no-such-cc"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for index, (path, options) in enumerate(corner_files):
        args = ["replay", str(path), "--output-format", "json", *options]
        compiled = run(args, SDR_WMBUS_KERNELS="aot")
        assert "kernels=aot numba=False" in compiled.stderr
        assert "strided call: fallbacks=1 numba=True" in compiled.stderr
        jit = run(args, SDR_WMBUS_KERNELS="auto", **no_compiler)
        assert "kernels=jit numba=True" in jit.stderr
        told = "could not compile the radio kernels ahead of time"
        assert (told in jit.stderr) == (index == 0), jit.stderr  # the first run tries, the others know
        found = frames(compiled.stdout)
        assert found == frames(jit.stdout)
        assert len(found) >= 7
    assert list((tmp_path / "cache" / "sdr-wmbus" / "kernels").glob("*/failed.txt"))


def test_load_or_build_without_a_compiler_falls_back_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    assert aot.load_or_build(quiet=True) is None
    failed = list((tmp_path / "sdr-wmbus" / "kernels").glob("*/failed.txt"))
    assert len(failed) == 1 and "compiler" in failed[0].read_text().splitlines()[0]
    assert "numba compiles them at run time instead" in caplog.text

    def build(folder):
        raise AssertionError("a failed build is not tried again")

    monkeypatch.setattr(aot, "build", build)
    assert aot.load_or_build() is None
    with pytest.raises(RuntimeError, match="SDR_WMBUS_KERNELS=aot"):
        aot.load_or_build(required=True)


def test_a_module_that_does_not_load_is_reported_once_and_not_loaded_again(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = aot.kernels_dir() / aot.build_key()
    folder.mkdir(parents=True)
    (folder / aot.module_file()).write_bytes(b"not a shared object")

    def build(folder):
        raise AssertionError("not built again")

    monkeypatch.setattr(aot, "build", build)
    assert aot.load_or_build() is None
    assert "does not load" in caplog.text
    assert "does not load" in (folder / "failed.txt").read_text()
    assert not (folder / aot.module_file()).exists()
    caplog.clear()
    assert aot.load_or_build() is None
    assert caplog.text == ""


def test_build_key_follows_the_kernel_source(tmp_path, monkeypatch):
    key = aot.build_key()
    assert key == aot.build_key()
    copy = tmp_path / "sdr_wmbus"
    shutil.copytree(aot.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(aot, "PACKAGE", copy)
    assert aot.build_key() == key
    fm = copy / "dsp" / "fm.py"
    fm.write_text(fm.read_text().replace("0.0464964749", "0.0464964750"))
    assert aot.build_key() != key


def test_every_kernel_is_in_a_compiled_module_and_nothing_else_imports_numba():
    for name in aot.KERNEL_MODULES:
        importlib.import_module(f"sdr_wmbus.{name}")
    modules = {f"sdr_wmbus.{name}" for name in aot.KERNEL_MODULES}
    registered = kernels.registry()
    assert len(registered) == 23
    assert {made.func.__module__ for made in registered.values()} == modules
    importers = sorted(
        path.name
        for path in (ROOT / "sdr_wmbus").rglob("*.py")
        if re.search(r"^\s*(import numba|from numba)", path.read_text(), re.M)
    )
    assert importers == ["aot.py", "kernels.py"]  # and there only inside functions


def test_argument_types_parse_and_reject_what_cannot_be_compiled():
    assert kernels.parse_args("float32[:, ::1], int64, complex64[::1], boolean") == [
        ("float32", 2),
        ("int64", 0),
        ("complex64", 1),
        ("boolean", 0),
    ]
    for wrong in ("float32[:]", "float32[::1, :]", "int32", "float128x[::1]"):
        with pytest.raises((ValueError, TypeError)):
            kernels.parse_args(wrong)


def test_the_checks_accept_exactly_what_numba_types_as_the_declared_signature():
    """For every compiled kernel, values that pass the check are typed by numba as the declared types
    (so the compiled code reads them right), and near misses (another dtype or layout, an int for a
    float) do not pass."""
    numba = pytest.importorskip("numba")
    from numba.core import sigutils

    for name in aot.KERNEL_MODULES:
        importlib.import_module(f"sdr_wmbus.{name}")
    examples = {"int64": 3, "float64": 0.5, "complex128": 1j, "boolean": True}
    misses = {"int64": 3.0, "float64": 1, "complex128": np.complex64(1j), "boolean": 1}
    for made in kernels.registry().values():
        if made.args is None:
            continue
        declared, _ = sigutils.normalize_signature(f"({made.args},)")
        for (kind, ndim), numba_type in zip(kernels.parse_args(made.args), declared, strict=True):
            check = kernels._check(kind, ndim)
            if ndim:
                value = np.zeros((2,) * ndim, dtype=kind)
                assert numba.typeof(value) == numba_type
                assert check(value)
                other = {"float64": np.float32, "complex64": np.complex128}.get(kind, np.float64)
                for miss in (value.astype(other), np.zeros((2,) * ndim + (2,), kind)[..., 0]):
                    assert not check(miss), (made, miss.dtype, miss.strides)
            else:
                assert numba.typeof(examples[kind]) == numba_type
                assert check(examples[kind]) and not check(misses[kind]), made


def test_kernels_release_the_gil_while_they_run():
    """As numba's nogil kernels do: a live source's reader thread keeps reading while a block is
    demodulated (the compiled module must keep that). Holding the GIL, the kernel would stop this
    thread for as long as it runs."""
    import threading
    import time

    from sdr_wmbus.dsp.fm import discriminate

    kernels.resolve()
    samples = np.zeros(20_000_000, dtype=np.complex64)
    discriminate(samples[:16], 0j)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (discriminate(samples, 0j), done.set()))
    began = last = time.perf_counter()
    longest = 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    elapsed = time.perf_counter() - began
    assert longest < elapsed / 2, f"{kernels.backend()}: stopped {longest:.3f} s of {elapsed:.3f} s"
