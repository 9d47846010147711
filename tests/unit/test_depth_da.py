"""Knowledge depth for thin buyer verticals, group da (issue 14; pack depth_da.yaml).

Every vertical deepened here has at least three data points of its own in each section (written for it in
``applies_to.verticals``, not generic), at least one market-specific list of its businesses (a registry, directory
or dataset that is not one of the shared sources), and every source the pack adds is really used by a data point
of its market. A software seller's page for a few of these markets now gets the new technographic data point."""

from __future__ import annotations

import pytest

from graph.knowledge import KnowledgeBase
from tests.support.depth import pack, shared_source_ids, written_for
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import product_page

PACK = "depth_da.yaml"
SECTIONS = ("firmographic", "technographic", "personalization")

PRIORITY_1 = (
    "ambulatory_care_centers", "rehab_therapy_clinics", "specialty_outpatient", "digital_health_companies",
    "bpo_contact_centers", "fqhc_health_centers", "laundromats_dry_cleaners", "device_repair_shops", "swim_schools",
    "driving_schools", "florists", "movie_theaters", "equestrian_facilities", "maid_cleaning_services", "locksmiths",
    "auto_glass_shops", "marinas_boatyards", "campgrounds_rv_parks", "event_wedding_venues", "grocery_retailers",
    "apparel_jewelry_retailers", "general_merchandise_retailers", "garden_centers", "marine_powersports_dealers",
)
PRIORITY_2 = (
    "transit_airports_ports", "insurance_agencies", "forestry_logging", "oilfield_services_contractors",
    "utility_infrastructure_contractors", "customs_brokers_forwarders", "equipment_dealers_rental",
    "furniture_appliance_stores", "maritime_vessel_operators", "idd_disability_providers",
    "defense_military_agencies", "career_vocational_schools", "pawn_shops", "pro_sports_teams_leagues",
)
DEEPENED = PRIORITY_1 + PRIORITY_2
LIST_KINDS = {"registry", "website", "dataset"}

# A vendor's page for the market (chrome, a vague hero, the buyer in the body) and the new technographic data
# point its blueprint now carries.
PAGES = {
    "garden_centers": ("gdn_da_marketing_loyalty", "Grow Sales Every Season", (
        "Point of sale and inventory for independent garden centers and retail nurseries. Ring up plants, "
        "hardgoods and gift items fast in spring, track perennials and shrubs by size and variety, and send "
        "loyalty rewards and newsletters to your gardeners. Made by garden center people.")),
    "maid_cleaning_services": ("mds_da_field_service_crm", "Spend Less Time Scheduling", (
        "Scheduling and payroll made for maid services and house cleaning companies. Recurring cleans book "
        "themselves, cleaning teams see their routes and checklists on the app, and clients pay automatically "
        "after every clean.")),
    "pawn_shops": ("pwn_da_police_reporting_system", "Write Loans Faster", (
        "Pawn shop software for pawnbrokers. Write pawn loans and buys in seconds, print pawn tickets, manage "
        "forfeited merchandise and send your daily police reports automatically. Trusted by independent pawn "
        "shops and multi-store chains.")),
    "driving_schools": ("drv_da_online_classroom", "Fill Every Lesson Slot", (
        "Student management for driving schools. Teens and adults book behind-the-wheel lessons online, driving "
        "instructors get their day on the app, and every driver's ed classroom hour and certificate is tracked "
        "for the state.")),
}



def _new_keys() -> list[str]:
    return [str(d["key"]) for d in pack(PACK)["data_points"]]





@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_each_vertical_has_three_of_its_own_data_points_per_section(kb: KnowledgeBase, vertical_id: str) -> None:
    own = written_for(kb, vertical_id)
    counts = {section: sum(1 for key in own if kb.data_points[key].section == section) for section in SECTIONS}
    assert all(n >= 3 for n in counts.values()), (vertical_id, counts)


@pytest.mark.parametrize("vertical_id", DEEPENED)
def test_each_vertical_has_a_market_specific_list_of_its_businesses(kb: KnowledgeBase, vertical_id: str) -> None:
    shared = shared_source_ids()
    specific = {ref.source for key in written_for(kb, vertical_id) for ref in kb.data_points[key].sources
                if ref.source not in shared and kb.sources[ref.source].kind in LIST_KINDS}
    assert specific, vertical_id


def test_every_new_source_is_used_by_a_data_point_of_its_market(kb: KnowledgeBase) -> None:
    sources = pack(PACK)["sources"]
    assert len(sources) >= 25
    for entry in sources:
        source_id = str(entry["id"])
        source = kb.sources[source_id]
        assert source.verticals and set(source.verticals) <= set(DEEPENED), source_id
        users = [dp for dp in kb.data_points.values() if any(ref.source == source_id for ref in dp.sources)]
        assert any(set(dp.applies_to.verticals) & set(source.verticals) for dp in users), source_id


def test_new_data_points_are_written_for_these_markets_in_the_catalog_shape(kb: KnowledgeBase) -> None:
    keys = _new_keys()
    assert len(keys) == len(set(keys)) and len(keys) >= 80
    for key in keys:
        spec = kb.data_points[key]
        assert "_da_" in key, key
        assert spec.applies_to.verticals and set(spec.applies_to.verticals) <= set(DEEPENED), key
        assert not (spec.applies_to.any or spec.applies_to.categories or spec.applies_to.kinds), key
        assert 0.8 <= spec.weight <= 1.8, key
        assert spec.method and spec.cadence and len(spec.sources) >= 1, key
        assert "{offering}" in spec.why or "{seller}" in spec.why, key
        if spec.section == "firmographic":
            assert spec.qualification_rule, key
        if spec.value_type in ("enum", "multi_enum"):
            assert len(spec.options) >= 4, key


def test_every_vertical_gained_something_from_this_pack(kb: KnowledgeBase) -> None:
    keys = set(_new_keys())
    touched = {v for key in keys for v in kb.data_points[key].applies_to.verticals}
    assert touched == set(DEEPENED)


@pytest.mark.parametrize("vertical_id", sorted(PAGES))
def test_a_sellers_page_for_the_market_gets_its_new_technographic_data_point(kb: KnowledgeBase,
                                                                            vertical_id: str) -> None:
    expected, title, body = PAGES[vertical_id]
    analysis, targeting = routed(product_page(title, body), kb)
    assert targeting.verticals and targeting.verticals[0].id == vertical_id, [v.id for v in targeting.verticals]
    keys = chosen_keys(kb, analysis, targeting)
    new_technographic = {key for key in _new_keys()
                         if kb.data_points[key].section == "technographic"
                         and vertical_id in kb.data_points[key].applies_to.verticals}
    assert expected in new_technographic and expected in keys, (vertical_id, sorted(keys))
