"""What the knowledge base holds, counted: the figures ``blueprint knowledge stats`` prints (issue 15)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from graph.knowledge.base import KnowledgeBase
from graph.knowledge.countries import ALL, EU, EU_MEMBERS

__all__ = ["knowledge_stats"]

SECTIONS = ("firmographic", "technographic", "personalization")


def _ordered(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def knowledge_stats(kb: KnowledgeBase) -> dict[str, Any]:
    """Counts by table, kind, section and country, and NAICS coverage (subsectors with >= 1 vertical).

    ``sources_by_country`` counts a source once under each code it names ('ALL' is its own entry);
    ``eu_sources`` counts the sources for the EU as a whole or for any member state, once each.
    """
    by_country: Counter[str] = Counter(c for s in kb.sources.values() for c in s.countries)
    eu_sources = sum(1 for s in kb.sources.values() if set(s.countries) & (EU_MEMBERS | {EU}))
    stats: dict[str, Any] = {
        "version": kb.version,
        "verticals": len(kb.verticals),
        "categories": len(kb.categories),
        "categories_by_kind": _ordered(Counter(c.kind for c in kb.categories.values())),
        "data_points": len(kb.data_points),
        "data_points_by_section": {s: sum(1 for d in kb.data_points.values() if d.section == s) for s in SECTIONS},
        "sources": len(kb.sources),
        "sources_by_kind": _ordered(Counter(s.kind for s in kb.sources.values())),
        "sources_by_country": {ALL: by_country.pop(ALL, 0), **_ordered(by_country)},
        "eu_sources": eu_sources,
        "sources_without_countries": sorted(s.id for s in kb.sources.values() if not s.countries),
    }
    if kb.naics is not None:
        covered: dict[str, list[str]] = {}
        for vertical in kb.verticals.values():
            for code in kb.naics.covered(vertical.naics):
                covered.setdefault(code, []).append(vertical.id)
        subsectors = kb.naics.subsectors
        stats["naics_version"] = kb.naics.version
        stats["naics_subsectors"] = {
            "total": len(subsectors),
            "covered": sorted(covered),
            "uncovered": sorted(set(subsectors) - set(covered)),
            "verticals_per_subsector": {code: len(covered[code]) for code in sorted(covered)},
            "uncovered_titles": {code: subsectors[code] for code in sorted(set(subsectors) - set(covered))},
        }
        stats["naics_sectors"] = [
            {"code": sector.code, "title": sector.title, "subsectors": len(sector.subsectors),
             "covered": sum(1 for code in sector.subsectors if code in covered)}
            for sector in kb.naics.sectors
        ]
    return stats
