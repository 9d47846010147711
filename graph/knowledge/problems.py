"""Where a knowledge-pack problem is and how to fix it: the unit of ``blueprint knowledge validate``'s report."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Location", "Path_", "Problem", "Site", "did_you_mean"]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack, where it is, and how to fix it."""

    location: Location
    message: str
    hint: str = ""

    def render(self) -> str:
        return f"{self.location}: {self.message}" + (f"\n    fix: {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Site:
    """Where an entry sits in its file: the file, the entry's path in the YAML and the file's line map."""

    file: str
    path: Path_ = ()
    lines: Mapping[Path_, int] = field(default_factory=dict)

    def at(self, *sub: str | int) -> Location:
        """The line of ``sub`` inside the entry (or of its nearest enclosing node that has one)."""
        path = (*self.path, *sub)
        while path:
            if path in self.lines:
                return Location(self.file, self.lines[path])
            path = path[:-1]
        return Location(self.file, self.lines.get((), None))


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""

