"""What a seller's own name says about it: the product it is, the market its brand names, the trade it is in.

* **A known product.** A seller whose own name is a product some category competes with (a help page
  titled "... – Fieldwire Help Center") sells that category to the markets that run it.
* **A brand that names a market.** "Nursery Software", "SignTracker": the words before the software noun name
  the buyers, where a market's names hold them and few others' do.
* **A trade in its name.** "Tower 8 Staffing", "Legal Staffing Services": staffing is the seller's trade, its
  buyers are someone else.
"""

from __future__ import annotations

import re

from graph.engine.text import normalize, without_plural_ending
from graph.knowledge import KnowledgeBase
from graph.state import Scored
from tools.extract import TITLE_SEPARATOR, registrable_name, site_of
from tools.site import Page, SiteSnapshot

__all__ = ["BRAND_MARKET", "KNOWN_PRODUCT_CATEGORY", "KNOWN_PRODUCT_VERTICAL", "brand_markets", "own_product",
           "own_trade", "with_brand_markets", "with_own_product"]


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
    known = kb.derived("seller_names.known_products", lambda: _known_products(kb))
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
# ... or a supplier's ("Electrical Wholesale", "Beauty Supply"): what it supplies names the trade that buys it;
# or a services firm's ("Pharmacy Staffing", "Dental Marketing"): whom it staffs or markets for
_BRAND_NOUNS = frozenset({"software", "manager", "tracker", "master", "systems", "suite", "wholesale", "supply",
                          "supplies", "staffing", "marketing"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
BRAND_MARKETS = 2  # a brand word found in more markets' names than this names none of them
BRAND_RUNNER_UP = 0.5  # a market named half as often as the likeliest one is another reading of the brand
BRAND_MARKET = 0.35  # how strongly a brand that names a market says who the seller sells to


def brand_markets(site: SiteSnapshot, kb: KnowledgeBase) -> tuple[str, tuple[str, ...]] | None:
    """The markets a vertical vendor's brand names: the words before its software, supply or trade noun, found
    in a market's cue or label phrases ("Nursery Software": retail and wholesale nurseries; "HCC Pharmacy
    Staffing": pharmacies). None when the brand names no market, or a word too common to name one."""
    for page in site.pages[:3]:
        for brand in _brands(_names_of(page)):
            words = _CAMEL.sub(" ", brand).split()
            if len(words) < 2 or words[-1].lower() not in _BRAND_NOUNS:
                continue
            # the words before the noun, after any initials or number the firm goes by ("HCC Pharmacy": "Pharmacy")
            for start in range(len(words) - 1):
                if start and not (words[start - 1].isupper() or words[start - 1].isdigit()):
                    break
                found = _named_markets(_stems(" ".join(words[start:-1])), kb)
                if found:
                    return " ".join(words[start:-1]), found
    return None


def _named_markets(named: tuple[str, ...], kb: KnowledgeBase) -> tuple[str, ...]:
    """The markets whose cue or label phrases hold ``named`` in a row, the likeliest first; () when none, when
    a word is too short to name one, or when too many markets share the words."""
    if not named or min(len(w) for w in named) < 4:
        return ()
    stemmed = kb.derived("seller_names.market_phrases", lambda: _market_phrases(kb))
    phrases = {vid: sum(_holds(phrase, named) for phrase in names) for vid, names in stemmed.items()}
    # the market whose names hold the words most often first ("sign shops", "sign companies"...)
    found = sorted((vid for vid, n in phrases.items() if n), key=lambda vid: -phrases[vid])
    found = [vid for vid in found if phrases[vid] >= BRAND_RUNNER_UP * phrases[found[0]]] if found else []
    return tuple(found) if len(found) <= BRAND_MARKETS else ()


def _market_phrases(kb: KnowledgeBase) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Each market's cue and label phrases, stemmed: built once per knowledge base, not per brand."""
    return {v.id: tuple(_stems(phrase) for phrase in (*(c.phrase for c in v.cues), *v.industry_labels))
            for v in kb.verticals.values()}


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
