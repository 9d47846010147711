"""Loading the knowledge base: read every pack once, validate it, cross-check every reference.

Nothing is read at import; :func:`load_knowledge` reads and validates on first call and caches the
result for the process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import orjson
import yaml
from pydantic import ValidationError

from graph.knowledge.models import DataPointSpec, Pack, ProductCategory, SourceSpec, Vertical
from graph.knowledge.naics import NaicsReference, load_naics

__all__ = ["KnowledgeBase", "KnowledgeError", "load_knowledge"]

PROVIDER_SHAPES = {"apollo": "apollo_organization", "apollo_people": "apollo_person", "clearbit": "clearbit_company"}


class KnowledgeError(ValueError):
    """The knowledge data is inconsistent (a developer error, caught by the tests)."""


@dataclass
class KnowledgeBase:
    version: str
    verticals: dict[str, Vertical] = field(default_factory=dict)
    categories: dict[str, ProductCategory] = field(default_factory=dict)
    data_points: dict[str, DataPointSpec] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    naics: NaicsReference | None = None  # the reference the verticals' codes are checked against

    def add(self, pack: Pack, origin: str) -> None:
        for kind, items in (
            ("verticals", pack.verticals),
            ("categories", pack.categories),
            ("data_points", pack.data_points),
            ("sources", pack.sources),
        ):
            table = getattr(self, kind)
            for item in items:
                ident = item.key if isinstance(item, DataPointSpec) else item.id
                if ident in table:
                    raise KnowledgeError(f"{origin}: duplicate {kind[:-1]} id {ident!r}")
                table[ident] = item

    def check(self) -> None:
        """Every reference points at something that exists."""
        problems: list[str] = []
        for dp in self.data_points.values():
            problems += [f"data point {dp.key}: unknown source {r.source!r}" for r in dp.sources
                         if r.source not in self.sources]
            problems += [f"data point {dp.key}: unknown vertical {v!r}" for v in dp.applies_to.verticals
                         if v not in self.verticals]
            problems += [f"data point {dp.key}: unknown category {c!r}" for c in dp.applies_to.categories
                         if c not in self.categories]
            problems += [f"data point {dp.key}: source {r.source} is an API and needs a field path"
                         for r in dp.sources if r.source in PROVIDER_SHAPES and not r.field]
        owners: list[Vertical | ProductCategory] = [*self.verticals.values(), *self.categories.values()]
        for owner in owners:
            refs = [*owner.data_points, *owner.exclude_data_points]
            problems += [f"{owner.id}: unknown data point {k!r}" for k in refs if k not in self.data_points]
        for vertical in self.verticals.values():
            if vertical.parent and vertical.parent not in self.verticals:
                problems.append(f"vertical {vertical.id}: unknown parent {vertical.parent!r}")
        for category in self.categories.values():
            problems += [f"category {category.id}: unknown vertical {v!r}"
                         for v in [*category.typical_verticals, *category.own_verticals] if v not in self.verticals]
        for source in self.sources.values():
            problems += [f"source {source.id}: unknown vertical {v!r}" for v in source.verticals
                         if v not in self.verticals]
        if self.naics is not None:
            for vertical in self.verticals.values():
                problems += [f"vertical {vertical.id}: naics {why}" for code in vertical.naics
                             if (why := self.naics.problem(code))]
        if problems:
            raise KnowledgeError("knowledge base is inconsistent:\n  " + "\n  ".join(problems))

    def by_section(self, section: str) -> Iterable[DataPointSpec]:
        return (dp for dp in self.data_points.values() if dp.section == section)


def _data_dir() -> Path:
    return Path(str(resources.files("graph.knowledge") / "data"))


def _parse_pack(name: str, raw: object) -> Pack:
    try:
        return Pack.model_validate(raw or {})
    except ValidationError as exc:
        raise KnowledgeError(f"{name}: {exc}") from exc


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


def _raw_packs(files: list[Path], snapshot: Path | None) -> list[object]:
    """The packs as parsed YAML, from a JSON snapshot of exactly these files when one exists.

    Parsing ~1.4 MB of YAML costs ~0.3 s per process (every CLI start); the snapshot, named by the
    files' digest, loads in ~30 ms. It is plain data, validated like the YAML, and written once (a
    folder that cannot be written only means no snapshot).
    """
    if snapshot is not None and snapshot.is_file():
        try:
            raws = orjson.loads(snapshot.read_bytes())
            if isinstance(raws, list) and len(raws) == len(files):
                return raws
        except (OSError, orjson.JSONDecodeError):
            pass  # unreadable or torn: parse the YAML again and rewrite it
    raws = [_read_yaml(path) for path in files]
    if snapshot is not None:
        try:
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            partial = snapshot.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(orjson.dumps(raws))
            os.replace(partial, snapshot)  # atomic: a concurrent reader sees all of it or none
            for old in snapshot.parent.glob("knowledge-*.json"):  # earlier knowledge versions
                if old != snapshot:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
    return raws


def load_from(data_dir: Path, snapshot_dir: Path | None = None) -> KnowledgeBase:
    files = sorted([data_dir / "sources.yaml", *sorted((data_dir / "packs").glob("*.yaml"))])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    declared = (data_dir / "VERSION").read_text(encoding="utf-8").strip()
    naics = data_dir / "naics.yaml"  # reference data, not a pack (a bare test folder may have none)
    kb = KnowledgeBase(version=f"{declared}+{digest.hexdigest()[:8]}",
                       naics=load_naics(naics) if naics.is_file() else None)
    snapshot = None if snapshot_dir is None else snapshot_dir / f"knowledge-{digest.hexdigest()[:24]}.json"
    for path, raw in zip(files, _raw_packs(files, snapshot), strict=True):
        kb.add(_parse_pack(path.name, raw), path.name)
    kb.check()
    return kb


@lru_cache(maxsize=1)
def load_knowledge() -> KnowledgeBase:
    """The embedded knowledge base, loaded and validated once per process (a parsed snapshot of it is
    kept in the cache folder, so the next process skips the YAML parsing)."""
    from graph.settings import get_settings

    return load_from(_data_dir(), snapshot_dir=get_settings().cache_dir / "knowledge")
