"""Catalog analysis of the seller: what it sells, to whom, through which channel — with evidence.

The seller's pages become weighted text zones (title and hero count more than body copy; named
integrations and customer names are zones of their own). Every vertical's and category's cues are
matched once per zone; scores saturate so one repeated word cannot dominate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.engine.cues import score_cues
from graph.engine.icp import KEEP_CATEGORIES, KEEP_VERTICALS
from graph.engine.page_cues import (
    CHANNEL_CUES,
    GEOGRAPHIES,
    HORIZONTAL_CUES,
    PARTNER_VERTICALS,
    SEGMENT_CUES,
    SIZE_HINT,
)
from graph.engine.routing import (
    WEAK_CUES,
    cued,
    not_own_industry,
    own_industry,
    semantic_closeness,
    software_first,
    with_semantic,
    with_trade,
)
from graph.engine.seller_names import (
    KNOWN_PRODUCT_CATEGORY,
    brand_markets,
    own_product,
    own_trade,
    with_brand_markets,
    with_own_product,
)
from graph.engine.semantic import relative
from graph.engine.text import Zone, matcher_for, snippet_around, without_contrasts
from graph.knowledge import KnowledgeBase
from graph.schemas import Company, Evidence
from graph.state import MarketSignals, Scored
from tools.extract import TITLE_SEPARATOR, registrable_name
from tools.site import Page, SiteSnapshot

__all__ = ["SellerAnalysis", "analyze_seller", "site_zones"]

# How much a hit counts depending on where it is on the site.
ZONE_WEIGHTS = {"title": 3.0, "headings": 2.0, "body": 1.0, "integrations": 1.5, "customers": 1.2, "provider": 1.5}
HORIZONTAL_CATEGORY = 0.25  # a horizontal category this strong says the seller sells to every industry
NOT_CATEGORY_ZONES = {"integrations", "customers"}  # raw cue mass at which a score reaches ~63%

# a weak page's market that both the cue words and the embedding point at is certain enough to write for
AGREED = 0.3
CLEAR_LEAD = 0.7  # the runner-up category's closeness, at most, for the closest one to be a clear reading


@dataclass
class SellerAnalysis:
    company: Company
    market: MarketSignals
    zones: list[Zone]
    # page-relative semantic closeness (1.0 = the closest market) of each vertical and category
    closeness: tuple[dict[str, float], dict[str, float]] = ({}, {})

    def clear_category(self) -> Scored | None:
        """The category the page reads as far more than any other, when no cue word names one (else None)."""
        if any(cued(s) for s in self.market.categories):
            return None
        closeness = self.closeness[1]
        clear = _clear_reading(closeness)
        return Scored(id=clear, score=AGREED, evidence=[f"semantic: {closeness[clear]:.2f}"]) if clear else None

    def certain(self, kb: KnowledgeBase, agree: float = 0.5) -> MarketSignals:
        """The markets both signals support: cue evidence and a semantic closeness of at least ``agree``.

        When the signals are weak, only these may shape the blueprint; the rest are candidates to show,
        not markets whose must-haves to print. So are the ways of selling the guessed markets implied (a
        local business's card payments): only those of the markets kept, the partners the page names and
        the size segment it states stay. One reading needs no cue word: when no category is both cued and
        close, a category the page is far closer to than to any other is what it sells (``_clear_reading``)."""
        verticals, categories = self.closeness
        kept_v = [s.model_copy(update={"score": max(s.score, AGREED)}) for s in self.market.verticals
                  if verticals.get(s.id, 0.0) >= agree and cued(s)]
        kept_c = [s.model_copy(update={"score": max(s.score, AGREED)}) for s in self.market.categories
                  if categories.get(s.id, 0.0) >= agree and cued(s)]
        if not kept_c and (clear := self.clear_category()):
            # no cue word, but the page reads as one category far more than any other (a league-management
            # page without the catalog's words for it): what is sold is that, to its usual buyers
            kept_c = [clear]
            # its usual buyers, then, not a market one word and a vague closeness agree on ("players": games)
            kept_v = [s for s in kept_v if s.id in kb.categories[clear.id].typical_verticals]
        motions: set[str] = {m for s in kept_c[:2] for m in kb.categories[s.id].motions}
        motions |= {m for s in kept_v[:2] for m in kb.verticals[s.id].motions}
        motions |= {"channel"} & set(self.market.motions)
        if self.market.segment in {"smb", "enterprise"}:
            motions.add(self.market.segment)
        return self.market.model_copy(update={"verticals": kept_v, "categories": kept_c,
                                              "motions": sorted(motions & set(self.market.motions))})


def _clear_reading(closeness: dict[str, float]) -> str | None:
    """The category the page is closest to when no other comes near (page-relative closeness: 1.0 is the
    closest; the runner-up at most CLEAR_LEAD)."""
    ranked = sorted(closeness.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[1][1] > CLEAR_LEAD):
        return None
    return ranked[0][0]


def site_zones(site: SiteSnapshot) -> list[Zone]:
    zones: list[Zone] = []
    for page in site.pages:
        # the homepage's hero speaks for the company; sub-pages a bit less
        scale = 1.0 if page.kind == "home" else 0.7
        # one line per piece, so evidence snippets never run from one heading into the next
        zones.append(Zone("title", f"{page.title}\n{page.meta_description}", ZONE_WEIGHTS["title"] * scale, page.url))
        zones.append(Zone("headings", "\n".join(page.headings), ZONE_WEIGHTS["headings"] * scale, page.url))
        zones.append(Zone("body", without_contrasts(page.text), ZONE_WEIGHTS["body"] * scale, page.url))
        if page.integrations:
            zones.append(Zone("integrations", " , ".join(page.integrations), ZONE_WEIGHTS["integrations"], page.url))
        if page.customers or page.testimonials:
            text = " , ".join([*page.customers, *page.testimonials])
            zones.append(Zone("customers", text, ZONE_WEIGHTS["customers"], page.url))
    return [z for z in zones if z.text.strip(" .,")]


def _evidence_snippet(zones: Sequence[Zone], phrase: str) -> tuple[str, str]:
    for zone in sorted(zones, key=lambda z: z.weight, reverse=True):
        snippet = snippet_around(zone.text, phrase)
        if snippet:
            return snippet, zone.source
    return "", ""


def _quote(zones: Sequence[Zone], scored: Scored) -> tuple[str, str]:
    """The first quote on the site around one of the cue phrases that scored this market."""
    for phrase in scored.evidence:
        snippet, source = _evidence_snippet(zones, phrase)
        if snippet:
            return snippet, source
    return "", ""


def _count_any(zones: Sequence[Zone], phrases: tuple[str, ...]) -> tuple[float, str]:
    matcher = matcher_for(phrases)
    mass, best = 0.0, ""
    for zone in zones:
        counts = matcher.count(zone.text)
        if counts:
            mass += zone.weight * sum(counts.values())
            best = best or counts.most_common(1)[0][0]
    return mass, best


def _partner_buyers(verticals: list[Scored], zones: Sequence[Zone], kb: KnowledgeBase,
                    own: frozenset[str] = frozenset()) -> list[Scored]:
    """A channel seller's buyer is the partner: lift the partner market named most to the top.

    Never the seller's own industry: an MSP that explains "why managed service providers exist" is not
    selling through MSPs."""
    masses = {vid: _count_any(zones, cues) for vid, cues in PARTNER_VERTICALS.items()
              if vid in kb.verticals and vid not in own}
    vid, (mass, phrase) = max(masses.items(), key=lambda kv: kv[1][0], default=("", (0.0, "")))
    if mass < 2.0:
        return verticals
    top = max((v.score for v in verticals), default=0.0)
    lifted = Scored(id=vid, score=round(max(top, 0.9), 4), evidence=[f"partners: {phrase}"])
    # the end customers stay as context, at half weight: their firmographics are not the buyer's
    others = [v.model_copy(update={"score": round(v.score * 0.5, 4)}) for v in verticals if v.id != vid]
    return sorted([lifted, *others], key=lambda s: s.score, reverse=True)


def _segment(zones: Sequence[Zone]) -> str | None:
    """The size segment the seller names most (title and headings count more), if it names one clearly."""
    masses = {name: _count_any(zones, cues)[0] for name, cues in SEGMENT_CUES.items()}
    best = max(masses, key=lambda k: masses[k])
    return best if masses[best] >= 2.0 and masses[best] >= 1.5 * sorted(masses.values())[-2] else None


def _company_name(site: SiteSnapshot) -> str:
    """og:site_name (or the title's brand part), else the title, else the domain's registrable name;
    a host without one (an IP address, ``localhost``) falls back to the home page's first heading."""
    home = site.home
    if home is not None and home.site_name:
        return home.site_name.strip()
    title = TITLE_SEPARATOR.split(home.title)[0].strip() if home is not None and home.title else ""
    heading = next((h.strip() for h in (home.headings if home is not None else []) if h.strip()), "")
    if len(heading) > 60:  # a tagline, not a name: cut at a word
        heading = heading[:60].rsplit(" ", 1)[0]
    return title or registrable_name(site.domain) or heading or site.domain


def analyze_seller(site: SiteSnapshot, kb: KnowledgeBase, extra_zones: Sequence[Zone] = ()) -> SellerAnalysis:
    zones = [*site_zones(site), *extra_zones]
    # what the seller SELLS is read from its own copy: the tools it integrates with and the customers it
    # shows say who it sells to, not what it is (a vet PMS that syncs with QuickBooks is no accounting tool)
    cue_categories = score_cues(kb.categories.values(), [z for z in zones if z.name not in NOT_CATEGORY_ZONES])
    # a market is a noun a page also uses in the singular ("marinas", "marina billing"); a category's cues
    # are terms of the trade, counted only as written ("purchase orders" sold, not "a purchase order" filed)
    cue_verticals = score_cues(kb.verticals.values(), zones, singulars=True)
    product = own_product(site, kb)
    cue_categories, cue_verticals = with_own_product(cue_categories, cue_verticals, product)
    cue_verticals = with_brand_markets(cue_verticals, brand_markets(site, kb))
    # the embedding is only consulted where the cues are weak: strong pages never load the model
    weak = any(not s or s[0].score < WEAK_CUES for s in (cue_categories, cue_verticals))
    sem_verticals, sem_categories = semantic_closeness(zones, kb) if weak else ({}, {})
    categories = software_first(with_semantic(cue_categories, sem_categories), zones, kb)
    categories = with_trade(categories, cue_verticals, sem_categories, zones, kb)
    own = own_industry(categories, kb) | own_trade(site, kb)
    verticals = not_own_industry(with_semantic(cue_verticals, sem_verticals), own)

    # "managed service providers" on an MSP's own page names the seller, not a channel it sells through
    own_names = {p for v in own for p in PARTNER_VERTICALS.get(v, ())}
    channel_mass, channel_phrase = _count_any(
        zones, tuple(c for c in CHANNEL_CUES if not any(re.search(rf"\b{re.escape(n)}\b", c) for n in own_names)))
    horizontal_mass, horizontal_phrase = _count_any(zones, HORIZONTAL_CUES)
    top_category = kb.categories[categories[0].id] if categories else None
    # a horizontal category guessed from a word or two ("sequences" on an optometry page) makes no seller horizontal
    horizontal = bool(top_category and top_category.horizontal and categories[0].score >= HORIZONTAL_CATEGORY) \
        or horizontal_mass >= 3.0

    motions: set[str] = set()
    for s in categories[:2]:
        motions.update(kb.categories[s.id].motions)
    for s in [v for v in verticals if v.id not in own][:2]:
        motions.update(kb.verticals[s.id].motions)
    if channel_mass >= 2.0:
        motions.add("channel")

    company = _describe(site, kb, categories, [v for v in verticals if v.id not in own], zones, channel_mass >= 2.0)
    if channel_phrase:
        snippet, source = _evidence_snippet(zones, channel_phrase)
        if snippet:
            company.evidence.append(Evidence(claim="channel: sells through partners", snippet=snippet,
                                             source=source, confidence=min(1.0, channel_mass / 6)))
    if product is not None:
        company.evidence.append(Evidence(
            claim=f"is a known product: {product[0]}", snippet=f"{product[0]} names itself on {site.url}",
            source=site.url, confidence=KNOWN_PRODUCT_CATEGORY))
    if horizontal and horizontal_phrase:
        snippet, source = _evidence_snippet(zones, horizontal_phrase)
        company.evidence.append(Evidence(claim="horizontal: sells to businesses of every kind", snippet=snippet,
                                         source=source, confidence=0.6))
    if channel_mass >= 2.0:
        verticals = _partner_buyers(verticals, zones, kb, own)
    segment = _segment(zones)
    if segment == "smb":
        motions.add("smb")
    elif segment == "enterprise":
        motions.add("enterprise")
    market = MarketSignals(categories=categories[:5], verticals=verticals[:8], motions=sorted(motions),
                           horizontal=horizontal, segment=segment)
    return SellerAnalysis(company=company, market=market, zones=zones,
                          closeness=(relative(sem_verticals), relative(sem_categories)))


def _describe(
    site: SiteSnapshot,
    kb: KnowledgeBase,
    categories: list[Scored],
    verticals: list[Scored],
    zones: Sequence[Zone],
    channel: bool,
) -> Company:
    home = site.home
    category = kb.categories[categories[0].id] if categories else None
    evidence: list[Evidence] = []
    # a claim is shown only with a quote that holds one of the words that made it (a market lifted as the
    # partners' or suggested only by meaning has no such quote: it stays in the scores, not the evidence)
    for s in categories[:2]:
        snippet, source = _quote(zones, s)
        if snippet:
            evidence.append(Evidence(claim=f"sells: {kb.categories[s.id].name}", snippet=snippet, source=source,
                                     confidence=s.score))
    for s in verticals[:3]:
        snippet, source = _quote(zones, s)
        if snippet:
            evidence.append(Evidence(claim=f"sells to: {kb.verticals[s.id].name}", snippet=snippet, source=source,
                                     confidence=s.score))
    integrations = _unique(i for p in site.pages for i in p.integrations)
    customers = _unique(c for p in site.pages for c in p.customers)
    size_hints = _unique(m.group(0) for z in zones if z.name in {"body", "headings", "title"}
                         for m in SIZE_HINT.finditer(z.text))[:10]
    pricing = _unique(_short(h) for p in site.pages for h in p.pricing_hints)[:5]
    geo_text = " ".join(z.text for z in zones if z.name != "customers")
    geographies = [name for name, phrases in GEOGRAPHIES.items() if matcher_for(phrases).count(geo_text)]
    return Company(
        name=_company_name(site),
        domain=site.domain,
        summary=_summary(home) if home else "",
        offering=category.name if category else "",
        category=category.name if category else "",
        category_id=category.id if category else None,
        # what the blueprint is written for: the runners-up a stray word found are candidates, not its markets
        categories=[s.id for s in categories[:3] if s.score >= KEEP_CATEGORIES * categories[0].score],
        seller_kind=category.kind if category else None,
        markets_served=[kb.verticals[s.id].name for s in verticals[:4]
                        if s.score >= max(0.2, 0.5 * verticals[0].score)],
        verticals=[s.id for s in verticals[:4] if s.score >= KEEP_VERTICALS * verticals[0].score],
        channel="partner" if channel else "direct",
        integrations=integrations[:30],
        customers=customers[:30],
        size_hints=[*size_hints, *pricing][:12],
        geographies=geographies,
        evidence=evidence,
    )


# Page chrome that extractors keep as headings: never a summary of what the seller does.
CHROME = re.compile(
    r"^(skip to|table of contents|key takeaways|did this answer|was this (article|page|answer) helpful|"
    r"related (articles|posts)|step summary|published on|last updated|industry resources|menu\b|search\b|"
    r"sign in|log in|contact us|share this|in this article|on this page|frequently asked|faqs?\b|cookie)",
    re.I)


def _summary(page: Page) -> str:
    """What the seller does, in its own words: the meta description, else the title's lead, else the
    first heading that reads as a statement (three words or more, not page chrome or a question)."""
    if page.meta_description.strip():
        return page.meta_description.strip()
    lead = TITLE_SEPARATOR.split(page.title)[0].strip() if page.title else ""
    for text in (*page.headings, lead):
        text = text.strip()
        if len(text.split()) >= 3 and not CHROME.match(text) and not text.endswith("?"):
            return text
    return lead


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        key = value.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return out
