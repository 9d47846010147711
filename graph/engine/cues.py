"""Scoring knowledge-base markets (verticals, categories) by the cue phrases found in weighted text zones.

Scores saturate (``1 - exp(-mass / SATURATION)``) so one repeated word cannot dominate, and a market
backed by fewer distinct cues than asked is discounted. The phrase → market index is built once per set
of knowledge-base items, so a run only visits the phrases it actually finds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.engine.text import PhraseMatcher, Zone, matcher_for, normalize
from graph.knowledge.models import Cue, ProductCategory, Vertical
from graph.state import Scored

__all__ = ["SATURATION", "score_cues"]

SATURATION = 4.0  # raw cue mass at which a score reaches ~63%


def score_cues(
    items: Iterable[Vertical | ProductCategory],
    zones: Sequence[Zone],
    extra: Sequence[tuple[str, ...]] = (),
    min_distinct: int = 3,
) -> list[Scored]:
    """Score each item by its cue mass across zones. ``extra`` adds phrases (e.g. industry labels).

    A market backed by fewer than ``min_distinct`` different cues is discounted: one ambiguous word
    ("carriers" on a trucking site) is not evidence of a second market (insurance carriers).
    """
    items = tuple(items)
    index = _cue_index(items, tuple(extra))
    # only the phrases found in the text are visited: the work follows the hits, not the catalogue
    cue_masses: dict[int, dict[str, float]] = {}
    for zone in zones:
        for key, n in index.matcher.count(zone.text).items():
            for idx, weight, _phrase in index.by_phrase.get(key, ()):
                # diminishing returns per zone: 1, 1.5, 1.75, ...
                masses = cue_masses.setdefault(idx, {})
                masses[key] = masses.get(key, 0.0) + weight * zone.weight * (2 - 0.5 ** (n - 1))
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
    by_phrase: dict[str, list[tuple[int, float, str]]]  # normalized phrase → (item index, weight, phrase)
    original: dict[tuple[int, str], str]  # (item index, normalized phrase) → the phrase as written


_CUE_INDEXES: dict[tuple[tuple[int, ...], tuple[tuple[str, ...], ...]], _CueIndex] = {}


def _cue_index(items: tuple[Vertical | ProductCategory, ...], extra: tuple[tuple[str, ...], ...]) -> _CueIndex:
    """Phrase → items, built once per set of knowledge-base items (their identity) and extra phrases."""
    key = (tuple(id(item) for item in items), extra)
    cached = _CUE_INDEXES.get(key)
    if cached is not None and all(a is b for a, b in zip(cached.items, items, strict=True)):
        return cached
    by_phrase: dict[str, list[tuple[int, float, str]]] = {}
    original: dict[tuple[int, str], str] = {}
    for idx, item in enumerate(items):
        cues = list(item.cues)
        if idx < len(extra):
            cues += [Cue(phrase=p, weight=0.8) for p in extra[idx]]
        for cue in cues:
            norm = normalize(cue.phrase)
            if (idx, norm) in original:  # the first weight given to a phrase counts
                continue
            original[(idx, norm)] = cue.phrase
            by_phrase.setdefault(norm, []).append((idx, cue.weight, cue.phrase))
    index = _CueIndex(items, matcher_for(tuple(sorted(by_phrase))), by_phrase, original)
    if len(_CUE_INDEXES) > 32:
        _CUE_INDEXES.clear()
    _CUE_INDEXES[key] = index
    return index
