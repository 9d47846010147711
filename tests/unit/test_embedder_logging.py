"""Loading the embedding model leaves logging as it was: ``wordllama`` calls
``logging.basicConfig(level=INFO)`` on import, which would send every library's INFO record (httpx logs
each request) to a plain, unredacted stderr handler. Checked in a fresh interpreter, where the import
is not already done."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import logging
root = logging.getLogger()
before = (root.level, list(root.handlers))
{load}
assert (root.level, list(root.handlers)) == before, (root.level, root.handlers)
print(logging.getLevelName(root.getEffectiveLevel()), len(root.handlers))
"""


def _probe(load: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE.format(load=load)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_loading_the_embedder_leaves_the_root_logger_alone() -> None:
    done = _probe("from graph.engine.semantic import load_embedder\nassert load_embedder() is not None")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["WARNING", "0"]
    # what the guard is for: importing wordllama bare does change it
    bare = _probe("import wordllama")
    assert bare.returncode != 0 and "AssertionError" in bare.stderr
