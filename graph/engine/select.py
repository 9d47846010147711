"""Rank the knowledge base's data points for one seller and one section (each ``why`` is written by
:mod:`graph.engine.wording`).

relevance(dp) = max over the targeted verticals and the seller's categories of that market's score when
the market claims the data point (``applies_to`` or its own ``data_points`` list), a small prior for
generic data points, plus a bonus when the seller's own site mentions the data point's signals; times
the data point's weight. A market that excludes a data point removes it.

A category sells into several markets and claims the data points of each (fleet telematics: trucking's
power units and home services' technician counts); when the category serves one of the seller's
targeted markets and the data point is written only for others, the category's claim counts for little
(not for a horizontal seller, whose market is every industry).
Technologies count only when the user wrote them in the ICP (never the ones inferred from the site),
and name a data point only as whole words (a brand only where it is capitalised: "Square" is not in
"square feet").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from graph.engine.geo import localise_sources, target_markets
from graph.engine.icp import user_provided
from graph.engine.tailor import foreign_names, names_other_markets, spec_texts, tailored
from graph.engine.text import (
    PhraseMatcher,
    Zone,
    matcher_for,
    names_term,
    normalize,
    snippet_around,
    without_own_billing,
)
from graph.engine.wording import write_why
from graph.knowledge import KnowledgeBase
from graph.knowledge.models import DataPointSpec
from graph.schemas import Company, DataPoint, ResolvedICP, ValueOption
from graph.state import MarketSignals, Scored
from graph.values import option_value

__all__ = ["Candidate", "data_point_markets", "rank_candidates", "select_section", "seller_categories"]

GENERIC_PRIOR = 0.22
MOTION_PRIOR = {"enterprise": 0.45}
# what every business of a motion has (a local business's card payments, books and new locations) fills the
# section's last places: just above the bar, so it never pushes out a market's own data point
MOTION_FILL = 0.13
SIGNAL_BONUS = 0.15
ICP_TECH_BONUS = 0.35
MIN_SCORE = 0.12
# a section shorter than this takes data points that fit any company (hiring, funding, headcount, the CRM) from
# below MIN_SCORE rather than stay short: generic but correct
FILL_TO = {"firmographic": 7, "technographic": 5, "personalization": 7}
OTHER_MARKET_SCALE = 0.0  # a category's claim on a data point written only for markets the seller does not target
OTHER_KIND_STACK = 0.5
# a buyer market the page names this strongly is the seller's market even beside a horizontal category (a CRM
# "for moving companies"): what a vertical category writes for other trades is not about its leads
STRONG_BUYER = 0.8


@dataclass
class Candidate:
    spec: DataPointSpec
    score: float
    reason: str  # the market (vertical or category) that pulled it in
    evidence: str | None = None
    segment: str = ""  # the lead's market the why speaks of: the targeted vertical that claims it, if any
    icp_technology: str | None = None  # the technology of the user's ICP that names it


def _buyer_market_weight(spec: DataPointSpec, kb: KnowledgeBase, targeting: MarketSignals) -> float:
    """How much the buyer markets' own data points count, by the kind of seller (its leading category).

    The buyer's software stack qualifies it for a software seller; for a lender, an agency or a staffing
    firm it is context, so a buyer market's technographic items count half as much again there."""
    if not targeting.categories:
        return 1.0
    lead = kb.categories[targeting.categories[0].id]
    if lead.kind != "software" and spec.section == "technographic":
        return lead.buyer_market_weight * OTHER_KIND_STACK
    return lead.buyer_market_weight


def seller_categories(kb: KnowledgeBase, targeting: MarketSignals) -> list[Scored]:
    """The categories that speak for the seller: its top three, and when the leading one is not software,
    only those of the same kind (a lender whose page lists "payroll" as a loan use sells no payroll tool)."""
    top = targeting.categories[:3]
    if not top:
        return []
    kind = kb.categories[top[0].id].kind
    return top if kind == "software" else [c for c in top if kb.categories[c.id].kind == kind]


def _market_relevance(
    spec: DataPointSpec, kb: KnowledgeBase, targeting: MarketSignals, markets: set[str]
) -> tuple[float, str, str]:
    """(relevance, the market that pulled it in, the targeted vertical that claims it).

    ``markets`` are the verticals the data point is written for (empty for one that fits any market)."""
    best, reason, segment = 0.0, "", ""
    scale = _buyer_market_weight(spec, kb, targeting)
    for v in targeting.verticals:
        vertical = kb.verticals[v.id]
        claims = spec.key in vertical.data_points or v.id in spec.applies_to.verticals
        if claims and v.score * scale > best:
            best, reason, segment = v.score * scale, vertical.name, vertical.name
    targeted = {v.id for v in targeting.verticals}
    # written only for markets the seller does not target (a horizontal seller's market is every industry, unless
    # the page names one market strongly)
    strong = bool(targeting.verticals) and targeting.verticals[0].score >= STRONG_BUYER
    elsewhere = bool(markets) and not markets & targeted and (strong or not targeting.horizontal)
    for c in seller_categories(kb, targeting):
        category = kb.categories[c.id]
        claims = (spec.key in category.data_points or c.id in spec.applies_to.categories
                  or category.kind in spec.applies_to.kinds)
        # a category that serves the seller's market (fleet telematics: trucking; practice software: dental)
        # claims nothing for its other markets (home services' technicians, a vet PIMS): precision over
        # recall. For a market the category does not anticipate (a pharmacy POS) its claims are the best
        # guess there is, unless the page names its market strongly: then a vertical category's items for other
        # trades (field service's HVAC lines on a movers' CRM) are not; a horizontal one's (the books, payroll)
        # fit any business
        anticipated = bool(targeted & set(category.typical_verticals))
        other_market = elsewhere and (anticipated or (strong and not category.horizontal))
        score = c.score * (OTHER_MARKET_SCALE if other_market else 1.0)
        if claims and score > best:
            best, reason = score, category.name
    for motion in set(spec.applies_to.motions) & set(targeting.motions):
        best = max(best, MOTION_PRIOR.get(motion, MOTION_FILL))
    if spec.applies_to.any and best < GENERIC_PRIOR:
        best, reason = GENERIC_PRIOR, reason or "generic"
    return best, reason, segment


def _excluded(kb: KnowledgeBase, targeting: MarketSignals) -> set[str]:
    out: set[str] = set()
    top_v = targeting.verticals[0].score if targeting.verticals else 0.0
    for v in targeting.verticals:
        if v.score >= 0.5 * top_v:
            out.update(kb.verticals[v.id].exclude_data_points)
    for c in seller_categories(kb, targeting)[:2]:
        if c.score >= 0.3:
            out.update(kb.categories[c.id].exclude_data_points)
    return out


@dataclass
class _SectionIndex:
    """Which data points of one section each market claims, and every signal phrase in one matcher."""

    kb: KnowledgeBase
    specs: list[DataPointSpec]
    by_vertical: dict[str, set[str]]
    by_category: dict[str, set[str]]
    by_motion: dict[str, set[str]]
    generic: set[str]
    signals: PhraseMatcher
    markets: dict[str, set[str]]  # data point key → the verticals that claim it (the markets it is written for)
    brands: frozenset[str]  # the tool names the knowledge base knows, normalized: proper nouns

    @cached_property
    def position(self) -> dict[str, int]:
        """Data point key → its place in ``specs`` (a pool of keys is ranked in the knowledge base's order)."""
        return {spec.key: i for i, spec in enumerate(self.specs)}

    @cached_property
    def owned(self) -> dict[str, set[str]]:
        """Data point key → the markets (verticals and seller categories) that claim it; built once, not per run."""
        owned = {key: set(verticals) for key, verticals in self.markets.items()}
        for cid, claimed in self.by_category.items():
            for key in claimed:
                owned.setdefault(key, set()).add(cid)
        return owned


def _brands(kb: KnowledgeBase) -> frozenset[str]:
    tools = [t for v in kb.verticals.values() for t in v.incumbent_tools]
    tools += [t for c in kb.categories.values() for t in (*c.competitors, *c.complements)]
    return frozenset(normalize(t) for t in tools if t[:1].isupper() or t[:1].isdigit())


def _is_brand(term: str, brands: frozenset[str]) -> bool:
    """A tool's name rather than a kind of tool: known to the knowledge base, or cased like one (HubSpot,
    ADP; not "Point of Sale", a title-cased kind of tool)."""
    return normalize(term) in brands or any(any(c.isupper() for c in word[1:]) for word in term.split())


def _named_by(spec: DataPointSpec, technologies: Sequence[tuple[str, bool]]) -> str | None:
    """The first of the ICP's (technology, is a brand) pairs that the data point's name or description names."""
    text = f"{spec.name} {spec.description}"
    return next((term for term, brand in technologies if names_term(text, term, brand=brand)), None)


def _section_index(kb: KnowledgeBase, section: str) -> _SectionIndex:
    return kb.derived(("select.section_index", section), lambda: _build_section_index(kb, section))


def _build_section_index(kb: KnowledgeBase, section: str) -> _SectionIndex:
    specs = list(kb.by_section(section))
    keys = {s.key for s in specs}
    by_vertical = {v.id: {k for k in v.data_points if k in keys} for v in kb.verticals.values()}
    by_category = {c.id: {k for k in c.data_points if k in keys} for c in kb.categories.values()}
    by_motion: dict[str, set[str]] = {}
    of_kind: dict[str, list[str]] = {}
    for category in kb.categories.values():
        of_kind.setdefault(category.kind, []).append(category.id)
    for spec in specs:
        for vid in spec.applies_to.verticals:
            by_vertical.setdefault(vid, set()).add(spec.key)
        for cid in spec.applies_to.categories:
            by_category.setdefault(cid, set()).add(spec.key)
        for cid in (cid for kind in spec.applies_to.kinds for cid in of_kind.get(kind, ())):
            by_category.setdefault(cid, set()).add(spec.key)  # a seller kind's data point: every category of it
        for motion in spec.applies_to.motions:
            by_motion.setdefault(motion, set()).add(spec.key)
    generic = {s.key for s in specs if s.applies_to.any}
    signals = matcher_for(tuple(sorted({p for s in specs for p in s.signals})))
    markets: dict[str, set[str]] = {}
    for vid, claimed in by_vertical.items():
        for key in claimed:
            markets.setdefault(key, set()).add(vid)
    return _SectionIndex(kb, specs, by_vertical, by_category, by_motion, generic, signals, markets, _brands(kb))


def data_point_markets(kb: KnowledgeBase, section: str) -> dict[str, set[str]]:
    """Data point key → the verticals that claim it (the markets it is written for), for one section."""
    return _section_index(kb, section).markets


def rank_candidates(
    section: str,
    kb: KnowledgeBase,
    targeting: MarketSignals,
    zones: Sequence[Zone],
    icp: ResolvedICP | None = None,
) -> list[Candidate]:
    index = _section_index(kb, section)
    excluded = _excluded(kb, targeting)
    found: set[str] = set()
    # the seller's own billing sentences are no signal: cut once per zone, for the matching and the quotes
    texts = [without_own_billing(zone.text) for zone in zones]
    for text in texts:
        found.update(index.signals.count(text))
    # only the technologies the user wrote: the ones inferred from the site never gain their weight
    icp_tech = [(t, _is_brand(t, index.brands)) for t in user_provided(icp, "technologies") if t.strip()]
    # only the data points some targeted market (or a motion, or genericity) claims can score above 0;
    # with ICP technologies every data point of the section may be named by them
    pool: set[str] = set(index.generic)
    for v in targeting.verticals:
        pool |= index.by_vertical.get(v.id, set())
    for c in seller_categories(kb, targeting):
        pool |= index.by_category.get(c.id, set())
    for motion in targeting.motions:
        pool |= index.by_motion.get(motion, set())
    if icp_tech:
        specs = [s for s in index.specs if s.key not in excluded]
    else:  # the pool in the knowledge base's order, without walking the whole section
        specs = [index.specs[i] for i in sorted(index.position[k] for k in pool if k not in excluded)]

    rows = [(spec, *_market_relevance(spec, kb, targeting, index.markets.get(spec.key, set())),
             _named_by(spec, icp_tech)) for spec in specs]
    # a seller kind's data point (a wholesaler's "store platforms") belongs to that market as much as a
    # vertical's does: neither is a stray to bring in for a tool the ICP names
    lifted = _lifted_by_icp([(spec, relevance, named) for spec, relevance, _r, _s, named in rows], index.owned)
    out: list[Candidate] = []
    for spec, relevance, reason, segment, named in rows:
        if spec.key in lifted:
            # the team said its leads run this: it is relevant whatever the site suggested
            relevance, reason = max(relevance, 0.3) + ICP_TECH_BONUS, reason or "ICP technologies"
        if relevance <= 0:
            continue
        evidence = None
        hit = next((p for p in spec.signals if normalize(p) in found), None)
        if hit:
            relevance += SIGNAL_BONUS
            # a quote about other markets ("they work well for retail, restaurants...") supports nothing here
            evidence = next((snippet for text in texts if (snippet := snippet_around(text, hit))
                             and not names_other_markets(snippet, kb, targeting)), None)
        score = relevance * spec.weight
        # below the bar, a data point that fits any company stays in reserve: a thin section is filled with
        # it (hiring, funding, headcount) rather than left short
        if score >= MIN_SCORE or spec.applies_to.any:
            out.append(Candidate(spec=spec, score=round(score, 4), reason=reason, evidence=evidence,
                                 segment=segment, icp_technology=named if spec.key in lifted else None))
    out.sort(key=lambda c: (-c.score, c.spec.key))
    return out


def _filled(section: str, ranked: Sequence[Candidate], limit: int) -> list[Candidate]:
    """The candidates above the bar, then reserve ones up to ``FILL_TO`` data points in all."""
    above = [c for c in ranked if c.score >= MIN_SCORE]
    reserve = [c for c in ranked if c.score < MIN_SCORE][:max(0, min(limit, FILL_TO[section]) - len(above))]
    return [*above, *reserve][:limit]


def _lifted_by_icp(rows: Sequence[tuple[DataPointSpec, float, str | None]], markets: dict[str, set[str]]) -> set[str]:
    """The data points an ICP technology lifts, from (spec, market relevance, the technology naming it).

    ``markets``: data point key → the markets (verticals and seller categories) that claim it.

    A technology lifts the data points of the seller's own markets that name it ("Square" → a brewery's
    taproom POS). Only where none does is one more brought in, the weightiest that no particular market
    owns, so the named tool is covered without pulling in another market's data points (a restaurant's
    or a salon's POS for a brewery).
    """
    lifted = {spec.key for spec, relevance, named in rows if named and relevance > 0}
    covered = {named for _spec, relevance, named in rows if named and relevance > 0}
    stray: dict[str, DataPointSpec] = {}
    for spec, _relevance, named in rows:
        if named and named not in covered and not markets.get(spec.key):
            best = stray.get(named)
            if best is None or (-spec.weight, spec.key) < (-best.weight, best.key):
                stray[named] = spec
    return lifted | {spec.key for spec in stray.values()}


def _priority(rank: int, total: int, score: float, top: float) -> str:
    if rank < max(1, math.ceil(total * 0.3)) and score >= 0.5 * top:
        return "must"
    if rank < math.ceil(total * 0.7) and score >= 0.25 * top:
        return "should"
    return "nice"


INTEGRATION_KEY = "integrated_tools_in_use"


def spec_fields(spec: DataPointSpec) -> dict[str, str]:
    """Source id → the first field path the knowledge base gives for it."""
    out: dict[str, str] = {}
    for ref in spec.sources:
        if ref.field and ref.source not in out:
            out[ref.source] = ref.field
    return out


def tool_options(tools: Sequence[str]) -> list[ValueOption]:
    """The seller's integrations as the options of a multi_enum (one per distinct value)."""
    out: dict[str, ValueOption] = {}
    for tool in tools:
        label = " ".join(tool.replace(",", " ").split())[:100]  # a comma separates multi_enum items
        if label:
            out.setdefault(option_value(label), ValueOption(value=option_value(label), label=label))
    return list(out.values())


def integration_targets(company: Company, kb: KnowledgeBase) -> DataPoint | None:
    """The tools the seller says it integrates with, as a technographic target of their own."""
    tools = company.integrations[:8]
    spec = kb.data_points.get(INTEGRATION_KEY)
    if len(tools) < 2 or spec is None:
        return None
    seller = company.name or "the seller"
    listed = ", ".join(tools)
    options = tool_options(tools)
    return DataPoint(
        key=INTEGRATION_KEY,
        name=f"Runs a tool {seller} integrates with ({listed})",
        description=f"Whether the lead already uses one of the tools {seller} names as integrations: {listed}. "
                    "Each is a ready-made integration story and a list filter for technographic targeting.",
        why=f"{seller} names these integrations on its own site; a lead already on one of them onboards faster "
            "and hears a concrete 'works with what you run' message.",
        priority="should",
        value_type="multi_enum",
        options=options,
        example=options[0].label if options else "",
        qualification_rule=f"Uses at least one of: {listed}",
        source_ids=[r.source for r in spec.sources],
        source_fields=spec_fields(spec),
        evidence=f"Integrations named on the site: {listed}",
    )


def select_section(
    section: str,
    kb: KnowledgeBase,
    company: Company,
    targeting: MarketSignals,
    zones: Sequence[Zone],
    icp: ResolvedICP | None,
    limit: int,
    ranked: Sequence[Candidate] | None = None,
) -> list[DataPoint]:
    """The section's data points: the best ``limit`` candidates (``ranked`` when the caller already has
    them), with priorities and a ``why`` each."""
    if ranked is None:
        ranked = rank_candidates(section, kb, targeting, zones, icp)
    ranked = _filled(section, ranked, limit)
    top = ranked[0].score if ranked else 1.0
    markets = data_point_markets(kb, section)
    points: list[DataPoint] = []
    for i, c in enumerate(ranked):
        # the texts name the blueprint's markets, not the other markets that share the data point
        texts = tailored(c.spec, foreign_names(kb, targeting, markets.get(c.spec.key, ()), spec_texts(c.spec)))
        points.append(DataPoint(
            key=c.spec.key,
            name=texts.name,
            description=texts.description,
            why=write_why(c, company, kb, targeting),
            priority=_priority(i, len(ranked), c.score, top),  # type: ignore[arg-type]
            value_type=c.spec.value_type,
            unit=c.spec.unit,
            options=list(c.spec.options),
            example=texts.example,
            qualification_rule=c.spec.qualification_rule,
            source_ids=[r.source for r in c.spec.sources],
            source_fields=spec_fields(c.spec),
            evidence=c.evidence,
        ))
    extra = integration_targets(company, kb) if section == "technographic" else None
    if extra is not None:
        # right after the must-have incumbents: the seller's own integrations are strong targeting evidence
        at = sum(1 for p in points if p.priority == "must")
        points = [*points[:at], extra, *points[at:]][:limit]
    # sources that have data where the leads are (a UK ICP gets UK registers, never only a US one)
    return localise_sources(kb, points, target_markets(company, icp))
