"""From chosen data points to sources (with field maps) and collection methods (order, cadence, cost)."""

from __future__ import annotations

from collections import defaultdict

from graph.knowledge import KnowledgeBase
from graph.knowledge.models import DataPointSpec, SourceSpec
from graph.schemas import CollectionMethod, DataPoint, SourceRecommendation

__all__ = ["plan_collection", "plan_sources"]

API_KINDS = {"api"}
DEFAULT_CADENCE = {
    "firmographic": "quarterly",
    "technographic": "monthly",
    "personalization": "weekly, and on event",
}
VALIDATION = {
    "api_enrichment": "Match on domain; reject records whose domain or name disagrees with the lead; "
                      "flag values older than the provider's refresh window.",
    "waterfall": "Take the first provider that fills the field; when two fill it, keep both and flag a "
                 "disagreement above 30% (counts) or a different value (categories) for review.",
    "web_scrape": "Store the page URL and retrieval date with each value; re-crawl on the cadence.",
    "llm_extraction": "Require a quoted snippet and its URL for every extracted value; drop values without one; "
                      "spot-check 5% by hand.",
    "manual_research": "Two-person spot check on a 5% sample; record the source URL and date.",
    "form_capture": "Validate on the form (picklists, not free text); confirm on the first call.",
    "intent_feed": "De-duplicate events by lead and week; expire a trigger after 90 days.",
}
FALLBACK_SHARE = (1.0, 0.35, 0.15, 0.05)  # share of leads reaching each step of a waterfall


def _spec(kb: KnowledgeBase, dp: DataPoint) -> DataPointSpec | None:
    # a request's custom data point is its own definition, even when a catalog entry shares its key
    return None if dp.origin == "custom" else kb.data_points.get(dp.key)


def plan_sources(kb: KnowledgeBase, data_points: list[DataPoint]) -> list[SourceRecommendation]:
    provides: dict[str, list[str]] = defaultdict(list)
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    notes: dict[str, list[str]] = defaultdict(list)
    for dp in data_points:
        spec = _spec(kb, dp)
        # the data point's own source ids are the ones chosen for the leads' markets (graph.engine.geo)
        chosen = set(dp.source_ids) if dp.source_ids else None
        refs = [r for r in spec.sources if chosen is None or r.source in chosen] if spec else []
        for ref in refs:
            if dp.key not in provides[ref.source]:
                provides[ref.source].append(dp.key)
            if ref.field:
                fields[ref.source][dp.key] = ref.field
            if ref.note and ref.note not in notes[ref.source]:
                notes[ref.source].append(f"{dp.key}: {ref.note}")
        for sid in dp.source_ids:  # LLM-added data points, and the fallback for a market no source serves
            if sid in kb.sources and dp.key not in provides[sid]:
                provides[sid].append(dp.key)
                if spec and sid not in {r.source for r in spec.sources}:
                    notes[sid].append(f"{dp.key}: no source in the knowledge base has this for the leads' country")
        for sid, path in dp.source_fields.items():
            fields[sid].setdefault(dp.key, path)
    out: list[SourceRecommendation] = []
    for sid, keys in provides.items():
        src = kb.sources.get(sid)
        if src is None:
            continue
        text = [src.notes, src.compliance or "", *notes[sid][:6]]
        out.append(SourceRecommendation(
            id=src.id, name=src.name, kind=src.kind, provides=keys, fields=fields.get(sid, {}),
            access=src.access, cost=src.cost, url=src.url,
            notes=" ".join(t.strip() for t in text if t and t.strip()),
        ))
    # most useful first: breadth, then the cheaper
    out.sort(key=lambda s: (-len(s.provides), kb.sources[s.id].cost_per_1k_usd, s.id))
    return out


def _ordered_sources(kb: KnowledgeBase, spec: DataPointSpec | None, dp: DataPoint) -> list[SourceSpec]:
    ids = dp.source_ids or ([r.source for r in spec.sources] if spec else [])
    return [kb.sources[i] for i in dict.fromkeys(ids) if i in kb.sources]


def _method_for(spec: DataPointSpec | None, sources: list[SourceSpec]) -> str:
    if spec and spec.method:
        return spec.method
    apis = [s for s in sources if s.kind in API_KINDS or s.method == "api_enrichment"]
    if len(apis) >= 2:
        return "waterfall"
    if apis and apis[0] is sources[0]:
        return "api_enrichment"
    return sources[0].method if sources else "manual_research"


def _section_of(kb: KnowledgeBase, dp: DataPoint, default: str) -> str:
    spec = _spec(kb, dp)
    return spec.section if spec else default


def plan_collection(
    kb: KnowledgeBase, sections: dict[str, list[DataPoint]]
) -> list[CollectionMethod]:
    # one step per (method, cadence, first source): the data points a team collects in the same pass
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    orders: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    costs: dict[tuple[str, str, str], float] = defaultdict(float)
    for section, dps in sections.items():
        for dp in dps:
            spec = _spec(kb, dp)
            sources = _ordered_sources(kb, spec, dp)
            method = _method_for(spec, sources)
            if method in {"waterfall", "api_enrichment"}:
                # APIs first, cheapest first; then the rest in the knowledge base's order
                apis = sorted([s for s in sources if s.method == "api_enrichment"], key=lambda s: s.cost_per_1k_usd)
                sources = apis + [s for s in sources if s not in apis]
            cadence = (spec.cadence if spec and spec.cadence else None) or DEFAULT_CADENCE[_section_of(kb, dp, section)]
            key = (method, cadence, sources[0].id if sources else "manual_research")
            groups[key].append(dp.key)
            orders[key] += [s.id for s in sources if s.id not in orders[key]]
            # one lookup per source and lead serves every data point of the step: the step costs its
            # dearest data point's waterfall, not the sum
            cost = sum(s.cost_per_1k_usd * share for s, share in zip(sources, FALLBACK_SHARE, strict=False))
            costs[key] = max(costs[key], cost)
    methods = [
        CollectionMethod(
            data_points=keys, method=key[0], provider_order=orders[key], cadence=key[1],  # type: ignore[arg-type]
            est_cost_per_1k_leads_usd=round(costs[key], 2), validation=VALIDATION[key[0]],
        )
        for key, keys in groups.items()
    ]
    # cheap automated methods first: that is the order a team should run them in
    rank = {"api_enrichment": 0, "waterfall": 1, "intent_feed": 2, "web_scrape": 3, "llm_extraction": 4,
            "form_capture": 5, "manual_research": 6}
    methods.sort(key=lambda m: (rank[m.method], m.est_cost_per_1k_leads_usd))
    return methods
