"""Signals in a cleaned page: integrations, customers, testimonials and pricing hints.

Called by :func:`tools.extract.extract_page` on the page after navigation/footer/cookie noise is gone,
with block boundaries already turned into line breaks. Pure functions over selectolax nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from selectolax.lexbor import LexborNode

__all__ = [
    "clean",
    "customers",
    "dedupe",
    "integrations",
    "node_attrs",
    "node_text",
    "outermost",
    "pricing_hints",
    "testimonials",
]

_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_INTEGRATION_CUE = re.compile(
    r"integrat|partner|\bapps?\b|marketplace|ecosystem|connectors?\b|works (?:seamlessly )?with|"
    r"connects? (?:with|to)|plays (?:nice|well) with|plug-?ins?\b|add-?ons?\b",
    re.I,
)
_CUSTOMER_CUE = re.compile(
    r"customer|client|trusted|case.?stud|success.?stor|logo.?(wall|cloud|grid|strip|bar)|\blogos\b|"
    r"loved by|used by|chosen by|brands|powering|companies (?:that|who)|join(?:ed)? (?:over |more than )?\d",
    re.I,
)
_TESTIMONIAL_ATTR = re.compile(r"(?<![a-z])(testimonial|quote|review)s?(?![a-z])", re.I)
_INTEGRATES = re.compile(
    r"\b(?:integrates?|integrated|integrations?|connects?|syncs?|works|plugs?|pairs?)\s+"
    r"(?:seamlessly\s+|directly\s+|natively\s+|easily\s+|right\s+)?(?:with|into|to|for)\s+"
    r"(?:(?:popular\s+|leading\s+)?(?:tools|platforms|apps|systems|services)\s+"
    r"(?:like|such as|including)\s+)?"
    r"(?P<list>[^.;:!?\n]{2,240})",
    re.I,
)
_CASE_STUDY = re.compile(
    r"(?:case study|customer story|success story)\s*[:|\-–—]\s*(?P<name>[^\n|]{2,80})", re.I
)
_GENERIC = {
    "see", "view", "browse", "explore", "learn", "read", "get", "request", "book", "contact", "and",
    "more", "all", "our", "your", "the", "with", "integrations", "integration", "partners", "partner",
    "apps", "app", "logo", "image", "icon", "customers", "clients", "home", "menu", "other", "many",
    "marketplace", "platform", "case", "plus", "click", "try", "start", "sign", "watch", "find",
    "become", "join", "apply", "connect", "download", "install", "discover", "visit", "go", "back",
}  # fmt: skip
_PLAN = re.compile(
    r"^(?:the\s+)?(free|starter|basic|essentials?|lite|pro|professional|plus|premium|growth|business|"
    r"scale|team|teams|enterprise|standard|advanced|ultimate|core|unlimited)(?:\s+plan)?$",
    re.I,
)
_PRICE = re.compile(
    r"[$€£]\s?\d|\d\s?(?:usd|eur|gbp)\b|\bper\s+(?:user|seat|location|month|year|terminal|device|agent|"
    r"employee|site|store|restaurant|member|vehicle|driver|license|licence)\b|/\s?(?:mo|month|yr|year|"
    r"user|seat|location)\b|free trial|custom pricing|contact (?:us|sales) for (?:a )?(?:pricing|quote)",
    re.I,
)


# compiled once: these run for every candidate name on every page
_LOGO_WORDS = re.compile(r"^(?:logo\s+(?:of|for)\s+)|\s+(?:logo|icon|integration|app|image|brand)s?$", re.I)
_CAPITAL_OR_DOTTED = re.compile(r"[A-Z0-9]|\.\w")
_LETTER = re.compile(r"[a-zA-Z]")
_DOTTED = re.compile(r"\w\.\w")
_LIST_SEPARATOR = re.compile(r",\s*|\s+(?:and|or|&|plus)\s+|/")


def clean(text: str) -> str:
    """Collapse runs of spaces (not line breaks) and trim."""
    return _SPACE.sub(" ", text).strip()


def node_attrs(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('aria-label') or ''}"


def node_text(node: LexborNode) -> str:
    return clean(node.text(separator="").replace("\n", " "))


def outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    ids = {n.mem_id for n in nodes}
    keep = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ids:
            parent = parent.parent
        if parent is None:
            keep.append(node)
    return keep


def _clean_name(raw: str, exclude: set[str]) -> str | None:
    name = clean(raw).strip(" \"'“”‘’·•|:-–—,")
    name = _LOGO_WORDS.sub("", name)
    words = name.split()
    if not words or len(words) > 4 or len(name) > 40 or name.lower() in exclude:
        return None
    if (
        words[0].lower() in _GENERIC
        or not _CAPITAL_OR_DOTTED.search(name)
        or not _LETTER.search(name)
    ):
        return None
    return name


def _leading_name(item: str) -> str:
    """The capitalised run an item starts with: 'Uber Eats in minutes' → 'Uber Eats'."""
    run: list[str] = []
    for token in item.split():
        if not (token[0].isupper() or token[0].isdigit() or _DOTTED.search(token)):
            break
        run.append(token)
    return " ".join(run)


def _names_in(container: LexborNode, selector: str) -> list[str]:
    found = [img.attributes.get("alt") or img.attributes.get("title") or "" for img in container.css("img")]
    found += [node_text(node) for node in container.css(selector)]
    return found


def _cue_containers(
    root: LexborNode, cue: re.Pattern[str], avoid: re.Pattern[str] | None = None
) -> list[LexborNode]:
    """Elements whose class/id mention the cue, and the section around each heading that mentions it.

    ``avoid`` drops containers whose own attributes or first heading match it (a partner logo wall is
    not a customer logo wall).
    """
    hits = [n for n in root.css("[class], [id], [aria-label]") if cue.search(node_attrs(n)) and n.tag != "a"]
    for heading in root.css("h1, h2, h3, h4"):
        if not cue.search(node_text(heading)):
            continue
        node = heading.parent
        # an ancestor holding a peer heading is past this heading's section (a customers list below an
        # "Integrations" paragraph is not a list of integrations)
        peers = ", ".join(f"h{i}" for i in range(1, int((heading.tag or "h4")[1]) + 1))
        for _ in range(3):  # climb to the first ancestor that holds more than the heading
            if node is None or node.tag == "body" or len(node.css(peers)) > 1:
                break
            if len(node.css("img, li, a, h3, h4, h5")) >= 2:
                hits.append(node)
                break
            node = node.parent
    if avoid is not None:
        first_heading = lambda n: n.css_first("h1, h2, h3, h4")  # noqa: E731
        hits = [
            n
            for n in hits
            if not avoid.search(node_attrs(n))
            and not ((h := first_heading(n)) is not None and avoid.search(node_text(h)))
        ]
    return outermost(hits)


def dedupe(items: Iterable[str | None], limit: int) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        if item and item.lower() not in seen:
            seen[item.lower()] = item
    return list(seen.values())[:limit]


def integrations(root: LexborNode, text: str, exclude: set[str]) -> list[str]:
    names: list[str | None] = []
    for box in _cue_containers(root, _INTEGRATION_CUE):
        names += [_clean_name(n, exclude) for n in _names_in(box, "li, a, h3, h4, h5, figcaption, strong")]
    for match in _INTEGRATES.finditer(text):
        items = _LIST_SEPARATOR.split(match.group("list"))
        names += [_clean_name(_leading_name(item), exclude) for item in items]
    return dedupe(names, 60)


def customers(root: LexborNode, lines: list[str], exclude: set[str]) -> list[str]:
    names: list[str | None] = []
    for box in _cue_containers(root, _CUSTOMER_CUE, avoid=_INTEGRATION_CUE):
        names += [_clean_name(n, exclude) for n in _names_in(box, "li, figcaption")]
    for line in lines:
        for match in _CASE_STUDY.finditer(line):
            names.append(_clean_name(_leading_name(match.group("name")), exclude))
    return dedupe(names, 60)


def _ancestor_ids(node: LexborNode) -> set[int]:
    ids, parent = set(), node.parent
    while parent is not None:
        ids.add(parent.mem_id)
        parent = parent.parent
    return ids


_ATTRIBUTION = (
    "cite, figcaption, footer, [class*=author], [class*=name], [class*=attribution], [class*=byline]"
)


def testimonials(root: LexborNode) -> list[str]:
    """Quote bodies (blockquote, q, leaf elements classed testimonial/quote/review) with attribution.

    The attribution is looked up inside the body, else in the nearest ancestor that holds no other body
    (a card with a quote and an author line), so quotes in one section never borrow each other's authors.
    """
    marked = [
        n for n in root.css("[class], [id]") if _TESTIMONIAL_ATTR.search(node_attrs(n)) and n.tag != "a"
    ]
    marked_ids = {n.mem_id for n in marked}
    quotes = root.css("blockquote, q")
    holders = {i for n in marked + quotes for i in _ancestor_ids(n)}
    bodies = outermost(
        quotes + [n for n in marked if n.mem_id not in holders or n.tag in {"blockquote", "q"}]
    )
    chains = [_ancestor_ids(b) for b in bodies]
    out: list[str] = []
    for body in bodies:
        author = body.css_first(_ATTRIBUTION)
        node, depth = body.parent, 0
        while author is None and node is not None and depth < 3 and node.tag != "body":
            if sum(node.mem_id in chain for chain in chains) > 1:
                break
            author = node.css_first(_ATTRIBUTION)
            node, depth = node.parent, depth + 1
        full, who = node_text(body), node_text(author) if author is not None else ""
        quote = full.replace(who, "") if who and who in full else full
        quote = quote.strip(' "“”—–-')
        who = who.lstrip("—–- ").strip()
        if len(quote) >= 20 and (body.tag in {"blockquote", "q"} or body.mem_id in marked_ids):
            out.append(f"“{quote[:500]}”" + (f" — {who[:120]}" if who else ""))
    return dedupe(out, 20)


def pricing_hints(lines: list[str]) -> list[str]:
    """Price lines, each prefixed by the plan heading just above it; plans without a price as 'Plan: X'."""
    hints: list[str] = []
    plan, since, used = "", 0, True
    for line in lines:
        if _PLAN.match(line):
            if not used:
                hints.append(f"Plan: {plan}")
            plan, since, used = line, 0, False
            continue
        since += 1
        if not used and since > 4:
            hints.append(f"Plan: {plan}")
            used = True
        if _PRICE.search(line) and len(line) <= 300:
            hints.append(line if used else f"{plan}: {line}")
            used = True
    if not used:
        hints.append(f"Plan: {plan}")
    return dedupe(hints, 30)
