"""Turn one HTML page into a :class:`tools.site.Page`: pure, no I/O, tolerant of messy markup.

Links come from the whole document (navigation is where sub-pages are found); everything else comes
from the page after navigation, headers, footers, forms, scripts and cookie banners are removed, with
line breaks inserted at block boundaries so text keeps its reading order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from tools import page_signals as signals
from tools.page_signals import clean as _clean
from tools.page_signals import node_attrs as _attrs
from tools.page_signals import node_text as _text
from tools.site import Link, Page, PageKind

__all__ = ["MAX_TEXT_CHARS", "TITLE_SEPARATOR", "classify_link", "extract_page", "registrable_name", "same_site",
           "site_of"]

MAX_TEXT_CHARS = 30_000
_MAX_LINKS = 300
_NOISE_TAGS = [
    "script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "form", "button",
    "select", "dialog", "canvas", "object", "embed", "link", "meta",
]  # fmt: skip
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "aside", "header", "li", "ul", "ol", "h1", "h2", "h3",
    "h4", "h5", "h6", "blockquote", "figure", "figcaption", "table", "tr", "td", "th", "dd", "dt",
    "dl", "br", "pre", "address", "hr", "details", "summary", "caption", "cite",
}  # fmt: skip
_NOISE_ATTR = re.compile(r"cookie|consent|gdpr|onetrust|cookiebot|cc-(window|banner)|breadcrumb|skip-(link|to)", re.I)
_SKIP_EXT = re.compile(
    r"\.(pdf|jpe?g|png|gif|svg|webp|ico|zip|gz|mp4|mp3|mov|css|js|xml|json|dmg|exe)$", re.I
)


def site_of(host: str) -> str:
    """The registrable part of a host, approximately (``www.shop.acme.co.uk`` → ``acme.co.uk``)."""
    labels = host.lower().rstrip(".").split(".")
    if labels[-1].isdigit() or ":" in host:  # IP address: the whole thing
        return host.lower()
    keep = (
        3
        if len(labels) >= 3
        and len(labels[-1]) == 2
        and labels[-2] in {"co", "com", "org", "net", "ac", "gov", "edu"}
        else 2
    )
    return ".".join(labels[-keep:])


def registrable_name(host: str) -> str:
    """The name a domain is registered under, readable: ``www.acme-robotics.co.uk`` → ``Acme Robotics``.

    Empty for hosts that have no such name: IP addresses (never "127" or another octet) and
    single-label names such as ``localhost``."""
    host = host.lower().strip("[]").rstrip(".")
    if ":" in host or re.fullmatch(r"[0-9.]+", host) or "." not in host:
        return ""
    label = site_of(host).split(".")[0]
    return " ".join(word.capitalize() for word in re.split(r"[-_]+", label) if word)

_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=2048)  # pure; every link of a page is compared with the same page URL
def _origin_site(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, site_of(parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a bad port or bracket: not a link to follow
        return None


def same_site(url: str, other: str) -> bool:
    """Same scheme, same registrable host, same port: an allowed local host (``127.0.0.1:8000``) must not
    lead the reader to the same machine's other ports, nor an http page to an https one on another port."""
    mine = _origin_site(url)
    return mine is not None and mine == _origin_site(other)


def _remove(nodes: Iterable[LexborNode]) -> None:
    """Decompose nodes, outermost only (a node inside an already removed one must not be touched)."""
    chosen = list(nodes)
    ids = {n.mem_id for n in chosen}
    for node in chosen:
        parent, nested = node.parent, False
        while parent is not None and not nested:
            nested, parent = parent.mem_id in ids, parent.parent
        if not nested:
            node.decompose()


# what separates a page title's parts ("Pricing | Acme", "Acme – Help Center")
TITLE_SEPARATOR = re.compile(r"\s+[|–—·:-]\s+")


def _site_name(meta: dict[str, str], title: str, url: str) -> str:
    if meta.get("og:site_name") or meta.get("application-name"):
        return meta.get("og:site_name") or meta["application-name"]
    parts = [p for p in TITLE_SEPARATOR.split(title) if p]
    if len(parts) < 2:
        return title if 0 < len(title.split()) <= 3 else ""
    hostname = urlsplit(url).hostname or ""
    if not registrable_name(hostname):
        # an IP address says nothing about the brand: of "Headline of an article | Brand" and "Brand | What
        # it does", the brand is the part of fewest words (the first on a tie)
        return min(parts, key=lambda p: len(p.split()))
    host = re.sub(r"[^a-z0-9]", "", site_of(hostname).split(".")[0])
    for part in parts:
        letters = re.sub(r"[^a-z0-9]", "", part.lower())
        if letters and (letters in host or host in letters):
            return part
    return min(parts, key=len)


_NOT_WEB = re.compile(r"(mailto|tel|javascript|data|sms):", re.I)


def _links(tree: LexborHTMLParser, url: str) -> list[Link]:
    base_node = tree.css_first("base[href]")
    base = urljoin(url, base_node.attributes.get("href") or "") if base_node is not None else url
    found: dict[str, Link] = {}
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith("#") or _NOT_WEB.match(href):
            continue
        absolute = urldefrag(urljoin(base, href))[0]
        parts = urlsplit(absolute)
        if (
            parts.scheme not in {"http", "https"}
            or _SKIP_EXT.search(parts.path)
            or not same_site(absolute, url)
        ):
            continue
        img = a.css_first("img[alt]")
        text = _text(a) or a.attributes.get("aria-label") or a.attributes.get("title") or ""
        text = text or (img.attributes.get("alt") or "" if img is not None else "")
        if absolute not in found or (text and not found[absolute].text):
            found[absolute] = Link(url=absolute, text=_clean(text)[:200])
    return list(found.values())[:_MAX_LINKS]


def extract_page(html: str, url: str, kind: PageKind = "other", status: int = 200) -> Page:
    """Everything the analysis needs from one page. Never raises on bad markup."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _text(title_node) if title_node is not None else ""
    meta = {}
    for node in tree.css("meta[content]"):
        key = (node.attributes.get("name") or node.attributes.get("property") or "").lower()
        if key and key not in meta:
            meta[key] = _clean(node.attributes.get("content") or "")
    links = _links(tree, url)
    site_name = _site_name(meta, title, url)

    tree.strip_tags(_NOISE_TAGS)
    root = tree.body
    if root is None:
        return Page(url=url, kind=kind, status=status, title=title, links=links, site_name=site_name,
                    meta_description=meta.get("description") or meta.get("og:description") or "")  # fmt: skip
    # Hidden elements are not what a visitor reads (and a favourite place to hide injected text).
    hidden = root.css(
        "[hidden], [aria-hidden=true], [role=navigation], [role=contentinfo], [style*='display:none'],"
        " [style*='display: none'], [style*='visibility:hidden'], [style*='visibility: hidden']"
    )
    noisy = [n for n in root.css("[class], [id]") if _NOISE_ATTR.search(_attrs(n))]
    _remove(hidden + noisy)
    _remove(h for h in root.css("header") if h.css_first("h1") is None)  # site chrome, not a hero
    for node in root.css(",".join(_BLOCK_TAGS)):
        node.insert_after("\n")

    lines: list[str] = []
    for raw in root.text(separator="").split("\n"):
        line = _clean(raw)
        if line and (not lines or lines[-1] != line):
            lines.append(line)
    text = "\n".join(lines)[:MAX_TEXT_CHARS]
    headings = [_text(n) for n in root.traverse() if n.tag in {"h1", "h2", "h3"}]
    exclude = {site_name.lower(), title.lower()} - {""}
    return Page(
        url=url,
        kind=kind,
        status=status,
        title=title,
        meta_description=meta.get("description") or meta.get("og:description") or "",
        site_name=site_name,
        headings=signals.dedupe(headings, 100),
        text=text,
        links=links,
        integrations=signals.integrations(root, text, exclude),
        customers=signals.customers(root, lines, exclude),
        testimonials=signals.testimonials(root),
        pricing_hints=signals.pricing_hints(lines),
    )


_KINDS: list[tuple[PageKind, re.Pattern[str]]] = [
    ("pricing", re.compile(r"^(pricing|prices?|plans?|plans-(and|&)-pricing|pricing-plans|buy)$")),
    (
        "integrations",
        re.compile(
            r"^(integrations?|apps?|app-(marketplace|store|directory)|marketplace|"
            r"ecosystem|connectors?|add-?ons|plugins)$"
        ),
    ),
    (
        "customers",
        re.compile(
            r"^(customers?|case-stud(y|ies)|success-stories|customer-stories|clients|"
            r"testimonials|stories|showcase)$"
        ),
    ),
    ("partners", re.compile(r"^(partners?|partner-program|partnerships?|resellers?|affiliates?|channel)$")),
    (
        "solutions",
        re.compile(r"^(solutions?|industries|industry|who-we-serve|use-cases?|markets|for-[a-z-]+)$"),
    ),
    ("product", re.compile(r"^(products?|platform|features?|how-it-works|overview|tour|capabilities)$")),
    ("about", re.compile(r"^(about|about-us|company|our-story|who-we-are|mission|team)$")),
]
_TEXT_KINDS: list[tuple[PageKind, re.Pattern[str]]] = [
    ("pricing", re.compile(r"\b(pricing|plans( & pricing)?)\b", re.I)),
    ("integrations", re.compile(r"\b(integrations?|app (marketplace|store)|marketplace)\b", re.I)),
    ("customers", re.compile(r"\b(customers|case studies|customer stories|success stories)\b", re.I)),
    ("partners", re.compile(r"\b(partners?|partner program|resellers?)\b", re.I)),
    ("solutions", re.compile(r"\b(solutions|industries|who we serve|use cases)\b", re.I)),
    ("product", re.compile(r"\b(product|platform|features|how it works)\b", re.I)),
    ("about", re.compile(r"\b(about( us)?|our story|company)\b", re.I)),
]
_NOT_PAGES = re.compile(
    r"^(blog|news|press|resources|docs|help|support|legal|privacy|terms|careers|jobs|events|webinars|"
    r"login|signin|sign-in|signup|sign-up|register|cart|account|status|cdn-cgi|wp-admin|tag|category)$"
)


def classify_link(url: str, text: str = "") -> PageKind | None:
    """Which kind of sub-page a link leads to (path first, then anchor text), or None if not useful."""
    parts = urlsplit(url)
    segments = [s.lower() for s in parts.path.split("/") if s][:3]
    if _SKIP_EXT.search(parts.path) or (segments and _NOT_PAGES.match(segments[0])):
        return None
    segments = [s for s in segments if not re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", s)]  # locale prefix
    for segment in segments[:2]:
        for kind, pattern in _KINDS:
            if pattern.match(segment):
                return kind
    short = _clean(text)
    if short and len(short) <= 40:
        for kind, pattern in _TEXT_KINDS:
            if pattern.search(short):
                return kind
    return None
