"""Node ``analyze_company``: what the seller sells, to whom and how — with evidence."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.analysis import analyze_seller
from graph.engine.routing import cued_only
from graph.engine.text import Zone
from graph.knowledge import KnowledgeBase
from graph.nodes._common import knowledge, request_of
from graph.nodes._llm import refine
from graph.resources import get_resources
from graph.schemas import Company, Evidence, Warning
from graph.state import BlueprintState, Context, MarketSignals
from tools.errors import InsufficientInformation
from tools.extract import registrable_name
from tools.site import SiteSnapshot

__all__ = ["analyze_company", "low_confidence_details", "provider_zones"]

MIN_WORDS = 40
MIN_SIGNAL = 0.08  # below this nothing on the site matches any market we know
LOW_SIGNAL = 0.3  # below this the blueprint is delivered with a low-confidence warning
RESCUE_WORDS = 150  # a page this long that matches any market gets a low-confidence blueprint, not a refusal
SUPPLY = ["icp.industries", "icp.buyer_titles", "icp.company_size"]


def low_confidence_details(market: MarketSignals, kb: KnowledgeBase) -> dict[str, Any]:
    """The likely markets with their scores, and what the caller can supply to settle them."""
    return {
        "candidates": {
            "verticals": [{"id": s.id, "name": kb.verticals[s.id].name, "score": s.score}
                          for s in market.verticals[:4]],
            "categories": [{"id": s.id, "name": kb.categories[s.id].name, "kind": kb.categories[s.id].kind,
                            "score": s.score} for s in market.categories[:3]],
        },
        "supply": SUPPLY,
    }


def provider_zones(evidence: dict[str, Any]) -> list[Zone]:
    """Provider facts about the seller (industry, keywords, description) as a text zone."""
    texts = [str(v) for facts in evidence.values() if isinstance(facts, dict) for v in facts.values() if v]
    return [Zone("provider", " . ".join(texts), 1.5, "providers")] if texts else []


def _only_certain(company: Company, market: MarketSignals, kb: KnowledgeBase) -> Company:
    """The company as the certain markets describe it: no offering or market claimed on a guess."""
    category = kb.categories[market.categories[0].id] if market.categories else None
    kept = {kb.categories[s.id].name for s in market.categories} | {kb.verticals[s.id].name for s in market.verticals}
    return company.model_copy(update={
        "offering": category.name if category else "",
        "category": category.name if category else "",
        "category_id": category.id if category else None,
        "categories": [s.id for s in market.categories[:3]],
        "seller_kind": category.kind if category else None,
        "verticals": [s.id for s in market.verticals[:4]],
        "markets_served": [kb.verticals[s.id].name for s in market.verticals[:4]],
        "evidence": [e for e in company.evidence
                     if not e.claim.startswith(("sells:", "sells to:")) or e.claim.split(": ", 1)[1] in kept],
    })


async def _refusal(website: str, site: SiteSnapshot, strongest: float) -> InsufficientInformation:
    """Why the site cannot carry a blueprint, in terms the caller can act on: the words it still needs, or
    that its words name no market; and, when its pages sit in the page cache (a rerun in the next hours
    reads them from there, not the site), how to read the site again."""
    words = site.word_count()
    if words < MIN_WORDS:
        reason = (f"{website} says too little to infer who the seller sells to: {words} words of text read "
                  f"on {len(site.pages)} page(s), at least {MIN_WORDS} needed")
    else:
        reason = (f"{website} names no market we know: none of its {words} words ties it to one (best match "
                  f"{strongest:.2f}, at least {MIN_SIGNAL:.2f} needed, or {RESCUE_WORDS}+ words that match "
                  "some market)")
    details: dict[str, Any] = {"website": website, "words_read": words, "min_words": MIN_WORDS,
                               "pages_read": len(site.pages), "supply": SUPPLY}
    resources = get_resources()
    page_cache = resources.page_cache  # None on refresh/bypass runs: those read the site again
    if page_cache is not None and await page_cache.get(site.url) is not None:
        hours = max(1, round(resources.settings.page_cache_ttl_s / 3600))
        reason += (f". Its pages are kept in the page cache for {hours} h: if the site changed since, run again "
                   'with --refresh (HTTP: options.cache "refresh") or --no-cache ("bypass")')
        details["page_cache"] = {"ttl_s": resources.settings.page_cache_ttl_s, "url": site.url}
    return InsufficientInformation(reason + ".", details=details)


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
        candidates, market = market, cued_only(market)
        if market != candidates:  # the company names only markets some cue word supports
            company = _only_certain(company, market, kb)
        strongest = max([s.score for s in [*market.categories[:1], *market.verticals[:1]]] or [0.0])
        # a page of real copy whose words match some market, however weakly, gets a blueprint on what is
        # certain (low_confidence, with the candidates); only an empty or wordless one is refused
        says_something = site.word_count() >= RESCUE_WORDS and bool(candidates.categories or candidates.verticals)
        if not has_icp and (site.word_count() < MIN_WORDS or (strongest < MIN_SIGNAL and not says_something)):
            raise await _refusal(request.website, site, strongest)
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
                                            f"{strongest:.2f}); check the ICP or provide one.",
                                    details=low_confidence_details(candidates, kb)))
            if strongest < MIN_SIGNAL:
                # too weak to trust either signal alone: the blueprint keeps what both agree on (often
                # nothing: then the generic core), never the must-haves of a market only one guessed
                market = analysis.certain(kb)
                company = _only_certain(company, market, kb)
            elif not market.categories and (clear := analysis.clear_category()):
                market = market.model_copy(update={"categories": [clear]})
                company = _only_certain(company, market, kb)
    (company, market), updates = await refine("analyze_company", state, runtime, (company, market), kb=kb)
    if warnings:
        updates["warnings"] = [*warnings, *updates.get("warnings", [])]
    return {"company": company, "market": market, **updates}
