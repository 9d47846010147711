"""Knowledge depth for thin buyer verticals, group dc (issue 14; pack depth_dc.yaml).

Each vertical deepened here has at least three data points of its own per section, and a trade association,
registry or industry dataset of its own (not one of the shared generic sources) wired into its data points;
every source the pack adds is used by a data point; and a realistic seller page for a few of the markets gets
the market's new system-of-record data point in its blueprint."""

from __future__ import annotations

import pytest

from graph.knowledge import KnowledgeBase
from tests.support.depth import claimed_by, pack, shared_source_ids
from tests.support.routing import chosen_sections, routed
from tests.support.seller_pages import product_page

PACK = "depth_dc.yaml"
SECTIONS = ("firmographic", "technographic", "personalization")
SPECIFIC_KINDS = {"registry", "website", "dataset"}

PRIORITY_1 = (
    "metal_coal_mining", "electric_coops_public_power", "manufactured_housing", "chemical_distributors",
    "pharma_medical_distributors", "auto_parts_distributors_stores", "scrap_metal_recyclers",
    "foodservice_distributors", "beverage_alcohol_distributors", "passenger_ground_carriers", "pipeline_midstream",
    "cold_storage_warehouses", "movers_household_goods", "septic_portable_sanitation", "water_well_drillers",
)
# Priority-2 markets given an association / registry source of their own (and, where thin, a data point).
PRIORITY_2 = (
    "liquor_stores", "tutoring_test_prep_centers", "pet_care_services", "commercial_real_estate_brokerages",
    "homebuilders", "commercial_printers", "towing_roadside", "ambulance_nemt_providers", "blood_plasma_centers",
    "radio_tv_stations", "veterinary_emergency_specialty", "dairy_farms", "pharmacies", "fintech_lenders",
    "auto_dealerships", "salons_spas", "clinical_research_orgs", "pain_management_clinics", "bullion_coin_dealers",
    "real_estate_investors", "corrections_agencies", "public_housing_authorities", "ag_service_contractors",
    "airlines_air_charter", "home_services",
)
DEEPENED = PRIORITY_1 + PRIORITY_2

# A seller page for the market (page chrome, a vague hero, the buyer named in the body) and the new
# system-of-record data point its blueprint must now carry.
PAGES = {
    "water_well_drillers": ("wel_dc_rig_pump_brands", "Less Paperwork, More Drilling", (
        "Job management for water well drillers and pump installers. Schedule rigs and pump service calls, "
        "complete well logs on a tablet at the site and file them with the state, and invoice the homeowner "
        "before you leave. Made for well drilling contractors.")),
    "pipeline_midstream": ("pipe_dc_measurement_scheduling", "Pipeline Integrity, Simplified", (
        "Integrity management software for pipeline operators. Plan in-line inspections, manage anomalies and "
        "digs, and keep PHMSA compliance records for gas transmission and hazardous liquid pipelines in one "
        "system.")),
    "cold_storage_warehouses": ("cold_dc_refrigeration_system", "Cold Chain Under Control", (
        "Warehouse software for cold storage warehouses and temperature-controlled 3PLs: manage freezer and "
        "cooler pallet positions, lot tracking, blast freezing and USDA export documents.")),
    "scrap_metal_recyclers": ("scr_dc_scale_theft_reporting", "Run Your Yard", (
        "Yard software for scrap metal recyclers: scale tickets, buying ferrous and non-ferrous scrap over the "
        "counter, inventory by grade and shipping loads to mills.")),
}




def _new_sources() -> set[str]:
    return {str(s["id"]) for s in pack(PACK)["sources"] if not s.get("extend")}



def test_the_pack_covers_only_its_own_verticals() -> None:
    """Every data point the pack defines is written for verticals of this group only."""
    for dp in pack(PACK)["data_points"]:
        if dp.get("extend"):
            continue
        verticals = set(dp["applies_to"]["verticals"])  # type: ignore[index]
        assert verticals and verticals <= set(DEEPENED), (dp["key"], verticals)


@pytest.mark.parametrize("vertical_id", DEEPENED)
@pytest.mark.parametrize("section", SECTIONS)
def test_each_deepened_vertical_has_three_data_points_per_section(kb: KnowledgeBase, vertical_id: str,
                                                                  section: str) -> None:
    count = sum(kb.data_points[key].section == section for key in claimed_by(kb, vertical_id))
    assert count >= 3, f"{vertical_id}: {count} {section} data points"


@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_each_deepened_vertical_has_a_market_source_of_its_own(kb: KnowledgeBase, vertical_id: str) -> None:
    """A registry, association directory or industry dataset, not a shared generic source, feeds its data
    points - and one of them is a source this pack added for the market."""
    generic = shared_source_ids()
    used = {ref.source for key in claimed_by(kb, vertical_id) for ref in kb.data_points[key].sources}
    specific = {sid for sid in used - generic if kb.sources[sid].kind in SPECIFIC_KINDS}
    assert specific, vertical_id
    added_for_market = {sid for sid in specific & _new_sources() if vertical_id in kb.sources[sid].verticals}
    assert added_for_market, f"{vertical_id}: no source of this pack feeds its data points"


def test_every_new_source_is_used_by_a_data_point(kb: KnowledgeBase) -> None:
    used = {ref.source for dp in kb.data_points.values() for ref in dp.sources}
    assert _new_sources(), "the pack adds sources"
    assert not _new_sources() - used


def test_every_new_source_names_markets_of_this_group(kb: KnowledgeBase) -> None:
    for sid in _new_sources():
        source = kb.sources[sid]
        assert source.verticals and set(source.verticals) <= set(DEEPENED), sid
        assert source.kind in SPECIFIC_KINDS, sid


@pytest.mark.parametrize("vertical_id", sorted(PAGES))
def test_a_seller_page_for_the_market_gets_its_new_system_of_record(kb: KnowledgeBase, vertical_id: str) -> None:
    key, title, body = PAGES[vertical_id]
    site = product_page(title, body)
    analysis, targeting = routed(site, kb)
    assert targeting.verticals[0].id == vertical_id
    chosen = chosen_sections(kb, analysis, targeting)
    assert kb.data_points[key].section == "technographic"
    assert key in {dp.key for dp in chosen["technographic"]}
