"""Depth wave, group db (issue 14; pack depth_db.yaml): manufacturing, industrial and some service buyer verticals
carry the market's own systems of record, triggers and a trade association / registry source, and a software
seller's page aimed at one of them gets the new system-of-record data point in its technographic section.

Built-in packs may extend entries of other packs (``extend: true``): the depth pack adds its sources to data
points defined elsewhere, whatever the order the files load in."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.knowledge import KnowledgeBase
from graph.knowledge.base import load_from
from tests.support.depth import claimed_by, pack, shared_source_ids
from tests.support.routing import chosen_sections, routed
from tests.support.seller_pages import seller_site

PACK = "depth_db.yaml"
SECTIONS = ("firmographic", "technographic", "personalization")
LISTED_KINDS = {"registry", "website", "dataset"}

DEEPENED = (
    "cosmetics_personal_care_makers", "firearms_ammunition_makers", "bakery_snack_makers", "animal_feed_pet_food",
    "textile_mills", "wood_products_mills", "pulp_paper_packaging", "refineries_fuels", "chemical_makers",
    "plastics_rubber_molders", "building_materials_makers", "metals_mills_foundries", "metal_fabricators",
    "machinery_oems", "semiconductor_companies", "electrical_equipment_makers", "automotive_suppliers",
    "boat_rv_rail_builders", "furniture_cabinet_makers", "consumer_goods_makers", "pallet_container_makers",
    "industrial_repair_services",
    # second priority: their association or registry wired in (and a data point where one was missing)
    "sightseeing_excursions", "hospice_palliative_providers", "human_services_nonprofits", "caterers_food_trucks",
    "security_alarm_dealers", "independent_private_schools", "manufactured_housing_communities",
    "collection_agencies", "apparel_footwear_makers", "telecom_providers", "immigration_law_firms",
    "fuel_distributors_propane", "greenhouse_nursery_growers", "specialty_hobby_retailers", "web_hosting_providers",
    "vehicle_rental_leasing", "bail_bonds_agencies",
)

# A software seller's page for the market: its blueprint's technographic section names the market's system of record.
PAGES = {
    "cosmetics_personal_care_makers": ("cos_dw_quality_lims_system", "Quality Software for Beauty Brands", (
        "Quality management and batch record software for cosmetics manufacturers and personal care brands. Keep "
        "MoCRA product listings, ISO 22716 GMP records and adverse event reports in one place. Built for skincare, "
        "haircare and fragrance makers and their contract fillers.")),
    "machinery_oems": ("mc_dw_connected_machine_platform", "Service Revenue for Machine Builders", (
        "Aftermarket and field service software for machinery OEMs and equipment manufacturers. Give your dealers a "
        "parts portal, connect your installed base and sell service contracts on every machine you build. Made for "
        "industrial machine builders.")),
    "refineries_fuels": ("rf_dw_asset_integrity_tools", "Reliability for Refineries", (
        "Asset integrity and turnaround planning software for petroleum refineries and renewable diesel plants. Plan "
        "inspections, track corrosion and manage every turnaround scope. Built with refinery reliability engineers.")),
    "boat_rv_rail_builders": ("vb_dw_warranty_dealer_systems", "Build Boats, Not Spreadsheets", (
        "ERP and production scheduling for boat builders and RV manufacturers. Track every hull through lamination "
        "and rigging, manage dealer orders and warranty claims, and cost every build. Built for recreational boat "
        "builders.")),
}





@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_a_deepened_vertical_has_three_specific_data_points_per_section(kb: KnowledgeBase, vertical_id: str) -> None:
    keys = claimed_by(kb, vertical_id)
    for section in SECTIONS:
        in_section = [key for key in keys if kb.data_points[key].section == section]
        assert len(in_section) >= 3, (vertical_id, section, in_section)


@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_a_deepened_vertical_is_served_by_a_market_source_of_this_pack(kb: KnowledgeBase, vertical_id: str) -> None:
    shared = shared_source_ids()
    used = {ref.source for key in claimed_by(kb, vertical_id) for ref in kb.data_points[key].sources}
    market = {s for s in used if s not in shared and kb.sources[s].kind in LISTED_KINDS}
    assert market, vertical_id
    ours = {str(s["id"]) for s in pack(PACK)["sources"] if vertical_id in s.get("verticals", [])}  # type: ignore[operator]
    assert ours & used, (vertical_id, ours)


def test_every_source_of_the_pack_is_collected_by_a_data_point_of_its_markets(kb: KnowledgeBase) -> None:
    for source in pack(PACK)["sources"]:
        sid = str(source["id"])
        markets = set(kb.sources[sid].verticals)
        assert markets and markets <= set(DEEPENED), sid
        served = {v for v in markets for key in claimed_by(kb, v)
                  if sid in {ref.source for ref in kb.data_points[key].sources}}
        assert served == markets, (sid, markets - served)


def test_new_data_points_are_written_for_deepened_markets_only(kb: KnowledgeBase) -> None:
    new = [d for d in pack(PACK)["data_points"] if not d.get("extend")]
    assert len(new) >= 30
    for raw in new:
        spec = kb.data_points[str(raw["key"])]
        assert spec.applies_to.verticals and set(spec.applies_to.verticals) <= set(DEEPENED), spec.key
        assert not spec.applies_to.any and spec.method and spec.signals, spec.key
        assert 0.8 <= spec.weight <= 1.8, spec.key


def test_extensions_add_sources_to_data_points_other_packs_define(kb: KnowledgeBase) -> None:
    spec = kb.data_points["cos_model_categories"]
    assert {"company_website", "personal_care_trade_directories"} <= {ref.source for ref in spec.sources}
    history = kb.history[("data_points", "cos_model_categories")]
    assert [entry.action for entry in history] == ["define", "extend"]
    assert history[-1].pack == "depth_db" and history[-1].builtin
    assert "consumer_goods_makers" in kb.data_points["cpg_trade_promotion_edi"].applies_to.verticals


def test_a_builtin_extension_merges_after_a_definition_in_a_later_file(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "VERSION").write_text("t")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {id: web, name: Web, kind: website, access: public, cost: free, cost_per_1k_usd: 0,"
        " method: web_scrape}\n  - {id: directory, name: Directory, kind: registry, access: public, cost: free,"
        " cost_per_1k_usd: 0, method: web_scrape}\n")
    (tmp_path / "packs" / "a_depth.yaml").write_text(  # sorts before the file that defines the data point
        "data_points:\n  - key: plants\n    extend: true\n    sources: [{source: directory, note: member list}]\n")
    (tmp_path / "packs" / "b_market.yaml").write_text(
        "data_points:\n  - key: plants\n    section: firmographic\n    name: Plants\n    description: d\n"
        "    example: '3'\n    why: w\n    applies_to: {any: true}\n    sources: [{source: web}]\n")
    kb = load_from(tmp_path)
    assert [ref.source for ref in kb.data_points["plants"].sources] == ["web", "directory"]
    assert [entry.pack for entry in kb.history[("data_points", "plants")]] == ["b_market", "a_depth"]


@pytest.mark.parametrize("vertical_id", sorted(PAGES))
def test_a_seller_page_for_the_market_gets_its_new_system_of_record(kb: KnowledgeBase, vertical_id: str) -> None:
    key, title, body = PAGES[vertical_id]
    analysis, targeting = routed(seller_site(title, f"<p>{body}</p>"), kb)
    assert analysis.company.seller_kind == "software"
    assert targeting.verticals and targeting.verticals[0].id == vertical_id, [v.id for v in targeting.verticals]
    technographic = [dp.key for dp in chosen_sections(kb, analysis, targeting)["technographic"]]
    assert key in technographic, technographic
