"""The radio kernels' two ways to run: compiled ahead of time into an extension module, or by numba's JIT.

Why: numba and LLVM cost a process about 130 MB before any signal flows (the library itself and
setting up its compiler even to load cached code), more than the whole receiver needs. So the kernels
are compiled once, with numba, into an extension module in the user's cache folder (``aot.py``), and a
run loads that module without importing numba at all. Where the module cannot be built (no C compiler,
``numba.pycc`` gone from a later numba), numba's JIT runs the same functions as before.

The kernels are written once, as plain functions in numba's subset of Python (``dsp/``).
``@kernel("argument types", **numba options)`` registers one: the types are those it is compiled for
ahead of time (numba's notation, C-contiguous arrays only); helpers that only other kernels call (mostly
inlined) have none. Which way serves this process is decided once, at the first kernel call or by
``jit.warm_up``: ``SDR_WMBUS_KERNELS`` = ``auto`` (default: the compiled module, built on first use, else
the JIT), ``aot`` (the compiled module or an error) or ``jit``.

A compiled kernel does not check its arguments' types (a wrong dtype would be read as the wrong type),
so each call checks them here, in Python, against the declared ones, as numba's dispatcher would; a call
with any other types (a non-contiguous array, an int where a float is declared) runs under the JIT,
which compiles it as it always did: same results either way, only the memory differs.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger("sdr_wmbus")

BACKENDS = ("auto", "aot", "jit")
DEFAULT_OPTIONS = {"cache": True, "nogil": True}  # numba options every kernel gets

_registry: dict[str, Kernel] = {}
_lock = threading.RLock()
_backend: str | None = None  # "aot" or "jit" once decided
_compiled: types.ModuleType | None = None


class Kernel:
    """One radio kernel: its Python function, numba options and compiled argument types.

    Calling it calls the implementation of the backend in use (deciding the backend on the first call).
    """

    def __init__(self, func: Callable, args: str | None, options: dict[str, Any]) -> None:
        self.func = func
        self.name = func.__name__
        self.args = args
        self.options = {**DEFAULT_OPTIONS, **options}
        self.fallbacks = 0  # calls whose argument types sent them to the JIT while compiled code was in use
        self._dispatcher = None
        self._impl: Callable = self._first_call
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<kernel {self.func.__module__}.{self.name}>"

    def _first_call(self, *args: Any, **kwargs: Any) -> Any:
        resolve()
        return self._impl(*args, **kwargs)

    def dispatcher(self) -> Any:
        """numba's JIT dispatcher for this kernel (imports numba).

        Compiled from a copy of the function whose globals name the other kernels' dispatchers, since
        numba can only call kernels it compiles itself; the module's own names stay these objects.
        """
        with _lock:
            if self._dispatcher is None:
                import numba

                func = self.func
                names = dict(func.__globals__)
                for name in _global_names(func.__code__):
                    value = names.get(name)
                    if isinstance(value, Kernel) and value is not self:
                        names[name] = value.dispatcher()
                clone = types.FunctionType(
                    func.__code__, names, func.__name__, func.__defaults__, func.__closure__
                )
                clone.__kwdefaults__ = func.__kwdefaults__
                functools.update_wrapper(clone, func)
                del clone.__wrapped__
                self._dispatcher = numba.njit(**self.options)(clone)
            return self._dispatcher

    def _jit_call(self, *args: Any, **kwargs: Any) -> Any:
        return self.dispatcher()(*args, **kwargs)

    def _bind(self, module: types.ModuleType | None) -> None:
        """Point calls at the compiled function in ``module``, or at the JIT when there is none."""
        compiled = getattr(module, self.name, None) if module is not None and self.args else None
        if compiled is None:
            if module is not None and self.args:
                log.warning("radio kernel %s is missing from the compiled module; numba's JIT runs it", self)
            self._impl = self._jit_call
        else:
            self._impl = _checked_call(self, compiled)


def _global_names(code: types.CodeType) -> set[str]:
    """The global names a function's code (and any code nested in it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def kernel(args: str | None = None, **options: Any) -> Callable[[Callable], Kernel]:
    """Register a radio kernel: ``args`` the argument types it is compiled for ahead of time (None for a
    helper only kernels call), ``options`` numba's (``fastmath``, ``inline``; cache and nogil always)."""

    def register(func: Callable) -> Kernel:
        made = Kernel(func, args, options)
        if args is not None:
            parse_args(args)  # a mistake in the types fails at import, not at the first call
        with _lock:
            if made.name in _registry:
                raise ValueError(f"two radio kernels named {made.name}: {_registry[made.name]} and {made}")
            _registry[made.name] = made
            if _backend is not None:
                made._bind(_compiled)
        return made

    return register


def registry() -> dict[str, Kernel]:
    """The kernels registered so far, by name."""
    return dict(_registry)


def backend() -> str | None:
    """ "aot" or "jit" once decided, else None."""
    return _backend


def resolve(quiet: bool = False, choice: str | None = None) -> str:
    """Decide once how kernels run in this process: "aot" or "jit".

    ``choice`` (else ``SDR_WMBUS_KERNELS``, else auto): auto loads the compiled module, building it on
    first use (saying so unless ``quiet``), and falls back to the JIT when that fails; aot raises then.
    """
    global _backend, _compiled
    with _lock:
        if _backend is None:
            choice = (choice or os.environ.get("SDR_WMBUS_KERNELS") or "auto").lower()
            if choice not in BACKENDS:
                raise ValueError(f"SDR_WMBUS_KERNELS={choice!r}: use one of {', '.join(BACKENDS)}")
            module = None
            if choice != "jit":
                from .aot import load_or_build

                module = load_or_build(quiet=quiet, required=choice == "aot")
            _compiled = module
            _backend = "aot" if module is not None else "jit"
            for made in _registry.values():
                made._bind(module)
        return _backend


# --------------------------------------------------------------------------- argument types

_SCALARS: dict[str, tuple[type, ...]] = {
    # the Python and numpy types numba's dispatcher gives exactly this numba type
    "int64": (int, np.int64),
    "float64": (float, np.float64),
    "complex128": (complex, np.complex128),
    "boolean": (bool, np.bool_),
}
_ARRAY = re.compile(r"^(\w+)\[((?:\s*:\s*,)*)\s*::\s*1\s*\]$")


def parse_args(text: str) -> list[tuple[str, int]]:
    """(type name, array dimensions or 0 for a scalar) per argument of a kernel's type list, e.g.
    "float32[:, ::1], int64" -> [("float32", 2), ("int64", 0)]."""
    parsed = []
    for part in re.split(r",(?![^\[]*\])", text):
        part = part.strip()
        match = _ARRAY.match(part)
        if match:
            np.dtype(match.group(1))  # a numpy type name
            parsed.append((match.group(1), match.group(2).count(",") + 1))
        elif part in _SCALARS:
            parsed.append((part, 0))
        else:
            raise ValueError(
                f"kernel argument type {part!r}: use a C-contiguous array or {', '.join(_SCALARS)}"
            )
    return parsed


def _check(name: str, ndim: int) -> Callable[[Any], bool]:
    if ndim == 0:
        allowed = _SCALARS[name]
        return lambda value: type(value) in allowed
    dtype = np.dtype(name)

    def check(value: Any) -> bool:
        return (
            isinstance(value, np.ndarray)
            and value.dtype == dtype
            and value.ndim == ndim
            and value.flags.c_contiguous
            and value.flags.aligned
        )

    return check


def _checked_call(made: Kernel, compiled: Callable) -> Callable:
    """Call ``compiled`` when the arguments have the declared types (defaults filled in), else the JIT."""
    checks = [_check(name, ndim) for name, ndim in parse_args(made.args or "")]
    count = len(checks)
    signature = inspect.signature(made.func)

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) < count:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        if len(args) == count:
            for check, value in zip(checks, args, strict=True):
                if not check(value):
                    break
            else:
                return compiled(*args)
        made.fallbacks += 1
        if made.fallbacks == 1:
            log.debug(
                "radio kernel %s: argument types other than (%s); numba's JIT runs them", made, made.args
            )
        return made.dispatcher()(*args)

    return call
