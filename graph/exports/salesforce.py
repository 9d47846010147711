"""Salesforce: custom fields in SFDX source format plus a ``manifest/package.xml`` to deploy them
(``sf project deploy start --manifest manifest/package.xml``)."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from graph.exports.base import Export, ExportFile, ObjectType, PlannedField, planned_fields, short, unique_labels
from graph.schemas import Blueprint

__all__ = ["API_VERSION", "METADATA_NS", "OBJECTS", "api_name", "export_salesforce"]

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
API_VERSION = "62.0"
OBJECTS: dict[str, str] = {"companies": "Account", "contacts": "Contact"}
NAME_MAX, LABEL_MAX, DESCRIPTION_MAX, HELP_MAX = 40, 40, 1000, 510
TEXT_MAX = 255
SHORT_TEXT = 100  # a text point whose example fits here gets a Text(255) field, longer ones a long text area


def api_name(key: str, taken: set[str]) -> str:
    """A Salesforce API name (without ``__c``) for ``key``: starts with a letter, letters/digits and
    single underscores, no trailing underscore, at most 40 characters, unique within ``taken``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key) if w]
    name = "_".join(w[:1].upper() + w[1:] for w in words) or "Field"
    if not name[0].isalpha():
        name = f"F_{name}"
    name = name[:NAME_MAX].rstrip("_")
    base, n = name, 2
    while name.casefold() in taken:
        suffix = f"_{n}"
        name = base[: NAME_MAX - len(suffix)].rstrip("_") + suffix
        n += 1
    taken.add(name.casefold())
    return name


def _el(parent: ET.Element, tag: str, text: str | int | bool) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


def _type(field: ET.Element, item: PlannedField) -> None:
    point = item.point
    vt = point.value_type
    if vt in {"integer", "number", "currency", "percent"}:
        precision, scale = {"integer": (18, 0), "number": (18, 2), "currency": (18, 2), "percent": (5, 2)}[vt]
        _el(field, "type", {"currency": "Currency", "percent": "Percent"}.get(vt, "Number"))
        _el(field, "precision", precision)
        _el(field, "scale", scale)
    elif vt == "date":
        _el(field, "type", "Date")
    elif vt == "boolean":
        _el(field, "type", "Checkbox")
        _el(field, "defaultValue", False)
    elif vt == "url":
        _el(field, "type", "Url")
    elif vt in {"enum", "multi_enum"}:
        _el(field, "type", "Picklist" if vt == "enum" else "MultiselectPicklist")
        if vt == "multi_enum":
            _el(field, "visibleLines", 4)
        value_set = ET.SubElement(field, "valueSet")
        _el(value_set, "restricted", True)
        definition = ET.SubElement(value_set, "valueSetDefinition")
        _el(definition, "sorted", False)
        for option in point.options:
            value = ET.SubElement(definition, "value")
            _el(value, "fullName", option.value)
            _el(value, "default", False)
            _el(value, "label", option.label)
    elif len(point.example) <= SHORT_TEXT:
        _el(field, "type", "Text")
        _el(field, "length", TEXT_MAX)
    else:
        _el(field, "type", "LongTextArea")
        _el(field, "length", 32768)
        _el(field, "visibleLines", 3)


def _field_xml(item: PlannedField, name: str, label: str) -> bytes:
    point = item.point
    field = ET.Element("CustomField", xmlns=METADATA_NS)
    _el(field, "fullName", f"{name}__c")
    _el(field, "description", short(f"{point.description} (priority: {point.priority}; sources: "
                                    f"{', '.join(dict.fromkeys(point.source_ids)) or 'none'})", DESCRIPTION_MAX))
    _el(field, "externalId", False)
    _el(field, "inlineHelpText", short(point.why, HELP_MAX))
    _el(field, "label", label)
    if point.value_type != "boolean":
        _el(field, "required", False)
    _el(field, "trackHistory", False)
    _type(field, item)
    # the order Salesforce itself writes (fullName, then alphabetical): diffs against a retrieve stay clean
    children = sorted(field, key=lambda c: (c.tag != "fullName", c.tag))
    field[:] = children
    ET.indent(field, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(field, encoding="utf-8") + b"\n"


def _package(members: list[str]) -> bytes:
    package = ET.Element("Package", xmlns=METADATA_NS)
    types = ET.SubElement(package, "types")
    for member in sorted(members):
        _el(types, "members", member)
    _el(types, "name", "CustomField")
    _el(package, "version", API_VERSION)
    ET.indent(package, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(package, encoding="utf-8") + b"\n"


def export_salesforce(bp: Blueprint, object_type: ObjectType) -> Export:
    sobject = OBJECTS[object_type]
    taken: set[str] = set()
    files: list[ExportFile] = []
    members: list[str] = []
    items = list(planned_fields(bp))
    labels = unique_labels([short(item.point.name, LABEL_MAX) for item in items], LABEL_MAX)
    for item, label in zip(items, labels, strict=True):
        name = api_name(item.key, taken)
        files.append(ExportFile(f"force-app/main/default/objects/{sobject}/fields/{name}__c.field-meta.xml",
                                _field_xml(item, name, label)))
        members.append(f"{sobject}.{name}__c")
    files.append(ExportFile("manifest/package.xml", _package(members)))
    return Export(format="salesforce", object_type=object_type, tree=True, media_type="application/zip",
                  files=tuple(files))
