"""Routing a seller to markets beyond cue counting: its seller kind, and the semantic signal.

* **Seller kinds.** The words of a seller's own industry ("managed service provider", "3PL", "staffing
  agency") describe the seller, not its buyer; a kind that sells only to some markets (a components
  maker to OEMs) names the others as its buyers' end markets. Those verticals keep a tenth of their score.
* **What its own name says** (a known product, a brand naming a market, a trade): graph/engine/seller_names.py.
* **A page about its own trade.** A page that speaks of one trade and reads closest to that trade's services
  sells them ("court reporters" on a court-reporting firm's blog): the trade is its industry, not its buyer.
* **Semantic closeness** (graph/engine/semantic.py) joins the cue ranking only where the cue words are
  weak; a market only the embedding suggests is a candidate to show, never a market to target, save one
  case: on a page no market's words match, a category it reads as far more than any other
  (graph/engine/analysis.SellerAnalysis.certain).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graph.engine.semantic import SEMANTIC_WEIGHT, combine, load_embedder, semantic_index, site_similarity
from graph.engine.text import Zone
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals, Scored

__all__ = ["WEAK_CUES", "cued", "cued_only", "not_own_industry", "own_industry", "says_software",
           "semantic_closeness", "software_first", "with_semantic", "with_trade"]

WEAK_CUES = 0.3
OWN_INDUSTRY_SCALE = 0.1  # what is left of the seller's own industry as a buyer market
KIND_LEAD = 0.5  # a category within this share of the best one speaks for the seller's kind too


def own_industry(categories: list[Scored], kb: KnowledgeBase) -> frozenset[str]:
    """The verticals that are not the seller's buyers, by its leading categories: its own industry, and,
    for a kind that sells only to some markets (a components maker to OEMs), every other market (the
    sectors such a page names are its buyers' end markets)."""
    # a category only the embedding suggests is a guess: it never rules out a market the page names
    categories = [c for c in categories if cued(c)]
    top = categories[0].score if categories else 0.0
    own: set[str] = set()
    lead = kb.categories[categories[0].id] if categories else None
    for s in categories[:2]:
        if s.score >= KIND_LEAD * top:
            own.update(kb.categories[s.id].own_verticals)
    if lead is not None:
        # what the leading category is sold to is a buyer, whatever a runner-up category says: ordering
        # software for wholesalers that also reads as a wholesaler still sells to wholesalers
        own -= set(lead.typical_verticals) - set(lead.own_verticals)
    if lead is not None and lead.buyer_verticals:
        own.update(v for v in kb.verticals if v not in lead.buyer_verticals)
    return frozenset(own)


TRADE_SPOKEN = 0.2  # a vertical the page names this strongly, with no category read as strongly, may be its trade


def with_trade(categories: list[Scored], verticals: list[Scored], closeness: dict[str, float],
               zones: Sequence[Zone], kb: KnowledgeBase) -> list[Scored]:
    """A page that speaks of one trade at length ("court reporters", "court reporting") and reads closer to that
    trade's own services than to anything else sells them: the category whose own industry the trade is joins
    the categories, found by the trade's words, and that trade is then the seller's industry, not its buyer.
    Only where no category is read as strongly as the trade, the embedding was consulted (weak cues) and the
    page does not call what it sells software (a scheduling app for court reporters sells to them)."""
    if not closeness or says_software(zones):
        return categories
    closest = max(closeness, key=lambda cid: closeness[cid])
    category = kb.categories.get(closest)
    if category is None or category.kind == "software":
        return categories
    trade = next((v for v in verticals[:3] if v.score >= TRADE_SPOKEN and v.id in category.own_verticals), None)
    if trade is None or (categories and categories[0].score >= min(WEAK_CUES, trade.score)):
        return categories
    found = Scored(id=closest, score=round(trade.score * KIND_LEAD, 4), evidence=list(trade.evidence))
    return sorted([found, *(c for c in categories if c.id != closest)], key=lambda c: c.score, reverse=True)


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


# What a software vendor calls what it sells, in its title, headings or opening copy ("ERP for pallet companies")
_SOFTWARE_NOUNS = re.compile(
    r"\b(?:software|saas|erp|crm|app|apps|platform|cloud-based|web-based|free trial"
    r"|(?:book|request|schedule) a demo)\b", re.I)
_FOR_WHOM = re.compile(r"\s+(?:(?:built|made|designed|purpose-built)\s+)?for\s", re.I)  # "CRM built for roofers"
SOFTWARE_OPENING = 1500  # the opening of the body that says what the page sells
SOFTWARE_WORDS = 2  # distinct software nouns that make a page a software vendor's


def says_software(zones: Sequence[Zone]) -> bool:
    """Whether the page calls what it sells software: two software nouns in its title, headings and the
    opening of its body, or one followed by whom it is for ("ERP for pallet companies", "the CRM built for roofing
    contractors" say it twice)."""
    opening = " ".join(z.text if z.name != "body" else z.text[:SOFTWARE_OPENING]
                       for z in zones if z.name in {"title", "headings", "body"})
    found = list(_SOFTWARE_NOUNS.finditer(opening))
    nouns = {m.group(0).lower() for m in found}
    said_for = any(_FOR_WHOM.match(opening, m.end()) for m in found)
    return len(nouns) + said_for >= SOFTWARE_WORDS


def software_first(categories: list[Scored], zones: Sequence[Zone], kb: KnowledgeBase) -> list[Scored]:
    """A page that calls what it sells software keeps a software vendor's kind: a category of another kind
    describes its buyers' trade, not the seller, and goes when it was read from a weak cue or two
    ("recycled pallets" on an ERP for pallet makers), or when a software category is strong as well
    ("Estimating and CRM for asphalt paving contractors" also says "sealcoating" and "line striping").

    Weak means under WEAK_CUES: a services firm's own words ("our managed IT services", "commercial
    fulfillment") are strong, and a page that mentions an app or a platform once is not a vendor's."""
    if not categories or kb.categories[categories[0].id].kind == "software":
        return categories
    software = next((c.score for c in categories if kb.categories[c.id].kind == "software"), 0.0)
    if categories[0].score >= WEAK_CUES and software < WEAK_CUES:
        return categories
    if not says_software(zones):
        return categories
    if software >= WEAK_CUES:  # a software category of its own: the trade words are its buyers'
        return [c for c in categories if kb.categories[c.id].kind == "software"]
    return [c for c in categories if kb.categories[c.id].kind == "software" or c.score >= WEAK_CUES]
