"""Consistency checks of a merged knowledge base, each problem located in the pack that caused it.

* every reference (a data point's sources and markets, a market's data points, a parent vertical...)
  points at an entry that exists;
* every API source reference names a field path that the provider's response really has;
* the example of each data point a team's pack defines fits its value type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from graph.knowledge.pack_schema import KINDS, SINGULAR, Kind
from graph.knowledge.packs import Loose
from graph.knowledge.problems import Location, Problem, Site, did_you_mean
from graph.knowledge.provider_fields import closest_fields, known_fields

if TYPE_CHECKING:
    from graph.knowledge.base import KnowledgeBase

__all__ = ["check_examples", "check_fields", "check_loose", "check_references", "example_problem"]

Sub = tuple[str | int, ...]
_LIST_REFS: dict[str, list[tuple[str, Kind]]] = {
    "verticals": [("data_points", "data_points"), ("exclude_data_points", "data_points")],
    "categories": [("data_points", "data_points"), ("exclude_data_points", "data_points"),
                   ("typical_verticals", "verticals"), ("own_verticals", "verticals"),
                   ("buyer_verticals", "verticals")],
    "sources": [("verticals", "verticals")],
}


def references(kind: str, item: Any) -> Iterator[tuple[Sub, Kind, str]]:
    """(where in the entry, the kind it points at, the id) for each reference an entry or extension holds."""
    if kind == "data_points":
        for i, ref in enumerate(getattr(item, "sources", None) or []):
            # a bare id (``sources: [apollo]``) in an entry that failed validation is still checked
            source = ref if isinstance(ref, str) else getattr(ref, "source", None)
            if isinstance(source, str):
                yield ("sources", i, "source"), "sources", source
        applies = getattr(item, "applies_to", None)
        if applies is not None:
            for name in ("verticals", "categories"):
                target: Kind = name
                for i, value in enumerate(getattr(applies, name, None) or []):
                    yield ("applies_to", name, i), target, value
        return
    for name, target in _LIST_REFS[kind]:
        for i, value in enumerate(getattr(item, name, None) or []):
            yield (name, i), target, value
    parent = getattr(item, "parent", None)
    if kind == "verticals" and parent:
        yield ("parent",), "verticals", parent


def _unindexed(sub: Sub) -> Sub:
    return tuple(p for p in sub if not isinstance(p, int))


def _locate(kb: KnowledgeBase, kind: str, ident: str, sub: Sub, value: str) -> Location:
    """The line of the pack entry that brought in ``value`` at ``sub`` (the latest such contribution)."""
    history = kb.history.get((kind, ident), [])
    for entry in reversed(history):
        for at, _, v in references(kind, entry.item):
            if v == value and _unindexed(at) == _unindexed(sub):
                return entry.site.at(*at)
    return history[-1].site.at() if history else Location("knowledge")


def check_references(kb: KnowledgeBase, broken: set[tuple[Kind, str]]) -> list[Problem]:
    problems: list[Problem] = []
    for kind in KINDS:
        table: dict[str, Any] = getattr(kb, kind)
        for ident, item in table.items():
            for sub, target, value in references(kind, item):
                targets: dict[str, Any] = getattr(kb, target)
                if value in targets or (target, value) in broken:
                    continue
                excluded = kb.excluded.get((target, value))
                hint = (f"it is excluded ({excluded.reason}, {excluded.location}); remove the reference"
                        if excluded else did_you_mean(value, targets)
                        or f"define a {SINGULAR[target]} {value!r} in a pack, or remove the reference")
                field = ".".join(str(p) for p in _unindexed(sub))
                problems.append(Problem(_locate(kb, kind, ident, sub, value),
                                        f"{SINGULAR[kind]} {ident!r}: unknown {SINGULAR[target]} {value!r} ({field})",
                                        hint))
    return problems


def _locate_ref(kb: KnowledgeBase, key: str, ref: Any) -> Location:
    history = kb.history.get(("data_points", key), [])
    for entry in reversed(history):
        for j, own in enumerate(getattr(entry.item, "sources", None) or []):
            if own == ref:
                return entry.site.at("sources", j, "field" if ref.field else "source")
    return history[-1].site.at() if history else Location("knowledge")


def check_fields(kb: KnowledgeBase) -> list[Problem]:
    """Every reference to an API source names a field path its response has."""
    problems: list[Problem] = []
    for key, dp in kb.data_points.items():
        for ref in dp.sources:
            fields = known_fields(ref.source)
            if fields is None:
                continue
            where = _locate_ref(kb, key, ref)
            if not ref.field:
                sample = ", ".join(sorted(fields)[:3])
                problems.append(Problem(where, f"data point {key!r}: source {ref.source!r} is an API and needs "
                                               "a field path", f"add `field:` with its path, e.g. {sample}"))
            elif ref.field not in fields:
                close = closest_fields(ref.source, ref.field)
                hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close else
                        f"use a path of {ref.source}'s response (dotted keys, `[]` for list items)")
                problems.append(Problem(where, f"data point {key!r}: {ref.source} has no field {ref.field!r}", hint))
    return problems


_NUMERIC = {"integer", "number", "currency", "currency_usd", "percent", "range"}
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE = re.compile(rf"\b(1[89]|20)\d\d\b|\b({_MONTHS})[a-z]*\b|\bq[1-4]\b", re.IGNORECASE)
_BOOLEAN = re.compile(r"^(yes|no|true|false)\b", re.IGNORECASE)
_URL = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.[a-z]{2,}(/|\b)", re.IGNORECASE)


def example_problem(value_type: str, example: str, options: list[str] | None = None) -> str | None:
    """Why ``example`` does not fit ``value_type`` (None when it does). Examples are prose such as
    '14 shops across Texas', so the test is what the type needs to find in it, not a strict parse."""
    text = example.strip()
    if not text:
        return "the example is empty"
    if value_type in _NUMERIC and not re.search(r"\d", text):
        article = "an" if value_type[0] in "aeiou" else "a"
        return f"{article} {value_type} example needs a number, got {text!r}"
    if value_type == "date" and not _DATE.search(text):
        return f"a date example needs a date (2026-03-04, March 2026), got {text!r}"
    if value_type == "boolean" and not _BOOLEAN.search(text):
        return f"a boolean example starts with yes/no or true/false, got {text!r}"
    if value_type == "url" and not _URL.search(text):
        return f"a url example needs a URL or domain, got {text!r}"
    if value_type in {"enum", "multi_enum"} and options:
        lowered = text.lower()
        if not any(option.lower() in lowered for option in options):
            return f"a {value_type} example names one of its options ({', '.join(options)}), got {text!r}"
    return None


def _option_names(spec: Any) -> list[str]:
    out: list[str] = []
    for option in getattr(spec, "options", None) or []:
        for name in ("value", "label"):
            value = getattr(option, name, None) if not isinstance(option, str) else option
            if isinstance(value, str) and value not in out:
                out.append(value)
    return out


def check_examples(kb: KnowledgeBase) -> list[Problem]:
    """The examples of data points defined by a team's pack (the built-in ones are reviewed by hand)."""
    problems: list[Problem] = []
    for (kind, key), history in kb.history.items():
        if kind != "data_points":
            continue
        for entry in history:
            if entry.builtin or entry.action == "extend":
                continue
            spec = entry.item
            reason = example_problem(str(getattr(spec, "value_type", "")), str(getattr(spec, "example", "")),
                                     _option_names(spec))
            if reason:
                problems.append(Problem(entry.site.at("example"), f"data point {key!r}: {reason}",
                                        "write an example value of that type, or change `value_type`"))
    return problems


def check_loose(kb: KnowledgeBase, loose: list[tuple[Kind, str, Any, Site]],
                broken: set[tuple[Kind, str]]) -> list[Problem]:
    """References, field paths and example of the entries that failed validation (read as they are)."""
    problems: list[Problem] = []
    for kind, ident, item, site in loose:
        label = SINGULAR[kind]
        for sub, target, value in references(kind, item):
            targets: dict[str, Any] = getattr(kb, target)
            if isinstance(value, str) and value not in targets and (target, value) not in broken:
                hint = did_you_mean(value, targets) or f"define a {SINGULAR[target]} {value!r}, or remove it"
                field = ".".join(str(p) for p in _unindexed(sub))
                problems.append(Problem(site.at(*sub), f"{label} {ident!r}: unknown {SINGULAR[target]} {value!r} "
                                                       f"({field})", hint))
        if kind != "data_points":
            continue
        for j, ref in enumerate(item.sources or []):
            fields = known_fields(str(ref.source)) if isinstance(ref, Loose) else None
            if fields and isinstance(ref.field, str) and ref.field not in fields:
                close = closest_fields(str(ref.source), ref.field)
                problems.append(Problem(site.at("sources", j, "field"),
                                        f"{label} {ident!r}: {ref.source} has no field {ref.field!r}",
                                        f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                                        else "use a path of the provider's response"))
        if isinstance(item.value_type, str) and isinstance(item.example, str):
            reason = example_problem(item.value_type, item.example)
            if reason:
                problems.append(Problem(site.at("example"), f"{label} {ident!r}: {reason}",
                                        "write an example value of that type, or change `value_type`"))
    return problems
