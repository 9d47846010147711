"""The embedded knowledge base: loads, is consistent, broad enough, and every provider path is real."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

import graph.knowledge.base as knowledge_base
from graph.knowledge import KnowledgeError, load_knowledge
from graph.knowledge.base import PROVIDER_SHAPES, _data_dir, load_from
from graph.knowledge.fieldpath import extract, is_filled, path_exists

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers"
SHAPE_FILES = {
    "apollo_organization": "apollo_organization_enrich.json",
    "apollo_person": "apollo_people_match.json",
    "clearbit_company": "clearbit_company.json",
}


def test_knowledge_loads_with_a_version() -> None:
    kb = load_knowledge()
    assert kb.version.count("+") == 1
    assert load_knowledge() is kb  # loaded once


def test_breadth() -> None:
    kb = load_knowledge()
    assert len(kb.verticals) >= 35
    assert len(kb.categories) >= 30
    assert len(kb.data_points) >= 250
    for section in ("firmographic", "technographic", "personalization"):
        assert sum(1 for _ in kb.by_section(section)) >= 50, section


def test_every_provider_field_path_exists_in_the_provider_shape() -> None:
    kb = load_knowledge()
    shapes = {src: json.loads((FIXTURES / SHAPE_FILES[shape]).read_text()) for src, shape in PROVIDER_SHAPES.items()}
    missing = [f"{dp.key}: {ref.source} {ref.field}" for dp in kb.data_points.values() for ref in dp.sources
               if ref.source in shapes and not path_exists(shapes[ref.source], ref.field or "")]
    assert not missing, "\n".join(missing)


def test_each_vertical_and_category_has_own_data_points_in_every_section() -> None:
    kb = load_knowledge()
    for vertical in kb.verticals.values():
        pulled = {k for k in vertical.data_points} | {dp.key for dp in kb.data_points.values()
                                                       if vertical.id in dp.applies_to.verticals}
        sections = {kb.data_points[k].section for k in pulled}
        assert {"firmographic", "technographic", "personalization"} <= sections, vertical.id


def test_why_templates_render() -> None:
    kb = load_knowledge()
    for dp in kb.data_points.values():
        text = dp.why.format(seller="Acme", offering="fleet telematics", segment="carriers", evidence="")
        assert "{" not in text and len(text) > 20, dp.key


def test_inconsistent_packs_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "VERSION").write_text("t")
    (tmp_path / "sources.yaml").write_text("sources: []\n")
    (tmp_path / "packs" / "bad.yaml").write_text(
        "data_points:\n  - key: x\n    section: firmographic\n    name: X\n    description: d\n"
        "    example: e\n    why: w\n    applies_to: {any: true}\n    sources: [{source: nowhere}]\n")
    with pytest.raises(KnowledgeError, match="unknown source 'nowhere'"):
        load_from(tmp_path)


def test_field_paths_read_lists_and_nulls() -> None:
    doc = {"organization": {"funding_events": [{"date": "2021"}, {"date": None}], "tech": [], "n": 0}}
    assert extract(doc, "organization.funding_events[].date") == ["2021", None]
    assert is_filled(doc, "organization.funding_events[].date")
    assert not is_filled(doc, "organization.tech")
    assert is_filled(doc, "organization.n")  # zero is a value
    assert path_exists(doc, "organization.tech[]") and not path_exists(doc, "organization.nope")


def test_a_parsed_snapshot_spares_the_next_process_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, snapshots = _data_dir(), tmp_path / "knowledge"
    first = load_from(data, snapshot_dir=snapshots)
    (written,) = snapshots.glob("knowledge-*.json")

    def no_yaml(path: Path) -> object:
        raise AssertionError(f"{path.name} was parsed although a snapshot exists")

    monkeypatch.setattr(knowledge_base, "_read_yaml", no_yaml)
    again = load_from(data, snapshot_dir=snapshots)
    assert again.version == first.version and again.data_points.keys() == first.data_points.keys()
    assert again.data_points == first.data_points  # the same validated models
    monkeypatch.undo()

    written.write_bytes(b'[{"torn')  # a torn or foreign file: parse the YAML again and rewrite it
    assert load_from(data, snapshot_dir=snapshots).version == first.version
    assert orjson.loads(written.read_bytes())

    (snapshots / "knowledge-0123456789abcdef01234567.json").write_bytes(b"[]")  # an older version's
    written.unlink()
    load_from(data, snapshot_dir=snapshots)
    assert [p.name for p in snapshots.glob("knowledge-*.json")] == [written.name]  # old ones go


def test_an_unwritable_snapshot_folder_only_means_no_snapshot(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    kb = load_from(_data_dir(), snapshot_dir=blocker / "knowledge")
    assert kb.data_points and not (blocker / "knowledge").exists()
