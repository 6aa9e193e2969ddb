"""The README's two set-up commands, in order, in one fresh virtual environment, then the CLI.

A non-editable install followed by an editable one used to leave numba's cache folder inside the
installed package, which then shadowed the package ("cannot import name '__version__'"). The kernels'
cache now lives in the user's cache folder; this test keeps it that way. The environment reuses the
machine's installed dependencies (--system-site-packages) so that only sdr-wmbus itself is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The two shell commands of the README's quickstart, in order."""
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quickstart)[:2]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to copy the tracked files")
def test_readme_commands_in_a_fresh_virtual_environment(tmp_path):
    first, second = readme_commands()
    assert first.startswith("pip install . && sdr-wmbus replay")
    assert second.startswith("pip install -e '.[test]'")
    checkout = tmp_path / "sdr_wmbus"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in files.split():
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    env_dir = tmp_path / "env"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    env = {
        **os.environ,
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
    }
    env.pop("PYTHONPATH", None)

    def shell(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=900
        )

    done = shell(first)
    if done.returncode != 0 and "No matching distribution" in done.stderr:
        pytest.skip("no package index reachable to build the package")
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"id":"76348799"' in done.stdout.replace(" ", "")
    assert not list((env_dir / "lib").glob("python*/site-packages/sdr_wmbus/**/__pycache__/*.nbi"))
    install_only = second.split("&&")[0]
    done = shell(install_only)
    assert done.returncode == 0, done.stderr[-2000:]
    for command in ("sdr-wmbus --help", "sdr-wmbus --version", "sdr-wmbus drivers"):
        done = shell(command)
        assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
    done = shell(
        "sdr-wmbus replay samples/rtlsdr_868.950M_1M6_synth_t1_c1.cu8 --meters samples/meters.toml -q"
    )
    assert done.returncode == 0 and done.stdout.count("\n") == 7, done.stderr[-2000:]
    assert sys.executable  # the outer interpreter is untouched
