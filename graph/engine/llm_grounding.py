"""Grounding: turn the model's drafts into the contract's models, keeping only what can be checked.

* Catalog data points are rebuilt from the knowledge base (name, description, sources): the model
  contributes the choice, the order, the priority and the ``why``.
* A data point the model adds (origin ``llm``) keeps only sources that exist in the knowledge base and,
  for API providers, field paths the knowledge base knows; everything invented is dropped and reported
  in one ``llm_ungrounded`` warning per node.
* Quotes must be found in the seller's own text; ids must be knowledge-base ids.

No langchain import here: ``resolve_icp`` uses :func:`merge_icp_suggestion` on every engine path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from graph.engine.llm_models import AnalysisDraft, DraftSource, SectionDraft
from graph.engine.select import Candidate, data_point_markets, spec_fields
from graph.engine.semantic import MAP_FIT, load_embedder, nearest_markets, semantic_index
from graph.engine.tailor import foreign_names, spec_texts, tailored
from graph.engine.text import contains_words, normalize
from graph.knowledge import KnowledgeBase
from graph.schemas import (
    ICP,
    LEGACY_VALUE_TYPES,
    VALUE_TYPES,
    Company,
    DataPoint,
    Evidence,
    ResolvedICP,
    Section,
    Warning,
)
from graph.state import MarketSignals, Scored
from graph.values import parse_value
from tools.site import SiteSnapshot

__all__ = [
    "Grounding",
    "corpus_of",
    "ground_analysis",
    "ground_section",
    "known_fields",
    "merge_icp_suggestion",
    "neutralize",
]

MAX_NEW = 3
MAX_NEW_OPEN_WORLD = 8  # a niche the catalog lacks: the model may author more (still grounded) data points
MIN_QUOTE = 12
_KEY = re.compile(r"^[a-z][a-z0-9_]{2,60}$")
# an invented point has no options, so it cannot be an enum: it keeps its type only when that needs none
_FREE_TYPES = VALUE_TYPES - {"enum", "multi_enum"}
_QUOTES = "\"'“”‘’…. "


def _free_type(value_type: str, example: str) -> str:
    """An invented point's type: one that needs no options, and that its example reads as (else text), so
    its exports get a value of the type they declare."""
    wanted = LEGACY_VALUE_TYPES.get(value_type.strip().lower(), value_type.strip().lower())
    if wanted not in _FREE_TYPES:
        return "text"
    try:
        parse_value(wanted, example)
    except ValueError:
        return "text"
    return wanted


def neutralize(text: str) -> str:
    """Untrusted text with the characters that could forge a prompt tag replaced by look-alikes."""
    return text.replace("<", "‹").replace(">", "›")


def known_fields(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """Every response field path the knowledge base knows per API source: the only ones a model may cite."""
    cached = _FIELDS.get(kb.version)
    if cached is None:
        out: dict[str, set[str]] = {}
        for spec in kb.data_points.values():
            for ref in spec.sources:
                source = kb.sources.get(ref.source)
                if ref.field and source is not None and source.kind == "api":
                    out.setdefault(ref.source, set()).add(ref.field)
        cached = _FIELDS[kb.version] = {k: frozenset(v) for k, v in out.items()}
    return cached


_FIELDS: dict[str, dict[str, frozenset[str]]] = {}  # per knowledge-base version (computed on first use)


def corpus_of(site: SiteSnapshot | None, extra: Iterable[str] = ()) -> str:
    """The seller's own text, normalized, for checking that a quote is really a quote."""
    parts: list[str] = list(extra)
    for page in site.pages if site else []:
        parts += [page.title, page.meta_description, *page.headings, page.text, *page.integrations,
                  *page.customers, *page.testimonials, *page.pricing_hints]
    return normalize(neutralize(" \n ".join(parts)))


def quoted(snippet: str | None, corpus: str) -> bool:
    text = normalize(neutralize(snippet or "")).strip(_QUOTES)
    return len(text) >= MIN_QUOTE and text in corpus and contains_words(corpus, text)


class Grounding:
    """Collects what was dropped and reports it as one warning for the node."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.dropped: list[str] = []

    def drop(self, what: str) -> None:
        self.dropped.append(what)

    def warnings(self) -> list[Warning]:
        if not self.dropped:
            return []
        shown = "; ".join(self.dropped[:8]) + (f"; and {len(self.dropped) - 8} more" if len(self.dropped) > 8 else "")
        return [Warning(code="llm_ungrounded", node=self.node,
                        message=f"Dropped from the LLM's {self.node} answer (not in the knowledge base or the "
                                f"seller's text): {shown}.")]


# ───────────────────────────── sections ─────────────────────────────


def _sources(
    key: str, drafts: Sequence[DraftSource], kb: KnowledgeBase, g: Grounding
) -> tuple[list[str], dict[str, str]]:
    fields = known_fields(kb)
    kept: list[str] = []
    paths: dict[str, str] = {}
    for src in drafts:
        sid = src.source_id.strip()
        if sid not in kb.sources:
            g.drop(f"source id {sid!r} for {key}")
        elif sid in fields and src.field and src.field not in fields[sid]:
            g.drop(f"field path {sid}:{src.field} for {key}")
        elif sid in fields and not src.field:
            g.drop(f"{sid} without a field path for {key}")
        elif sid not in kept:
            kept.append(sid)
            if src.field:
                paths[sid] = src.field
    return kept, paths


def ground_section(
    section: str, draft: SectionDraft, candidates: Sequence[Candidate], kb: KnowledgeBase, corpus: str, limit: int,
    max_new: int = MAX_NEW, targeting: MarketSignals | None = None,
) -> tuple[Section, list[Warning]]:
    """The draft's data points kept where grounded: catalog ones with the catalog's texts (other markets'
    names cut for ``targeting``, as the catalog engine does), new ones with a known source or method."""
    g = Grounding(section)
    markets = data_point_markets(kb, section)
    by_key = {c.spec.key: c for c in candidates}
    out: list[DataPoint] = []
    seen: set[str] = set()
    new = 0
    for dp in draft.data_points:
        key = dp.key.strip().lower()
        if key in seen:
            continue
        why = dp.why.strip()[:600]
        evidence = dp.evidence if quoted(dp.evidence, corpus) else None
        candidate = by_key.get(key)
        if candidate is not None:
            spec = candidate.spec
            foreign = foreign_names(kb, targeting, markets.get(spec.key, ()), spec_texts(spec)) if targeting else None
            texts = tailored(spec, foreign or frozenset())
            out.append(DataPoint(
                key=spec.key, name=texts.name, description=texts.description, why=why or texts.description,
                priority=dp.priority, value_type=spec.value_type, unit=spec.unit, options=list(spec.options),
                example=texts.example,
                qualification_rule=spec.qualification_rule, source_ids=[r.source for r in spec.sources],
                source_fields=spec_fields(spec),
                evidence=evidence or candidate.evidence, origin="catalog"))
        elif key in kb.data_points:
            g.drop(f"data point {key} (not a candidate for this seller's {section})")
            continue
        else:
            if new >= max_new or not _KEY.match(key) or not dp.name.strip() or not dp.description.strip():
                g.drop(f"new data point {key!r} (malformed or over the limit of {max_new})")
                continue
            source_ids, source_fields = _sources(key, dp.sources, kb, g)
            if not source_ids:
                g.drop(f"new data point {key} (no source from the knowledge base)")
                continue
            new += 1
            out.append(DataPoint(
                key=key, name=dp.name.strip()[:120], description=dp.description.strip()[:400],
                why=why or dp.description.strip()[:400], priority=dp.priority,
                value_type=_free_type(dp.value_type, dp.example),  # type: ignore[arg-type]
                example=dp.example.strip()[:200], source_ids=source_ids, source_fields=source_fields,
                evidence=evidence, origin="llm"))
        seen.add(key)
    if not out:
        raise ValueError(f"the LLM chose no usable data point for {section}")
    # every point is checked (an invented one past the limit is still reported), then the limit applies
    return Section(data_points=out[:limit]), g.warnings()


# ───────────────────────────── analysis ─────────────────────────────


def _rerank(ids: Sequence[str], catalog: Sequence[Scored], known: Iterable[str], what: str, g: Grounding,
            keep: int) -> list[Scored]:
    """The model's ids lead (at least their catalog score); the catalog's others stay, weaker."""
    valid = set(known)
    prior = {s.id: s for s in catalog}
    out: list[Scored] = []
    for rank, sid in enumerate(dict.fromkeys(ids)):
        if sid not in valid:
            g.drop(f"{what} id {sid!r}")
            continue
        base = prior.get(sid)
        score = max(base.score if base else 0.0, round(0.8 - 0.1 * rank, 4))
        out.append(Scored(id=sid, score=score, evidence=base.evidence if base else ["llm"]))
    if not out:
        return list(catalog)
    chosen = {s.id for s in out}
    out += [s.model_copy(update={"score": round(s.score * 0.6, 4)}) for s in catalog if s.id not in chosen]
    return sorted(out, key=lambda s: s.score, reverse=True)[:keep]


def _by_meaning(draft: AnalysisDraft, kb: KnowledgeBase) -> tuple[list[str], list[str], bool]:
    """The model's market ids, an id the catalog lacks replaced by the catalog market it means (when one is
    close enough), and whether the model's markets are a niche the catalog lacks (open world): it named no
    catalog vertical and none of its own words for the markets comes close to one.

    An id that maps to nothing stays in the list, so grounding still drops and reports it - except the
    vertical ids of an open-world answer, which name the niche itself."""
    verticals, categories = list(draft.vertical_ids[:5]), list(draft.category_ids[:3])
    embedder = load_embedder()
    if embedder is None:
        return verticals, categories, False
    index = semantic_index(kb, embedder)
    unknown_v = [i for i in verticals if i not in kb.verticals]
    unknown_c = [i for i in categories if i not in kb.categories]
    served = [m for m in draft.markets_served[:6] if m.strip()]
    near_v, _ = nearest_markets(index, embedder, [*unknown_v, *served])
    _, near_c = nearest_markets(index, embedder, unknown_c)
    mapped_v = dict(zip(unknown_v, near_v[: len(unknown_v)], strict=True))
    mapped_c = dict(zip(unknown_c, near_c, strict=True))

    def resolve(ids: list[str], mapped: dict[str, tuple[str, float]]) -> list[str]:
        return list(dict.fromkeys(mapped[i][0] if i in mapped and mapped[i][1] >= MAP_FIT else i for i in ids))

    known_named = any(i in kb.verticals for i in verticals)
    fit = max((cos for _, cos in near_v), default=1.0)
    open_world = not known_named and bool(near_v) and fit < MAP_FIT
    if open_world:  # the model's niche is kept in its own words (markets_served, ICP), not as a catalog id
        verticals = [i for i in verticals if i in kb.verticals]
    return resolve(verticals, mapped_v), resolve(categories, mapped_c), open_world


def _present(values: Sequence[str], corpus: str, limit: int) -> list[str]:
    # whole words: an integration "Square" is not on a site that only names "Squarespace"
    return [v.strip() for v in dict.fromkeys(values) if v.strip() and contains_words(corpus, v)][:limit]


def ground_analysis(
    draft: AnalysisDraft, company: Company, market: MarketSignals, kb: KnowledgeBase, corpus: str
) -> tuple[Company, MarketSignals, ResolvedICP, list[Warning]]:
    g = Grounding("analyze_company")
    vertical_ids, category_ids, open_world = _by_meaning(draft, kb)
    categories = _rerank(category_ids, market.categories, kb.categories, "category", g, 5)
    verticals = _rerank(vertical_ids, market.verticals, kb.verticals, "vertical", g, 8)
    evidence: list[Evidence] = []
    for item in draft.evidence[:10]:
        if quoted(item.snippet, corpus):
            evidence.append(Evidence(claim=item.claim.strip()[:160], snippet=item.snippet.strip()[:300],
                                     source="website", confidence=0.7))
        else:
            g.drop(f"quote {item.snippet[:60]!r} (not on the website)")
    motions = sorted(set(draft.motions) | ({"channel"} if draft.channel != "direct" else set())) or market.motions
    top = kb.categories[categories[0].id] if categories else None
    updated = company.model_copy(update={
        "name": draft.name.strip()[:120] or company.name,
        "summary": draft.summary.strip()[:600] or company.summary,
        "offering": draft.offering.strip()[:160] or company.offering,
        "category": top.name if top else company.category,
        "category_id": top.id if top else company.category_id,
        "categories": [s.id for s in categories[:3]],
        "verticals": [s.id for s in verticals[:4]],
        "markets_served": [m.strip()[:80] for m in draft.markets_served[:6] if m.strip()] or company.markets_served,
        "channel": draft.channel,
        "motions": motions,
        "integrations": list(dict.fromkeys([*_present(draft.integrations, corpus, 30), *company.integrations]))[:30],
        "customers": list(dict.fromkeys([*_present(draft.customers, corpus, 30), *company.customers]))[:30],
        "geographies": list(dict.fromkeys([*draft.geographies, *company.geographies]))[:10],
        "evidence": [*evidence, *company.evidence],
    })
    signals = market.model_copy(update={"categories": categories, "verticals": verticals, "motions": motions,
                                        "open_world": open_world})
    icp = draft.icp
    size = {"min_employees": icp.min_employees, "max_employees": icp.max_employees}
    suggestion = ResolvedICP(
        source="inferred", confidence=round(min(0.9, max(0.0, icp.confidence)), 2),
        industries=icp.industries[:8], buyer_titles=icp.buyer_titles[:10], geographies=icp.geographies[:8],
        technologies=icp.technologies[:12],
        company_size=size if any(v is not None for v in size.values()) else {},
        evidence=[e for e in evidence if e.claim.lower().startswith(("sells to", "size", "icp"))],
    )
    return updated, signals, suggestion, g.warnings()


_ICP_FIELDS = ("industries", "buyer_titles", "geographies", "technologies", "company_size")


def merge_icp_suggestion(resolved: ResolvedICP, suggestion: ResolvedICP, provided: ICP | None) -> ResolvedICP:
    """The provided ICP wins where it speaks; the LLM's suggestion fills the rest before the catalog's."""
    speaks = {
        "industries": bool(provided and provided.industries),
        "buyer_titles": bool(provided and provided.buyer_titles),
        "geographies": bool(provided and provided.geographies),
        "technologies": bool(provided and provided.technologies),
        "company_size": bool(provided and provided.company_size
                             and (provided.company_size.min_employees or provided.company_size.max_employees)),
    }
    update: dict[str, object] = {}
    for name in _ICP_FIELDS:
        value = getattr(suggestion, name)
        if not speaks[name] and value:
            update[name] = value
    if resolved.source == "provided":
        update["inferred_fields"] = [n for n in _ICP_FIELDS if not speaks[n] and (n in update or n in
                                                                                resolved.inferred_fields)]
    else:
        update["confidence"] = max(resolved.confidence, suggestion.confidence)
    update["evidence"] = [*suggestion.evidence, *resolved.evidence]
    return resolved.model_copy(update=update)
