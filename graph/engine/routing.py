"""Routing a seller to markets beyond cue counting: its seller kind, and the semantic signal.

* **Seller kinds.** The words of a seller's own industry ("managed service provider", "3PL", "staffing
  agency") describe the seller, not its buyer; a kind that sells only to some markets (a components
  maker to OEMs) names the others as its buyers' end markets. Those verticals keep a tenth of their score.
* **A known product.** A seller whose own name is a product some category competes with (a help page
  titled "... – Fieldwire Help Center") sells that category to the markets that run it.
* **A brand that names a market.** "Nursery Software", "SignTracker": the words before the software noun name
  the buyers, where a market's names hold them and few others' do.
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
from graph.engine.text import Zone, normalize, without_plural_ending
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals, Scored
from tools.extract import TITLE_SEPARATOR, registrable_name, site_of
from tools.site import Page, SiteSnapshot

__all__ = [
    "WEAK_CUES",
    "brand_markets",
    "cued",
    "cued_only",
    "not_own_industry",
    "own_industry",
    "own_product",
    "own_trade",
    "says_software",
    "semantic_closeness",
    "software_first",
    "with_brand_markets",
    "with_own_product",
    "with_semantic",
    "with_trade",
]

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


# A brand part of a title or site name: the product's name, maybe followed by which part of its site this is
_SITE_PART = re.compile(
    r"^(?P<brand>.+?)(?:\s+(?:help\s+center|help\s+centre|help|support|docs|documentation|blog|knowledge\s+base|"
    r"academy|community|university|resources|learning\s+center|inc\.?|llc|ltd\.?|hq))?$", re.I)
KNOWN_PRODUCT_CATEGORY = 0.6  # a seller that IS a product the knowledge base knows sells that product's category
KNOWN_PRODUCT_VERTICAL = 0.45  # ... to the markets that run it
MIN_PRODUCT_NAME = 4


def _known_products(kb: KnowledgeBase) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Normalized product name → (the categories it competes in, the verticals that run it)."""
    categories: dict[str, set[str]] = {}
    verticals: dict[str, set[str]] = {}
    for c in kb.categories.values():
        for tool in c.competitors:
            categories.setdefault(normalize(tool), set()).add(c.id)
    for v in kb.verticals.values():
        for tool in v.incumbent_tools:
            verticals.setdefault(normalize(tool), set()).add(v.id)
    # a product known only as some markets' tool still says who runs it: its buyers (what it sells is
    # left to the page's words)
    names = [n for n in {*categories, *verticals} if len(n) >= MIN_PRODUCT_NAME]
    return {n: (frozenset(categories.get(n, ())), frozenset(verticals.get(n, ()))) for n in names}


# subdomains a company runs for itself; any other (acme.zendesk.com, acme.myshopify.com) is a tenant of the
# platform that hosts it: the domain names the host, not the seller
OWN_SUBDOMAINS = frozenset({"www", "help", "docs", "support", "blog", "app", "learn", "community", "developer",
                            "developers", "status", "go", "info", "get", "try", "shop", "store", "news", "resources",
                            "academy", "kb", "knowledge", "en", "us", "uk"})


def _own_host(host: str) -> bool:
    """Whether the host's name is the company's own (acme.com, help.acme.com), not a hosted tenant's."""
    host = host.lower().rstrip(".")
    extra = host[: -len(site_of(host))].rstrip(".") if host.endswith(site_of(host)) else host
    return all(label in OWN_SUBDOMAINS for label in extra.split(".") if label)


def own_product(site: SiteSnapshot, kb: KnowledgeBase) -> tuple[str, frozenset[str], frozenset[str]] | None:
    """The seller when it is a product the knowledge base knows (a competitor some category lists): its
    name, categories and the verticals that run it.

    Only where the site names itself: og:site_name, the brand segment of a home or deep page's title
    ("The Pro and Business Trial – Fieldwire Help Center"), or the registrable domain name; a title that
    merely mentions a product ("QuickBooks alternatives") is not the seller."""
    known = kb.derived("routing.known_products", lambda: _known_products(kb))
    domain = [registrable_name(site.domain)] if _own_host(site.domain) else []
    for brand in [*_brands(domain), *(b for page in site.pages[:3] for b in _brands(_names_of(page)))]:
        name = normalize(brand)
        for key in (name, name.replace(" ", "")):
            if key in known:
                cats, verts = known[key]
                return brand, cats, verts
    return None


def _names_of(page: Page) -> list[str]:
    """Where a page names its own site: og:site_name and the last segment of a title that has several."""
    segments = TITLE_SEPARATOR.split(page.title) if page.title else []
    return [page.site_name, *(segments[-1:] if len(segments) > 1 else [])]


def _brands(names: list[str]) -> list[str]:
    """The brand part of each name ("Fieldwire" of "Fieldwire Help Center"), for the names that have one."""
    matches = (_SITE_PART.match(name.strip()) if name else None for name in names)
    return [m.group("brand") for m in matches if m and m.group("brand").strip()]


# a brand that is a market's name and a software noun ("Nursery Software", "SignTracker", "Dance Studio Manager")
_SOFTWARE_SUFFIX = frozenset({"software", "manager", "tracker", "master", "systems", "suite"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
BRAND_MARKETS = 2  # a brand word found in more markets' names than this names none of them
BRAND_MARKET = 0.35  # how strongly a brand that names a market says who the seller sells to


def brand_markets(site: SiteSnapshot, kb: KnowledgeBase) -> tuple[str, tuple[str, ...]] | None:
    """The markets a vertical-software vendor's brand names: the words before its software noun, found in a
    market's cue or label phrases ("Nursery Software": retail and wholesale nurseries). None when the brand
    names no market, or a word too common to name one."""
    for page in site.pages[:3]:
        for brand in _brands(_names_of(page)):
            words = _CAMEL.sub(" ", brand).split()
            if len(words) < 2 or words[-1].lower() not in _SOFTWARE_SUFFIX:
                continue
            named = _stems(" ".join(words[:-1]))
            if not named or min(len(w) for w in named) < 4:
                continue
            phrases = {v.id: sum(_holds(_stems(phrase), named) for phrase in (*(c.phrase for c in v.cues),
                                                                                *v.industry_labels))
                       for v in kb.verticals.values()}
            # the market whose names hold the words most often first ("sign shops", "sign companies"...)
            found = tuple(sorted((vid for vid, n in phrases.items() if n), key=lambda vid: -phrases[vid]))
            if 0 < len(found) <= BRAND_MARKETS:
                return " ".join(words[:-1]), found
    return None


def with_brand_markets(verticals: list[Scored], named: tuple[str, tuple[str, ...]] | None) -> list[Scored]:
    """The markets a brand names are the seller's buyers at least as strongly as a page naming them would say
    (the help pages and glossaries of "SignTracker" never say "sign shops"), the likelier one first."""
    if named is None:
        return verticals
    words, ids = named
    why = [words.lower(), f"named in its brand: {words}"]
    for rank, vid in enumerate(ids):
        verticals = _lift(verticals, frozenset({vid}), round(BRAND_MARKET * (1 - 0.1 * rank), 4), why)
    return verticals


def _stems(text: str) -> tuple[str, ...]:
    return tuple(without_plural_ending(w) or w for w in normalize(text).split())


def _holds(phrase: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Whether a market's phrase of two or more words holds ``words`` in a row."""
    n = len(words)
    return len(phrase) >= 2 and any(phrase[i:i + n] == words for i in range(len(phrase) - n + 1))


def with_own_product(categories: list[Scored], verticals: list[Scored], product: tuple[str, frozenset[str],
                     frozenset[str]] | None) -> tuple[list[Scored], list[Scored]]:
    """A seller that is a known product sells that product's category to the markets that run it, at
    least as strongly as a page of plain cue words would say (a help page that never names its market)."""
    if product is None:
        return categories, verticals
    name, cats, verts = product
    why = [f"known product: {name}"]
    return _lift(categories, cats, KNOWN_PRODUCT_CATEGORY, why), _lift(verticals, verts, KNOWN_PRODUCT_VERTICAL, why)


def _lift(scored: list[Scored], ids: frozenset[str], floor: float, why: list[str]) -> list[Scored]:
    out = {s.id: s for s in scored}
    for i in sorted(ids):
        current = out.get(i)
        if current is None or current.score < floor:
            evidence = [*why, *(current.evidence if current else [])]
            out[i] = Scored(id=i, score=floor, evidence=evidence)
    return sorted(out.values(), key=lambda s: s.score, reverse=True)


# What a software vendor calls what it sells, in its title, headings or opening copy ("ERP for pallet companies")
_SOFTWARE_NOUNS = re.compile(
    r"\b(?:software|saas|erp|crm|app|apps|platform|cloud-based|web-based|free trial"
    r"|(?:book|request|schedule) a demo)\b", re.I)
SOFTWARE_OPENING = 1500  # the opening of the body that says what the page sells
SOFTWARE_WORDS = 2  # distinct software nouns that make a page a software vendor's


def says_software(zones: Sequence[Zone]) -> bool:
    """Whether the page calls what it sells software: two software nouns in its title, headings and the
    opening of its body, or one followed by whom it is for ("ERP for pallet companies" says it twice)."""
    opening = " ".join(z.text if z.name != "body" else z.text[:SOFTWARE_OPENING]
                       for z in zones if z.name in {"title", "headings", "body"})
    found = list(_SOFTWARE_NOUNS.finditer(opening))
    nouns = {m.group(0).lower() for m in found}
    said_for = any(opening[m.end():m.end() + 5].lower() == " for " for m in found)
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


# A seller's trade, named by its brand's last word ("Tower 8 Staffing", "Icebreaker Agency") or by the offer its
# page title leads with ("Legal Staffing Services"): that trade is the seller's, its buyers are someone else
_TRADES = {"staffing": "staffing_agencies", "agency": "marketing_agencies", "logistics": "logistics_3pl_warehousing",
           "3pl": "logistics_3pl_warehousing"}
_TRADE_OFFER = re.compile(r"\b(staffing|3pl|logistics)\s+(?:services|solutions|company|agency|partner)$", re.I)


def own_trade(site: SiteSnapshot, kb: KnowledgeBase) -> frozenset[str]:
    """The verticals a seller's own name or title offer says it belongs to (see _TRADES)."""
    own: set[str] = set()
    for page in site.pages[:3]:
        for words in (brand.split() for brand in _brands(_names_of(page))):
            if len(words) > 1 and words[-1].lower() in _TRADES:
                own.add(_TRADES[words[-1].lower()])
        offer = _TRADE_OFFER.search(TITLE_SEPARATOR.split(page.title)[0].strip()) if page.title else None
        if offer:
            own.add(_TRADES[offer.group(1).lower()])
    return frozenset(v for v in own if v in kb.verticals)
