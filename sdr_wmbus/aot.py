"""The radio kernels compiled ahead of time into an extension module, built once in the user's cache folder.

A process that loads this module needs neither numba nor LLVM (see ``kernels.py`` for why that matters).
It is built with numba itself (``numba.pycc``), from the same functions and with each kernel's own
numba options (fast-math flags, releasing the GIL) and this CPU's name and features, as numba's JIT
would compile them, so the results are bit for bit those of the JIT. The build runs in a child process
(numba and a C compiler are needed there, never in the receiver), into
``<cache>/sdr-wmbus/kernels/<key>/``; the key covers the kernels' source, this file, Python, numpy,
numba and the CPU, so a change of any of them builds anew and a cache folder shared between machines
stays right. A build that fails leaves ``failed.txt`` with the reason beside it, and later runs use
numba's JIT without trying again (delete the folder to retry, e.g. after installing a compiler).

Run as ``python -m sdr_wmbus.aot OUTPUT_FOLDER`` (what the child does) to build into a folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import types
from pathlib import Path

log = logging.getLogger("sdr_wmbus")

PACKAGE = Path(__file__).resolve().parent
MODULE_NAME = "_sdr_wmbus_kernels"
# Every module that defines kernels: all are compiled into the one extension module, whichever of them
# a process imports, and their source is part of the key.
KERNEL_MODULES = ("dsp.convert", "dsp.fm", "dsp.channel", "dsp.chips", "dsp.sync")
PRUNE_AFTER_DAYS = 30  # other builds older than this go when a new one is made


def kernels_dir() -> Path:
    from .jit import cache_root, writable

    return writable(cache_root() / "kernels")


def module_file() -> str:
    return MODULE_NAME + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def _host_cpu() -> str:
    """This CPU's model and features, without LLVM: /proc/cpuinfo's first processor where there is one."""
    try:
        with open("/proc/cpuinfo") as info:
            block = info.read().split("\n\n", 1)[0]
    except OSError:
        block = ""
    wanted = ("model name", "flags", "features", "cpu part", "cpu implementer", "isa", "cpu")
    lines = [line for line in block.splitlines() if line.split(":")[0].strip().lower() in wanted]
    return "\n".join([platform.machine(), platform.processor(), *lines])


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


def build_key() -> str:
    """What the compiled module depends on, hashed: kernel source, this builder, Python, numpy, numba, CPU."""
    import numpy

    digest = hashlib.sha256()
    for name in (*KERNEL_MODULES, "kernels", "aot"):
        path = PACKAGE / (name.replace(".", os.sep) + ".py")
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for part in (sys.version, module_file(), numpy.__version__, _version("numba"), _host_cpu()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def load(path: Path) -> types.ModuleType:
    """The compiled module at ``path`` (ImportError when it cannot be loaded)."""
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_or_build(quiet: bool = False, required: bool = False) -> types.ModuleType | None:
    """The compiled kernels, built first when this is the first run; None when they cannot be had (the
    caller then uses numba's JIT), or RuntimeError when ``required``."""
    folder = kernels_dir() / build_key()
    path = folder / module_file()
    failed = folder / "failed.txt"
    reason = None
    if not path.exists() and not failed.exists():
        started = time.perf_counter()
        if not quiet:
            log.warning("compiling the radio kernels (first run only; later runs load them from %s)", folder)
        reason = build(folder)
        if reason is None and not quiet:
            log.warning(
                "radio kernels compiled in %.0f s (once; they are cached now)", time.perf_counter() - started
            )
        elif reason is not None:
            log.warning(
                "could not compile the radio kernels ahead of time (%s; details in %s): numba compiles "
                "them at run time instead, which takes about 130 MB more memory",
                reason,
                failed,
            )
    if path.exists():
        try:
            return load(path)
        except ImportError as exc:  # once: later runs find failed.txt (deleting the folder rebuilds)
            reason = f"{path.name} does not load: {exc}"
            log.warning("%s; numba compiles the radio kernels at run time instead", reason)
            try:
                failed.write_text(f"{reason}\n")
                path.unlink()
            except OSError:
                pass
    elif reason is None and failed.exists():
        try:
            reason = (failed.read_text().splitlines() or ["(no reason given)"])[0]
        except OSError as exc:
            reason = str(exc)
        log.debug("radio kernels: numba's JIT (compiling them ahead of time failed before: %s)", reason)
    if required:
        raise RuntimeError(
            f"SDR_WMBUS_KERNELS=aot, but the compiled radio kernels are not available: {reason}"
        )
    return None


def build(folder: Path) -> str | None:
    """Build the module into ``folder`` in a child process; the reason it failed, or None.

    Built in a private folder beside the final one and moved into place in one step, so that processes
    starting together never load half a file (each may build; the last move wins, all are the same).
    """
    parent = folder.parent
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=parent))
    # The child imports this very package (whatever name it was imported under here), compiles with
    # numba's JIT kernels and a cache of its own (cached object code cannot be linked into a module).
    env = {**os.environ, "SDR_WMBUS_KERNELS": "jit", "NUMBA_CACHE_DIR": str(work / "numba")}
    code = f"import sys; sys.path.insert(0, {str(PACKAGE.parent)!r}); from sdr_wmbus.aot import main; main()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(work)], env=env, capture_output=True, text=True, cwd=work
        )
        built = work / module_file()
        if done.returncode == 0 and built.exists():
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(built, folder / module_file())
            _prune(parent, keep=folder)
            return None
        lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
        given = [line[len(REASON) :] for line in lines if line.startswith(REASON)]
        reason = (given or lines or [f"the build exited with {done.returncode}"])[-1]
        details = done.stderr
    except OSError as exc:
        reason = details = str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "failed.txt").write_text(f"{reason}\n\n{details}")
    except OSError:
        pass
    return reason


def _prune(parent: Path, keep: Path) -> None:
    """Remove other builds made more than PRUNE_AFTER_DAYS ago (kernels or versions changed since)."""
    limit = time.time() - PRUNE_AFTER_DAYS * 86400
    for other in parent.iterdir():
        try:
            if other != keep and other.is_dir() and other.stat().st_mtime < limit:
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass


REASON = "sdr-wmbus: cannot compile ahead of time: "  # the child's last line to stderr when it fails


def main() -> None:
    """The child's part: build into sys.argv[1]; a failure's one-line reason last on stderr, exit 1."""
    try:
        _compile(sys.argv[1])
    except BaseException as exc:  # whatever it was, the parent falls back to the JIT
        import traceback

        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:200]
        print(f"{REASON}{type(exc).__name__}: {first}", file=sys.stderr)
        sys.exit(1)


def _compile(output: str) -> None:
    """Compile every kernel that declares its argument types into an extension module in ``output``."""
    import warnings
    from importlib import import_module

    for name in KERNEL_MODULES:
        import_module(f"{__package__}.{name}")
    from .kernels import registry

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc is "pending deprecation"; without it: the JIT
        from numba.core import codegen
        from numba.core.compiler import Flags
        from numba.core.registry import cpu_target
        from numba.pycc import CC
        from numba.pycc import compiler as pycc_compiler

    cc = CC(MODULE_NAME)
    cc.output_dir = output
    cc.target_cpu = "host"
    options = {}
    for made in registry().values():
        if made.args is None:
            continue
        dispatcher = made.dispatcher()
        cc.export(made.name, f"({made.args},)")(dispatcher.py_func)
        options[dispatcher.py_func] = dispatcher.targetoptions
    compile_extra = pycc_compiler.compile_extra

    def with_kernel_options(typingctx, targetctx, func, args, return_type, flags, locals, library):
        """pycc's compile with the kernel's own numba options (pycc would use none: no fast-math flags,
        the GIL held) on top of what pycc sets."""
        own = Flags()
        cpu_target.options.parse_as_flags(own, options[func])
        own.no_compile = flags.no_compile
        own.no_cpython_wrapper = flags.no_cpython_wrapper
        own.no_cfunc_wrapper = flags.no_cfunc_wrapper
        own.nrt = flags.nrt
        return compile_extra(
            typingctx, targetctx, func, args, return_type, own, locals=locals, library=library
        )

    pycc_compiler.compile_extra = with_kernel_options
    # The host's features as well as its name, as the JIT does: a virtual machine's CPU may lack some
    # features its model name implies.
    codegen.AOTCPUCodegen._customize_tm_features = codegen.CPUCodegen._get_host_cpu_features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cc.compile()


if __name__ == "__main__":
    main()
