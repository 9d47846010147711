"""Routing a seller to markets beyond cue counting: its seller kind, and the semantic signal.

* **Seller kinds.** The words of a seller's own industry ("managed service provider", "3PL", "staffing
  agency") describe the seller, not its buyer; a kind that sells only to some markets (a components
  maker to OEMs) names the others as its buyers' end markets. Those verticals keep a tenth of their score.
* **Semantic closeness** (graph/engine/semantic.py) joins the cue ranking only where the cue words are
  weak; a market only the embedding suggests is a candidate to show, never a market to target.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.engine.semantic import SEMANTIC_WEIGHT, combine, load_embedder, semantic_index, site_similarity
from graph.engine.text import Zone
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals, Scored

__all__ = ["WEAK_CUES", "cued", "cued_only", "not_own_industry", "own_industry", "semantic_closeness",
           "with_semantic"]

WEAK_CUES = 0.3
OWN_INDUSTRY_SCALE = 0.1  # what is left of the seller's own industry as a buyer market
KIND_LEAD = 0.5  # a category within this share of the best one speaks for the seller's kind too


def own_industry(categories: list[Scored], kb: KnowledgeBase) -> frozenset[str]:
    """The verticals that are not the seller's buyers, by its leading categories: its own industry, and,
    for a kind that sells only to some markets (a components maker to OEMs), every other market (the
    sectors such a page names are its buyers' end markets)."""
    top = categories[0].score if categories else 0.0
    own: set[str] = set()
    for s in categories[:2]:
        if s.score >= KIND_LEAD * top:
            own.update(kb.categories[s.id].own_verticals)
    lead = kb.categories[categories[0].id] if categories else None
    if lead is not None and lead.buyer_verticals:
        own.update(v for v in kb.verticals if v not in lead.buyer_verticals)
    return frozenset(own)


def not_own_industry(verticals: list[Scored], own: frozenset[str]) -> list[Scored]:
    """The seller's own industry words describe the seller, not its buyer: those verticals keep a tenth
    of their score."""
    if not own:
        return verticals
    out = [v.model_copy(update={"score": round(v.score * OWN_INDUSTRY_SCALE, 4)}) if v.id in own else v
           for v in verticals]
    return sorted(out, key=lambda s: s.score, reverse=True)


def semantic_closeness(zones: Sequence[Zone], kb: KnowledgeBase) -> tuple[dict[str, float], dict[str, float]]:
    """How close the seller's own words are to each vertical and category ({} when the model is off)."""
    embedder = load_embedder()
    if embedder is None:
        return {}, {}
    return site_similarity(semantic_index(kb, embedder), embedder, zones)


def with_semantic(scored: list[Scored], sims: dict[str, float]) -> list[Scored]:
    """Semantic closeness joins the ranking where the cue words are weak (best cue score under
    WEAK_CUES): there keyword routing is least reliable, and a page that plainly describes a market in
    words the cues lack still lands in it. Where cues are strong they decide alone: on the dev pages a
    blend everywhere moved the top market right on 2 pages but cost more blueprint quality than it gave."""
    if scored and scored[0].score >= WEAK_CUES:
        return scored
    return combine(scored, sims, SEMANTIC_WEIGHT)


def cued_only(market: MarketSignals) -> MarketSignals:
    """The markets some cue word found: a market only the embedding suggested is a candidate to show
    (low_confidence details), never a market to write must-haves for."""
    return market.model_copy(update={"verticals": [s for s in market.verticals if cued(s)],
                                     "categories": [s for s in market.categories if cued(s)]})


def cued(s: Scored) -> bool:
    return not (s.evidence and s.evidence[0].startswith("semantic:"))
