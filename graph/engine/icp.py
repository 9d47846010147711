"""Resolve the ICP: a provided ICP wins wherever it speaks; inference fills the rest, marked as such.

It also decides the *targeting*: the verticals the blueprint is written for. A provided ICP that names
industries reshapes the market (a POS seller whose ICP is 'multi-unit QSR franchisees' gets franchise
data points, not every restaurant's); otherwise the site's verticals are used, and when the site names
none, the seller category's typical markets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from graph.engine.cues import score_cues
from graph.engine.text import Zone, normalize
from graph.knowledge import KnowledgeBase
from graph.knowledge.models import SizeBand
from graph.schemas import ICP, Company, Evidence, ResolvedICP
from graph.state import MarketSignals, Scored

__all__ = ["page_label", "resolve_icp", "targeting_for", "user_provided"]

MIN_VERTICAL = 0.15
SEGMENT_LABELS = {
    "smb": "Small and medium-sized businesses",
    "mid_market": "Mid-market companies",
    "enterprise": "Enterprises",
}
SEGMENT_SIZE: dict[str, dict[str, int | None]] = {
    "smb": {"min_employees": 1, "max_employees": 200},
    "mid_market": {"min_employees": 100, "max_employees": 2500},
    "enterprise": {"min_employees": 1000, "max_employees": None},
}
SMB_VERTICAL = "small_businesses_smb"
FALLBACK_SCALE = 0.6
GUESS_BELOW_NAMED = 0.9
# the markets a blueprint is written for: within this share of the best one (the rest are too far behind)
KEEP_VERTICALS, KEEP_CATEGORIES = 0.45, 0.6


_EXCLUSION = re.compile(
    r"\b(?:exclud(?:e|es|ing)|except|not|no|never|without)\b\s+([^.;:]+)|([^.;:,]+?)\s+(?:are\s+|is\s+)?excluded",
    re.I,
)


def excluded_by_notes(notes: str, kb: KnowledgeBase) -> set[str]:
    """Verticals the ICP's notes rule out ("hospitals excluded", "exclude franchisors")."""
    clauses = [a or b for a, b in _EXCLUSION.findall(notes or "")]
    if not clauses:
        return set()
    zones = [Zone("icp_exclusions", "\n".join(clauses), 3.0, "icp")]
    labels = [tuple(v.industry_labels) for v in kb.verticals.values()]
    return {s.id for s in score_cues(kb.verticals.values(), zones, extra=labels, min_distinct=1) if s.score >= 0.3}


def targeting_for(market: MarketSignals, kb: KnowledgeBase, icp: ICP | None) -> MarketSignals:
    """The markets to write the blueprint for."""
    verticals = [v for v in market.verticals if v.score >= MIN_VERTICAL]
    icp_driven = False
    wanted: set[str] = set()  # what the ICP's industries name: never ruled out by its notes
    if icp is not None and (icp.industries or icp.notes):
        # the notes' exclusions are cut out before the notes are read for what the ICP wants
        notes = _EXCLUSION.sub(" ", icp.notes or "")
        zones = [Zone("icp_industries", " ; ".join(icp.industries), 3.0, "icp"),
                 Zone("icp_notes", notes, 1.0, "icp")]
        labels = [tuple(v.industry_labels) for v in kb.verticals.values()]
        from_icp = score_cues(kb.verticals.values(), zones, extra=labels, min_distinct=1)
        if from_icp and from_icp[0].score >= 0.3:
            icp_driven = True
            top = from_icp[0].score
            # the ICP's own verticals lead; the site's stay as weak context
            merged = {s.id: Scored(id=s.id, score=min(1.0, s.score / top), evidence=["icp", *s.evidence])
                      for s in from_icp[:4] if s.score >= 0.5 * top}
            wanted = set(merged)
            for v in verticals:
                if v.id not in merged:
                    merged[v.id] = Scored(id=v.id, score=round(v.score * 0.3, 4), evidence=v.evidence)
            verticals = sorted(merged.values(), key=lambda s: s.score, reverse=True)
    if icp is not None and icp.notes:
        ruled_out = excluded_by_notes(icp.notes, kb) - wanted
        keep = [v for v in verticals if v.id not in ruled_out]
        verticals = keep or verticals  # never exclude everything the ICP is about
    verticals = _sold_to_first(verticals, market, kb) if not icp_driven else verticals
    best = verticals[0].score if verticals else 0.0
    if best < 0.35 and market.categories:
        verticals = _with_typical_markets(verticals, market, kb)
    categories = _other_readings_out(_relative(market.categories, KEEP_CATEGORIES)[:3])
    return market.model_copy(update={"verticals": _relative(verticals, KEEP_VERTICALS)[:5],
                                     "categories": categories, "icp_driven": icp_driven})


def _with_typical_markets(verticals: list[Scored], market: MarketSignals, kb: KnowledgeBase) -> list[Scored]:
    """The site names no market strongly: assume the leading category's typical ones. A typical market the page
    names is lifted by the category's prior; the others are guesses, and come after the markets the page names."""
    cat = market.categories[0]
    typical = kb.categories[cat.id].typical_verticals
    known = {v.id: i for i, v in enumerate(verticals)}
    # a category built per market (an EHR) on a site that names one of its typical markets (practice
    # software + "dental"): that market is the buyer, the others are guesses the page rules out
    named = [vid for vid in typical if vid in known and verticals[known[vid]].score >= MIN_VERTICAL]
    if named and kb.categories[cat.id].one_market:
        typical = named[:1]
    verticals = list(verticals)
    guesses: list[Scored] = []
    for rank, vid in enumerate(typical[:3]):
        if vid == SMB_VERTICAL and market.segment in {"mid_market", "enterprise"}:
            continue  # the site says who it is for, and it is not small businesses
        if vid not in kb.verticals:
            continue
        score = round(cat.score * FALLBACK_SCALE * (1 - 0.15 * rank), 4)
        if vid in known:  # weakly seen on the site already: the category's prior lifts it, in order
            current = verticals[known[vid]]
            if score > current.score:
                verticals[known[vid]] = current.model_copy(update={"score": score})
        else:
            guesses.append(Scored(id=vid, score=score, evidence=[f"typical market of {cat.id}"]))
    named_best = max((v.score for v in verticals if v.score >= MIN_VERTICAL), default=0.0)
    if named_best:  # a market the page names, however weakly, leads the category's guesses
        cap = round(named_best * GUESS_BELOW_NAMED, 4)
        guesses = [g.model_copy(update={"score": min(g.score, cap)}) for g in guesses]
    return sorted([*verticals, *guesses], key=lambda s: s.score, reverse=True)


NAMED_BUYER = 0.1  # how strongly a page must name a market the leading category sells to
SOLD_TO_LEAD = 0.4  # how strong the leading category must be for what it is sold to, to lead
TALKED_ABOUT = 0.7  # what is left of a market the page names that the leading category is not sold to


def _sold_to_first(verticals: list[Scored], market: MarketSignals, kb: KnowledgeBase) -> list[Scored]:
    """A market the page names that its leading category is sold to leads the markets the page names that
    the category is not sold to: ordering software "for wholesalers" whose page talks about the wholesalers'
    retailers sells to wholesalers."""
    if not market.categories or market.categories[0].score < SOLD_TO_LEAD or not verticals:
        return verticals
    if "channel" in market.motions:  # a seller through partners names its partners' trade first, rightly
        return verticals
    typical = kb.categories[market.categories[0].id].typical_verticals
    named = [v for v in market.verticals if v.id in typical and v.score >= NAMED_BUYER]
    if not named or named[0].id == verticals[0].id:
        return verticals
    top = verticals[0].score
    lifted = named[0].model_copy(update={"score": top})
    # the markets it is not sold to are what the page talks about: behind the one it is sold to
    rest = [v if v.id in typical else v.model_copy(update={"score": round(v.score * TALKED_ABOUT, 4)})
            for v in verticals if v.id != lifted.id]
    return [lifted, *sorted(rest, key=lambda s: s.score, reverse=True)]


def _other_readings_out(categories: list[Scored]) -> list[Scored]:
    """The leading category and the runners-up found by words of their own: a runner-up whose every cue is one
    of the leader's ("POS" read as retail POS and as restaurant POS) is another reading of the same words,
    not a second thing the seller sells."""
    if not categories:
        return categories
    lead = {e.lower() for e in categories[0].evidence}
    own_words = [c for c in categories[1:] if not c.evidence or not {e.lower() for e in c.evidence} <= lead]
    return [categories[0], *own_words]


def user_provided(icp: ResolvedICP | None, field: str) -> list[str]:
    """The values of a list field (technologies, geographies...) that the user wrote in the ICP.

    A provided ICP's silent fields are filled from inference and listed in ``inferred_fields``: those
    describe the seller's site, not the team's leads, and must never weigh as what the user said."""
    if icp is None or icp.source != "provided" or field in icp.inferred_fields:
        return []
    values = getattr(icp, field)
    return [v for v in values if isinstance(v, str)]


def _relative(items: list[Scored], keep: float) -> list[Scored]:
    """Keep the items within ``keep`` of the best, discounting the runners-up by how far behind they are."""
    if not items:
        return []
    top = max(s.score for s in items)
    return [s.model_copy(update={"score": round(s.score * (s.score / top), 4)})
            for s in items if s.score >= keep * top]


def _labels(kb: KnowledgeBase, targeting: MarketSignals) -> list[str]:
    out: list[str] = []
    if targeting.horizontal and targeting.segment:
        # a horizontal seller's market is a size segment across industries, then the industries it shows
        out.append(f"{SEGMENT_LABELS[targeting.segment]} (all industries)")
    top = targeting.verticals[0].score if targeting.verticals else 0
    for v in targeting.verticals[:3]:
        if v.score >= 0.45 * top:
            labels = kb.verticals[v.id].industry_labels
            out += list(dict.fromkeys([*_named_first(labels, v.evidence)[:1], *labels]))[:2]
    return list(dict.fromkeys(out))


@lru_cache(maxsize=4096)  # the same labels and cue words recur in every data point's why
def _stems(phrase: str) -> tuple[str, ...]:
    """A phrase's words, each without a plural ending: "yoga studios" and "yoga studio" are the same words."""
    return tuple(w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in normalize(phrase).split())


def page_label(kb: KnowledgeBase, vertical: Scored) -> str | None:
    """The market's label in the page's own words ("heating oil dealers" for fuel distributors, heating oil and
    propane dealers), or None when no label holds them."""
    return _page_label(tuple(kb.verticals[vertical.id].industry_labels), tuple(vertical.evidence))


@lru_cache(maxsize=1024)  # asked once per data point's why: the same market and evidence all run long
def _page_label(labels: tuple[str, ...], evidence: tuple[str, ...]) -> str | None:
    businesses = [label for label in labels if normalize(label).rsplit(" ", 1)[-1] not in _NOT_A_BUSINESS]
    first = _named_first(businesses, evidence)[:1]
    return first[0] if first and _naming(first[0], evidence) else None


# labels that name people or teams inside a business ("developer teams", "practice managers"), not the business:
# they read wrong where a why speaks of the lead ("a developer teams lead")
_NOT_A_BUSINESS = frozenset({"team", "teams", "department", "departments", "manager", "managers", "owner", "owners",
                             "leader", "leaders", "professional", "professionals", "staff", "officer", "officers",
                             "director", "directors", "buyer", "buyers", "user", "users", "executive", "executives"})


def _naming(label: str, evidence: Sequence[str]) -> float:
    """How strongly a label holds the page's words (the earlier the word in ``evidence``, the more)."""
    cues = [stems for stems in map(_stems, evidence) if stems]
    words = _stems(label)
    return sum(len(cues) - rank for rank, cue in enumerate(cues)
               if any(words[i:i + len(cue)] == cue for i in range(len(words) - len(cue) + 1)))


def _named_first(labels: Sequence[str], evidence: Sequence[str]) -> list[str]:
    """A market's labels, the ones holding the page's own words for its buyers first (strongest word
    first): a yoga-studio app's market is "yoga studios" before "fitness", a florist's supplier's
    "florists" before "sporting goods stores". The catalog's own name for the market follows it."""
    return sorted(labels, key=lambda label: _naming(label, evidence), reverse=True)  # stable among equals


def _size(band: SizeBand | None, targeting: MarketSignals) -> dict[str, int | None]:
    if targeting.segment and (targeting.horizontal or band is None):
        return dict(SEGMENT_SIZE[targeting.segment])
    return {"min_employees": band.min_employees, "max_employees": band.max_employees} if band else {}


def _titles(kb: KnowledgeBase, targeting: MarketSignals) -> list[str]:
    titles: list[str] = []
    if targeting.categories:
        titles += kb.categories[targeting.categories[0].id].buyer_titles[:5]
    for v in targeting.verticals[:2]:
        titles += kb.verticals[v.id].buyer_titles[:4]
    return list(dict.fromkeys(titles))[:10]


def resolve_icp(
    company: Company, market: MarketSignals, kb: KnowledgeBase, icp: ICP | None
) -> tuple[ResolvedICP, MarketSignals]:
    targeting = targeting_for(market, kb, icp)
    top = targeting.verticals[0] if targeting.verticals else None
    band = kb.verticals[top.id].size_band if top else None
    inferred: dict[str, Any] = {
        "industries": _labels(kb, targeting),
        "buyer_titles": _titles(kb, targeting),
        "company_size": _size(band, targeting),
        "geographies": company.geographies or [],
        "technologies": company.integrations[:12],
    }
    cat_score = market.categories[0].score if market.categories else 0.0
    confidence = round(min(0.95, 0.5 * cat_score + 0.5 * (top.score if top else 0.0)), 2)
    evidence = [e for e in company.evidence if e.claim.startswith(("sells to", "channel", "horizontal"))]
    if icp is None or icp.is_empty():
        return ResolvedICP(source="inferred", confidence=confidence, evidence=evidence, **inferred), targeting

    provided: dict[str, Any] = {
        "industries": icp.industries,
        "buyer_titles": icp.buyer_titles,
        "company_size": icp.company_size.model_dump() if icp.company_size else {},
        "geographies": icp.geographies,
        "technologies": icp.technologies,
    }
    filled = {k: (v if v else inferred[k]) for k, v in provided.items()}
    inferred_fields = [k for k, v in provided.items() if not v and inferred[k]]
    evidence = [Evidence(claim="ICP provided by the user", snippet="; ".join(icp.industries)[:200],
                         source="icp", confidence=1.0), *evidence]
    resolved = ResolvedICP(
        source="provided",
        confidence=1.0 if not inferred_fields else max(confidence, 0.8),
        annual_revenue=icp.annual_revenue.model_dump() if icp.annual_revenue else {},
        notes=icp.notes,
        inferred_fields=inferred_fields,
        evidence=evidence,
        **filled,
    )
    return resolved, targeting
