"""Node ``analyze_company``: what the seller sells, to whom and how — with evidence."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.analysis import analyze_seller
from graph.engine.text import Zone
from graph.nodes._common import knowledge, request_of
from graph.nodes._llm import refine
from graph.schemas import Company, Evidence, Warning
from graph.state import BlueprintState, Context, MarketSignals
from tools.errors import InsufficientInformation
from tools.extract import registrable_name

__all__ = ["analyze_company", "provider_zones"]

MIN_WORDS = 40
MIN_SIGNAL = 0.08  # below this nothing on the site matches any market we know
LOW_SIGNAL = 0.3  # below this the blueprint is delivered with a low-confidence warning


def provider_zones(evidence: dict[str, Any]) -> list[Zone]:
    """Provider facts about the seller (industry, keywords, description) as a text zone."""
    texts = [str(v) for facts in evidence.values() if isinstance(facts, dict) for v in facts.values() if v]
    return [Zone("provider", " . ".join(texts), 1.5, "providers")] if texts else []


async def analyze_company(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    kb = await knowledge()
    site = state.get("site")
    has_icp = request.icp is not None and not request.icp.is_empty()
    if site is None:
        company = Company(name=registrable_name(request.domain) or request.domain, domain=request.domain)
        market = MarketSignals()
    else:
        analysis = analyze_seller(site, kb, provider_zones(state.get("provider_evidence") or {}))
        company, market = analysis.company, analysis.market
        strongest = max([s.score for s in [*market.categories[:1], *market.verticals[:1]]] or [0.0])
        if not has_icp and (site.word_count() < MIN_WORDS or strongest < MIN_SIGNAL):
            raise InsufficientInformation(
                f"{request.website} says too little to infer who the seller sells to "
                f"({site.word_count()} words read, strongest market signal {strongest:.2f}).",
                details={"website": request.website, "words_read": site.word_count(),
                         "pages_read": len(site.pages),
                         "supply": ["icp.industries", "icp.buyer_titles", "icp.company_size"]},
            )
    for provider, facts in (state.get("provider_evidence") or {}).items():
        summary = "; ".join(f"{k}: {v if not isinstance(v, list) else ', '.join(map(str, v[:8]))}"
                            for k, v in facts.items() if k in {"industry", "keywords", "sub_industry", "tags",
                                                               "estimated_num_employees", "employees"})
        if summary:
            company.evidence.append(Evidence(claim=f"{provider} record of the seller", snippet=summary[:300],
                                             source=provider, confidence=0.7))
    warnings: list[Warning] = []
    if site is not None and not market.icp_driven and not has_icp:
        strongest = max([s.score for s in [*market.categories[:1], *market.verticals[:1]]] or [0.0])
        if strongest < LOW_SIGNAL:
            warnings.append(Warning(code="low_confidence", node="analyze_company",
                                    message=f"The site matches no known market strongly (best signal "
                                            f"{strongest:.2f}); check the ICP or provide one."))
    (company, market), updates = await refine("analyze_company", state, runtime, (company, market), kb=kb)
    if warnings:
        updates["warnings"] = [*warnings, *updates.get("warnings", [])]
    return {"company": company, "market": market, **updates}
