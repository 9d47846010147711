"""Knowledge packs from outside the package: merge semantics (define, override, extend, exclude), the
validation report (every problem, file, line, fix), and the files kept in sync with their sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.knowledge import KnowledgeError
from graph.knowledge.base import _data_dir, load_from
from graph.knowledge.checks import example_problem
from graph.knowledge.pack_schema import pack_json_schema
from graph.knowledge.provider_fields import PROVIDER_SHAPES, paths_of
from graph.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers"
EXAMPLES = Path(__file__).parents[2] / "examples" / "knowledge"
SHAPE_FILES = {
    "apollo_organization": "apollo_organization_enrich.json",
    "apollo_person": "apollo_people_match.json",
    "clearbit_company": "clearbit_company.json",
}
DATA_POINT = """\
  - key: {key}
    section: firmographic
    name: {key}
    description: A test data point.
    value_type: integer
    example: "12 sites"
    why: "It sizes {{offering}}."
    applies_to: {{any: true}}
    sources: [{{source: {source}}}]
"""


def _load(tmp_path: Path, **files: str) -> object:
    folder = tmp_path / "packs"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_from(_data_dir(), pack_dirs=[folder])


def _problems(tmp_path: Path, **files: str) -> str:
    with pytest.raises(KnowledgeError) as raised:
        _load(tmp_path, **files)
    return str(raised.value)


def test_the_packaged_provider_field_paths_are_those_of_the_recorded_responses() -> None:
    packaged = json.loads((_data_dir() / "provider_fields.json").read_text())
    recorded = {shape: sorted(paths_of(json.loads((FIXTURES / name).read_text())))
                for shape, name in SHAPE_FILES.items()}
    assert packaged == recorded
    assert set(PROVIDER_SHAPES.values()) == set(recorded)


def test_the_example_schema_file_is_the_current_pack_schema() -> None:
    assert json.loads((EXAMPLES / "pack.schema.json").read_text()) == pack_json_schema()


def test_knowledge_dirs_split_on_commas_and_the_path_separator(tmp_path: Path) -> None:
    import os

    value = f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}, {tmp_path / 'c'}"
    settings = Settings.model_validate({"BLUEPRINT_KNOWLEDGE_DIR": value})
    assert settings.knowledge_dirs == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    assert Settings.model_validate({}).knowledge_dirs == []


def test_define_override_and_extend(tmp_path: Path) -> None:
    base = load_from(_data_dir())
    kb = _load(tmp_path, team="data_points:\n" + DATA_POINT.format(key="sites_count", source="company_website") + """\
  - key: ownership_type
    extend: true
    sources: [{source: company_website, note: about page}]
    applies_to: {verticals: [restaurants], kinds: [manufacturing]}
    signals: [family owned]
sources:
  - id: builtwith
    override: true
    name: BuiltWith (our contract)
    kind: dataset
    access: our key
    cost: flat fee
    cost_per_1k_usd: 0
    method: api_enrichment
""")
    assert kb.version.startswith(base.version + ".packs-")  # type: ignore[attr-defined]
    data_points, sources = kb.data_points, kb.sources  # type: ignore[attr-defined]
    assert data_points["sites_count"].example == "12 sites"
    owned = data_points["ownership_type"]
    assert owned.sources[:-1] == base.data_points["ownership_type"].sources
    assert owned.sources[-1].source == "company_website" and owned.applies_to.verticals == ["restaurants"]
    assert owned.applies_to.any and owned.signals[-1] == "family owned"
    assert owned.applies_to.kinds == [*base.data_points["ownership_type"].applies_to.kinds, "manufacturing"]
    assert sources["builtwith"].name == "BuiltWith (our contract)" and sources["builtwith"].cost_per_1k_usd == 0
    history = kb.history[("sources", "builtwith")]  # type: ignore[attr-defined]
    assert [(e.pack, e.action) for e in history] == [("sources", "define"), ("team", "override")]


def test_an_excluded_source_takes_its_references_and_its_only_data_points_with_it(tmp_path: Path) -> None:
    base = load_from(_data_dir())
    only_linkedin = {k for k, dp in base.data_points.items()
                     if {r.source for r in dp.sources} == {"linkedin_sales_navigator"}}
    kb = _load(tmp_path, team="exclude: [linkedin_sales_navigator, ownership_type]\n")
    assert "linkedin_sales_navigator" not in kb.sources  # type: ignore[attr-defined]
    assert all(r.source != "linkedin_sales_navigator"
               for dp in kb.data_points.values() for r in dp.sources)  # type: ignore[attr-defined]
    assert not only_linkedin & kb.data_points.keys()  # type: ignore[attr-defined]
    assert "ownership_type" not in kb.data_points  # type: ignore[attr-defined]
    owners = [*kb.verticals.values(), *kb.categories.values()]  # type: ignore[attr-defined]
    assert all("ownership_type" not in [*o.data_points, *o.exclude_data_points] for o in owners)
    assert kb.excluded[("sources", "linkedin_sales_navigator")].pack == "team"  # type: ignore[attr-defined]


def test_every_problem_is_reported_at_once_with_its_line_and_a_fix(tmp_path: Path) -> None:
    report = _problems(tmp_path, a="""\
colour: blue
verticals:
  - id: marinas
    extend: true
    cues: [{phrase: boatyard}]
  - id: restaurants
    name: Restaurants again
    industry_labels: [Restaurants]
    cues: [{phrase: menu}, {phrase: diners}, {phrase: covers, wieght: 0.4}]
    buyer_titles: [Owner, GM]
data_points:
""" + DATA_POINT.format(key="sites_count", source="hubspot") + """\
  - key: rating
    section: firmo
    name: Rating
exclude: [restaurants]
""", b="sources:\n  - id: crm\n    name: [unclosed\n")
    a, b = tmp_path / "packs" / "a.yaml", tmp_path / "packs" / "b.yaml"
    expected = [
        (f"{a}:1: unknown top-level key 'colour'", "allowed top-level keys"),
        (f"{a}:3: extends an unknown vertical 'marinas'", "define the vertical in full"),
        (f"{a}:9: vertical 'restaurants': unknown key 'wieght'", "remove it"),
        (f"{a}:20: data point 'sites_count': unknown source 'hubspot' (sources.source)", "hubspot"),
        (f"{a}:21: data point 'rating': missing required key 'description'", "add `description:`"),
        (f"{a}:22: data point 'rating': section: Input should be", "blueprint schema pack"),
        (f"{a}:24: exclude: unknown data point or source 'restaurants'", "'restaurants' is a vertical"),
        (f"{b}:3: not valid YAML", "indentation"),
    ]
    for problem, fix in expected:
        assert problem in report, problem
        after = report[report.index(problem):]
        assert "fix: " in after.split("\n", 2)[1] and fix in after.split("\n", 2)[1], (problem, fix)
    assert report.startswith("knowledge packs: ")


def test_a_duplicate_id_needs_override_and_an_override_needs_a_target(tmp_path: Path) -> None:
    report = _problems(tmp_path, a="data_points:\n" + DATA_POINT.format(key="ownership_type", source="apollo_x")
                       + "sources:\n  - id: nowhere_api\n    override: true\n    name: N\n    kind: api\n"
                         "    access: k\n    cost: c\n    cost_per_1k_usd: 1\n    method: api_enrichment\n")
    assert "a.yaml:2: duplicate data point id 'ownership_type': already defined in pack 'core' (built-in core.yaml)" \
        in report
    assert "add `override: true` to replace it, `extend: true` to add to it" in report
    assert "a.yaml:12: overrides an unknown source 'nowhere_api'" in report
    # the duplicate is not merged, so its own unknown source is not reported a second time through it
    assert report.count("apollo_x") == 0


def test_provider_field_paths_are_checked_against_the_packaged_shapes(tmp_path: Path) -> None:
    text = "data_points:\n" + DATA_POINT.format(key="sites_count", source="apollo")
    report = _problems(tmp_path, a=text)
    assert "data point 'sites_count': source 'apollo' is an API and needs a field path" in report
    good = text.replace("{source: apollo}", "{source: apollo, field: organization.estimated_num_employees}")
    assert _load(tmp_path, a=good).data_points["sites_count"]  # type: ignore[attr-defined]
    bad = text.replace("{source: apollo}", "{source: clearbit, field: metrics.employee}")
    assert "did you mean 'metrics.employees' or 'metrics.employeesRange'?" in _problems(tmp_path, a=bad)


@pytest.mark.parametrize(
    ("value_type", "example", "fits"),
    [
        ("integer", "14 shops across Texas", True),
        ("integer", "many shops", False),
        ("currency", "~$650k monthly sales", True),
        ("date", "Renews Dec 2027", True),
        ("date", "soon", False),
        ("boolean", "Yes: 'Comfort Club' membership", True),
        ("boolean", "Comfort Club", False),
        ("url", "https://acme.example/careers", True),
        ("url", "the careers page", False),
        ("text", "anything at all", True),
        ("text", "  ", False),
    ],
)
def test_examples_must_fit_their_value_type(value_type: str, example: str, fits: bool) -> None:
    assert (example_problem(value_type, example) is None) is fits
    assert example_problem("enum", "Owner-operated", ["franchise", "owner-operated"]) is None
    assert example_problem("enum", "Unknown", ["franchise", "owner-operated"]) is not None


def test_a_missing_folder_is_a_problem_not_a_silent_skip(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="knowledge folder not found"):
        load_from(_data_dir(), pack_dirs=[tmp_path / "nope"])


def test_a_missing_folder_names_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as from_env:
        load_from(_data_dir(), pack_dirs=[tmp_path / "nope"])
    assert "fix: check BLUEPRINT_KNOWLEDGE_DIR" in from_env.value.report()
    with pytest.raises(KnowledgeError) as from_argument:
        load_from(_data_dir(), pack_dirs=[tmp_path / "nope"], dirs_origin="the DIR argument")
    assert "fix: check the DIR argument" in from_argument.value.report()
    assert "BLUEPRINT_KNOWLEDGE_DIR" not in from_argument.value.report()


def test_a_bare_source_id_gets_the_mapping_it_should_be(tmp_path: Path) -> None:
    point = DATA_POINT.format(key="fleet_size_x", source="x").replace("[{source: x}]", "[apolo]")
    report = _problems(tmp_path, mine=f"name: mine\ndata_points:\n{point}")
    assert "sources.0: a source is a mapping, not 'apolo'" in report
    assert "write `{source: apolo, field: <path in its response>}`" in report
    assert "valid dictionary" not in report
    # the bare id is still checked as a reference (no crash on a string where a mapping goes)
    assert "unknown source 'apolo'" in report and "did you mean 'apollo'?" in report
