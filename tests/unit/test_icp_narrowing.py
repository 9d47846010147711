"""An ICP that only narrows (a geography, a company size) narrows: it never brings in another market.

Only what the user wrote counts as provided: the fields inference fills in (the integrations read off
the seller's site, for one) never weigh as the user's own. Technologies name a data point only as
whole words, and a brand only where it is written as one ("Square" is not in "square feet").

The engine's pure functions run on every eval case's homepage (``evals/``, its held-out sets, and the
shared cross-check set when it is present) with and without a narrowing ICP.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from graph.engine.analysis import analyze_seller, site_zones
from graph.engine.icp import resolve_icp, user_provided
from graph.engine.select import rank_candidates, select_section
from graph.engine.text import PhraseMatcher, contains_words, names_term
from graph.knowledge import KnowledgeBase, load_knowledge
from graph.schemas import ICP, ResolvedICP
from tools.extract import extract_page
from tools.site import SiteSnapshot

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("firmographic", "technographic", "personalization")
CASE_FILES = {
    "evals": ROOT / "evals" / "cases.json",
    "holdout": ROOT / "evals" / "holdout" / "cases.json",
    "holdout2": ROOT / "evals" / "holdout2" / "cases.json",
}
# the cross-check set lives outside the project: used when BLUEPRINT_SHARED_EVAL names its folder
if os.environ.get("BLUEPRINT_SHARED_EVAL"):
    CASE_FILES["shared"] = Path(os.environ["BLUEPRINT_SHARED_EVAL"]) / "cases.json"
NARROWING = {
    "geography": ICP(geographies=["United States"]),
    "size": ICP.model_validate({"company_size": {"min_employees": 50, "max_employees": 500}}),
}
MIN_OVERLAP = 0.8


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


def _cases(name: str) -> list[dict[str, Any]]:
    path = CASE_FILES[name]
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


def _params() -> list[Any]:
    params = []
    for name, path in CASE_FILES.items():
        cases = _cases(name)
        if not cases:
            params.append(pytest.param(name, None, marks=pytest.mark.skip(
                reason=f"{path} is not present (the shared cross-check set is outside the project)"),
                id=f"{name}-absent"))
        params += [pytest.param(name, case["id"], id=f"{name}-{case['id']}") for case in cases]
    return params


@cache
def eval_site(set_name: str, case_id: str) -> SiteSnapshot:
    case = next(c for c in _cases(set_name) if c["id"] == case_id)
    html = (CASE_FILES[set_name].parent / case["site"]).read_text(encoding="utf-8")
    url = case["url"]
    domain = url.split("//", 1)[1].strip("/")
    return SiteSnapshot(url=url, final_url=url, domain=domain, pages=[extract_page(html, url, kind="home")])


def fixture_site(name: str) -> SiteSnapshot:
    html = (ROOT / "tests" / "fixtures" / "sites" / f"engine_{name}.html").read_text(encoding="utf-8")
    domain = f"{name.replace('_', '')}.example"
    url = f"https://{domain}/"
    return SiteSnapshot(url=url, final_url=url, domain=domain, pages=[extract_page(html, url, kind="home")])


def blueprint_keys(site: SiteSnapshot, icp: ICP | None) -> tuple[dict[str, list[str]], ResolvedICP]:
    """The data-point keys of each section, as the graph's nodes choose them with the catalog engine."""
    analysis = analyze_seller(site, kb())
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb(), icp)
    zones = site_zones(site)
    keys = {s: [dp.key for dp in select_section(s, kb(), analysis.company, targeting, zones, resolved, 10)]
            for s in SECTIONS}
    return keys, resolved


def site_market_keys(site: SiteSnapshot) -> set[str]:
    """Every data point the seller's own markets make a candidate (no ICP): the site's market."""
    analysis = analyze_seller(site, kb())
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb(), None)
    zones = site_zones(site)
    return {c.spec.key for s in SECTIONS for c in rank_candidates(s, kb(), targeting, zones, resolved)}


def overlap(a: list[str], b: list[str]) -> float:
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 1.0


@pytest.mark.parametrize("set_name,case_id", _params())
def test_a_narrowing_icp_keeps_the_sites_market(set_name: str, case_id: str) -> None:
    site = eval_site(set_name, case_id)
    plain, _ = blueprint_keys(site, None)
    own_market = site_market_keys(site) | {"integrated_tools_in_use"}
    for label, icp in NARROWING.items():
        narrowed, resolved = blueprint_keys(site, icp)
        assert resolved.source == "provided"
        for section in SECTIONS:
            added = set(narrowed[section]) - set(plain[section])
            assert not added - own_market, f"{case_id}, {label}-only ICP, {section}: another market's {added}"
            assert overlap(plain[section], narrowed[section]) >= MIN_OVERLAP, (
                f"{case_id}, {label}-only ICP, {section}: {plain[section]} became {narrowed[section]}")


def test_the_craft_brewery_seller_with_a_us_icp_gets_no_other_markets() -> None:
    """The reported case: golf venues, self-storage, CAD/RMS, salon booking and warehouses appeared."""
    site = fixture_site("brewery")
    plain, _ = blueprint_keys(site, None)
    narrowed, resolved = blueprint_keys(site, ICP(geographies=["United States"]))
    assert narrowed == plain
    chosen = {k for keys in narrowed.values() for k in keys}
    assert {"bev_alcohol_production_volume", "bev_alcohol_production_software"} <= chosen
    assert not chosen & {"recreation_venue_type_capacity", "storage_facility_footprint", "public_safety_cad_rms_system",
                         "salon_booking_software", "new_distribution_center", "warehouse_footprint"}
    # the integrations read off the site fill the ICP's silence, marked as inferred, and weigh nothing
    assert "Square" in resolved.technologies
    assert "technologies" in resolved.inferred_fields
    assert user_provided(resolved, "technologies") == []
    assert user_provided(resolved, "geographies") == ["United States"]


def test_technologies_the_user_names_still_lift_their_data_points() -> None:
    site = fixture_site("brewery")
    plain, _ = blueprint_keys(site, None)
    named, resolved = blueprint_keys(site, ICP(technologies=["Square"]))
    assert user_provided(resolved, "technologies") == ["Square"]
    assert "payment_processor" in named["technographic"]
    rank = named["technographic"].index("payment_processor")
    assert rank < plain["technographic"].index("payment_processor")
    # a brand is named where it is written as one: "net rentable square feet" is not Square
    chosen = {k for keys in named.values() for k in keys}
    assert not chosen & {"storage_facility_footprint", "warehouse_footprint", "cannabis_cultivation_capacity"}


def test_an_icp_technology_that_only_it_names_gets_a_why_about_the_market_not_the_icp() -> None:
    site = fixture_site("brewery")
    analysis = analyze_seller(site, kb())
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb(), ICP(technologies=["Salesforce"]))
    points = select_section("technographic", kb(), analysis.company, targeting, site_zones(site), resolved, 30)
    named = [dp for dp in points if "Your ICP names Salesforce" in dp.why]
    assert named, "a data point naming Salesforce should be lifted by the ICP"
    for dp in points:
        assert "your ICP lead" not in dp.why and " a your" not in dp.why.lower(), dp.why


@pytest.mark.parametrize("text,term,brand,found", [
    ("Self-storage facilities, net rentable square feet and units", "Square", True, False),
    ("Payment processor (Stripe, Square, Adyen, PayPal)", "Square", True, True),
    ("Payment processor (Stripe, Square, Adyen, PayPal)", "square", True, True),
    ("Website builder (Squarespace, Wix)", "Square", True, False),
    ("Current payroll provider (ADP, Gusto)", "payroll", False, True),
    ("Current Payroll provider", "payroll", False, True),
    ("Payrolls and paychecks", "payroll", False, False),
    ("Toasted menus", "Toast", True, False),
    ("Restaurant POS (Toast, Square for Restaurants)", "Square for Restaurants", True, True),
    ("Front-office tools", "Front", True, True),
    ("Current retail POS system (point of sale)", "Point of Sale", False, True),
])
def test_technologies_match_whole_words_and_brands_as_written(text: str, term: str, brand: bool,
                                                               found: bool) -> None:
    assert names_term(text, term, brand=brand) is found


def test_a_title_cased_kind_of_tool_is_not_taken_for_a_brand() -> None:
    keys, resolved = blueprint_keys(fixture_site("restaurant_pos"), ICP(technologies=["Point of Sale"]))
    assert user_provided(resolved, "technologies") == ["Point of Sale"]
    assert keys["technographic"][0] == "restaurant_pos_system"


def test_an_icp_technology_no_market_of_the_seller_names_brings_in_no_other_market() -> None:
    """A brewery's ICP naming "Point of Sale": restaurants', retailers' and cannabis POS data points name
    it, none of the brewery's own does; none of them is brought in."""
    plain, _ = blueprint_keys(fixture_site("brewery"), None)
    named, _ = blueprint_keys(fixture_site("brewery"), ICP(technologies=["Point of Sale"]))
    assert named == plain


def test_phrases_match_whole_words() -> None:
    assert contains_words("Uses QuickBooks Online today", "quickbooks online")
    assert not contains_words("Squarespace store", "square")
    assert not contains_words("the carré district", "carr")
    assert not contains_words("anything", "")
    # the catalogue's cue matcher too: never inside a word, accented letters included
    assert PhraseMatcher(("pos", "point of sale")).count("Posé sur le comptoir; point-of-sale") == Counter()
    assert PhraseMatcher(("pos",)).count("Modern POS, posted daily") == Counter({"pos": 1})


# ───────────────────────── another market's data point is never a must-have ─────────────────────────


def other_market_musts(site: SiteSnapshot) -> list[str]:
    """Must-haves written only for markets the seller does not target, claimed by a category of the seller
    that serves one it does target (fleet telematics serves trucking; home services' technicians are not
    a trucking seller's; a dental PMS seller's leads run no veterinary PMS)."""
    base = kb()
    analysis = analyze_seller(site, base)
    resolved, targeting = resolve_icp(analysis.company, analysis.market, base, None)
    targeted = {v.id for v in targeting.verticals}
    found: list[str] = []
    if targeting.horizontal:
        return found  # a horizontal seller's market is every industry
    for section in SECTIONS:
        for dp in select_section(section, base, analysis.company, targeting, site_zones(site), resolved, 10):
            spec = base.data_points.get(dp.key)
            if dp.priority != "must" or spec is None:
                continue
            markets = set(spec.applies_to.verticals) | {v.id for v in base.verticals.values()
                                                        if dp.key in v.data_points}
            claimed_by_serving_category = any(
                (dp.key in base.categories[c.id].data_points or c.id in spec.applies_to.categories)
                and targeted & set(base.categories[c.id].typical_verticals) for c in targeting.categories[:3])
            if markets and not markets & targeted and claimed_by_serving_category:
                found.append(f"{section}/{dp.key} (written for {sorted(markets)})")
    return found


def test_the_trucking_demo_seller_gets_no_home_services_must_have() -> None:
    html = (ROOT / "server" / "demo" / "roadledger.html").read_text(encoding="utf-8")
    url = "https://roadledger.example/"
    site = SiteSnapshot(url=url, final_url=url, domain="roadledger.example",
                        pages=[extract_page(html, url, kind="home")])
    keys, _ = blueprint_keys(site, None)
    firmographic = keys["firmographic"]
    trucking = [k for k in firmographic if k in {"fleet_power_units", "usdot_operating_authority",
                                                  "carrier_operation_type", "carrier_annual_mileage"}]
    assert len(trucking) == 4
    if "field_technician_count" in firmographic:
        assert firmographic.index("field_technician_count") > max(firmographic.index(k) for k in trucking)
    assert other_market_musts(site) == []


@pytest.mark.parametrize("set_name,case_id", _params())
def test_no_must_have_comes_from_a_market_the_seller_does_not_target(set_name: str, case_id: str) -> None:
    assert other_market_musts(eval_site(set_name, case_id)) == []


@pytest.mark.parametrize(("name", "foreign"), [
    ("dentalpms", {"veterinary_clinics", "behavioral_health", "home_health_senior_care"}),
    ("vetpms", {"dental_practices", "behavioral_health", "home_health_senior_care"}),
])
def test_a_practice_software_seller_gets_no_data_point_written_only_for_a_sibling_market(
    name: str, foreign: set[str]
) -> None:
    """An EHR/practice-management category serves dental, veterinary, behavioural and home-care markets
    alike; once the seller's own market is known, a data point written only for a sibling market (a vet
    PIMS for a dental seller) is not in its blueprint at any priority."""
    keys, _ = blueprint_keys(fixture_site(name), None)
    base = kb()
    written_for = {key: {v.id for v in base.verticals.values() if key in v.data_points}
                   | set(base.data_points[key].applies_to.verticals) for section in keys.values() for key in section}
    strays = {key for key, markets in written_for.items() if markets and markets <= foreign}
    assert not strays, strays
