"""Data point texts written for the blueprint's own markets: other markets' names are cut from lists.

A data point several markets claim is written for all of them ("new clinic, office, hospital, ASC or
animal-hospital openings"); in a dental practice's blueprint the hospital and the animal hospital are
another market's words. Where a list in a data point's text names another market that claims the same
data point and that the blueprint does not target, that item is cut. Only list items are cut, never a
list's first item (it carries the lead-in: "Open roles for dentists, ...") and never below two items:
a sentence is pruned, not rewritten.

A market's *names* are its industry labels ("Dentists", "Dental offices", "Hospitals"), singular or
plural; a name a targeted market uses (as a label or a cue) is never foreign. A horizontal seller's
market is every industry: nothing is cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from graph.knowledge import KnowledgeBase
from graph.knowledge.models import DataPointSpec
from graph.state import MarketSignals

__all__ = ["MarketWords", "TailoredTexts", "foreign_names", "market_words", "names_other_markets", "spec_texts",
           "tailor_text", "tailored"]

MIN_NAME = 4  # characters: shorter names ("IDN", "ASC") are too ambiguous to cut on

_WORD = re.compile(r"[a-z0-9]+")
# clause boundaries inside a text: sentences, parentheses, semicolons, colons, spaced dashes
_CLAUSE = re.compile(r"(\.\s+|\(|\)|;\s*|:\s+|\s[-–—]\s)")
# list separators inside a clause (a comma followed by a space: "1,000" is no list)
_ITEM = re.compile(r"(,\s+(?:or\s+|and\s+)?)")  # "and"/"or" alone join noun phrases too: not split


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)  # data point texts and list items recur in every run
def _words(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in _WORD.findall(text.lower().replace("-", " ")))


MAX_NAME_WORDS = 6  # longer market names are not looked for


@lru_cache(maxsize=8192)
def _grams(text: str) -> frozenset[tuple[str, ...]]:
    """Every run of 1 to MAX_NAME_WORDS words in ``text``, stemmed: a name is in a text when it is one."""
    words = _words(text)
    return frozenset(words[i:i + n] for n in range(1, MAX_NAME_WORDS + 1) for i in range(len(words) - n + 1))


@dataclass(frozen=True, eq=False)  # hashed by identity (one per knowledge base): a memo key
class MarketWords:
    """Each vertical's names, and every word a vertical uses (its labels and cues)."""

    names: dict[str, frozenset[tuple[str, ...]]]  # labels that name only the market (no word of a tool's name)
    uses: dict[str, frozenset[tuple[str, ...]]]
    labels: dict[str, frozenset[tuple[str, ...]]]  # every label
    owners: dict[tuple[str, ...], frozenset[str]]  # a name (of ``names``) → the markets it names
    named: frozenset[tuple[str, ...]]  # the keys of ``owners``, to intersect with a text's word runs



def _market_words(kb: KnowledgeBase) -> MarketWords:
    # a word of a tool's name is no market's name ("Lightspeed Retail", "Square for Retail")
    tools = [t for v in kb.verticals.values() for t in v.incumbent_tools]
    tools += [t for c in kb.categories.values() for t in (*c.competitors, *c.complements)]
    in_tools = {w for t in tools for w in _words(t)}
    labels = {v.id: frozenset(w for p in v.industry_labels if len(p) >= MIN_NAME and (w := _words(p)))
              for v in kb.verticals.values()}
    names = {vid: frozenset(w for w in ws if not (len(w) == 1 and w[0] in in_tools)) for vid, ws in labels.items()}
    uses = {v.id: labels[v.id] | {w for c in v.cues if (w := _words(c.phrase))} for v in kb.verticals.values()}
    owners: dict[tuple[str, ...], set[str]] = {}
    for vid, ns in names.items():
        for n in ns:
            owners.setdefault(n, set()).add(vid)
    return MarketWords(names, uses, labels, {n: frozenset(v) for n, v in owners.items()}, frozenset(owners))


def market_words(kb: KnowledgeBase) -> MarketWords:
    """The knowledge base's market names, built once per knowledge base."""
    return kb.derived("tailor.market_words", lambda: _market_words(kb))


def foreign_names(kb: KnowledgeBase, targeting: MarketSignals, claimants: Iterable[str],
                  texts: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """The names to cut from a data point's ``texts``: those of its other claimants this blueprint is not
    written for, that these texts name. None for a horizontal seller, or when no market is targeted."""
    if targeting.horizontal or not targeting.verticals:
        return frozenset()
    words = market_words(kb)
    wanted = frozenset(v.id for v in targeting.verticals)
    own = _own_words(words, wanted)
    others = set(claimants) - wanted
    # from the names the texts hold (few) to their markets, rather than from every claimant (hundreds for a
    # data point that fits any market) to its names; a text's names are found by one set intersection
    # (in C) rather than by a Python test of each of its ~100-200 word runs
    return frozenset(n for t in texts for n in _grams(t) & words.named
                     if n not in own and not others.isdisjoint(words.owners[n]))


def names_other_markets(text: str, kb: KnowledgeBase, targeting: MarketSignals, at_least: int = 2) -> bool:
    """Whether ``text`` names ``at_least`` markets the blueprint does not target ("they work well for
    retail, restaurants and facilities"): a quote about other markets (never for a horizontal seller)."""
    if targeting.horizontal or not targeting.verticals or not text:
        return False
    index = _other_markets(market_words(kb), frozenset(v.id for v in targeting.verticals))
    found = {index[g] for g in _grams(text) if g in index}
    return len(found) >= at_least


@lru_cache(maxsize=64)
def _own_words(words: MarketWords, wanted: frozenset[str]) -> frozenset[tuple[str, ...]]:
    """Every word the ``wanted`` markets use (labels and cues): never foreign to them."""
    return frozenset().union(*(words.uses.get(v, frozenset()) for v in wanted))


@lru_cache(maxsize=64)
def _other_markets(words: MarketWords, wanted: frozenset[str]) -> dict[tuple[str, ...], str]:
    """Each label of a market not in ``wanted`` (and used by none of them) → that market."""
    own = _own_words(words, wanted)
    return {n: v for v, names in words.labels.items() if v not in wanted for n in names if n not in own}


def _names_any(text: str, foreign: frozenset[tuple[str, ...]]) -> bool:
    return bool(foreign) and not foreign.isdisjoint(_grams(text))


def _prune_list(clause: str, foreign: frozenset[tuple[str, ...]]) -> str:
    """The clause with its foreign list items cut (never the first, never below two items)."""
    parts = _ITEM.split(clause)
    items, seps = parts[0::2], parts[1::2]
    if len(items) < 3 or not items[0].strip():
        return clause
    keep = [0, *(i for i, item in enumerate(items) if i and not _names_any(item, foreign))]
    if len(keep) == len(items) or len(keep) < 2:
        return clause
    closing = seps[-1]
    tail = items[-1][len(items[-1].rstrip()):]  # the space before a boundary ("retail ERP (...)") stays
    out = items[0]
    for n, i in enumerate(keep[1:], start=1):
        # each kept item keeps the separator before it, except that the list's closing ", and" goes last
        out += closing if n == len(keep) - 1 else (seps[i - 1] if i - 1 < len(seps) - 1 else ", ")
        out += items[i]
    return out.rstrip() + tail


def tailor_text(text: str, foreign: frozenset[tuple[str, ...]]) -> str:
    """``text`` with the list items that name a foreign market cut."""
    if not foreign or not text or not _names_any(text, foreign):
        return text
    pieces = _CLAUSE.split(text)
    return "".join(p if i % 2 else _prune_list(p, foreign) for i, p in enumerate(pieces))


def spec_texts(spec: DataPointSpec) -> list[str]:
    """The texts of a data point that are tailored (an enum's example is one of its options: kept)."""
    choice = spec.value_type in {"enum", "multi_enum"}
    return [spec.name, spec.description, *([] if choice else [spec.example])]


@dataclass(frozen=True)
class TailoredTexts:
    name: str
    description: str
    example: str


def tailored(spec: DataPointSpec, foreign: frozenset[tuple[str, ...]]) -> TailoredTexts:
    """The data point's name, description and example with other markets' names cut from their lists."""
    choice = spec.value_type in {"enum", "multi_enum"}
    return TailoredTexts(tailor_text(spec.name, foreign), tailor_text(spec.description, foreign),
                         spec.example if choice else tailor_text(spec.example, foreign))
