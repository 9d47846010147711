"""Phrase matching over a seller's text: one compiled alternation per phrase set, word-bounded.

Matching thousands of cue phrases one regex at a time is slow; a single alternation scanned once per
text zone is linear in the text and fast enough to run on every request.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["PhraseMatcher", "Zone", "contains_words", "names_term", "normalize", "snippet_around",
           "without_contrasts", "without_own_billing"]

_WS = re.compile(r"\s+")
SMALL_SET = 16  # phrase sets up to this size are prefiltered with substring searches


SHORT_TEXT = 512  # characters: phrases and data point texts; longer ones are page zones


def normalize(text: str) -> str:
    """Lower-case, unify quotes/dashes, collapse white space (keeps punctuation for word bounds).

    Memoized: the same cue phrases, data point texts and page zones are normalized by many matchers
    per run (and the phrases by every run), which made this the engine's hottest function. Page zones
    are kept in a small memo of their own: they repeat within a run, not across runs, and thousands of
    pages' texts would otherwise stay in memory for good.
    """
    return _normalize_short(text) if len(text) <= SHORT_TEXT else _normalize_long(text)


def _normalize(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return _WS.sub(" ", text).strip()


_normalize_short = lru_cache(maxsize=16384)(_normalize)
_normalize_long = lru_cache(maxsize=64)(_normalize)  # a few runs' zones (a run has ~3 per page read)


@dataclass(frozen=True)
class Zone:
    """A piece of the seller's text with a weight (a title says more than a footer paragraph)."""

    name: str
    text: str
    weight: float
    source: str = ""


@dataclass
class PhraseMatcher:
    """Finds which of many phrases occur in texts, as whole words, in one pass per text."""

    phrases: tuple[str, ...]
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _literals: tuple[str, ...] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unique = {normalize(p) for p in self.phrases if p.strip()}
        body = _trie_pattern(unique) if unique else r"(?!x)x"
        # \w is Unicode-aware: a phrase never matches inside a word, accented ones included ("pos" in "posé")
        # ... nor the first part of a contraction ("ISN" in "isn't", "WON" in "won't")
        self._regex = re.compile(rf"(?<!\w)(?:{body})(?!\w)(?!'t\b)")
        assert self._regex.groups == 0, "count() relies on findall returning whole matches"
        # a few phrases are cheaper to rule out with substring searches (C, memchr) than with a regex
        # scan; most texts contain none of them. Only a text with a substring hit is scanned.
        self._literals = tuple(unique) if len(unique) <= SMALL_SET else None

    def count(self, text: str) -> Counter[str]:
        norm = normalize(text)
        # map over a bound C method: no Python frame per phrase (this runs for every zone and matcher)
        if self._literals is not None and not any(map(norm.__contains__, self._literals)):
            return Counter()
        return Counter(self._regex.findall(norm))  # no capturing group: findall yields whole matches



def _trie_pattern(phrases: set[str]) -> str:
    """One regex for many literal phrases, shaped as a trie.

    A flat alternation of thousands of phrases makes the regex engine try every phrase at every
    position; a trie tries only the phrases that share the text's next characters. Longer phrases are
    preferred (greedy), and the caller's word-boundary check backtracks to a shorter one when needed —
    the same matches as a longest-first alternation.
    """
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        inner = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{inner})?"
        return inner

    return render(trie)


def _unify(text: str) -> str:
    """``normalize`` without lower-casing: the same offsets, the case kept (brand names are capitalised)."""
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    # \w is Unicode-aware: "Square" is not found in "Squarespace", "square" not in "squared" or "carré"
    return re.compile(rf"(?<!\w){re.escape(normalize(term))}(?!\w)", re.I)


def contains_words(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (case-insensitive), never inside a word."""
    return bool(phrase.strip()) and _term_pattern(phrase).search(normalize(text)) is not None


def names_term(text: str, term: str, *, brand: bool) -> bool:
    """Whether ``text`` names ``term`` as whole words.

    A brand ("Square", "Toast", "Front") is a proper noun that is often also a common word: only an
    occurrence written with a capital (or a digit) names it, so "net rentable square feet" does not
    name the POS vendor. A generic term ("payroll") matches in any case.
    """
    if not term.strip():
        return False
    return any(not brand or not m.group(0)[0].islower() for m in _term_pattern(term).finditer(_unify(text)))


@lru_cache(maxsize=64)
def matcher_for(phrases: tuple[str, ...]) -> PhraseMatcher:
    return PhraseMatcher(phrases)


# pure, and asked again for the same zone and phrase (by each section, and once to test, once to take);
# bounded, since its keys hold whole zone texts
@lru_cache(maxsize=1024)
def snippet_around(text: str, phrase: str, width: int = 90) -> str:
    """The sentence-ish window around the first word-bounded occurrence of ``phrase`` in ``text``.

    The search stays within one line (a block of the page), so a snippet never runs across sections.
    """
    pattern = re.compile(rf"(?<!\w){re.escape(normalize(phrase))}(?!\w)")
    for line in text.splitlines() or [text]:
        norm = normalize(line)
        m = pattern.search(norm)
        if m:
            return _window(line, norm, m, width)
    return ""


def _window(text: str, norm: str, m: re.Match[str], width: int) -> str:
    start = max(0, m.start() - width)
    end = min(len(norm), m.end() + width)
    # widen to word boundaries, cut at sentence ends when near
    left = norm.rfind(". ", start, m.start())
    start = left + 2 if left != -1 else (norm.find(" ", start) + 1 if start else 0)
    right = norm.find(". ", m.end(), end)
    end = right + 1 if right != -1 else (norm.rfind(" ", m.end(), end) if end < len(norm) else end)
    if end <= m.end():
        end = min(len(norm), m.end() + width)
    return _restore_case(text, norm[start:end].strip())


def _restore_case(original: str, fragment: str) -> str:
    """Return the fragment as it was written (case, quotes, dashes): ``normalize`` maps characters one
    to one apart from white space, so the same offsets hold in the white-space-collapsed original."""
    flat, norm = _flattened(original)
    idx = norm.find(fragment)
    return flat[idx : idx + len(fragment)] if idx != -1 else fragment


@lru_cache(maxsize=64)
def _flattened(original: str) -> tuple[str, str]:
    """A line with its white space collapsed, and that normalized: the same for every snippet of it."""
    flat = _WS.sub(" ", original).strip()
    return flat, normalize(flat)


# Sentences about the seller's own account and billing ("Payments are managed and secured by Stripe",
# "you will be charged for the subscription every month"): help and pricing pages say how the SELLER bills,
# which tells nothing about what its leads run.
_OWN_BILLING = re.compile(
    r"\b(?:your (?:subscription|plan|account|card|trial|billing)|subscription plans?|billing (?:period|details|"
    r"history|options|information|frequency|cycle)|free trial|credit card details|payment information|"
    r"(?:you|account owner) will (?:be )?(?:charged|billed)|payments are (?:managed|processed|secured|handled))\b",
    re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def without_own_billing(text: str) -> str:
    """``text`` without the sentences about the seller's own account and billing."""
    if not _OWN_BILLING.search(text):
        return text
    return "\n".join(s for s in _SENTENCE.split(text) if s and not _OWN_BILLING.search(s))


# A clause that names what the seller is NOT, or what it replaces: "Unlike a standard retail POS (like those
# used in supermarkets)", "it has nothing to do with fixing cars", "rather than a spreadsheet". Its market
# words are the contrast, not the seller's market.
_CONTRAST = re.compile(
    r"\b(?:unlike|rather than|instead of|as opposed to|nothing to do with|not built for|not designed for|"
    r"(?:is|are)n[\u2019']t (?:built |designed |made )?for|(?:is|are) not (?:built |designed |made )?for)\b"
    r"(?:[^.,;:!?()\n]|\([^()\n]*\))*", re.I)


def without_contrasts(text: str) -> str:
    """``text`` without the clauses that say what the seller is not or replaces (to the clause's end)."""
    return _CONTRAST.sub(" ", text)
