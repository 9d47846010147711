"""What every export shares: the result type, the objects a blueprint's fields can live on, and the
facts each target needs about a data point (its priority, sources, collection method, typed example)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graph.schemas import Blueprint, CollectionMethod, DataPoint
from graph.values import parse_value

__all__ = [
    "OBJECT_TYPES",
    "Export",
    "ExportFile",
    "ObjectType",
    "PlannedField",
    "example_value",
    "planned_fields",
    "short",
    "unique_labels",
]

ObjectType = Literal["companies", "contacts"]
OBJECT_TYPES: tuple[ObjectType, ...] = ("companies", "contacts")


@dataclass(frozen=True)
class ExportFile:
    path: str  # relative, '/'-separated
    content: bytes


@dataclass(frozen=True)
class Export:
    """A compiled blueprint: one file (``tree`` false) or a folder tree, plus the parsed document of a
    JSON target so Python callers need not decode it."""

    format: str
    object_type: ObjectType
    files: tuple[ExportFile, ...]
    tree: bool
    media_type: str
    document: Any = None

    @property
    def content(self) -> bytes:
        """The single file of a one-file target, or the zip of a folder tree."""
        return self.files[0].content if not self.tree else self.zip_bytes()

    def text(self) -> str:
        if self.tree:
            raise ValueError(f"{self.format} is a folder tree: use write() or zip_bytes()")
        return self.files[0].content.decode("utf-8")

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in self.files:
                # a fixed timestamp: the same blueprint always zips to the same bytes
                info = zipfile.ZipInfo(item.path, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, item.content)
        return buffer.getvalue()

    def write(self, out: Path) -> list[Path]:
        """Write to ``out``: the file itself for a one-file target (inside ``out`` when it is a folder),
        a folder for a tree."""
        if not self.tree:
            out = out / self.files[0].path if out.is_dir() else out
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(self.files[0].content)
            return [out]
        written = []
        for item in self.files:
            target = out.joinpath(*item.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.content)
            written.append(target)
        return written


def json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary (targets cap labels and descriptions)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return f"{cut}…"


def unique_labels(labels: list[str], limit: int) -> list[str]:
    """``labels`` made distinct (case-blind) by a numeric suffix, each within ``limit`` characters: CRMs
    refuse two fields of one object with the same label."""
    taken: set[str] = set()
    out = []
    for label in labels:
        candidate, n = label, 2
        while candidate.casefold() in taken:
            suffix = f" ({n})"
            candidate = short(label, limit - len(suffix)) + suffix
            n += 1
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


@dataclass(frozen=True)
class PlannedField:
    """One data point with what the targets read from the blueprint around it."""

    point: DataPoint
    section: str
    order: int
    method: str = ""
    cadence: str = ""
    provider_order: tuple[str, ...] = ()
    source_fields: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.point.key


def _plans(bp: Blueprint) -> dict[str, CollectionMethod]:
    out: dict[str, CollectionMethod] = {}
    for plan in bp.collection_methods:
        for key in plan.data_points:
            out.setdefault(key, plan)
    return out


def planned_fields(bp: Blueprint) -> Iterator[PlannedField]:
    """Every data point of the blueprint, section by section, with its collection plan."""
    plans = _plans(bp)
    order = 0
    for section in ("firmographic", "technographic", "personalization"):
        for point in getattr(bp, section).data_points:
            plan = plans.get(point.key)
            # the plan's provider order covers every point it collects: keep this point's own sources, in
            # that order, then any of its sources the plan does not rank
            ranked = [sid for sid in (plan.provider_order if plan else []) if sid in point.source_ids]
            providers = tuple(dict.fromkeys([*ranked, *point.source_ids]))
            yield PlannedField(point=point, section=section, order=order, method=plan.method if plan else "",
                               cadence=plan.cadence if plan else "", provider_order=providers,
                               source_fields=dict(point.source_fields))
            order += 1


def example_value(point: DataPoint) -> Any:
    """The data point's example as a value of its type (``None`` when it does not read as one, which
    only an invented LLM point can do: catalog examples are linted)."""
    try:
        return parse_value(point.value_type, point.example, point.options)
    except ValueError:
        return None
