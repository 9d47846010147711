"""Writing a knowledge-base ``why`` template out as readable English.

Templates join placeholders to the words around them ("a {segment} lead", "growing {segment} fleets",
"{offering} is ..."), while the values are names written elsewhere: a market's name ("Trucking carriers
and fleets"), the seller's category, a company name. Only here are both sides known, so the joins are
decided here: the article agrees with the word that follows it, a word the template puts next to a value
that already ends (or starts) with it is said once, and a sentence starts with a capital.

:func:`write_why` fills a data point's template for one seller: ``{segment}`` is always a market of the
seller's leads (never the seller's own category, never "your ICP"), written short (no parenthetical list).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from graph.engine.icp import SEGMENT_LABELS, page_label
from graph.engine.text import without_plural_ending
from graph.knowledge import KnowledgeBase
from graph.schemas import Company
from graph.state import MarketSignals

if TYPE_CHECKING:
    from graph.engine.select import Candidate

__all__ = ["indefinite_article", "render_template", "short_name", "soft_lower", "why_segment", "write_why"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"[\w'’-]+")
_ARTICLE_BEFORE = re.compile(r"(?<![\w-])([Aa]n?) $")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")
_SENTENCE_END = re.compile(r"(?:^|[.!?]\s+)$")
_SPACES = re.compile(r"\s{2,}")
# vowel letters sounded with a consonant ("a unit", "a one-off", "a European"), and silent h's
_YOU_OR_WON = ("uni", "use", "usu", "uti", "ura", "uri", "uro", "ubiq", "eu", "ewe", "one", "once", "ukr")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")
# initialisms read letter by letter: these letters start with a vowel sound ("an MSP", "an HVAC", "an RIA")
_VOWEL_LETTERS = set("AEFHILMNORSX")


# the pure string functions below run for every data point's ``why``, mostly on the same few market
# names and the seller's offering: memoized (bounded), they cost a lookup after the first time
@functools.lru_cache(maxsize=4096)
def soft_lower(text: str) -> str:
    """Lower-case for use mid-sentence, keeping acronyms and brand casing (ELD, QuickBooks, POS, X-ray)."""
    return " ".join(w if any(c.isupper() for c in w[1:]) or re.match(r"[A-Z]-", w) else w.lower()
                    for w in text.split())


@functools.lru_cache(maxsize=4096)
def short_name(name: str) -> str:
    """A market's name without its parenthetical examples, as it reads inside a sentence."""
    return _PARENTHETICAL.sub("", name).strip() or name


def _initialism(word: str) -> bool:
    """Read letter by letter: "MSP", "MSPs", "HVAC", the "X" of "X-ray" (not "SaaS" or "Fortune")."""
    head = word.split("-")[0]
    letters = re.sub(r"[^A-Za-z]", "", head.removesuffix("s"))
    return 0 < len(letters) <= 5 and letters.isupper() and (len(letters) > 1 or head == letters)


def indefinite_article(phrase: str) -> str:
    """'a' or 'an' for the word ``phrase`` starts with, by its sound, not only its first letter."""
    m = _WORD.search(phrase)
    if m is None:
        return "a"
    word = m.group(0)
    if word[0].isdigit():
        # 8, 11, 18, 80, 800...: the numbers that start with a vowel sound
        return "an" if word.startswith("8") or re.match(r"1[18](?:\D|$)", word) else "a"
    if _initialism(word):
        return "an" if word[0].upper() in _VOWEL_LETTERS else "a"
    lower = word.lower()
    if lower.startswith(_SILENT_H):
        return "an"
    if lower.startswith(_YOU_OR_WON):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"


def _same_word(a: str, b: str) -> bool:
    """The same noun in either number: fleet/fleets, company/companies, business/businesses."""
    a, b = a.lower(), b.lower()
    return a == b or {a, b} & {f"{b}s", f"{a}s", f"{b}es", f"{a}es"} != set() or (
        a.endswith("y") and b == a[:-1] + "ies") or (b.endswith("y") and a == b[:-1] + "ies")


@functools.lru_cache(maxsize=8192)
def _join(before: str, value: str, after: str, as_written: bool) -> tuple[str, str, str]:
    """One placeholder's join with the text around it (see the module docstring). A value ``as_written``
    (a company's name, a quote) is never changed: only the article before it is chosen."""
    if as_written:
        return _with_article(before, value, after), value, after
    head = re.search(r"([\w'-]+)\s$", before)
    first = _WORD.match(value)
    if head and first and _same_word(head.group(1), first.group(0)) and head.group(1).lower() != "a":
        before = before[: head.start(1)]  # "specialty {segment}" + "Specialty trade contractors"
    nxt = re.match(r"\s([\w-]+)", after)
    if nxt:
        # "a {segment} carrier" + "Trucking carriers and fleets": the conjunct that names it ("trucking carriers")
        for m in re.finditer(r"([\w'-]+)(?=\s+(?:and|or|&)\s|,)", value):
            if _same_word(m.group(1), nxt.group(1)):
                value = value[: m.end(1)]
                break
    tail = re.search(r"([\w'-]+)$", value)
    if tail and nxt and _same_word(tail.group(1), nxt.group(1)):
        rest = value[: tail.start(1)].rstrip()
        if rest and (tail.group(1).lower() == nxt.group(1).lower() or re.search(r"(?:\band|\bor|&|,)$", rest)):
            # "growing {segment} fleets" + "Trucking carriers and fleets": the value already says it
            after = after[nxt.end(1):]
        else:
            # "a {segment} firm" + "Accounting and CPA firms": the template's word agrees with its article
            value = rest
    if nxt and _ARTICLE_BEFORE.search(before):
        single = _attributive(value)  # "a moving company lead", not "a moving companies lead"
        if re.split(r"[\s-]", single)[-1].lower() != nxt.group(1).lower():  # never "broker-dealer dealer"
            value = single
    before = _with_article(before, value, after)
    if value and _SENTENCE_END.search(before):
        value = value[0].upper() + value[1:]
    return before, value, after


# plurals that modify a noun as they are ("a consumer goods lead", "a logistics lead")
_PLURAL_MODIFIERS = frozenset({"goods", "sales", "logistics", "analytics", "news", "sports", "arts", "parts",
                               "works", "series", "species", "means", "electronics", "plastics", "chemicals",
                               "materials", "metals", "textiles", "foods", "beverages", "services", "utilities",
                               "apparel", "communications", "operations", "systems", "products", "supplies"})


@functools.lru_cache(maxsize=4096)
def _attributive(value: str) -> str:
    """A market's name as a noun modifying the next one: its last word in the singular when it is a regular
    plural ("Dental practices" -> "Dental practice", "Moving companies" -> "Moving company"); a name whose
    last word modifies as it is ("Consumer goods", "SaaS", "HVAC") is unchanged."""
    head, sep, last = value.rpartition(" ")
    word = last.lower()
    if not last.islower() or word in _PLURAL_MODIFIERS or word.endswith(("ss", "us", "is")):
        return value
    single = without_plural_ending(word)
    return head + sep + single if single is not None else value


def _with_article(before: str, value: str, after: str) -> str:
    """``before`` with a trailing "a"/"an" that agrees with what follows it."""
    article = _ARTICLE_BEFORE.search(before)
    if not article:
        return before
    chosen = indefinite_article(value or after)
    if article.group(1)[0].isupper():
        chosen = chosen.capitalize()
    return before[: article.start(1)] + chosen + " "


def render_template(
    template: str, values: Mapping[str, str], as_written: Collection[str] = ("seller", "evidence")
) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``values``, joined as English; the values
    named in ``as_written`` (names, quotes) are kept exactly as given."""
    literals, names = _parts(template)
    texts = list(literals)
    filled = [values[name] for name in names]
    for i in range(len(names)):
        texts[i], filled[i], texts[i + 1] = _join(texts[i], filled[i], texts[i + 1], names[i] in as_written)
    out = "".join(t + v for t, v in zip(texts, [*filled, ""], strict=True))
    return _SPACES.sub(" ", out).strip()


@functools.lru_cache(maxsize=4096)
def _parts(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A template's literal texts and placeholder names (a few thousand templates, each split once)."""
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    return tuple(parts[0::2]), tuple(parts[1::2])


def why_segment(candidate: Candidate, kb: KnowledgeBase, targeting: MarketSignals) -> str:
    """The lead's market a ``why`` speaks of: the targeted vertical that claims the data point, else the
    seller's main market, named the way the page names it. Never the seller's own category (its leads are not
    fleet-telematics vendors) nor the ICP itself."""
    if candidate.segment:
        # in the page's own words where it names that market ("heating oil dealers", not the catalog's "fuel
        # distributors, heating oil and propane dealers")
        vertical = next((v for v in targeting.verticals if kb.verticals[v.id].name == candidate.segment), None)
        name = (vertical and page_label(kb, vertical)) or candidate.segment
    elif targeting.horizontal and targeting.segment:
        name = SEGMENT_LABELS[targeting.segment]
    elif targeting.verticals:
        name = page_label(kb, targeting.verticals[0]) or kb.verticals[targeting.verticals[0].id].name
    else:
        name = "target"
    return soft_lower(short_name(name))


def write_why(candidate: Candidate, company: Company, kb: KnowledgeBase, targeting: MarketSignals) -> str:
    evidence = f'"{candidate.evidence}"' if candidate.evidence else ""
    why = render_template(candidate.spec.why, {
        "seller": company.name or "The seller", "offering": soft_lower(short_name(company.offering or "its product")),
        "segment": why_segment(candidate, kb, targeting), "evidence": evidence,
    })
    if candidate.icp_technology:
        why += f" Your ICP names {candidate.icp_technology}."
    if candidate.evidence and "{evidence}" not in candidate.spec.why:
        why += f' The site says: "{candidate.evidence}"'
    return why
