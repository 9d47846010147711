"""Long-tail seller categories (issue 14, item 3; pack longtail_sellers.yaml): a realistic page of each - site
navigation and footer, a vague hero, the seller's own trade words and its buyers named in passing - routes to its
category and seller kind, targets its buyers (never its own industry), and its must-have data points belong to
the markets the blueprint states."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.claims import claimed
from tests.support.routing import SECTIONS, chosen_sections, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PACK = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "longtail_sellers.yaml"

PAGES = {
    "hard_money_real_estate_lending": ("Funding that moves at the speed of your deals", (
        "Fix and flip loans, bridge loans for investors and DSCR loans for rental properties. We fund up to 90% "
        "of purchase and 100% of the rehab budget, based on the after-repair value, and close in as little as "
        "7 days. A hard money lender built by real estate investors.")),
    "contractor_surety_bonds": ("Bonding that grows with your backlog", (
        "We are a surety bond agency for contractors: bid bonds, performance and payment bonds and contractor "
        "license bonds with A-rated sureties. We build your bonding line from your financials and work-in-progress "
        "schedule so you can bid bigger public jobs.")),
    "trucking_insurance_agencies": ("Coverage that keeps you rolling", (
        "Commercial truck insurance for fleets and owner-operators: primary auto liability, motor truck cargo, "
        "physical damage, non-trucking liability and bobtail insurance. New authority insurance filed with "
        "FMCSA the same day.")),
    "heavy_equipment_auction_marketplaces": ("Buy and sell with confidence", (
        "Unreserved auctions every week, online and on site. Consign your equipment - excavators, dozers, "
        "wheel loaders, trucks and trailers - and reach buyers in 150 countries. Every lot comes with "
        "inspection reports, financing and shipping.")),
    "home_service_lead_generation": ("Grow your business on your terms", (
        "Get exclusive leads from homeowners in your area who are ready to hire. Roofing leads, HVAC leads, "
        "solar leads and more - pay per lead, choose your service area and job types, and pause any time. "
        "No contracts, no setup fees.")),
    "dumpster_junk_lead_networks": ("More jobs for your trucks", (
        "Join our hauler network. We take thousands of dumpster and junk orders every day and send them to "
        "independent haulers in our partner network - booked jobs, not tire-kicking leads. Become a hauler "
        "partner and fill your roll-off schedule.")),
    "pavement_parking_lot_maintenance": ("First impressions start in the parking lot", (
        "Sealcoating, crack sealing, asphalt repair and parking lot striping for retail centers, office parks "
        "and HOAs. Our infrared asphalt repair and ADA parking compliance programs keep properties safe, with "
        "one contact for every site in your portfolio.")),
    "commercial_roofing_services": ("Protecting what's under your roof", (
        "A commercial roofing contractor for warehouses, plants and schools: TPO roofing, EPDM roofing and "
        "roof coatings, emergency leak repair and a roof maintenance program with roof asset management "
        "reports for every building.")),
    "commercial_solar_installers": ("Cut your energy costs for good", (
        "Solar for businesses, farms and schools. We design and build rooftop solar, solar carports and "
        "behind-the-meter storage, with zero-down power purchase agreements and help claiming the investment "
        "tax credit. A commercial solar installer with 400 MW built.")),
    "kitchen_grease_oil_services": ("Kitchen services that keep you cooking", (
        "Fresh fryer oil delivery and used cooking oil collection, grease trap pumping and kitchen exhaust "
        "hood cleaning to NFPA 96. One scheduled service for every location, with FOG compliance records "
        "for the city.")),
    "automation_components_distribution": ("Everything for the panel, shipped today", (
        "PLCs and HMIs, drives, terminal blocks, DIN rail, wire duct and electrical enclosures from the brands "
        "you design in. Panel builders and machine builders order by 8 pm and get industrial automation "
        "components the next day.")),
    "pallet_supply_management": ("Keeping your loads moving", (
        "New pallets, recycled pallets and custom pallets from 20 plants, plus pallet retrieval and a pallet "
        "management program at your DCs. GMA pallets, heat-treated pallets for export and plastic pallets for "
        "food plants.")),
    "telehealth_pharmacy_fulfillment": ("The pharmacy behind the brands patients love", (
        "A white-label pharmacy for telehealth companies. Our pharmacy API takes prescriptions from your "
        "platform and we ship them in branded packaging, licensed in all 50 states. Pharmacy fulfillment for "
        "weight loss, dermatology and hormone programs.")),
    "vehicle_transport_dealers": ("Move cars, not paperwork", (
        "Dealer transport made simple: auction transport, dealer-to-dealer transport and home deliveries. "
        "Instant quotes, vetted car carriers, open and enclosed transport and photo condition reports on "
        "every car hauling load.")),
    "nurse_triage_services": ("Your patients, cared for after hours", (
        "After-hours nurse triage for physician practices and health systems. Registered nurses answer your "
        "patients' calls using Schmitt-Thompson protocols, document every call in your EHR and escalate "
        "emergencies to the on-call provider.")),
    "court_reporting_deposition_services": ("Your record, delivered", (
        "A court reporting firm with certified court reporters, legal videographers and remote depositions "
        "nationwide. Schedule a deposition in minutes; certified transcripts and exhibits delivered to your "
        "case team.")),
    "meetings_incentive_agencies": ("Experiences that move people", (
        "We plan incentive travel programs, sales kickoff meetings and leadership offsites for global brands: "
        "site selection, hotel contracting, air and destination management, onsite teams and President's Club "
        "recognition programs.")),
    "store_brand_private_label_manufacturing": ("Quality your shoppers trust", (
        "A private label manufacturer of store brands for grocery and drug chains. We make national brand "
        "equivalent snacks, cereals and household products for private brand programs - see us at PLMA.")),
    "contract_packaging_kitting": ("Packaging that's ready for the shelf", (
        "A contract packager for consumer brands: club packs and variety packs, shrink bundling, blister "
        "packaging and clamshell packaging, POP display assembly and rework and relabeling - with the surge "
        "capacity your holiday season needs.")),
    "commercial_signage": ("Brands that stand out on every street", (
        "From one storefront to national sign programs: channel letter signs, monument signs and pylon signs, "
        "wayfinding signage and ADA signage. We handle design, sign permitting, fabrication and sign "
        "installation for chains, banks and hospitals.")),
}

NAV = ("<nav><a href='/'>Home</a> <a href='/about'>About us</a> <a href='/resources'>Resources</a> "
       "<a href='/careers'>Careers</a> <a href='/contact'>Contact</a></nav>")
FOOTER = ("<footer>Privacy policy. Terms of use. Cookie settings. Follow us on LinkedIn and Facebook. "
          "(c) 2026 All rights reserved.</footer>")


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>", nav=NAV, footer=FOOTER)


def _pack() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(PACK.read_text(encoding="utf-8"), Loader=loader)




def test_every_category_of_the_pack_has_a_page_here() -> None:
    assert {c["id"] for c in _pack()["categories"]} == set(PAGES)


@pytest.mark.parametrize("category_id", sorted(PAGES))
def test_a_long_tail_seller_routes_to_its_category_and_targets_its_buyers(kb: KnowledgeBase, category_id: str) -> None:
    category = kb.categories[category_id]
    analysis, targeting = routed(_site(*PAGES[category_id]), kb, category_id)
    targeted = [v.id for v in targeting.verticals]
    assert targeted and not set(targeted) & set(category.own_verticals), (category_id, targeted)
    assert targeted[0] in category.typical_verticals, (category_id, targeted)
    chosen = chosen_sections(kb, analysis, targeting)
    stray = [f"{s}:{dp.key}" for s, dps in chosen.items() for dp in dps
             if dp.priority == "must" and not claimed(dp.key, kb, targeting)]
    assert not stray, (category_id, stray)
    own = {dp.key for dps in chosen.values() for dp in dps} & set(category.data_points)
    assert len(own) >= 3, (category_id, sorted(own))


def test_the_pack_is_non_software_with_real_competitors_and_buyer_data_in_every_section(kb: KnowledgeBase) -> None:
    for category_id in PAGES:
        category = kb.categories[category_id]
        assert category.kind != "software", category_id
        assert len(category.competitors) >= 10, category_id
        assert len(category.data_points) >= 6, category_id
        assert not set(category.own_verticals) & set(category.typical_verticals), category_id
        sections = {kb.data_points[k].section for k in category.data_points}
        assert set(SECTIONS) <= sections, category_id


def test_new_data_points_describe_the_buyer_and_are_claimed_by_their_sellers(kb: KnowledgeBase) -> None:
    keys = [d["key"] for d in _pack()["data_points"]]
    assert keys and all(k.startswith("lt_") for k in keys)
    for key in keys:
        spec = kb.data_points[key]
        assert spec.applies_to.categories and set(spec.applies_to.categories) <= set(PAGES), key
        for category_id in spec.applies_to.categories:
            assert key in kb.categories[category_id].data_points, (key, category_id)
        assert "{segment}" in spec.why, key  # written about the lead, whatever its market


PLAIN_PAGES = {
    # the same sellers in plainer words: fewer trade terms, the buyer named in passing or not at all
    "automation_components_distribution": ("Automation Parts", (
        "Thousands of automation and control products in stock: PLCs, servo drives, relays, power supplies, "
        "sensors and enclosures. Machine builders and OEMs get same-day shipping and free tech support.")),
    "commercial_roofing_services": ("Roofing for Business", (
        "Roof replacement, repair and restoration for commercial and industrial buildings. Single-ply, metal "
        "and coating systems installed by certified crews, with preventative maintenance plans.")),
    "commercial_signage": ("Signs for Business", (
        "Custom outdoor and indoor signs for businesses: storefront signs, monument signs, lighted signs and "
        "vehicle graphics. Design, permits and installation.")),
    "commercial_solar_installers": ("Clean Energy for Your Business", (
        "Lower your operating costs with solar panels on your roof or parking lot. We handle engineering, "
        "permitting, incentives and installation for manufacturers, warehouses and farms.")),
    "contract_packaging_kitting": ("Packaging Services", (
        "We assemble displays, build kits and gift sets, and shrink-wrap multipacks for consumer brands. "
        "Flexible labor for seasonal peaks and retailer compliance.")),
    "contractor_surety_bonds": ("Surety Solutions", (
        "Need a bid bond by Friday? We help contractors of every size qualify for surety credit, from "
        "first-time bonds to $50M programs. Payment and performance bonds, maintenance bonds and SBA surety "
        "guarantee bonds.")),
    "court_reporting_deposition_services": ("Deposition Services", (
        "Court reporters, videographers and interpreters for depositions anywhere. Remote, hybrid or in "
        "person, with realtime and rough drafts available.")),
    "dumpster_junk_lead_networks": ("Partner With Us", (
        "Own a roll-off company or junk hauling business? We send you prepaid dumpster rental orders in your "
        "area. Set your prices and schedule, and we handle the marketing and customer service.")),
    "hard_money_real_estate_lending": ("Capital for Investors", (
        "Short-term rehab loans and long-term rental loans for investors. No tax returns, no income "
        "verification. Funding in 10 days, up to 75% LTV. Flippers and landlords nationwide trust our private "
        "lending team.")),
    "heavy_equipment_auction_marketplaces": ("Equipment Sales", (
        "Sell your excavators, loaders, tractors and trucks to thousands of bidders. No-reserve online "
        "auctions every Tuesday; we inspect, photograph and market your machines and pay you in 10 days.")),
    "home_service_lead_generation": ("Win More Jobs", (
        "We connect local contractors with homeowners who need a new roof, HVAC system, windows or bathroom "
        "remodel. Only pay for the leads you get, in the zip codes you choose.")),
    "kitchen_grease_oil_services": ("Restaurant Services", (
        "We deliver fresh oil and pick up your used oil, pump grease traps and clean hoods and exhaust ducts "
        "so your kitchen passes inspection. Serving restaurants across the state.")),
    "meetings_incentive_agencies": ("Meetings and Incentives", (
        "We design incentive trips and meetings that motivate sales teams and reward top performers - from "
        "venue sourcing to onsite management.")),
    "nurse_triage_services": ("Clinical Phone Coverage", (
        "Our RNs handle your patients' symptom calls nights, weekends and holidays using evidence-based "
        "triage protocols, so your physicians sleep and patients stay out of the ER.")),
    "pallet_supply_management": ("Pallets and Crates", (
        "Wood pallets, crates and skids built to your spec, plus used pallet buyback and removal. Serving "
        "manufacturers and distribution centers with just-in-time delivery.")),
    "pavement_parking_lot_maintenance": ("Asphalt Services", (
        "Asphalt paving, sealcoating, line striping and pothole repair for commercial properties. We work "
        "nights and weekends so your tenants never lose access to their parking.")),
    "store_brand_private_label_manufacturing": ("Private Label Partner", (
        "We manufacture private label products for retailers: cookies, crackers and snacks under your store's "
        "brand, matched to the national brand and packed to your specs.")),
    "telehealth_pharmacy_fulfillment": ("Pharmacy Infrastructure for Digital Health", (
        "Launch prescriptions without building a pharmacy. We dispense and ship medications for virtual care "
        "companies with an API, nationwide licensure and patient support.")),
    "trucking_insurance_agencies": ("Insurance for Truckers", (
        "We insure truckers. Auto liability, cargo coverage, physical damage and occupational accident for "
        "owner operators and small fleets, with MC filings done fast and certificates in minutes.")),
    "vehicle_transport_dealers": ("Shipping Vehicles for Dealers", (
        "We ship vehicles for dealerships, auctions and fleets. Book a load, get matched with a carrier and "
        "track every unit from pickup to delivery.")),
}


@pytest.mark.parametrize("category_id", sorted(PLAIN_PAGES))
def test_a_plainly_worded_page_routes_to_its_category_and_its_buyers(kb: KnowledgeBase, category_id: str) -> None:
    _, targeting = routed(_site(*PLAIN_PAGES[category_id]), kb, category_id)
    assert targeting.verticals and targeting.verticals[0].id not in kb.categories[category_id].own_verticals


SOFTWARE_FOR_THESE_SELLERS = {
    # software written for these sellers uses their trade words; it stays a software vendor
    "crm_sales_tools": ("Roofing CRM Software", (
        "The CRM built for roofing contractors: track leads, measure roofs from aerial imagery, build estimates "
        "and order materials. Commercial roofing and residential crews in one app.")),
    "pharmacy_management_systems": ("Pharmacy Software for Independents", (
        "Pharmacy management software for independent pharmacies: dispensing software, pharmacy POS, "
        "e-prescriptions and delivery tracking in the cloud.")),
}


@pytest.mark.parametrize("category_id", sorted(SOFTWARE_FOR_THESE_SELLERS))
def test_software_for_these_sellers_is_not_read_as_one_of_them(kb: KnowledgeBase, category_id: str) -> None:
    routed(_site(*SOFTWARE_FOR_THESE_SELLERS[category_id]), kb, category_id, kind="software")
