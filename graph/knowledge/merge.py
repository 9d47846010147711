"""Merging packs into one knowledge base: define, override, extend, exclude — and remember who did what.

Packs merge in load order (the built-in ones, then each ``BLUEPRINT_KNOWLEDGE_DIR`` folder's files by
name). Within a pack, definitions and overrides come before extensions, so a pack may extend what it
defines. Exclusions apply last: "never recommend this" wins over anything a pack adds. Every entry's
history (:class:`graph.knowledge.packs.PackEntry`) is kept for ``blueprint knowledge show``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from graph.knowledge.models import AppliesTo, DataPointSpec, ProductCategory, SourceSpec, Vertical
from graph.knowledge.pack_schema import SINGULAR, Kind
from graph.knowledge.packs import PackEntry
from graph.knowledge.problems import Location, Problem, Site, did_you_mean

if TYPE_CHECKING:
    from graph.knowledge.base import KnowledgeBase

__all__ = ["Exclusion", "Merger"]

BASE_MODELS: dict[str, type[BaseModel]] = {
    "verticals": Vertical, "categories": ProductCategory, "data_points": DataPointSpec, "sources": SourceSpec,
}


@dataclass(frozen=True)
class Exclusion:
    location: Location
    pack: str
    reason: str


def _as_base(kind: Kind, item: BaseModel) -> BaseModel:
    """The knowledge base holds the plain models: a pack entry loses its ``override`` flag."""
    base = BASE_MODELS[kind]
    if type(item) is base:
        return item
    return base.model_validate(item.model_dump(exclude={"override"}))


def _union(current: list[Any], added: Iterable[Any]) -> list[Any]:
    out = list(current)
    out.extend(item for item in added if item not in out)
    return out


def _extended(current: BaseModel, extension: BaseModel) -> BaseModel:
    update: dict[str, Any] = {}
    for name in extension.model_fields_set - {"id", "key", "extend"}:
        added = getattr(extension, name)
        if isinstance(added, AppliesTo):
            now: AppliesTo = getattr(current, name)
            update[name] = AppliesTo(
                verticals=_union(now.verticals, added.verticals), categories=_union(now.categories, added.categories),
                kinds=_union(now.kinds, added.kinds), motions=_union(now.motions, added.motions),
                any=now.any or added.any,
            )
        elif isinstance(added, list):
            update[name] = _union(getattr(current, name), added)
    return current.model_copy(update=update)


class Merger:
    def __init__(self, kb: KnowledgeBase, problems: list[Problem]) -> None:
        self.kb = kb
        self.problems = problems

    def _table(self, kind: str) -> dict[str, Any]:
        table: dict[str, Any] = getattr(self.kb, kind)
        return table

    def _where(self, kind: Kind, ident: str) -> str:
        first = self.kb.history[(kind, ident)][0]
        return f"pack {first.pack!r} ({first.site.at()})"

    def apply(self, entries: list[PackEntry]) -> None:
        for entry in sorted(entries, key=lambda e: e.action == "extend"):  # stable: file order otherwise
            table, key, label = self._table(entry.kind), (entry.kind, entry.ident), SINGULAR[entry.kind]
            exists = entry.ident in table
            if entry.action == "define" and exists:
                self.problems.append(Problem(
                    entry.site.at(), f"duplicate {label} id {entry.ident!r}: already defined in "
                    f"{self._where(entry.kind, entry.ident)}",
                    "add `override: true` to replace it, `extend: true` to add to it, or choose another id"))
                continue
            if entry.action != "define" and not exists:
                verb = "overrides" if entry.action == "override" else "extends"
                hint = did_you_mean(entry.ident, table) or (
                    f"remove `{entry.action}: true` to define a new {label}" if entry.action == "override"
                    else f"define the {label} in full (without `extend: true`)")
                self.problems.append(Problem(entry.site.at(), f"{verb} an unknown {label} {entry.ident!r}", hint))
                continue
            if entry.action == "extend":
                table[entry.ident] = _extended(table[entry.ident], entry.item)
            else:
                table[entry.ident] = _as_base(entry.kind, entry.item)
            self.kb.history.setdefault(key, []).append(entry)

    def exclude(self, exclusions: list[tuple[str, Site, str]]) -> None:
        """Drop the excluded data points and sources, every reference to them, and the data points left
        without any source (nothing would remain to collect them from)."""
        kb = self.kb
        for ident, site, pack in exclusions:
            kinds: list[Kind] = [k for k in ("data_points", "sources") if ident in self._table(k)]
            if not kinds:
                other = next((SINGULAR[k] for k in ("verticals", "categories") if ident in self._table(k)), None)
                hint = (f"{ident!r} is a {other}: exclusion takes data point keys and source ids; to change the "
                        f"{other}, redefine it with `override: true`") if other else (
                    did_you_mean(ident, [*kb.data_points, *kb.sources])
                    or "use a data point key or source id (`blueprint knowledge list data-points`)")
                self.problems.append(Problem(site.at(), f"exclude: unknown data point or source {ident!r}", hint))
            for kind in kinds:
                kb.excluded[(kind, ident)] = Exclusion(site.at(), pack, f"excluded by pack {pack!r}")
        gone_sources = {i for k, i in kb.excluded if k == "sources"}
        for sid in gone_sources:
            kb.sources.pop(sid, None)
        for key, dp in list(kb.data_points.items()):
            kept = [ref for ref in dp.sources if ref.source not in gone_sources]
            if not kept:
                names = ", ".join(sorted({r.source for r in dp.sources}))
                first = next(e for (k, i), e in kb.excluded.items() if k == "sources" and i == dp.sources[0].source)
                kb.excluded.setdefault(("data_points", key), Exclusion(
                    first.location, first.pack, f"every source it had is excluded ({names})"))
            elif len(kept) != len(dp.sources):
                kb.data_points[key] = dp.model_copy(update={"sources": kept})
        gone_points = {i for k, i in kb.excluded if k == "data_points"}
        for key in gone_points:
            kb.data_points.pop(key, None)
        for kind in ("verticals", "categories"):
            table = self._table(kind)
            for ident, owner in list(table.items()):
                pulled = [k for k in owner.data_points if k not in gone_points]
                pushed = [k for k in owner.exclude_data_points if k not in gone_points]
                if len(pulled) != len(owner.data_points) or len(pushed) != len(owner.exclude_data_points):
                    table[ident] = owner.model_copy(update={"data_points": pulled, "exclude_data_points": pushed})
