"""Knowledge depth for the trade-contractor buyer verticals (issue 14; pack depth_dd.yaml).

Each deepened market has at least three data points written for it in every section - its systems of record
with their leading vendors, its own trigger events - and a real trade association, licence registry or
industry dataset of its own among their sources. A software seller's page for some of these markets gets the
new system-of-record data point in its blueprint."""

from __future__ import annotations

import pytest

from graph.knowledge import KnowledgeBase
from tests.support.depth import pack, shared_source_ids, written_for
from tests.support.routing import SECTIONS, chosen_sections, routed
from tests.support.seller_pages import product_page

PACK = "depth_dd.yaml"

DEEPENED = (
    "roofing_contractors", "electrical_contractors", "fire_protection_contractors",
    "concrete_excavation_contractors", "pool_spa_builders", "low_voltage_integrators", "landscaping_lawn_care",
    "pest_control_operators", "restoration_contractors", "paving_sealcoating_contractors", "sign_graphics_shops",
    "countertop_stone_fabricators", "flooring_retailers_contractors", "painting_contractors",
    "fence_deck_contractors",
)
# Priority-2 markets given a directory of their own (they had none, or none in the US): the directory and a data
# point it feeds.
GIVEN_A_SOURCE = (
    "livestock_poultry_producers", "creators_influencers", "trade_professional_associations",
    "economic_development_organizations", "smoke_vape_shops", "aggregates_quarries", "podiatry_practices",
    "skilled_nursing_facilities", "shooting_ranges",
)
# Priority-2 markets whose own technographic section was thin (two data points): a third system of record.
GIVEN_A_TECHNOGRAPHIC = ("data_center_operators", "flight_schools")
EVERY_MARKET = {*DEEPENED, *GIVEN_A_SOURCE, *GIVEN_A_TECHNOGRAPHIC}
MARKET_SOURCE_KINDS = {"registry", "website", "dataset"}

# A vertical-software vendor's page for the market -> the new system-of-record data point its blueprint must hold.
PAGES = {
    "roofing_contractors": ("Close More Roofing Jobs", (
        "The CRM built for roofing contractors. Order aerial measurements, build an estimate and a good-better-best "
        "proposal in minutes, track every insurance claim and supplement, and schedule your crews and material "
        "drops. Trusted by storm restoration and retail re-roof companies."), "rfc_aerial_measurement_provider"),
    "pest_control_operators": ("Route Smarter. Service More.", (
        "Pest control software for pest control companies of every size. Optimize technician routes, record "
        "chemical use on every service ticket, manage termite inspections, WDI reports and recurring accounts, and "
        "get paid with autopay. Built with pest management professionals."), "pco_termite_programs"),
    "fire_protection_contractors": ("Fire Inspection Software", (
        "The field service platform built for fire protection contractors. Schedule NFPA 25 and NFPA 72 "
        "inspections, capture deficiencies on a tablet, quote repairs in one click and deliver inspection reports "
        "to the AHJ. Fire sprinkler contractors and fire alarm companies run their service and inspection business "
        "on it."), "fpc_fire_alarm_product_lines"),
    "landscaping_lawn_care": ("Grow Your Landscape Business", (
        "Estimating, crew scheduling and job costing for landscaping companies and lawn care businesses. Price "
        "maintenance contracts, plan mowing routes and irrigation service, and invoice commercial and HOA "
        "properties automatically."), "lwn_smart_irrigation_platforms"),
}






@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_each_market_has_three_of_its_own_data_points_per_section(kb: KnowledgeBase, vertical_id: str) -> None:
    per_section = {section: 0 for section in SECTIONS}
    for key in written_for(kb, vertical_id):
        per_section[kb.data_points[key].section] += 1
    assert all(count >= 3 for count in per_section.values()), (vertical_id, per_section)


@pytest.mark.parametrize("vertical_id", GIVEN_A_TECHNOGRAPHIC)
def test_thin_technographic_sections_have_three_systems_of_record(kb: KnowledgeBase, vertical_id: str) -> None:
    technographic = [key for key in written_for(kb, vertical_id) if kb.data_points[key].section == "technographic"]
    assert len(technographic) >= 3, (vertical_id, technographic)


@pytest.mark.parametrize("vertical_id", DEEPENED + GIVEN_A_SOURCE)
def test_each_market_has_a_trade_source_of_its_own(kb: KnowledgeBase, vertical_id: str) -> None:
    shared = shared_source_ids()
    used = {ref.source for key in written_for(kb, vertical_id) for ref in kb.data_points[key].sources}
    own = [sid for sid in used if sid not in shared and kb.sources[sid].kind in MARKET_SOURCE_KINDS
           and vertical_id in kb.sources[sid].verticals]
    assert own, (vertical_id, sorted(used))


def test_every_new_source_is_real_and_used() -> None:
    entries = pack(PACK)
    keys_using = {str(ref["source"]) for dp in entries["data_points"] for ref in dp["sources"]}
    for source in entries["sources"]:
        assert source["id"] in keys_using, source["id"]
        assert source["kind"] in MARKET_SOURCE_KINDS and source["verticals"], source["id"]
        assert set(source["verticals"]) <= EVERY_MARKET, source["id"]


def test_new_data_points_are_for_these_markets_and_name_their_sources(kb: KnowledgeBase) -> None:
    for raw in pack(PACK)["data_points"]:
        spec = kb.data_points[str(raw["key"])]
        assert spec.applies_to.verticals and set(spec.applies_to.verticals) <= EVERY_MARKET, spec.key
        assert spec.method and spec.sources and spec.signals, spec.key
        assert "{offering}" in spec.why, spec.key
        assert 0.8 <= spec.weight <= 1.8, spec.key


@pytest.mark.parametrize("vertical_id", sorted(PAGES))
def test_a_software_sellers_blueprint_for_the_market_holds_its_system_of_record(kb: KnowledgeBase,
                                                                               vertical_id: str) -> None:
    title, body, key = PAGES[vertical_id]
    analysis, targeting = routed(product_page(title, body), kb)
    assert targeting.verticals and targeting.verticals[0].id == vertical_id, [v.id for v in targeting.verticals]
    technographic = [dp.key for dp in chosen_sections(kb, analysis, targeting)["technographic"]]
    assert key in technographic, (vertical_id, technographic)
