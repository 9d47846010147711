"""Every export of every eval blueprint obeys its target's rules (issue 16, item 2): the checks below
restate HubSpot's, Salesforce's, JSON Schema's, Clay's and the dictionary's rules, not the exporter's
own choices."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft202012Validator

from graph.exports import FORMATS, export_blueprint
from graph.exports.json_schema import example_record
from graph.schemas import VALUE_TYPES, Blueprint, DataPoint, Section, ValueOption
from tests.support.eval_blueprints import eval_blueprints
from tests.support.hubspot_standin import HUBSPOT_FIELD_TYPES, HUBSPOT_NAME
from tools.errors import InvalidRequest

NS = "{http://soap.sforce.com/2006/04/metadata}"
SF_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SF_TYPES = {"Text", "LongTextArea", "Number", "Currency", "Percent", "Checkbox", "Date", "DateTime", "Url",
            "Picklist", "MultiselectPicklist"}


@pytest.fixture(scope="module")
def blueprints() -> dict[str, Blueprint]:
    return eval_blueprints()


def test_every_eval_set_is_covered(blueprints: dict[str, Blueprint]) -> None:
    assert {key.split("/")[0] for key in blueprints} == {"evals", "holdout", "holdout2"}
    assert len(blueprints) >= 40
    types = {dp.value_type for bp in blueprints.values() for dp in bp.data_points()}
    assert {"integer", "currency", "enum", "multi_enum", "text"} <= types  # the rules below meet real variety


def _hubspot_rules(document: dict, bp: Blueprint, object_type: str) -> None:
    assert document["object_type"] == object_type
    group = document["group"]
    assert HUBSPOT_NAME.match(group["name"]) and group["label"] and isinstance(group["displayOrder"], int)
    inputs = document["batch_create"]["inputs"]
    assert set(document["batch_create"]) == {"inputs"}
    assert len(inputs) == len(bp.data_points())
    names = [p["name"] for p in inputs]
    assert len(set(names)) == len(names)
    labels = [p["label"].casefold() for p in inputs]
    assert len(set(labels)) == len(labels)  # HubSpot refuses two properties with one label
    for prop in inputs:
        assert set(prop) <= {"name", "label", "type", "fieldType", "groupName", "description", "options"}
        assert HUBSPOT_NAME.match(prop["name"]), prop["name"]
        assert prop["label"].strip() and prop["groupName"] == group["name"]
        assert prop["type"] in HUBSPOT_FIELD_TYPES and prop["fieldType"] in HUBSPOT_FIELD_TYPES[prop["type"]]
        if prop["type"] in {"enumeration", "bool"}:
            options = prop["options"]
            assert options, prop["name"]
            values = [o["value"] for o in options]
            orders = [o["displayOrder"] for o in options]
            assert len(set(values)) == len(values) and len(set(orders)) == len(orders)
            assert all(o["label"].strip() and o["hidden"] is False for o in options)
        else:
            assert "options" not in prop


def _text(el: ET.Element, tag: str) -> str:
    child = el.find(NS + tag)
    assert child is not None and child.text is not None, tag
    return child.text


def _salesforce_field(content: bytes, file_name: str) -> str:
    root = ET.fromstring(content)
    assert root.tag == NS + "CustomField"
    assert all(child.tag.startswith(NS) for child in root.iter())  # everything in the metadata namespace
    full_name = _text(root, "fullName")
    assert file_name == f"{full_name}.field-meta.xml"
    api = full_name.removesuffix("__c")
    assert full_name.endswith("__c") and SF_API_NAME.match(api) and len(api) <= 40
    assert "__" not in api and not api.endswith("_"), api
    assert 0 < len(_text(root, "label")) <= 40
    assert len(_text(root, "description")) <= 1000
    assert len(_text(root, "inlineHelpText")) <= 510
    kind = _text(root, "type")
    assert kind in SF_TYPES
    if kind == "Text":
        assert 1 <= int(_text(root, "length")) <= 255
    if kind == "LongTextArea":
        assert int(_text(root, "length")) > 0 and int(_text(root, "visibleLines")) > 0
    if kind in {"Number", "Currency", "Percent"}:
        precision, scale = int(_text(root, "precision")), int(_text(root, "scale"))
        assert 0 < precision <= 18 and 0 <= scale <= precision
    if kind == "Checkbox":
        assert _text(root, "defaultValue") in {"true", "false"}
    if kind in {"Picklist", "MultiselectPicklist"}:
        values = root.findall(f"{NS}valueSet/{NS}valueSetDefinition/{NS}value")
        assert values
        names = [_text(v, "fullName") for v in values]
        assert len(set(names)) == len(names) and all(_text(v, "label") for v in values)
        assert all(_text(v, "default") in {"true", "false"} for v in values)
        assert all(";" not in n for n in names)  # a multi-select value is stored ';'-separated
    if kind == "MultiselectPicklist":
        assert int(_text(root, "visibleLines")) > 0
    return full_name


def _salesforce_rules(files: dict[str, bytes], bp: Blueprint, sobject: str) -> None:
    prefix = f"force-app/main/default/objects/{sobject}/fields/"
    fields = {p: c for p, c in files.items() if p != "manifest/package.xml"}
    assert all(p.startswith(prefix) for p in fields) and len(fields) == len(bp.data_points())
    names = [_salesforce_field(content, path.removeprefix(prefix)) for path, content in fields.items()]
    assert len({n.casefold() for n in names}) == len(names)
    labels = [_text(ET.fromstring(content), "label").casefold() for content in fields.values()]
    assert len(set(labels)) == len(labels)
    package = ET.fromstring(files["manifest/package.xml"])
    assert package.tag == NS + "Package"
    members = [m.text for m in package.iter(NS + "members")]
    assert sorted(members) == sorted(f"{sobject}.{n}" for n in names)
    assert _text(package.find(NS + "types"), "name") == "CustomField"  # type: ignore[arg-type]
    assert re.match(r"^\d+\.0$", _text(package, "version"))


def _jsonschema_rules(schema: dict, bp: Blueprint) -> None:
    Draft202012Validator.check_schema(schema)  # valid against the 2020-12 meta-schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    points = bp.data_points()
    assert set(schema["properties"]) == {"domain", "company_name", *(dp.key for dp in points)}
    for dp in points:
        prop = schema["properties"][dp.key]
        assert prop["description"] and prop["x-priority"] == dp.priority
        assert [s["source"] for s in prop["x-sources"]] == list(dict.fromkeys(dp.source_ids))
        for src in prop["x-sources"]:
            assert src["field"] == dp.source_fields.get(src["source"])
        if dp.value_type in {"enum", "multi_enum"}:
            allowed = prop["enum"] if dp.value_type == "enum" else prop["items"]["enum"]
            assert allowed == [o.value for o in dp.options]
        if dp.value_type == "number":
            assert prop["unit"] == dp.unit
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    record = example_record(bp)
    validator.validate(record)  # a record from the blueprint's own examples is a valid lead record
    assert set(record) == set(schema["properties"])  # every example read as its type
    assert list(validator.iter_errors({**record, "unknown": 1}))  # and the schema is not a tautology


def _clay_rules(files: dict[str, bytes], bp: Blueprint) -> None:
    header = next(csv.reader(io.StringIO(files["table.csv"].decode("utf-8"))))
    guide = json.loads(files["columns.json"])
    points = bp.data_points()
    assert header[:2] == ["Domain", "Company Name"] and len(header) == 2 + len(points)
    assert len({h.casefold() for h in header}) == len(header)
    assert [c["column"] for c in guide["columns"]] == header[2:]
    markdown = files["columns.md"].decode("utf-8")
    for col, dp in zip(guide["columns"], points, strict=True):
        assert col["key"] == dp.key and col["value_type"] == dp.value_type and col["expected_output"]
        waterfall = [s["provider"] for s in col["enrichment_waterfall"]]
        assert sorted(waterfall) == sorted(set(dp.source_ids))
        for step in col["enrichment_waterfall"]:
            assert step["field"] == dp.source_fields.get(step["provider"])
        if not dp.source_fields:  # nothing an API returns: an agent must research it on the web
            assert dp.name in col["research_prompt"] and col["expected_output"] in col["research_prompt"]
        assert f"`{dp.key}`" in markdown


def _csv_rules(text: str, bp: Blueprint) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["key", "name", "section", "priority", "type", "options", "unit", "sources",
                             "field_paths", "cadence", "method"]
    assert [r["key"] for r in rows] == [dp.key for dp in bp.data_points()]
    for row, dp in zip(rows, bp.data_points(), strict=True):
        assert row["type"] in VALUE_TYPES and row["type"] == dp.value_type
        assert row["options"].split(" | ") == [o.label for o in dp.options] if dp.options else not row["options"]
        assert row["sources"].split(" | ") == list(dict.fromkeys(dp.source_ids))
        assert row["section"] in {"firmographic", "technographic", "personalization"}


@pytest.mark.parametrize("object_type", ["companies", "contacts"])
def test_every_export_of_every_eval_blueprint_obeys_its_target(
    blueprints: dict[str, Blueprint], object_type: str
) -> None:
    for case, bp in blueprints.items():
        try:
            hubspot = bp.export("hubspot", object_type=object_type)
            _hubspot_rules(json.loads(hubspot.text()), bp, object_type)
            sf = bp.export("salesforce", object_type=object_type)
            _salesforce_rules({f.path: f.content for f in sf.files}, bp,
                              "Account" if object_type == "companies" else "Contact")
            _jsonschema_rules(json.loads(bp.export("jsonschema", object_type=object_type).text()), bp)
            clay = bp.export("clay", object_type=object_type)
            _clay_rules({f.path: f.content for f in clay.files}, bp)
            _csv_rules(bp.export("csv", object_type=object_type).text(), bp)
        except AssertionError as exc:
            raise AssertionError(f"{case}: {exc}") from exc


def test_folder_targets_zip_to_the_same_tree(blueprints: dict[str, Blueprint]) -> None:
    bp = next(iter(blueprints.values()))
    for fmt in ("salesforce", "clay"):
        export = bp.export(fmt)
        assert export.tree and export.media_type == "application/zip"
        with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
            assert {n: archive.read(n) for n in archive.namelist()} == {f.path: f.content for f in export.files}
        assert export.zip_bytes() == export.zip_bytes()  # deterministic bytes
    for fmt in ("hubspot", "jsonschema", "csv"):
        assert not bp.export(fmt).tree


def _point(key: str, **kw: object) -> DataPoint:
    base: dict[str, object] = {"key": key, "name": kw.pop("name", key), "description": "d", "why": "w",
                               "example": "x", "source_ids": ["company_website"]}
    return DataPoint.model_validate({**base, **kw})


def test_hard_cases_still_obey_the_rules() -> None:
    """Long keys that collide once cut to 40 characters, long labels, an LLM point whose example is not
    of its type, a boolean and a url: the rules hold beyond what the eval sets happen to contain."""
    long_a = "a_very_long_data_point_key_that_goes_on_and_on_alpha"
    long_b = "a_very_long_data_point_key_that_goes_on_and_on_beta"
    points = [
        _point(long_a, name="A label far longer than forty characters, surely", value_type="integer", example="12"),
        _point(long_b, name="A label far longer than forty characters, surely", value_type="integer",
               example="about twelve", origin="llm"),
        _point("x9__odd_", value_type="boolean", example="Yes"),
        _point("site", value_type="url", example="https://lead.example/"),
        _point("stack", value_type="multi_enum", example="Wix, Shopify",
               options=[ValueOption(value="wix", label="Wix"), ValueOption(value="shopify", label="Shopify")]),
        _point("opened", value_type="date", example="2026-08-14"),
    ]
    bp = next(iter(eval_blueprints().values())).model_copy(update={
        "firmographic": Section(data_points=points), "technographic": Section(), "personalization": Section()})
    _hubspot_rules(bp.export("hubspot").document, bp, "companies")
    _salesforce_rules({f.path: f.content for f in bp.export("salesforce").files}, bp, "Account")
    schema = bp.export("jsonschema").document
    Draft202012Validator.check_schema(schema)
    record = example_record(bp)
    assert long_b not in record  # an example that is not of its type is left out, not faked
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(record)
    _clay_rules({f.path: f.content for f in bp.export("clay").files}, bp)


def test_blueprints_of_the_old_value_types_still_load_and_export() -> None:
    """A cached or saved blueprint written before typed values (string, list, currency_usd) still exports."""
    old = json.loads(next(iter(eval_blueprints().values())).model_dump_json())
    legacy = {"string": "text", "list": "text", "currency_usd": "currency"}
    for i, dp in enumerate(old["firmographic"]["data_points"][:3]):
        dp.update(value_type=list(legacy)[i], options=[], unit=None)
        dp.pop("options"), dp.pop("unit")
    bp = Blueprint.model_validate(old)
    assert [dp.value_type for dp in bp.firmographic.data_points[:3]] == list(legacy.values())
    _hubspot_rules(bp.export("hubspot").document, bp, "companies")


def test_unknown_format_or_object_is_a_validation_error() -> None:
    bp = next(iter(eval_blueprints().values()))
    with pytest.raises(InvalidRequest):
        export_blueprint(bp, "excel")
    with pytest.raises(InvalidRequest):
        export_blueprint(bp, "hubspot", object_type="deals")
    assert set(FORMATS) == {"hubspot", "salesforce", "jsonschema", "clay", "csv"}


def test_markdown_shows_typed_fields() -> None:
    from tests.support.sample_blueprint import small_blueprint

    text = small_blueprint().to_markdown()
    assert "| Priority | Data point | Type | Why | Sources | Example |" in text
    assert "| one of: Shopify · Wix |" in text and "| currency |" in text and "| boolean |" in text
    many = DataPoint(key="k", name="K", description="d", why="w", value_type="multi_enum", example="O0",
                     options=[ValueOption(value=f"o{i}", label=f"O{i}") for i in range(10)])
    from graph.markdown import typed

    assert typed(many) == "any of: O0 · O1 · O2 · O3 · O4 · O5 · O6 · O7 · +2 more"
    assert typed(_point("n", value_type="number", unit="TRIR", example="5.8")) == "number (TRIR)"
