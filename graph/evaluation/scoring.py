"""Scoring blueprints against rubric cases, and the report of a run.

The rule is the rubric format's (``evals/README.md`` states it), implemented here and kept in agreement
with that format's reference scorer ``score.py`` when one is at hand (``BLUEPRINT_SHARED_EVAL``, see
``tests/unit/test_evaluation.py``): a rubric holds two ICP checks and synonym groups per
section; a group is hit when one of its phrases occurs in the normalised text of one item of that
section; ``score = max(0, (hits - must_not groups hit) / (2 + groups))``. One quirk is kept on purpose
so numbers agree with the reference: a section given as an object (our ``{"data_points": [...]}``)
is read as one item holding every string inside it (``example``, ``evidence``... count too).
``strict=True`` unwraps it and reads each data point like a flat list item: its name and description
fields (``name``, ``description``, ``why``... as the reference reads list items) only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SECTIONS", "CaseScore", "EvalCase", "EvalReport", "SectionScore", "generic_blueprint", "load_cases",
    "normalize_phrase", "normalize_text", "score_blueprint",
]

SECTIONS = ("firmographic", "technographic", "personalization", "sources")
DATA_POINT_SECTIONS = SECTIONS[:3]

# Key spellings the rubric accepts for a section, in the order they are looked up.
_ALIASES: dict[str, tuple[str, ...]] = {
    "icp": ("icp", "ideal_customer_profile", "used_icp", "inferred_icp"),
    "firmographic": ("firmographic", "firmographics", "firmographic_data_points", "firmographic_datapoints"),
    "technographic": ("technographic", "technographics", "technographic_data_points",
                      "technographic_datapoints"),
    "personalization": ("personalization", "personalization_data_points", "personalization_datapoints",
                        "personalization_signals", "triggers", "signals"),
    "sources": ("sources", "source_recommendations", "data_sources", "recommended_sources"),
}
_TEXT_KEYS = ("name", "data_point", "datapoint", "field", "title", "label", "signal",
              "description", "definition", "details", "detail", "why", "rationale")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                             "\u2013": "-", "\u2014": "-"})
_PUNCTUATION = re.compile(r"[][(){},;:!?\"|*_`<>/\\]")
_SENTENCE_DOT = re.compile(r"\.(?=\s|$)")  # a dot ending a word, not the one inside "doxy.me"
_SPACES = re.compile(r"\s+")


def _light(text: str) -> str:
    text = _PUNCTUATION.sub(" ", text.lower().translate(_TYPOGRAPHY))
    return _SPACES.sub(" ", _SENTENCE_DOT.sub(" ", text))


def normalize_text(text: str) -> str:
    """Text to search in: normalised and padded, so a phrase's edge space matches a word boundary."""
    return f" {_light(text).strip()} "


def normalize_phrase(phrase: str) -> str:
    """A rubric phrase: normalised the same way, its leading/trailing space kept."""
    return _light(phrase)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _item_text(item: object, *, every_string: bool) -> str:
    if isinstance(item, Mapping) and not every_string:
        parts = [v for k in _TEXT_KEYS if isinstance(v := item.get(k), str)]
        return normalize_text(" ".join(parts or _strings(item)))  # unknown shape: all its strings
    return normalize_text(" ".join(_strings(item)))


def _section(blueprint: Mapping[str, Any], name: str) -> Any:
    for key in _ALIASES[name]:
        if blueprint.get(key) is not None:
            return blueprint[key]
    nested = blueprint.get("data_points")
    if isinstance(nested, Mapping):
        return next((nested[key] for key in _ALIASES[name] if key in nested), None)
    return None


def _items(section: Any, *, strict: bool) -> list[Any]:
    if strict and isinstance(section, Mapping) and isinstance(section.get("data_points"), list):
        return list(section["data_points"])
    if isinstance(section, Mapping):  # {"Current POS": "..."} or {"data_points": [...]}: one item per key
        return [{"name": str(k), "description": v if isinstance(v, str) else " ".join(_strings(v))}
                for k, v in section.items()]
    return list(section) if isinstance(section, list) else []


def _hit(group: Sequence[str], texts: Sequence[str]) -> bool:
    phrases = [p for p in map(normalize_phrase, group) if p]
    return any(p in t for t in texts for p in phrases)


# ───────────────────────────── cases and scores ─────────────────────────────


@dataclass(frozen=True)
class EvalCase:
    id: str
    site: str
    url: str
    icp: dict[str, Any] | None
    expect: dict[str, Any]


def load_cases(path: Path) -> list[EvalCase]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [EvalCase(c["id"], c["site"], c["url"], c.get("icp"), c["expect"]) for c in raw]


@dataclass
class SectionScore:
    hit: int
    total: int
    missed: list[list[str]] = field(default_factory=list)


@dataclass
class CaseScore:
    id: str
    score: float
    satisfied: int
    total: int
    icp_industries: bool
    icp_buyer_titles: bool
    sections: dict[str, SectionScore]
    must_not_hits: list[list[str]]
    missing_output: bool = False
    error: str | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "sections"}
        out["sections"] = {k: vars(v) for k, v in self.sections.items()}
        return out


def score_blueprint(
    case: EvalCase, blueprint: Mapping[str, Any] | None, *, strict: bool = False
) -> CaseScore:
    """Score one blueprint (any of the accepted shapes) against one case's rubric; ``None`` scores 0."""
    expect, bp = case.expect, blueprint or {}
    icp = _section(bp, "icp")
    if not isinstance(icp, Mapping) or not icp:
        icp = case.icp or {}  # no ICP in the output: the one the user gave is what was used
    industries = icp.get("industries") or icp.get("industry") or []
    titles = icp.get("buyer_titles") or icp.get("buyer_personas") or icp.get("titles") or []
    ind_ok = _hit(expect["icp_industries_any"], [normalize_text(s) for s in _strings(industries)])
    title_ok = _hit(expect["buyer_titles_any"], [normalize_text(s) for s in _strings(titles)])
    satisfied, total = int(ind_ok) + int(title_ok), 2
    sections: dict[str, SectionScore] = {}
    point_texts: list[str] = []
    for name in SECTIONS:
        texts = [_item_text(it, every_string=name == "sources")
                 for it in _items(_section(bp, name) or [], strict=strict)]
        if name in DATA_POINT_SECTIONS:
            point_texts += texts
        groups = expect.get(name, [])
        hits = [_hit(g, texts) for g in groups]
        sections[name] = SectionScore(sum(hits), len(groups), [g for g, h in zip(groups, hits, strict=True)
                                                                if not h])
        satisfied, total = satisfied + sum(hits), total + len(groups)
    bad = [g for g in expect.get("must_not", []) if _hit(g, point_texts)]
    score = 0.0 if blueprint is None else max(0.0, (satisfied - len(bad)) / total)
    return CaseScore(case.id, score, satisfied, total, ind_ok, title_ok, sections, bad,
                     missing_output=blueprint is None)


@dataclass
class EvalReport:
    cases: list[CaseScore]
    skipped: list[str] = field(default_factory=list)  # cases left out: their page file is missing

    @property
    def mean(self) -> float:
        return sum(c.score for c in self.cases) / len(self.cases) if self.cases else 0.0

    def section_recall(self) -> dict[str, float]:
        """Hits over groups per section across all cases (``icp`` counts the two ICP checks)."""
        out = {"icp": sum(c.icp_industries + c.icp_buyer_titles for c in self.cases) / (2 * len(self.cases))
               if self.cases else 0.0}
        for name in SECTIONS:
            total = sum(c.sections[name].total for c in self.cases)
            out[name] = sum(c.sections[name].hit for c in self.cases) / total if total else 0.0
        return out

    @property
    def must_not_hits(self) -> int:
        return sum(len(c.must_not_hits) for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "section_recall": self.section_recall(),
                "must_not_hits": self.must_not_hits, "cases": [c.to_dict() for c in self.cases],
                "skipped": list(self.skipped)}

    def to_text(self, *, verbose: bool = False) -> str:
        width = max([14, *(len(c.id) + 1 for c in self.cases)])
        lines = [f"{'case':{width}s} score  icp  firmo  techno  person  sources  must_not"]
        for c in self.cases:
            cells = "  ".join(f"{c.sections[k].hit}/{c.sections[k].total}".ljust(6) for k in SECTIONS)
            note = f"   ({c.error or 'no output'})" if c.missing_output else ""
            lines.append(f"{c.id:{width}s} {c.score:.2f}  {c.icp_industries + c.icp_buyer_titles}/2  "
                         f"{cells}  {len(c.must_not_hits)}{note}")
            if verbose:
                lines += [f"    missed {k}: {g[:4]}" for k in SECTIONS for g in c.sections[k].missed]
                lines += [f"    must_not hit: {g[:3]}" for g in c.must_not_hits]
        recall = "  ".join(f"{k} {v:.2f}" for k, v in self.section_recall().items())
        lines += ["", f"section recall: {recall}  (must_not hits: {self.must_not_hits})",
                  f"mean score: {self.mean:.3f} over {len(self.cases)} cases"]
        if self.skipped:
            lines.append(f"skipped (no page file): {', '.join(self.skipped)}")
        return "\n".join(lines)


def generic_blueprint(icp: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The floor: what a blueprint says when it ignores who the seller sells to.

    It echoes a user ICP when given (as any engine would) and otherwise infers none, so it also works
    as a stand-in engine: ``run_eval(..., generate=lambda url, icp: ...generic_blueprint(icp))``.
    """
    def points(*pairs: tuple[str, str]) -> dict[str, Any]:
        return {"data_points": [{"key": n.lower().replace(" ", "_"), "name": n, "description": d}
                                for n, d in pairs]}
    icp_out = {"source": "provided", **icp} if icp else {"source": "inferred", "industries": [],
                                                          "buyer_titles": []}
    return {
        "schema_version": "1", "blueprint_id": "generic-floor", "icp": icp_out,
        "firmographic": points(("Industry", "The company's primary industry"),
                               ("Employee headcount", "Number of employees"),
                               ("Annual revenue", "Estimated annual revenue in USD"),
                               ("Headquarters location", "City and country of the head office")),
        "technographic": points(("CRM", "Which CRM the company uses")),
        "personalization": points(("Recent funding", "Latest funding round and amount"),
                                  ("Hiring trends", "Open job count and headcount growth")),
        "sources": [{"id": "linkedin", "name": "LinkedIn", "kind": "website"},
                    {"id": "zoominfo", "name": "ZoomInfo", "kind": "api"}],
    }
