"""A team's knowledge pack end to end: the example pack in ``examples/knowledge`` changes a real blueprint
(added market recognised, its data points and sources used, exclusion honoured, override visible), an
invalid pack stops the CLI and the server before anything runs, and editing a pack changes the cache key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph import agenerate_blueprint
from graph.fingerprint import run_key
from graph.knowledge import KnowledgeError, load_knowledge
from graph.schemas import EnrichmentRequest
from graph.settings import get_settings
from server.app import create_app
from server.cli import app as cli
from tests.support.site_server import SiteServer, serve_site

pytestmark = [pytest.mark.usefixtures("offline_env")]

ROOT = Path(__file__).parents[2]
EXAMPLE_PACKS = ROOT / "examples" / "knowledge"
HOME = (ROOT / "tests" / "fixtures" / "sites" / "pack_hangarly.html").read_text(encoding="utf-8")
BAD_PACK = """\
name: broken
sources:
  - id: builtwith
    name: BuiltWith again
    kind: dataset
    access: key
    cost: paid
    cost_per_1k_usd: 1
    method: api_enrichment
data_points:
  - key: boats_in_fleet
    section: firmographic
    name: Boats
    description: How many boats the lead runs.
    value_type: integer
    example: a lot of boats
    why: "Fleet size sizes the {offering} deal."
    applies_to: {verticals: [marinaz]}
    sources:
      - {source: apollo, field: organization.num_employees}
exclude: [linkedin_sales_navigatr]
"""


@pytest.fixture
def packs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example pack loaded through BLUEPRINT_KNOWLEDGE_DIR (the knowledge is reloaded around the test)."""
    monkeypatch.setenv("BLUEPRINT_KNOWLEDGE_DIR", str(EXAMPLE_PACKS))
    get_settings.cache_clear()
    load_knowledge.cache_clear()
    yield
    load_knowledge.cache_clear()


@pytest.fixture
def bad_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "team-knowledge"
    folder.mkdir()
    (folder / "broken.yaml").write_text(BAD_PACK, encoding="utf-8")
    monkeypatch.setenv("BLUEPRINT_KNOWLEDGE_DIR", str(folder))
    get_settings.cache_clear()
    load_knowledge.cache_clear()
    yield folder
    load_knowledge.cache_clear()


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": HOME}) as server:
        yield server


@pytest.mark.usefixtures("packs")
async def test_the_example_pack_shapes_the_blueprint(site: SiteServer) -> None:
    custom = {"key": "aog_response_hours", "name": "AOG response time", "section": "personalization",
              "description": "Hours the shop promises to return an aircraft on ground to service.",
              "value_type": "integer", "sources": ["company_website", "careers_page"], "example": "24 hours"}
    bp = await agenerate_blueprint(site.url, options={"engine": "catalog", "cache": "bypass",
                                                      "custom_data_points": [custom]})
    # the pack's niche market is recognised from the seller's own words, and pulls in its data points
    assert bp.company.verticals[0] == "aviation_repair_stations"
    keys = {dp.key: dp for dp in bp.data_points()}
    assert {"repair_station_ratings", "repair_station_tracking_system"} <= keys.keys()
    assert keys["repair_station_ratings"].source_ids[0] == "faa_air_agency_registry"
    # the team's own systems are sources of its own data points
    assert {"crm_open_deal", "free_plan_active_users"} <= keys.keys()
    sources = {s.id: s for s in bp.sources}
    assert "crm_open_deal" in sources["hangarly_hubspot"].provides
    assert sources["hangarly_hubspot"].fields["crm_open_deal"] == "properties.hs_num_open_deals"
    assert "free_plan_active_users" in sources["hangarly_product_usage"].provides
    # the exclusion is honoured everywhere
    assert "linkedin_sales_navigator" not in sources
    assert all("linkedin_sales_navigator" not in dp.source_ids for dp in bp.data_points())
    assert all("linkedin_sales_navigator" not in m.provider_order for m in bp.collection_methods)
    # the request's custom data point sits in its section, marked, and is planned like the rest
    aog = keys["aog_response_hours"]
    assert aog in bp.personalization.data_points and aog.origin == "custom" and aog.value_type == "integer"
    assert aog.source_ids == ["company_website", "careers_page"]
    assert "aog_response_hours" in sources["careers_page"].provides
    assert any("aog_response_hours" in m.data_points for m in bp.collection_methods)
    assert bp.meta.knowledge_version == load_knowledge().version and ".packs-" in bp.meta.knowledge_version


@pytest.mark.usefixtures("packs")
def test_knowledge_show_says_where_an_entry_comes_from() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["knowledge", "show", "builtwith"])
    assert shown.exit_code == 0, shown.output
    assert "defined in: pack 'sources' (built-in sources.yaml)" in shown.output
    assert f"overridden by: pack 'hangarly' ({EXAMPLE_PACKS / 'hangarly.yaml'}:" in shown.output
    assert "our annual Pro contract" in shown.output
    extended = runner.invoke(cli, ["knowledge", "show", "cmms_asset_maintenance"])
    assert "extended by: pack 'hangarly'" in extended.output and "aviation_repair_stations" in extended.output
    excluded = runner.invoke(cli, ["knowledge", "show", "linkedin_sales_navigator"])
    assert "excluded: excluded by pack 'hangarly'" in excluded.output
    listed = runner.invoke(cli, ["knowledge", "list", "sources", "--pack", "hangarly"])
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.output.splitlines()[1:]] == [
        "builtwith", "hangarly_hubspot", "hangarly_product_usage", "faa_air_agency_registry"]
    missing = runner.invoke(cli, ["knowledge", "show", "buildwith"])
    assert missing.exit_code == 2 and "did you mean 'builtwith'?" in missing.output


def test_an_invalid_pack_stops_the_cli_with_the_full_report(bad_packs: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["generate", "https://acme.example", "--no-cache"])
    assert result.exit_code == 2
    report = result.output
    path = bad_packs / "broken.yaml"
    assert report.startswith("knowledge packs: 5 problems")
    assert f"{path}:3: duplicate source id 'builtwith'" in report and "add `override: true`" in report
    assert f"{path}:16: data point 'boats_in_fleet': an integer example needs a number" in report
    assert f"{path}:18: data point 'boats_in_fleet': unknown vertical 'marinaz'" in report
    assert f"{path}:20: data point 'boats_in_fleet': apollo has no field 'organization.num_employees'" in report
    assert "did you mean 'organization.estimated_num_employees'?" in report
    assert f"{path}:21: exclude: unknown data point or source 'linkedin_sales_navigatr'" in report
    assert "did you mean 'linkedin_sales_navigator'?" in report
    # `knowledge validate` prints the same report on stdout
    validated = runner.invoke(cli, ["knowledge", "validate", str(bad_packs)])
    assert validated.exit_code == 2 and validated.output.strip() == report.strip()
    serve = runner.invoke(cli, ["serve", "--port", "1"])
    assert serve.exit_code == 2 and serve.output.strip() == report.strip()


async def test_an_invalid_pack_stops_the_server_at_startup(bad_packs: Path) -> None:
    app = create_app()
    with pytest.raises(KnowledgeError) as raised:
        async with app.router.lifespan_context(app):
            pytest.fail("the server started with an invalid pack")
    assert len(raised.value.problems) == 5 and "broken.yaml:3: duplicate source id" in str(raised.value)


def test_a_changed_pack_changes_the_knowledge_version_and_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = EnrichmentRequest(website="https://hangarly.example")

    def key_with(folder: Path | None) -> tuple[str, str]:
        if folder is None:
            monkeypatch.delenv("BLUEPRINT_KNOWLEDGE_DIR", raising=False)
        else:
            monkeypatch.setenv("BLUEPRINT_KNOWLEDGE_DIR", str(folder))
        get_settings.cache_clear()
        load_knowledge.cache_clear()
        version = load_knowledge().version
        return version, run_key(request, engine="catalog", model=None, knowledge_version=version)

    folder = tmp_path / "packs"
    shutil.copytree(EXAMPLE_PACKS, folder)
    try:
        plain, with_pack = key_with(None), key_with(folder)
        assert plain[0] != with_pack[0] and plain[1] != with_pack[1]
        assert key_with(folder) == with_pack  # same files, same key
        pack = folder / "hangarly.yaml"
        pack.write_text(pack.read_text().replace("weight: 3.0", "weight: 2.5", 1))
        edited = key_with(folder)
        assert edited[0] != with_pack[0] and edited[1] != with_pack[1]
    finally:
        load_knowledge.cache_clear()


async def test_custom_data_points_over_http_are_validated_with_the_error_envelope() -> None:
    from tests.support.http_helpers import ENRICH, app_client

    point = {"key": "aog_response_hours", "name": "AOG response time", "section": "personalization",
             "description": "Hours to return an aircraft on ground to service.", "value_type": "integer"}
    async with app_client(create_app()) as client:
        unknown = await client.post(ENRICH, json={"website": "https://hangarly.example", "options": {
            "custom_data_points": [{**point, "sources": ["our_crm"]}]}})
        assert unknown.status_code == 422
        error = unknown.json()["error"]
        assert error["code"] == "validation_error" and error["details"]["unknown_sources"] == ["our_crm"]
        too_many = await client.post(ENRICH, json={"website": "https://hangarly.example", "options": {
            "custom_data_points": [{**point, "key": f"k{i}"} for i in range(26)]}})
        assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "validation_error"


def test_schema_pack_prints_the_schema_editors_validate_packs_with() -> None:
    import json

    result = CliRunner().invoke(cli, ["schema", "pack"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert json.loads((EXAMPLE_PACKS / "pack.schema.json").read_text()) == schema
    assert {"verticals", "categories", "data_points", "sources", "exclude"} <= schema["properties"].keys()
