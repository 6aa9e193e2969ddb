"""The radio kernels are loaded (built, the first time after they change) before any test runs, so that
no command's output in a test depends on whether it happened to be the first run."""

from __future__ import annotations


def pytest_sessionstart(session) -> None:
    from sdr_wmbus.kernels import resolve

    resolve(quiet=True)
