"""Content lints over the knowledge base (issue 15): what a schema cannot catch but a reader would.

* :func:`templated_pairs` — two data points whose names or descriptions differ only by a market's name
  ('POS used by restaurants' / 'POS used by hotels'): filler stamped out per market, not knowledge of it.
* :func:`foreign_examples` — a data point for some markets whose example names a company or product known
  only from other markets (a hotel data point whose example is a restaurant POS).

The unit tests fail the build on any finding; ``blueprint knowledge stats`` and reviewers can call them too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from graph.knowledge.base import KnowledgeBase
from graph.knowledge.models import DataPointSpec, Vertical

__all__ = ["Finding", "foreign_examples", "market_phrases", "templated_pairs", "tool_markets"]

# a tool named by more verticals than this is a horizontal product (Salesforce, QuickBooks), not a market's own
MAX_MARKETS_OF_A_MARKET_TOOL = 3
MARKET = "<market>"


@dataclass(frozen=True)
class Finding:
    keys: tuple[str, ...]
    message: str


def _short(name: str) -> str:
    return name.split("(")[0].strip()


def market_phrases(vertical: Vertical) -> set[str]:
    """The words a market goes by: its name (and the name before any parenthesis), its industry labels
    and its id spelled out."""
    phrases = {vertical.name, _short(vertical.name), vertical.id.replace("_", " "), *vertical.industry_labels}
    return {p.strip().lower() for p in phrases if len(p.strip()) >= 3}


def _forms(phrase: str) -> set[str]:
    """A phrase and its singular ('clinics' -> 'clinic', 'agencies' -> 'agency')."""
    if phrase.endswith("ies"):
        return {phrase, phrase[:-3] + "y"}
    return {phrase, phrase[:-1]} if phrase.endswith("s") and not phrase.endswith("ss") else {phrase}


def _normalised(text: str, phrases: set[str]) -> str:
    out = text.lower()
    forms = {form for phrase in phrases for form in _forms(phrase)}
    for phrase in sorted(forms, key=len, reverse=True):  # longest first: 'k-12 schools' before 'schools'
        out = re.sub(rf"(?<!\w){re.escape(phrase)}(?:s|es)?(?!\w)", MARKET, out)
    out = re.sub(r"[^\w<>]+", " ", out)
    return re.sub(r"\s+", " ", out).strip()


def templated_pairs(kb: KnowledgeBase) -> list[Finding]:
    """Pairs of data points (in the same section) whose name or description is the same text once each
    one's own markets' names are replaced by a placeholder, while the raw texts differ."""
    findings: list[Finding] = []
    by_section: dict[str, list[DataPointSpec]] = defaultdict(list)
    for dp in kb.data_points.values():
        if dp.applies_to.verticals:
            by_section[dp.section].append(dp)
    for dps in by_section.values():
        for attr in ("name", "description"):
            groups: dict[str, list[DataPointSpec]] = defaultdict(list)
            for dp in dps:
                phrases = set().union(*(market_phrases(kb.verticals[v]) for v in dp.applies_to.verticals))
                text = _normalised(getattr(dp, attr), phrases)
                if MARKET in text and len(text.replace(MARKET, "").split()) >= 2:
                    groups[text].append(dp)
            for text, same in groups.items():
                for a, b in combinations(same, 2):
                    if getattr(a, attr) != getattr(b, attr):
                        findings.append(Finding((a.key, b.key), f"{attr}s differ only by the market: {text!r}"))
    return findings


def _finder(names: Iterable[str]) -> re.Pattern[str]:
    """One pattern for many names (longest first), matched as whole words at every position."""
    alternation = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"(?=(?<![\w-])({alternation})(?![\w-]))")


def _names_in(finder: re.Pattern[str], text: str, *, standalone: bool = False) -> set[str]:
    """The names found in ``text``; ``standalone`` skips a name that starts a longer proper name
    ('Signature Travel Network' is not the bank core 'Signature')."""
    return {m.group(1) for m in finder.finditer(text)
            if not (standalone and re.match(r" [A-Z]", text[m.end(1):m.end(1) + 2]))}


def _context(dp: DataPointSpec) -> str:
    return " ".join([dp.name, dp.description, *(o.label for o in dp.options)])


def tool_markets(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Each product or company the knowledge base names as a market's incumbent tool (or a category's
    competitor or complement) -> the verticals it belongs to."""
    markets: dict[str, set[str]] = defaultdict(set)
    for vertical in kb.verticals.values():
        for tool in vertical.incumbent_tools:
            markets[tool.strip()].add(vertical.id)
    for category in kb.categories.values():
        if category.horizontal:
            continue  # sold to every market: its tools belong to none in particular
        for tool in [*category.competitors, *category.complements]:
            markets[tool.strip()].update(category.typical_verticals)
    # a tool the data points of many markets talk about (Excel, QuickBooks) is everyone's, whatever the lists say
    finder = _finder(markets)
    for dp in kb.data_points.values():
        for tool in _names_in(finder, _context(dp)):
            markets[tool].update(dp.applies_to.verticals or ["*any*"])
    return {tool: verticals for tool, verticals in markets.items() if len(tool) >= 3 and verticals}


def _related(kb: KnowledgeBase, vertical_ids: list[str]) -> set[str]:
    """The verticals plus their parents and children: a sub-market's tools fit its parent's data points."""
    related = set(vertical_ids)
    for vertical in kb.verticals.values():
        if vertical.parent in vertical_ids:
            related.add(vertical.id)
        if vertical.id in vertical_ids and vertical.parent:
            related.add(vertical.parent)
    return related


def foreign_examples(kb: KnowledgeBase) -> list[Finding]:
    """Data points for named markets whose example names a tool that belongs only to other markets."""
    tools = {tool: verticals for tool, verticals in tool_markets(kb).items()
             if len(verticals) <= MAX_MARKETS_OF_A_MARKET_TOOL}
    finder = _finder(tools)
    findings: list[Finding] = []
    for dp in kb.data_points.values():
        if dp.applies_to.any or not dp.applies_to.verticals or dp.applies_to.categories:
            continue  # generic, or tied to what the seller sells: any market's tools may fit
        own = _related(kb, dp.applies_to.verticals)
        named_here = _names_in(finder, _context(dp))
        for tool in sorted(_names_in(finder, dp.example, standalone=True) - named_here):
            if not tools[tool] & own:
                theirs, ours = ", ".join(sorted(tools[tool])), ", ".join(sorted(own))
                findings.append(Finding((dp.key,), f"example {dp.example!r} names {tool!r}, a tool of {theirs}, "
                                                   f"not of {ours}"))
    return findings
