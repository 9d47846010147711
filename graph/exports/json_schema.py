"""JSON Schema (draft 2020-12) of the lead record: one property per data point, usable as-is as the
``extraction_schema`` of a research agent (LangChain's data-enrichment / company-researcher agents)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from graph.exports.base import Export, ExportFile, ObjectType, PlannedField, example_value, json_bytes, planned_fields
from graph.schemas import Blueprint

__all__ = ["DIALECT", "example_record", "export_jsonschema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _typed(item: PlannedField) -> dict[str, Any]:
    point = item.point
    vt = point.value_type
    if vt == "integer":
        return {"type": "integer"}
    if vt in {"number", "currency", "percent"}:
        unit = {"currency": "USD", "percent": "percent"}.get(vt, point.unit or "")
        if point.unit and vt != "number":
            unit = f"{unit} {point.unit}"
        return {"type": "number", "unit": unit} if unit else {"type": "number"}
    if vt == "date":
        return {"type": "string", "format": "date"}
    if vt == "boolean":
        return {"type": "boolean"}
    if vt == "url":
        return {"type": "string", "format": "uri"}
    if vt == "enum":
        return {"type": "string", "enum": [o.value for o in point.options],
                "x-options": [o.model_dump() for o in point.options]}
    if vt == "multi_enum":
        return {"type": "array", "uniqueItems": True,
                "items": {"type": "string", "enum": [o.value for o in point.options]},
                "x-options": [o.model_dump() for o in point.options]}
    return {"type": "string"}


def _property(item: PlannedField) -> dict[str, Any]:
    point = item.point
    prop: dict[str, Any] = {"title": point.name, "description": point.description, **_typed(item)}
    value = example_value(point)
    if value is not None:
        prop["examples"] = [value]
    prop["x-priority"] = point.priority
    prop["x-section"] = item.section
    prop["x-sources"] = [{"source": sid, "field": point.source_fields.get(sid)}
                         for sid in dict.fromkeys(point.source_ids)]
    return prop


def example_record(bp: Blueprint) -> dict[str, Any]:
    """A lead record built from the blueprint's own examples (what the schema must accept)."""
    record: dict[str, Any] = {"domain": "lead.example", "company_name": "Example Lead Co"}
    for item in planned_fields(bp):
        value = example_value(item.point)
        if value is not None:
            record[item.key] = value
    return record


def export_jsonschema(bp: Blueprint, object_type: ObjectType) -> Export:
    who = bp.company.name or bp.website
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"urn:enrichment-blueprint:{bp.blueprint_id}:{object_type}",
        "title": f"Lead record ({object_type}) for {who}",
        "description": f"What {who} should know about each lead, from enrichment blueprint {bp.blueprint_id}.",
        "type": "object",
        "properties": {
            "domain": {"type": "string", "format": "hostname", "description": "The lead's web domain."},
            "company_name": {"type": "string", "description": "The lead's company name."},
            **{item.key: _property(item) for item in planned_fields(bp)},
        },
        "required": ["domain"],
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(schema)  # a bug here must not reach an agent as a broken schema
    return Export(format="jsonschema", object_type=object_type, tree=False, media_type="application/schema+json",
                  files=(ExportFile("schema.json", json_bytes(schema)),), document=schema)
