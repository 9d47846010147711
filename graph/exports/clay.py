"""Clay: a table to import (``table.csv``: the header row) and a column guide (``columns.json`` and
``columns.md``) saying, per column, which enrichment to run in waterfall order, and for web-research
columns the prompt an AI web agent (Claygent) should run and the output format it must return.

Clay tables cannot be created through an API, so the export is what a person imports and follows."""

from __future__ import annotations

import csv
import io
from typing import Any

from graph.exports.base import Export, ExportFile, ObjectType, PlannedField, example_value, json_bytes, planned_fields
from graph.schemas import Blueprint

__all__ = ["IDENTITY_COLUMNS", "RESEARCH_METHODS", "expected_output", "export_clay"]

IDENTITY_COLUMNS = ("Domain", "Company Name")
RESEARCH_METHODS = frozenset({"web_scrape", "llm_extraction", "manual_research"})


def expected_output(item: PlannedField) -> str:
    """The answer format a column expects, in words an agent follows."""
    point = item.point
    labels = ", ".join(o.label for o in point.options)
    unit = f" ({point.unit})" if point.unit else ""
    shape = {
        "integer": f"A whole number{unit}, digits only",
        "number": f"A number{unit}",
        "currency": f"A USD amount{unit} such as $62M or $14,300",
        "percent": "A percentage such as 38% or +9%",
        "date": "An ISO date, YYYY-MM-DD",
        "boolean": "Yes or No",
        "enum": f"Exactly one of: {labels}",
        "multi_enum": f"A comma-separated list of any of: {labels}",
        "url": "One http(s) URL",
        "text": "A short sentence",
    }[point.value_type]
    example = f"; e.g. {point.example}" if example_value(point) is not None else ""
    return f"{shape}{example}. 'Not found' when nothing reliable is found."


def _is_research(item: PlannedField) -> bool:
    """A column an AI web agent fills: planned as web/LLM/manual research, or with no provider field
    path at all (no enrichment returns it as a value, so someone has to look it up)."""
    return item.method in RESEARCH_METHODS or not item.source_fields


def _prompt(item: PlannedField) -> str:
    point = item.point
    return (f"For the company at {{{{Domain}}}} ({{{{Company Name}}}}), find: {point.name}. {point.description} "
            f"Look at the company's own website, job posts, press releases and public registries; cite the URL "
            f"you used. Answer format: {expected_output(item)}")


def _column(item: PlannedField) -> dict[str, Any]:
    point = item.point
    column: dict[str, Any] = {
        "column": point.name, "key": point.key, "section": item.section, "priority": point.priority,
        "value_type": point.value_type, "unit": point.unit,
        "options": [o.label for o in point.options],
        "enrichment_waterfall": [{"provider": sid, "field": item.source_fields.get(sid)}
                                 for sid in item.provider_order],
        "expected_output": expected_output(item),
    }
    if _is_research(item):
        column["research_prompt"] = _prompt(item)
    return column


def _markdown(bp: Blueprint, columns: list[dict[str, Any]]) -> str:
    lines = [f"# Clay table guide — {bp.company.name or bp.website}", "",
             "Import `table.csv` as a new Clay table (its header row is the columns below), add your leads' "
             "domains and company names, then add one enrichment per column in the order given.", ""]
    for col in columns:
        unit = f" ({col['unit']})" if col["unit"] else ""
        lines += [f"## {col['column']} (`{col['key']}`, {col['priority']})", "",
                  f"- Type: {col['value_type']}{unit}", f"- Expected output: {col['expected_output']}"]
        steps = [f"{s['provider']}" + (f" → `{s['field']}`" if s["field"] else "") for s in col["enrichment_waterfall"]]
        if steps:
            lines.append(f"- Waterfall: {' ⇢ '.join(steps)}")
        if "research_prompt" in col:
            lines.append(f"- AI web research prompt: {col['research_prompt']}")
        lines.append("")
    return "\n".join(lines)


def _unique_names(columns: list[dict[str, Any]]) -> None:
    """Clay column names are unique within a table (the identity columns included)."""
    taken = {name.casefold() for name in IDENTITY_COLUMNS}
    for col in columns:
        name, n = col["column"], 2
        while name.casefold() in taken:
            name, n = f"{col['column']} ({n})", n + 1
        taken.add(name.casefold())
        col["column"] = name


def export_clay(bp: Blueprint, object_type: ObjectType) -> Export:
    columns = [_column(item) for item in planned_fields(bp)]
    _unique_names(columns)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([*IDENTITY_COLUMNS, *(c["column"] for c in columns)])
    files = (ExportFile("table.csv", header.getvalue().encode("utf-8")),
             ExportFile("columns.json", json_bytes({"identity_columns": list(IDENTITY_COLUMNS), "columns": columns})),
             ExportFile("columns.md", _markdown(bp, columns).encode("utf-8")))
    return Export(format="clay", object_type=object_type, tree=True, media_type="application/zip", files=files)
