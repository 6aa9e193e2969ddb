"""Instructions per decoded telegram on the whole corpus, counted by valgrind: a figure that does not
move with the load of a shared (virtual) machine, for before/after comparisons of the decode path.

Run: python3 benchmarks/decode_instructions.py [TREE ...]   (default: this checkout)
Each TREE is a checkout of sdr_wmbus (e.g. a git worktree of an older commit); all are run with this
script's corpus loop. Needs valgrind. The count is (I(4 passes) - I(0 passes)) / (4 x 401 telegrams),
so start-up, imports and the first passes (layouts and plans being learnt) are left out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSES = 4

LOOP = """
import sys
sys.path.insert(0, {bench!r})
from bench_decode import load, CORPUS
from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.outputs.jsonl import to_json
telegrams, keys = load(CORPUS)
decoder = TelegramDecoder(keys)
for _ in range(3 + int(sys.argv[1])):
    for data, already in telegrams:
        to_json(decoder.decode(data, already_decrypted=already, link_crc="none"))
print(len(telegrams))
"""


def instructions(tree: Path, passes: int, script: Path) -> tuple[int, int]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    python = os.path.realpath(sys.executable)  # valgrind must see the interpreter, not a shim script
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", python,
         str(script), str(passes)],
        capture_output=True, text=True, env=env, check=True, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), int(result.stdout.split()[-1])


def main() -> int:
    if shutil.which("valgrind") is None:
        print("decode_instructions: valgrind is not installed", file=sys.stderr)
        return 1
    trees = [Path(t).resolve() for t in sys.argv[1:]] or [HERE.parent]
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "loop.py"
        script.write_text(LOOP.format(bench=str(HERE)))
        for tree in trees:
            base, count = instructions(tree, 0, script)
            full, _ = instructions(tree, PASSES, script)
            print(f"{tree}: {(full - base) // (PASSES * count):,} instructions per telegram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
