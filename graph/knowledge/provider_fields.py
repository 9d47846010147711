"""The field paths each API provider's response really has, shipped with the package.

A pack's ``sources: [{source: apollo, field: organization.estimated_num_employees}]`` is only useful when
that path exists in Apollo's answer. The tests check the built-in packs against recorded response shapes
(``tests/fixtures/providers``); a user's pack is checked at load time, when the tests are not around, so
the paths those shapes contain are kept in ``data/provider_fields.json`` (keys only, no values) and a test
keeps the list equal to the shapes.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["PROVIDER_SHAPES", "closest_fields", "known_fields", "paths_of"]

# knowledge-base source id → the response shape its field paths point into
PROVIDER_SHAPES = {"apollo": "apollo_organization", "apollo_people": "apollo_person", "clearbit": "clearbit_company"}


def paths_of(shape: Any, prefix: str = "") -> set[str]:
    """Every path :func:`graph.knowledge.fieldpath.path_exists` accepts in ``shape``: ``a.b``, and for a
    list ``a.items`` and ``a.items[]`` plus the keys of its items (``a.items[].date``)."""
    out: set[str] = set()
    if not isinstance(shape, dict):
        return out
    for key, value in shape.items():
        path = f"{prefix}{key}"
        out.add(path)
        if isinstance(value, dict):
            out |= paths_of(value, f"{path}.")
        elif isinstance(value, list):
            out.add(f"{path}[]")
            for item in value:
                out |= paths_of(item, f"{path}[].")
    return out


@lru_cache(maxsize=1)
def _fields() -> dict[str, frozenset[str]]:
    raw = orjson.loads((resources.files("graph.knowledge") / "data" / "provider_fields.json").read_bytes())
    return {shape: frozenset(paths) for shape, paths in raw.items()}


def known_fields(source_id: str) -> frozenset[str] | None:
    """The valid field paths for ``source_id``, or None when it is not an API whose shape we know."""
    shape = PROVIDER_SHAPES.get(source_id)
    return None if shape is None else _fields().get(shape, frozenset())


def closest_fields(source_id: str, path: str, n: int = 3) -> list[str]:
    """The known paths nearest to a mistyped one, for a fix hint."""
    fields = known_fields(source_id) or frozenset()
    leaf = path.rsplit(".", 1)[-1]
    leaves = {f: f.rsplit(".", 1)[-1].removesuffix("[]") for f in fields}
    same = [f for f, own in leaves.items() if own == leaf]
    within = [f for f, own in leaves.items() if leaf in own]
    near = set(difflib.get_close_matches(leaf, sorted(set(leaves.values())), n=n, cutoff=0.7))
    return (sorted(same)[:n] or sorted(within, key=len)[:n]
            or sorted((f for f, own in leaves.items() if own in near), key=len)[:n])
