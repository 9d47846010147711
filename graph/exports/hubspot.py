"""HubSpot: a property group and the body of ``POST /crm/v3/properties/{objectType}/batch/create``.

Names are the data point keys prefixed ``eb_`` so they never collide with HubSpot's default
properties (``founded_year``, ``annualrevenue``...); type and field type follow HubSpot's pairing rules.
"""

from __future__ import annotations

from typing import Any

from graph.exports.base import (
    Export,
    ExportFile,
    ObjectType,
    PlannedField,
    json_bytes,
    planned_fields,
    short,
    unique_labels,
)
from graph.schemas import Blueprint

__all__ = ["GROUP_NAME", "NAME_PREFIX", "export_hubspot", "hubspot_property"]

GROUP_NAME = "enrichment_blueprint"
NAME_PREFIX = "eb_"
LABEL_MAX = 100
DESCRIPTION_MAX = 1000

# value type -> (HubSpot type, fieldType)
_TYPES: dict[str, tuple[str, str]] = {
    "integer": ("number", "number"),
    "number": ("number", "number"),
    "currency": ("number", "number"),
    "percent": ("number", "number"),
    "date": ("date", "date"),
    "boolean": ("bool", "booleancheckbox"),
    "enum": ("enumeration", "select"),
    "multi_enum": ("enumeration", "checkbox"),
    "url": ("string", "text"),
    "text": ("string", "textarea"),
}


def _description(item: PlannedField) -> str:
    point = item.point
    unit = " ".join(filter(None, ["USD" if point.value_type == "currency" else "", point.unit or ""]))
    unit = f" Unit: {unit}." if unit else ""
    sources = f" Sources: {', '.join(dict.fromkeys(point.source_ids))}." if point.source_ids else ""
    return short(f"{point.description}{unit}{sources} Priority: {point.priority}.", DESCRIPTION_MAX)


def hubspot_property(item: PlannedField, group: str = GROUP_NAME) -> dict[str, Any]:
    point = item.point
    kind, field_type = _TYPES[point.value_type]
    prop: dict[str, Any] = {
        "name": f"{NAME_PREFIX}{point.key}",
        "label": short(point.name, LABEL_MAX),
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
        "description": _description(item),
    }
    if kind == "enumeration":
        prop["options"] = [{"label": o.label, "value": o.value, "displayOrder": i, "hidden": False}
                           for i, o in enumerate(point.options)]
    elif kind == "bool":
        prop["options"] = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                           {"label": "No", "value": "false", "displayOrder": 1, "hidden": False}]
    return prop


def export_hubspot(bp: Blueprint, object_type: ObjectType) -> Export:
    inputs = [hubspot_property(item) for item in planned_fields(bp)]
    for prop, label in zip(inputs, unique_labels([p["label"] for p in inputs], LABEL_MAX), strict=True):
        prop["label"] = label
    document = {
        "object_type": object_type,
        "group": {"name": GROUP_NAME, "label": "Enrichment blueprint", "displayOrder": -1},
        "batch_create": {"inputs": inputs},
    }
    return Export(format="hubspot", object_type=object_type, tree=False, media_type="application/json",
                  files=(ExportFile("hubspot.json", json_bytes(document)),), document=document)
