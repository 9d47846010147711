"""Compile a blueprint into the tools a revenue team runs: one module, one registry, reached from the
CLI (``blueprint export``), Python (``Blueprint.export``) and HTTP (``GET …/{id}/exports/{format}``).

Each target lives in its own file and is a function ``(blueprint, object_type) -> Export``."""

from __future__ import annotations

from collections.abc import Callable

from graph.exports.base import OBJECT_TYPES, Export, ExportFile, ObjectType
from graph.exports.clay import export_clay
from graph.exports.csv_dictionary import export_csv
from graph.exports.hubspot import export_hubspot
from graph.exports.json_schema import export_jsonschema
from graph.exports.salesforce import export_salesforce
from graph.schemas import Blueprint
from tools.errors import InvalidRequest

__all__ = ["FORMATS", "OBJECT_TYPES", "Export", "ExportFile", "ObjectType", "export_blueprint"]

Exporter = Callable[[Blueprint, ObjectType], Export]

FORMATS: dict[str, Exporter] = {
    "hubspot": export_hubspot,
    "salesforce": export_salesforce,
    "jsonschema": export_jsonschema,
    "clay": export_clay,
    "csv": export_csv,
}


def export_blueprint(blueprint: Blueprint, fmt: str, *, object_type: str = "companies") -> Export:
    """``blueprint`` compiled for ``fmt`` (one of :data:`FORMATS`) on ``object_type`` records."""
    exporter = FORMATS.get(fmt)
    if exporter is None:
        raise InvalidRequest(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.",
                             details={"format": fmt, "formats": list(FORMATS)})
    if object_type not in OBJECT_TYPES:
        raise InvalidRequest(f"Unknown object {object_type!r}; choose companies or contacts.",
                             details={"object": object_type})
    return exporter(blueprint, object_type)
