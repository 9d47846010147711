"""Per-request custom data points (``options.custom_data_points``): a one-off blueprint without a pack.

The team asked for them, so they are always in the blueprint (``origin: "custom"``), at least ``should``;
they rank ``must`` when the seller's own site or ICP names them. Each is placed in its section by the
seller's priorities — after the section's data points of the same or higher priority — and the section's
lowest-ranked catalog data points give way so it keeps ``max_data_points`` (never fewer than the custom
ones). A custom key replaces a catalog data point with the same key, in whichever section it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.engine.text import Zone, normalize, snippet_around
from graph.knowledge import KnowledgeBase
from graph.schemas import Company, CustomDataPoint, DataPoint, EnrichmentRequest, ResolvedICP

__all__ = ["DEFAULT_SOURCE", "custom_data_point", "place_custom", "unknown_custom_sources"]

DEFAULT_SOURCE = "company_website"  # where a data point with no named source is usually found first
_RANK = {"must": 0, "should": 1, "nice": 2}


def unknown_custom_sources(request: EnrichmentRequest, kb: KnowledgeBase) -> list[str]:
    """Source ids the request's custom data points name that the knowledge base does not know."""
    named = [s for c in request.options.custom_data_points for s in c.sources]
    return sorted({s for s in named if s not in kb.sources})


def _phrases(custom: CustomDataPoint) -> list[str]:
    return [p for p in dict.fromkeys([custom.name, custom.key.replace("_", " ")]) if len(p) >= 4]


def _evidence(custom: CustomDataPoint, zones: Sequence[Zone], icp: ResolvedICP | None) -> str | None:
    """The seller's own words that name the data point, if any (its site first, then a provided ICP)."""
    for phrase in _phrases(custom):
        for zone in zones:
            snippet = snippet_around(zone.text, phrase)
            if snippet:
                return snippet
    if icp is not None and icp.source == "provided":
        text = normalize(" ".join([*icp.technologies, *icp.industries, icp.notes]))
        if any(normalize(p) in text for p in _phrases(custom)):
            return f"Your ICP names {custom.name}."
    return None


def custom_data_point(
    custom: CustomDataPoint, kb: KnowledgeBase, company: Company, zones: Sequence[Zone], icp: ResolvedICP | None
) -> DataPoint:
    fallback = [DEFAULT_SOURCE] if DEFAULT_SOURCE in kb.sources else []
    sources = [s for s in custom.sources if s in kb.sources] or fallback
    evidence = _evidence(custom, zones, icp)
    seller = company.name or "The seller"
    why = f"{seller}'s team asked for this data point for this blueprint: {custom.description.rstrip('.')}."
    if evidence:
        why += f' The site says: "{evidence}"' if not evidence.startswith("Your ICP") else f" {evidence}"
    return DataPoint(
        key=custom.key, name=custom.name, description=custom.description, why=why,
        priority="must" if evidence else "should", value_type=custom.value_type, example=custom.example,
        source_ids=sources, evidence=evidence, origin="custom",
    )


def place_custom(
    section: str,
    points: list[DataPoint],
    request: EnrichmentRequest,
    kb: KnowledgeBase,
    company: Company,
    zones: Sequence[Zone],
    icp: ResolvedICP | None,
) -> list[DataPoint]:
    """The section's data points with the request's custom ones of ``section`` placed among them."""
    customs = request.options.custom_data_points
    if not customs:
        return points
    keys = {c.key for c in customs}
    kept = [p for p in points if p.key not in keys]
    mine = [custom_data_point(c, kb, company, zones, icp) for c in customs if c.section == section]
    if not mine:
        return kept
    limit = max(request.options.max_data_points, len(mine))
    out = kept[: limit - len(mine)]
    for dp in mine:
        # after every data point the seller's evidence ranks at least as high
        at = max((i + 1 for i, p in enumerate(out) if _RANK[p.priority] <= _RANK[dp.priority]), default=0)
        out.insert(at, dp)
    return out
