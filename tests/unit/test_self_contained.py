"""The project stands alone: a user's clone has no ``../shared`` folder and no DESIGN.md, so nothing in
it (docs, docstrings, test defaults, CI) may point there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".cache",
             ".langgraph_api", ".schemathesis", "cassettes", "node_modules"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".json", ".yaml", ".yml", ".sh", ".ipynb", ".cfg", ".txt", ""}
OUTSIDE = re.compile(r"(\.\./|/work/)shared\b")
DESIGN = re.compile(r"\bDESIGN\.md\b")


def _candidates() -> list[Path]:
    """The project's files: git's list when this is a checkout (a virtualenv or build folder of any name
    stays out), else a walk that skips the usual tool folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return [p for p in ROOT.rglob("*") if not any(part in SKIP_DIRS for part in p.relative_to(ROOT).parts)]
    return [ROOT / name for name in listed.decode().split("\0") if name]


def project_files() -> list[Path]:
    return [path for path in _candidates()
            if path.is_file() and path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve()
            and not any(part in SKIP_DIRS for part in path.relative_to(ROOT).parts)
            and path.stat().st_size < 2_000_000]


def test_the_walk_sees_the_project() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in project_files()}
    assert {"README.md", "pyproject.toml", "tools/errors.py", ".ci/run", "evals/README.md"} <= names


def test_nothing_points_at_a_shared_folder_outside_the_project() -> None:
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in project_files()
                 for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert offenders == []


def test_no_reference_to_a_design_document_the_project_lacks() -> None:
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in project_files()
                 for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                 if DESIGN.search(line)]
    assert offenders == [] or (ROOT / "DESIGN.md").exists()
