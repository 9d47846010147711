"""Phrase matching over a seller's text: thousands of phrases per set, word-bounded, one pass per text.

Matching thousands of cue phrases one regex at a time is slow, and compiling them into one alternation
cost every process ~0.5 s at start-up; a phrase set is indexed by first word instead, and a text's words
(split once per text) pick the few phrases worth checking.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["PhraseMatcher", "Zone", "contains_words", "names_term", "normalize", "snippet_around",
           "without_contrasts", "without_own_billing", "without_plural_ending"]

_WS = re.compile(r"\s+")
SMALL_SET = 16  # phrase sets up to this size are prefiltered with substring searches


SHORT_TEXT = 512  # characters: phrases and data point texts; longer ones are page zones


_ES_PLURAL = re.compile(r"(?:ch|sh|x|z|ss)es$")


def without_plural_ending(word: str) -> str | None:
    """A lower-case plural in the singular, by its ending ("companies" -> "company", "churches" -> "church",
    "marinas" -> "marina"); ``None`` for a word without one. Whether a word is a plural at all ("news",
    "logistics", "clinics") is the caller's to decide."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if _ES_PLURAL.search(word):
        return word[:-2]
    return word[:-1] if word.endswith("s") else None

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
    """Finds which of many phrases occur in texts, as whole words, in one pass per text.

    A match is a phrase not preceded or followed by a word character (Unicode-aware ``\\w``: "pos" is not
    found in "posé"), nor followed by "'t" ("isn" is not found in "isn't"); matches are taken as a
    regex ``findall`` over a longest-first alternation would take them: leftmost, non-overlapping, the
    longest phrase at a position.

    Phrases are indexed by their first word rather than compiled into one regex: compiling a trie of
    thousands of phrases cost ~0.5 s at every start-up, and a text's words (split once per text, shared
    by every matcher) find the few phrases worth checking with a set intersection and ``startswith``.
    """

    phrases: tuple[str, ...]
    _by_word: dict[str, _Bucket] = field(init=False, repr=False)
    _unworded: tuple[str, ...] = field(init=False, repr=False)
    _literals: tuple[str, ...] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unique = {normalize(p) for p in self.phrases if p.strip()}
        by_word: dict[str, list[str]] = {}
        unworded: list[str] = []
        for phrase in unique:
            word = _WORD.match(phrase)
            if word:
                by_word.setdefault(word.group(), []).append(phrase)
            else:  # starts with punctuation ("#hashtag", ".net"): searched for on its own
                unworded.append(phrase)
        # most first words start only themselves: one shared bucket (count() never asks it for a phrase)
        self._by_word = {word: _ALONE if phrases == [word] else _Bucket.of(word, phrases)
                         for word, phrases in by_word.items()}
        self._unworded = tuple(unworded)
        # a few phrases are cheaper to rule out with substring searches (C, memchr) than by splitting
        # the text into words; most texts contain none of them. Only a text with a substring hit is read.
        self._literals = tuple(unique) if len(unique) <= SMALL_SET else None

    def count(self, text: str) -> Counter[str]:
        norm = normalize(text)
        # map over a bound C method: no Python frame per phrase (this runs for every zone and matcher)
        if self._literals is not None and not any(map(norm.__contains__, self._literals)):
            return Counter()
        words = _words(norm)
        found: list[tuple[int, str]] = []  # (start, the longest phrase that fits there)
        alone: list[tuple[str, tuple[int, ...]]] = []  # a word that is only a phrase of its own, where
        spans = False  # whether a match runs past its first word (and may cover a later one)
        for word in self._by_word.keys() & words.keys():
            bucket = self._by_word[word]
            if not bucket.key_lengths:  # fits wherever the text has the word, unless "'t" follows
                alone.append((word, words[word]))
                continue
            for start in words[word]:
                phrase = bucket.longest_at(norm, start)
                if phrase:
                    found.append((start, phrase))
                    spans = spans or phrase != word
        if "'t" in norm:  # rare: "isn't", "won't" (a word's own bucket checks it for the others)
            alone = [(w, tuple(s for s in starts if _ends_word(norm, s + len(w)))) for w, starts in alone]
        if not spans and not self._unworded:  # one word each: no two matches overlap, nothing to sweep
            counts = Counter(phrase for _, phrase in found)
            counts.update({word: len(starts) for word, starts in alone if starts})
            return counts
        found.extend((start, word) for word, starts in alone for start in starts)
        if self._unworded:
            found = _longest_per_start(found + self._unworded_matches(norm))
        found.sort()
        counts = Counter()
        end = 0
        for start, phrase in found:  # leftmost first, and none overlapping one already taken
            if start >= end:
                counts[phrase] += 1
                end = start + len(phrase)
        return counts

    def _unworded_matches(self, norm: str) -> list[tuple[int, str]]:
        found = []
        for phrase in self._unworded:
            start = norm.find(phrase)
            while start != -1:
                if (start == 0 or not _is_word_char(norm[start - 1])) and _ends_word(norm, start + len(phrase)):
                    found.append((start, phrase))
                start = norm.find(phrase, start + 1)
        return found


_WORD = re.compile(r"\w+")


_AFTER = 4  # characters after a phrase's first word that pick its candidates: a separator and 3 letters


@dataclass(frozen=True)
class _Bucket:
    """The phrases that start with one word, keyed by the few characters that follow it.

    A common first word ("home", "food", "independent") starts dozens of phrases; the text's next
    characters leave only the few that can fit, so a position costs a slice and a dict look-up.
    """

    word: str
    alone: bool  # the word is a phrase of its own
    after: dict[str, tuple[str, ...]]  # the characters after the word → phrases, longest first
    key_lengths: tuple[int, ...]  # the lengths of those keys, longest first (shorter: "c" + "++")

    @classmethod
    def of(cls, word: str, phrases: list[str]) -> _Bucket:
        after: dict[str, list[str]] = {}
        for phrase in phrases:
            if phrase != word:
                after.setdefault(phrase[len(word) : len(word) + _AFTER], []).append(phrase)
        return cls(word, word in phrases, {k: tuple(sorted(v, key=len, reverse=True)) for k, v in after.items()},
                   tuple(sorted({len(k) for k in after}, reverse=True)))

    def longest_at(self, norm: str, start: int) -> str:
        """The longest phrase that fits at ``start`` (where the text has this word), or ``""``.

        A phrase with a key of full length is longer than one with a shorter key: trying the key lengths
        longest first, and each key's phrases longest first, the first that fits is the longest.
        """
        rest = start + len(self.word)
        for length in self.key_lengths:
            for phrase in self.after.get(norm[rest : rest + length], ()):
                if norm.startswith(phrase, start) and _ends_word(norm, start + len(phrase)):
                    return phrase
        return self.word if self.alone and _ends_word(norm, rest) else ""


_ALONE = _Bucket("", alone=True, after={}, key_lengths=())


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # what the regex engine's Unicode \w is


def _ends_word(norm: str, end: int) -> bool:
    """Whether a phrase ending at ``end`` ends a word: no word character after it, nor "'t" ("isn't")."""
    if end == len(norm):
        return True
    if _is_word_char(norm[end]):
        return False
    return not (norm.startswith("'t", end) and (end + 2 == len(norm) or not _is_word_char(norm[end + 2])))


def _longest_per_start(found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    best: dict[int, str] = {}
    for start, phrase in found:
        if len(phrase) > len(best.get(start, "")):
            best[start] = phrase
    return list(best.items())


# a page zone's words are asked for by every matcher (~18) in a run: split once. Bounded like the zones'
# normalized texts (a run reads ~3 texts a page), since its keys hold whole texts.
@lru_cache(maxsize=64)
def _words(norm: str) -> dict[str, tuple[int, ...]]:
    """Each word of a normalized text (a maximal run of ``\\w``) → where it starts."""
    starts: dict[str, list[int]] = {}
    for m in _WORD.finditer(norm):
        starts.setdefault(m.group(), []).append(m.start())
    return {w: tuple(s) for w, s in starts.items()}


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
