"""A semantic signal for market routing: how close the seller's own words are to each market's description.

Cue counting reads words; it cannot tell "reminders for optometry practices" from "dispatch for HVAC
technicians" when both say "scheduling". An embedding of the seller's hero, headings and opening copy,
compared with an embedding of every vertical and category (name, description, labels, strongest cues),
says which markets the page is *about*. It is a signal to combine with the cue scores, not a classifier
by itself (:func:`combine`; graph/engine/routing.py decides where it is used).

The embedded default is WordLlama, whose weights ship inside its wheel (no download, numpy only): loaded
once per process from the package folder. Market embeddings are computed once per knowledge base.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from graph.engine.text import Zone
from graph.knowledge import KnowledgeBase
from graph.knowledge.models import ProductCategory, Vertical
from graph.state import Scored

__all__ = [
    "MAP_FIT",
    "SEMANTIC_WEIGHT",
    "Embedder",
    "SemanticIndex",
    "combine",
    "load_embedder",
    "nearest_markets",
    "query_zones",
    "semantic_index",
    "shortlist",
    "site_similarity",
]

log = logging.getLogger(__name__)

# Which zones describe the seller (names, headings and opening copy), how much each counts, and how much
# of each is read: the opening of a page says what it is; a long body drifts into details.
QUERY_ZONES = {"title": 3.0, "headings": 2.0, "body": 1.0}
ZONE_CHARS = 1500
CUES_PER_MARKET = 12
# calibrated on the real-world dev pages (evals/realworld/routing_probe.py): top-1 buyer market accepted
# 28 -> 30 of 41, seller kind 37 -> 39 of 41 against cues alone; 0.2 and 0.5 did less
SEMANTIC_WEIGHT = 0.35
SEMANTIC_ONLY_SCALE = 0.1
# cosine at which a market named in words (an LLM's "dental laboratories") is the catalog's market: exact
# names score 0.7-0.9, near neighbours 0.5-0.6, markets the catalog lacks stay under ~0.45
MAP_FIT = 0.5  # when no cue matched at all, a semantic-only market's score tops out here


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length row vectors, one per text."""
        ...


def _import_wordllama() -> Any:
    """``wordllama``, without what importing it does to logging: it calls ``logging.basicConfig(level=INFO)``,
    so every library's INFO record (httpx logs each request: seven a run, and each LLM call) went to a
    plain-text stderr handler on the root logger, formatted and written on the event loop, next to the
    service's own JSON lines and without their redaction. The root logger is put back as it was."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    import wordllama

    root.setLevel(level)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    return wordllama


class _WordLlama:
    def __init__(self) -> None:
        wordllama = _import_wordllama()

        # the weights and tokenizer ship inside the wheel: load them from there, never from a hub
        self._model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        self._model.embedding = _narrowed(self._model.embedding)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)


def _narrowed(table: np.ndarray) -> np.ndarray:
    """The token table as float16 when that loses nothing: half the memory of every worker's copy.

    The wheel's weights are float16 and WordLlama widens them to float32 on load (32 MiB). Kept narrow,
    the embeddings are the same to the bit: a batch's rows are multiplied by the float32 attention mask
    in the pooling, and numpy widens float16 to float32 (exactly) before any arithmetic."""
    narrow = table.astype(np.float16)
    rows = 2048  # checked a slice at a time: a few MiB of scratch, not another 32 MiB (~40 ms, not ~100)
    for start in range(0, len(table), rows):
        if not np.array_equal(narrow[start : start + rows].astype(table.dtype), table[start : start + rows]):
            return table
    return narrow


_lock = threading.Lock()
_embedder: list[Embedder | None] = []


def load_embedder() -> Embedder | None:
    """The process's embedder, loaded on first use; None (and one log line) when it cannot load."""
    with _lock:
        if not _embedder:
            try:
                _embedder.append(_WordLlama())
            except (ImportError, OSError, ValueError, RuntimeError) as exc:  # routing falls back to cues
                log.warning("semantic routing off: the embedding model did not load (%s)", type(exc).__name__)
                _embedder.append(None)
        return _embedder[0]


def market_text(item: Vertical | ProductCategory) -> str:
    cues = ", ".join(c.phrase for c in sorted(item.cues, key=lambda c: -c.weight)[:CUES_PER_MARKET])
    labels = ", ".join(item.industry_labels) if isinstance(item, Vertical) else ""
    return " ".join(part for part in (f"{item.name}.", item.description, labels, cues) if part)


@dataclass(frozen=True)
class SemanticIndex:
    vertical_ids: tuple[str, ...]
    verticals: np.ndarray
    category_ids: tuple[str, ...]
    categories: np.ndarray


_indexes: dict[tuple[int, str], SemanticIndex] = {}


def semantic_index(kb: KnowledgeBase, embedder: Embedder) -> SemanticIndex:
    """Every market's embedding, computed once per knowledge base and embedder."""
    key = (id(embedder), kb.version)
    with _lock:
        index = _indexes.get(key)
    if index is None:
        verticals, categories = list(kb.verticals.values()), list(kb.categories.values())
        index = SemanticIndex(
            vertical_ids=tuple(v.id for v in verticals),
            verticals=embedder.embed([market_text(v) for v in verticals]),
            category_ids=tuple(c.id for c in categories),
            categories=embedder.embed([market_text(c) for c in categories]),
        )
        with _lock:
            _indexes[key] = index
    return index


def query_zones(zones: Iterable[Zone]) -> list[Zone]:
    """The zones that describe the seller (title, headings, opening body copy), without empty ones.

    Navigation, footer, breadcrumb and cookie text never reach a zone: the page extractor removes those
    elements before it builds the page text (tools/extract.py)."""
    return [z for z in zones if z.name in QUERY_ZONES and z.text.strip()]


SIMILARITY_MEMO = 64  # pages whose similarities are kept (a few runs' worth)
_similarities: dict[tuple[int, int, tuple[str, ...], tuple[float, ...]], tuple[dict[str, float], dict[str, float]]] = {}


def site_similarity(index: SemanticIndex, embedder: Embedder, zones: Iterable[Zone]
                    ) -> tuple[dict[str, float], dict[str, float]]:
    """Cosine similarity of the seller's describing text to each vertical and each category.

    Memoized per index and text (the analysis and the LLM prompt's shortlist ask for the same page in one
    run); the answer is shared, so callers read it and never change it."""
    texts, weights = [], []
    for zone in query_zones(zones):
        texts.append(zone.text.strip()[:ZONE_CHARS])
        weights.append(QUERY_ZONES[zone.name] * zone.weight)
    if not texts:
        return {}, {}
    key = (id(index), id(embedder), tuple(texts), tuple(weights))
    with _lock:
        known = _similarities.get(key)
    if known is not None:
        return known
    vectors = embedder.embed(texts)
    query = (vectors * np.asarray(weights, dtype=np.float32)[:, None]).sum(axis=0)
    norm = float(np.linalg.norm(query))
    if norm == 0.0:
        return {}, {}
    query /= norm
    v_sims = index.verticals @ query
    c_sims = index.categories @ query
    answer = (dict(zip(index.vertical_ids, map(float, v_sims), strict=True)),
              dict(zip(index.category_ids, map(float, c_sims), strict=True)))
    with _lock:
        _similarities[key] = answer
        while len(_similarities) > SIMILARITY_MEMO:
            _similarities.pop(next(iter(_similarities)))
    return answer


def relative(sims: dict[str, float]) -> dict[str, float]:
    """Similarities rescaled per page: 1.0 for the closest market, 0.0 at the page's median market.

    Raw cosines shift with a page's length and vocabulary; what carries meaning is how far a market
    stands above the crowd of unrelated ones on the same page.
    """
    if not sims:
        return {}
    values = np.fromiter(sims.values(), dtype=np.float32)
    top, median = float(values.max()), float(np.median(values))
    spread = max(top - median, 1e-6)
    return {k: max(0.0, (v - median) / spread) for k, v in sims.items()}


def combine(scored: list[Scored], sims: dict[str, float], weight: float, *, floor: float = 0.6) -> list[Scored]:
    """Cue scores and semantic closeness in one ranking: ``(1 - weight) × cue + weight × cue_top × closeness``.

    Additive, so a market the page is plainly about ranks even when few of its cue words occur, and a
    market that only incidental words found sinks below it. Only markets close to the page (closeness
    at least ``floor``: the top few of ~90) get semantic credit, so the long tail stays cue-ranked.
    """
    if not sims:
        return scored
    rel = relative(sims)
    top = max((s.score for s in scored), default=0.0) or SEMANTIC_ONLY_SCALE
    by_id = {s.id: s for s in scored}
    ids = set(by_id) | {k for k, v in rel.items() if v >= floor}
    out = []
    for mid in ids:
        closeness = rel.get(mid, 0.0)
        sem = top * closeness if closeness >= floor else 0.0
        cue = by_id[mid].score if mid in by_id else 0.0
        evidence = by_id[mid].evidence if mid in by_id else [f"semantic: {closeness:.2f}"]
        out.append(Scored(id=mid, score=round((1 - weight) * cue + weight * sem, 4), evidence=evidence))
    return sorted(out, key=lambda s: (-s.score, s.id))


def nearest_markets(index: SemanticIndex, embedder: Embedder, phrases: Sequence[str]
                    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """For each phrase, the closest vertical and the closest category with their cosines (phrase order)."""
    texts = [p.replace("_", " ").strip() for p in phrases if p.strip()]
    if not texts:
        return [], []
    vectors = embedder.embed(texts)
    v_sims, c_sims = vectors @ index.verticals.T, vectors @ index.categories.T
    verticals = [(index.vertical_ids[int(row.argmax())], float(row.max())) for row in v_sims]
    categories = [(index.category_ids[int(row.argmax())], float(row.max())) for row in c_sims]
    return verticals, categories


def shortlist(kb: KnowledgeBase, zones: Iterable[Zone], seeds: Iterable[str], *, verticals: int = 40,
              categories: int = 30) -> tuple[list[str], list[str]]:
    """The market ids worth offering a model for this site: the cue candidates (``seeds``) and the markets
    closest in meaning to the site's own words. The whole catalogue grows past what a prompt should carry
    (hundreds of ids); a market outside the list that the model names anyway is still mapped onto the
    catalogue by meaning. Without the embedding model: every id."""
    embedder = load_embedder()
    if embedder is None:
        return sorted(kb.verticals), sorted(kb.categories)
    v_sims, c_sims = site_similarity(semantic_index(kb, embedder), embedder, zones)
    seeded = set(seeds)

    def pick(ids: Iterable[str], sims: dict[str, float], limit: int) -> list[str]:
        ranked = sorted((i for i in ids if i not in seeded), key=lambda i: -sims.get(i, 0.0))
        return sorted({*(i for i in ids if i in seeded), *ranked[:limit]})

    return pick(kb.verticals, v_sims, verticals), pick(kb.categories, c_sims, categories)
