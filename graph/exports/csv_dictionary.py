"""A flat data dictionary: one row per data point, for a spreadsheet or a data catalog."""

from __future__ import annotations

import csv
import io

from graph.exports.base import Export, ExportFile, ObjectType, planned_fields
from graph.schemas import Blueprint

__all__ = ["COLUMNS", "export_csv"]

COLUMNS = ("key", "name", "section", "priority", "type", "options", "unit", "sources", "field_paths",
           "cadence", "method")


def export_csv(bp: Blueprint, object_type: ObjectType) -> Export:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in planned_fields(bp):
        point = item.point
        writer.writerow([
            point.key, point.name, item.section, point.priority, point.value_type,
            " | ".join(o.label for o in point.options), point.unit or "",
            " | ".join(dict.fromkeys(point.source_ids)),
            " | ".join(f"{sid}: {path}" for sid, path in point.source_fields.items()),
            item.cadence, item.method,
        ])
    return Export(format="csv", object_type=object_type, tree=False, media_type="text/csv; charset=utf-8",
                  files=(ExportFile("data_dictionary.csv", out.getvalue().encode("utf-8")),))
