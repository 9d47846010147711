"""Scoring knowledge-base markets (verticals, categories) by the cue phrases found in weighted text zones.

Scores saturate (``1 - exp(-mass / SATURATION)``) so one repeated word cannot dominate, and a market
backed by fewer distinct cues than asked is discounted. The phrase → market index is built once per set
of knowledge-base items, so a run only visits the phrases it actually finds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.engine.text import PhraseMatcher, Zone, matcher_for, normalize, without_plural_ending
from graph.knowledge.models import Cue, ProductCategory, Vertical
from graph.state import Scored

__all__ = ["SATURATION", "score_cues", "singular_of"]

SATURATION = 4.0  # raw cue mass at which a score reaches ~63%
GENERIC_CUE = 0.3  # a cue weighted this low is a common word: a title or heading does not make it telling
SINGULAR_WEIGHT = 0.9  # a plural cue's singular counts a little less than the cue as written
# A one-word cue finds its singular only when its author weighted it as specific and it is a plain noun:
# "practices", "units" or "stores" in the singular name anything.
SPECIFIC_WORD = 0.8
# a role in the singular is one party on the page ("authorized by the manufacturer"), not a market
_ROLE = re.compile(r"(?:er|or)s?$")
_INVARIANT = re.compile(r"(?:ss|us|is|ics|ing|ed|news|series|species)$")


def singular_of(cue: Cue) -> str | None:
    """The cue (normalized) with its last word in the singular, when written in the plural; else ``None``.

    A market's cues are written in the plural ("marinas", "dance studios") and a vendor's own name uses the
    singular ("marina billing", "Dance Studio Manager"). The other way round found nothing more on the
    evaluation pages and doubled the matcher a process compiles at start."""
    words = normalize(cue.phrase).split()
    if not words:
        return None
    last = words[-1]
    if cue.phrase.split()[-1].rstrip("s").isupper():  # an acronym: "retail POS" is no "retail PO" (an order)
        return None
    if len(words) == 1 and (cue.weight < SPECIFIC_WORD or len(last) < 5 or _ROLE.search(last)):
        return None
    if not last.isalpha() or len(last) < 3 or _INVARIANT.search(last):
        return None
    other = without_plural_ending(last)
    return " ".join([*words[:-1], other]) if other is not None else None


def score_cues(
    items: Iterable[Vertical | ProductCategory],
    zones: Sequence[Zone],
    extra: Sequence[tuple[str, ...]] = (),
    min_distinct: int = 3,
    *,
    singulars: bool = False,
) -> list[Scored]:
    """Score each item by its cue mass across zones. ``extra`` adds phrases (e.g. industry labels).

    A market backed by fewer than ``min_distinct`` different cues is discounted: one ambiguous word
    ("carriers" on a trucking site) is not evidence of a second market (insurance carriers).
    """
    items = tuple(items)
    index = _cue_index(items, tuple(extra), singulars)
    # only the phrases found in the text are visited: the work follows the hits, not the catalogue
    cue_masses: dict[int, dict[str, float]] = {}
    for zone in zones:
        # a cue's forms (as written, its singular) are one cue: their counts add up in a zone
        found: dict[tuple[int, str], tuple[int, float]] = {}
        for key, n in index.matcher.count(zone.text).items():
            for idx, weight, cue in index.by_phrase.get(key, ()):
                seen, best = found.get((idx, cue), (0, 0.0))
                found[(idx, cue)] = (seen + n, max(best, weight))
        for (idx, cue), (n, weight) in found.items():
            # diminishing returns per zone: 1, 1.5, 1.75, ...
            masses = cue_masses.setdefault(idx, {})
            # a generic word is no stronger for standing in a title ("Five Tips for..." names no POS)
            zone_weight = zone.weight if weight > GENERIC_CUE else min(zone.weight, 1.0)
            masses[cue] = masses.get(cue, 0.0) + weight * zone_weight * (2 - 0.5 ** (n - 1))
    scored: list[Scored] = []
    for idx, masses in sorted(cue_masses.items()):  # catalogue order, so ties rank as before
        item = items[idx]
        hits = [(m, index.original[(idx, key)]) for key, m in masses.items()]
        mass = sum(m for m, _ in hits)
        if mass:
            mass *= min(1.0, len(hits) / min_distinct)
            score = 1 - math.exp(-mass / SATURATION)
            evidence = [phrase for _, phrase in sorted(hits, reverse=True)[:5]]
            scored.append(Scored(id=item.id, score=round(score, 4), evidence=evidence))
    return sorted(scored, key=lambda s: s.score, reverse=True)


@dataclass(frozen=True)
class _CueIndex:
    items: tuple[Vertical | ProductCategory, ...]
    matcher: PhraseMatcher
    by_phrase: dict[str, list[tuple[int, float, str]]]  # phrase form found → (item index, weight, cue key)
    original: dict[tuple[int, str], str]  # (item index, cue key: the cue as written, normalized) → as written


_CUE_INDEXES: dict[tuple[tuple[int, ...], tuple[tuple[str, ...], ...], bool], _CueIndex] = {}


def _cue_index(items: tuple[Vertical | ProductCategory, ...], extra: tuple[tuple[str, ...], ...],
               singulars: bool = False) -> _CueIndex:
    """Phrase → items, built once per set of knowledge-base items (their identity), extra phrases and
    whether a plural cue's singular counts."""
    key = (tuple(id(item) for item in items), extra, singulars)
    cached = _CUE_INDEXES.get(key)
    if cached is not None and all(a is b for a, b in zip(cached.items, items, strict=True)):
        return cached
    by_phrase: dict[str, list[tuple[int, float, str]]] = {}
    original: dict[tuple[int, str], str] = {}
    seen: set[tuple[int, str]] = set()
    for idx, item in enumerate(items):
        cues = list(item.cues)
        if idx < len(extra):
            cues += [Cue(phrase=p, weight=0.8) for p in extra[idx]]
        # the phrases as written first, then the singulars of plural ones ("marinas" also finds "marina
        # billing"): a phrase also written as a cue of its own keeps its own weight
        written = [(normalize(c.phrase), c.weight, c) for c in cues]
        singular = [(v, c.weight * SINGULAR_WEIGHT, c) for _, _, c in written if singulars
                    if (v := singular_of(c)) is not None]
        for norm, weight, cue in [*written, *singular]:
            if (idx, norm) in seen:  # the first weight given to a phrase counts
                continue
            seen.add((idx, norm))
            canonical = normalize(cue.phrase)  # the cue as written: what counts as one distinct cue
            original.setdefault((idx, canonical), cue.phrase)
            by_phrase.setdefault(norm, []).append((idx, weight, canonical))
    index = _CueIndex(items, matcher_for(tuple(sorted(by_phrase))), by_phrase, original)
    if len(_CUE_INDEXES) > 32:
        _CUE_INDEXES.clear()
    _CUE_INDEXES[key] = index
    return index
