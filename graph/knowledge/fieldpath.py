"""Provider field paths: ``organization.funding_events[].date`` style paths into JSON responses.

A path is dotted keys; ``[]`` after a key means "each item of this list". The same function serves the
knowledge-base test (does this path exist in the provider's response shape?) and the coverage probe
(is this data point filled in this lead's response?).
"""

from __future__ import annotations

from typing import Any

__all__ = ["extract", "is_filled", "path_exists"]

_MISSING = object()


def _step(values: list[Any], part: str) -> list[Any]:
    many = part.endswith("[]")
    key = part[:-2] if many else part
    out: list[Any] = []
    for value in values:
        if not isinstance(value, dict) or key not in value:
            continue
        child = value[key]
        if many:
            if isinstance(child, list):
                out.extend(child)
        else:
            out.append(child)
    return out


def extract(document: Any, path: str) -> list[Any]:
    """Every value at ``path`` in ``document`` (an empty list when the path is absent)."""
    values = [document]
    for part in path.split("."):
        values = _step(values, part)
        if not values:
            return []
    return values


def is_filled(document: Any, path: str) -> bool:
    """True when at least one value at ``path`` is present and not empty/null/zero-length."""
    return any(v not in (None, "", [], {}) for v in extract(document, path))


def path_exists(shape: Any, path: str) -> bool:
    """True when every key of ``path`` exists in the example ``shape`` (values may be null)."""
    values = [shape]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and key in value:
                child = value[key]
                if many:
                    if not isinstance(child, list):
                        return False
                    nxt.extend(child or [_MISSING])
                else:
                    nxt.append(child)
        if not nxt:
            return False
        values = [v for v in nxt if v is not _MISSING] or [None]
    return True
