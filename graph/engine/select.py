"""Rank the knowledge base's data points for one seller and one section, and write each ``why``.

relevance(dp) = max over the targeted verticals and the seller's categories of that market's score when
the market claims the data point (``applies_to`` or its own ``data_points`` list), a small prior for
generic data points, plus a bonus when the seller's own site mentions the data point's signals; times
the data point's weight. A market that excludes a data point removes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from graph.engine.text import PhraseMatcher, Zone, matcher_for, normalize, snippet_around
from graph.knowledge import KnowledgeBase
from graph.knowledge.models import DataPointSpec
from graph.schemas import Company, DataPoint, ResolvedICP
from graph.state import MarketSignals, Scored

__all__ = ["Candidate", "rank_candidates", "select_section", "seller_categories"]

GENERIC_PRIOR = 0.22
MOTION_PRIOR = 0.45
SIGNAL_BONUS = 0.15
ICP_TECH_BONUS = 0.35
MIN_SCORE = 0.12
OTHER_KIND_STACK = 0.5


@dataclass
class Candidate:
    spec: DataPointSpec
    score: float
    reason: str  # the market that pulled it in, for the why
    evidence: str | None = None


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


def _market_relevance(spec: DataPointSpec, kb: KnowledgeBase, targeting: MarketSignals) -> tuple[float, str]:
    best, reason = 0.0, ""
    scale = _buyer_market_weight(spec, kb, targeting)
    for v in targeting.verticals:
        vertical = kb.verticals[v.id]
        claims = spec.key in vertical.data_points or v.id in spec.applies_to.verticals
        if claims and v.score * scale > best:
            best, reason = v.score * scale, vertical.name
    for c in seller_categories(kb, targeting):
        category = kb.categories[c.id]
        claims = spec.key in category.data_points or c.id in spec.applies_to.categories
        if claims and c.score > best:
            best, reason = c.score, category.name
    if spec.applies_to.motions and set(spec.applies_to.motions) & set(targeting.motions):
        best = max(best, MOTION_PRIOR)
    if spec.applies_to.any and best < GENERIC_PRIOR:
        best, reason = GENERIC_PRIOR, reason or "generic"
    return best, reason


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


_SECTION_INDEXES: dict[tuple[int, str], _SectionIndex] = {}


def _section_index(kb: KnowledgeBase, section: str) -> _SectionIndex:
    cached = _SECTION_INDEXES.get((id(kb), section))
    if cached is not None and cached.kb is kb:
        return cached
    specs = list(kb.by_section(section))
    keys = {s.key for s in specs}
    by_vertical = {v.id: {k for k in v.data_points if k in keys} for v in kb.verticals.values()}
    by_category = {c.id: {k for k in c.data_points if k in keys} for c in kb.categories.values()}
    by_motion: dict[str, set[str]] = {}
    for spec in specs:
        for vid in spec.applies_to.verticals:
            by_vertical.setdefault(vid, set()).add(spec.key)
        for cid in spec.applies_to.categories:
            by_category.setdefault(cid, set()).add(spec.key)
        for motion in spec.applies_to.motions:
            by_motion.setdefault(motion, set()).add(spec.key)
    generic = {s.key for s in specs if s.applies_to.any}
    signals = matcher_for(tuple(sorted({p for s in specs for p in s.signals})))
    index = _SectionIndex(kb, specs, by_vertical, by_category, by_motion, generic, signals)
    _SECTION_INDEXES[(id(kb), section)] = index
    return index


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
    for zone in zones:
        found.update(index.signals.count(zone.text))
    icp_tech = [normalize(t) for t in (icp.technologies if icp and icp.source == "provided" else [])]
    # only the data points some targeted market (or a motion, or genericity) claims can score above 0;
    # with ICP technologies every data point of the section may be named by them
    pool: set[str] = set(index.generic)
    for v in targeting.verticals:
        pool |= index.by_vertical.get(v.id, set())
    for c in seller_categories(kb, targeting):
        pool |= index.by_category.get(c.id, set())
    for motion in targeting.motions:
        pool |= index.by_motion.get(motion, set())
    specs = [s for s in index.specs if (icp_tech or s.key in pool) and s.key not in excluded]

    out: list[Candidate] = []
    for spec in specs:
        relevance, reason = _market_relevance(spec, kb, targeting)
        text = normalize(f"{spec.name} {spec.description}")
        named_by_icp = bool(icp_tech) and any(t and t in text for t in icp_tech)
        if named_by_icp:
            # the team said its leads run this: it is relevant whatever the site suggested
            relevance, reason = max(relevance, 0.3) + ICP_TECH_BONUS, reason or "your ICP"
        if relevance <= 0:
            continue
        evidence = None
        hit = next((p for p in spec.signals if normalize(p) in found), None)
        if hit:
            relevance += SIGNAL_BONUS
            evidence = next((snippet_around(z.text, hit) for z in zones if snippet_around(z.text, hit)), None)
        score = relevance * spec.weight
        if score >= MIN_SCORE:
            out.append(Candidate(spec=spec, score=round(score, 4), reason=reason, evidence=evidence))
    out.sort(key=lambda c: (-c.score, c.spec.key))
    return out


def _priority(rank: int, total: int, score: float, top: float) -> str:
    if rank < max(1, math.ceil(total * 0.3)) and score >= 0.5 * top:
        return "must"
    if rank < math.ceil(total * 0.7) and score >= 0.25 * top:
        return "should"
    return "nice"


def soft_lower(text: str) -> str:
    """Lower-case for use mid-sentence, keeping acronyms and brand casing (ELD, QuickBooks, POS)."""
    return " ".join(w if (w[1:] and any(c.isupper() for c in w[1:])) else w.lower() for w in text.split())


_ARTICLE = re.compile(r"\b([Aa]) (?=[aeioAEIO])")


def write_why(candidate: Candidate, company: Company, kb: KnowledgeBase, targeting: MarketSignals) -> str:
    segment = candidate.reason if candidate.reason and candidate.reason != "generic" else (
        kb.verticals[targeting.verticals[0].id].name if targeting.verticals else "target")
    offering = soft_lower(company.offering or "its product")
    evidence = f'"{candidate.evidence}"' if candidate.evidence else ""
    why = candidate.spec.why.format(seller=company.name or "The seller", offering=offering,
                                    segment=soft_lower(segment), evidence=evidence)
    if candidate.evidence and "{evidence}" not in candidate.spec.why:
        why += f' The site says: "{candidate.evidence}"'
    return _ARTICLE.sub(lambda m: f"{m.group(1)}n ", why.strip())


INTEGRATION_KEY = "integrated_tools_in_use"


def spec_fields(spec: DataPointSpec) -> dict[str, str]:
    """Source id → the first field path the knowledge base gives for it."""
    out: dict[str, str] = {}
    for ref in spec.sources:
        if ref.field and ref.source not in out:
            out[ref.source] = ref.field
    return out


def integration_targets(company: Company, kb: KnowledgeBase) -> DataPoint | None:
    """The tools the seller says it integrates with, as a technographic target of their own."""
    tools = company.integrations[:8]
    spec = kb.data_points.get(INTEGRATION_KEY)
    if len(tools) < 2 or spec is None:
        return None
    seller = company.name or "the seller"
    listed = ", ".join(tools)
    return DataPoint(
        key=INTEGRATION_KEY,
        name=f"Runs a tool {seller} integrates with ({listed})",
        description=f"Whether the lead already uses one of the tools {seller} names as integrations: {listed}. "
                    "Each is a ready-made integration story and a list filter for technographic targeting.",
        why=f"{seller} names these integrations on its own site; a lead already on one of them onboards faster "
            "and hears a concrete 'works with what you run' message.",
        priority="should",
        value_type="list",
        example=f"Uses {tools[0]} (detected on the lead's site and in job posts)",
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
    ranked = ranked[:limit]
    top = ranked[0].score if ranked else 1.0
    points = [
        DataPoint(
            key=c.spec.key,
            name=c.spec.name,
            description=c.spec.description,
            why=write_why(c, company, kb, targeting),
            priority=_priority(i, len(ranked), c.score, top),  # type: ignore[arg-type]
            value_type=c.spec.value_type,
            example=c.spec.example,
            qualification_rule=c.spec.qualification_rule,
            source_ids=[r.source for r in c.spec.sources],
            source_fields=spec_fields(c.spec),
            evidence=c.evidence,
        )
        for i, c in enumerate(ranked)
    ]
    extra = integration_targets(company, kb) if section == "technographic" else None
    if extra is not None:
        # right after the must-have incumbents: the seller's own integrations are strong targeting evidence
        at = sum(1 for p in points if p.priority == "must")
        points = [*points[:at], extra, *points[at:]][:limit]
    return points
