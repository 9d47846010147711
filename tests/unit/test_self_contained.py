"""The project stands alone: a user's clone has no ``../shared`` folder and no DESIGN.md, so nothing in
it (docs, docstrings, test defaults, CI) may point there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".cache",
             ".langgraph_api", ".schemathesis", "cassettes", "node_modules"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".json", ".yaml", ".yml", ".sh", ".ipynb", ".cfg", ".txt", ""}
OUTSIDE = re.compile(r"(\.\./|/work/)shared\b")
DESIGN = re.compile(r"\bDESIGN\.md\b")


def project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        if any(part in SKIP_DIRS for part in path.relative_to(ROOT).parts) or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve() and path.stat().st_size < 2_000_000:
            files.append(path)
    return files


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
