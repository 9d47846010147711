"""Every ``why`` of the knowledge base reads as English whatever market, offering or seller fills it.

The templates join placeholders to the words around them ("a {segment} lead", "growing {segment} fleets");
the names that fill them come from elsewhere. Rendered against every market name of the knowledge base and
against awkward ones (initialisms, vowel sounds, names that end in the template's own noun), no ``why`` may
say a word twice, say "a your", or put "a" where "an" belongs (or the other way round).
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from graph.engine.icp import SEGMENT_LABELS
from graph.engine.select import Candidate
from graph.engine.wording import indefinite_article, render_template, write_why
from graph.knowledge import KnowledgeBase, load_knowledge
from graph.knowledge.models import DataPointSpec
from graph.schemas import Company
from graph.state import MarketSignals

# awkward market names, each with the article a careful writer puts before it
ODD_SEGMENTS = {
    "HVAC contractors": "an",
    "MSPs and IT services firms": "an",
    "independent hotels": "an",
    "one-location clinics": "a",
    "urban transit agencies": "an",
    "unionized employers": "a",
    "e-commerce sellers": "an",
    "SaaS companies": "a",
    "8-unit franchisees": "an",
    "Trucking carriers and fleets": "a",
    "Accounting and CPA firms": "an",
    "Specialty trade contractors (subcontractors)": "a",
    "RIAs and broker-dealers": "an",
    "hourly-wage employers": "an",
    "European fintechs": "a",
    "Fleets": "a",
    "Leads": "a",
    "Companies": "a",
    "X-ray imaging centers": "an",
}
ODD_OFFERINGS = ("its product", "AP automation", "ELD and video safety", "HR and payroll software",
                 "fleet telematics, ELD and video safety", "inventory management")
ODD_SELLERS = ("Acme", "Ops Ops", "ELDwise", "Umbrella Labs")
_DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.I)
_ARTICLE = re.compile(r"(?<![\w-])(an?|An?)\s+([\w/&+.'-]+)")
# words whose first letter misleads: a vowel letter with a consonant sound, and silent h's
_CONSONANT_SOUND = ("one", "once", "uni", "use", "usu", "uti", "eu", "ura", "uri", "uro")
_VOWEL_SOUND = ("hour", "honest", "honor", "heir")


def expected_article(word: str) -> str | None:
    """The article for ``word`` by a reader's ear, or None where the test has no opinion."""
    head = re.split(r"[-/]", word)[0]
    letters = re.sub(r"[^A-Za-z]", "", head.removesuffix("s"))
    if head[:1].isdigit():
        return "an" if head.startswith(("8", "11", "18")) else "a"
    if letters and letters.isupper() and (len(letters) > 1 or len(head) == 1):
        return "an" if letters[0] in "AEFHILMNORSX" else "a"  # read letter by letter: "an MSP", "a CRM"
    low = word.lower()
    if low.startswith(_CONSONANT_SOUND):
        return "a"
    if low.startswith(_VOWEL_SOUND):
        return "an"
    if low[:1] in "aeio":
        return "an"
    if low[:1] == "u":
        return None  # "a user" / "an update": the ear decides, the test does not
    return "a" if low[:1].isalpha() else None


def english_problems(text: str) -> list[str]:
    problems = [f"doubled word {m.group(0)!r}" for m in _DOUBLED.finditer(text)]
    problems += [f"{m.group(0)!r}" for m in re.finditer(r"\ban? your\b", text, re.I)]
    for m in _ARTICLE.finditer(text):
        want = expected_article(m.group(2))
        if want is not None and m.group(1).lower() != want:
            problems.append(f"article {m.group(0)!r} (want {want!r})")
    return problems


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


def segment_names() -> list[str]:
    return list(dict.fromkeys([*ODD_SEGMENTS, *SEGMENT_LABELS.values()]))


def _segment_joins(template: str) -> tuple[str, ...]:
    return tuple(m.group(0).lower() for m in re.finditer(r"\S*\s*\{segment\}\s*\S*", template))


def market_name_cases(base: KnowledgeBase) -> list[tuple[DataPointSpec, str]]:
    """Every market name of the knowledge base in every distinct way a template joins {segment} to its
    words (one template per join: the rest of a template does not touch the name)."""
    by_join: dict[tuple[str, ...], DataPointSpec] = {}
    for spec in sorted(base.data_points.values(), key=lambda s: s.key):
        by_join.setdefault(_segment_joins(spec.why), spec)
    return [(spec, v.name) for spec in by_join.values() for v in base.verticals.values()]


@pytest.mark.parametrize("word,article", [
    ("MSP", "an"), ("MSPs", "an"), ("HVAC", "an"), ("SaaS", "a"), ("ELD", "an"), ("K-12", "a"),
    ("3PL", "a"), ("8-unit", "an"), ("hour", "an"), ("European", "a"), ("unit", "a"), ("urban", "an"),
    ("one-off", "a"), ("independent", "an"), ("trucking", "a"), ("X-ray", "an"), ("URL", "a"), ("RIA", "an"),
])
def test_the_article_follows_the_sound(word: str, article: str) -> None:
    assert indefinite_article(word) == article


def test_a_value_that_ends_in_the_templates_noun_says_it_once() -> None:
    values = {"seller": "RoadLedger", "offering": "fleet telematics", "evidence": ""}
    render = lambda t, s: render_template(t, {**values, "segment": s})  # noqa: E731
    assert render("New and growing {segment} fleets buy now.", "trucking carriers and fleets") == \
        "New and growing trucking carriers and fleets buy now."
    assert render("It sizes a {segment} firm's deal.", "accounting and CPA firms") == \
        "It sizes an accounting and CPA firm's deal."
    assert render("It shows how a {segment} carrier pays.", "trucking carriers and fleets") == \
        "It shows how a trucking carrier pays."
    assert render("{offering} is easy for a {segment} lead.", "independent hotels") == \
        "Fleet telematics is easy for an independent hotel lead."


def test_a_market_before_a_noun_is_written_in_the_singular() -> None:
    render = lambda t, s: render_template(t, {"segment": s})  # noqa: E731
    assert render("A {segment} lead buys; we sell to {segment}.", "moving companies") == \
        "A moving company lead buys; we sell to moving companies."
    assert render("a {segment} lead", "small businesses") == "a small business lead"
    assert render("a {segment} lead", "pharmacies") == "a pharmacy lead"
    # a plural that modifies as it is, an acronym, a name without a plural ending: unchanged
    assert render("a {segment} lead", "consumer goods") == "a consumer goods lead"
    assert render("an {segment} lead", "HVAC") == "an HVAC lead"
    assert render("a {segment} lead", "hotels and hospitality") == "a hotels and hospitality lead"


def test_a_company_name_and_a_quote_are_kept_as_written() -> None:
    values = {"seller": "ezyVet Cloud Tools", "offering": "practice software", "segment": "vet clinics",
              "evidence": '"tools for vet clinics"'}
    assert render_template("{seller} tools help. It is a {seller} deal. The site says {evidence} tools.", values) == \
        'ezyVet Cloud Tools tools help. It is an ezyVet Cloud Tools deal. The site says "tools for vet clinics" tools.'


def test_every_why_template_reads_as_english_for_odd_names_and_every_market_name() -> None:
    base = kb()
    specs = sorted(base.data_points.values(), key=lambda s: s.key)
    cases = [(spec, segment) for spec in specs for segment in segment_names()]
    cases += market_name_cases(base)
    problems: list[str] = []
    for i, (spec, segment) in enumerate(cases):
        company = Company(name=ODD_SELLERS[i % len(ODD_SELLERS)], offering=ODD_OFFERINGS[i % len(ODD_OFFERINGS)])
        why = write_why(Candidate(spec=spec, score=1.0, reason="", segment=segment), company, base, MarketSignals())
        problems += [f"{spec.key} [{segment}]: {p} in {why!r}" for p in english_problems(why)
                     if "Ops Ops" not in p]  # a seller's own name may repeat a word
    assert len(cases) > 20 * len(specs)
    assert not problems, f"{len(problems)} unreadable whys, e.g.:\n" + "\n".join(problems[:25])


@pytest.mark.parametrize("segment,article", sorted(ODD_SEGMENTS.items()))
def test_odd_market_names_take_their_article(segment: str, article: str) -> None:
    spec = next(s for s in kb().data_points.values() if "a {segment} lead" in s.why)
    why = write_why(Candidate(spec=spec, score=1.0, reason="", segment=segment), Company(name="Acme"), kb(),
                    MarketSignals())
    assert re.search(rf"\b{article} \S", why[why.index(" lead") - len(segment) - 4:]), why
