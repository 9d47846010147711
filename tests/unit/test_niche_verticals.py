"""Niche buyer verticals (issue 14; pack niche_verticals.yaml): markets a vertical-SaaS vendor sells to that the
catalog lacked, or held only inside a catch-all whose data points were wrong for them.

A realistic page of a software vendor for each market - page chrome, a vague hero, the buyer named in the body
copy - targets the new vertical first, and no must-have of its blueprint is written only for another market.
The catch-alls the niches came out of still take their own sellers' pages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.engine.analysis import analyze_seller, site_zones
from graph.engine.icp import resolve_icp
from graph.engine.select import select_section
from graph.knowledge import KnowledgeBase
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PACK = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "niche_verticals.yaml"
SECTIONS = ("firmographic", "technographic", "personalization")

PAGES = {
    "real_estate_investors": ("Close More Deals, Faster", (
        "The all-in-one CRM for real estate investors. Track motivated sellers from first call to closing, run "
        "follow-up automatically and see every off-market deal in one pipeline. Built for house flippers, "
        "wholesalers and buy-and-hold investors who want to scale past spreadsheets.")),
    "swim_schools": ("Spend Less Time at the Desk", (
        "Enrollment, billing and scheduling software made for swim schools. Parents book make-up lessons online, "
        "instructors see their lesson plans and swim levels on deck, and tuition is collected on autopay. Trusted "
        "by learn-to-swim programs from one pool to twenty.")),
    "driving_schools": ("Run Your School From Anywhere", (
        "Scheduling and student management for driving schools. Students book behind-the-wheel lessons online, "
        "driving instructors get their day on the app, and every driver's ed hour and certificate is tracked for "
        "the state. Pick-up addresses and lesson reminders are automatic.")),
    "flight_schools": ("Keep Your Fleet Flying", (
        "The scheduling and training platform for flight schools and flying clubs. Book aircraft and flight "
        "instructors together, dispatch with Hobbs time captured, track student pilots through Part 141 stage "
        "checks and bill every flight automatically.")),
    "florists": ("Grow Your Business, Not Your Paperwork", (
        "Point of sale and order management built for florists and flower shops. Take walk-in, phone and web "
        "orders in one place, route your delivery drivers, and cut the fees you pay on wire orders. Ready for "
        "Valentine's Day and every sympathy order in between.")),
    "landscaping_lawn_care": ("Software That Works As Hard As Your Crews", (
        "Estimating, crew scheduling and job costing for landscaping businesses and lawn care companies. Build "
        "mowing routes in minutes, track hours per property, and invoice maintenance contracts automatically. Made "
        "for landscape professionals growing from two crews to twenty.")),
    "pest_control_operators": ("Route Smarter. Service More.", (
        "Pest control software for pest control companies of every size. Optimize technician routes, record "
        "chemical use on every service ticket, manage termite inspections and recurring accounts, and get paid "
        "with autopay. Switch from your old system in a week.")),
    "restoration_contractors": ("Every Job, Fully Documented", (
        "Job management for restoration contractors. Capture photos, moisture mapping and drying logs on site, "
        "keep every water mitigation and fire restoration job file ready for the adjuster, and invoice faster. "
        "Built with IICRC-certified technicians for restoration companies.")),
    "paving_sealcoating_contractors": ("Win More Bids This Season", (
        "Estimating and CRM for asphalt paving contractors and sealcoating companies. Measure parking lots from "
        "satellite imagery, price sealcoating, crack sealing and line striping in minutes, and send a professional "
        "proposal before your competitor shows up.")),
    "pallet_container_makers": ("Run a Tighter Operation", (
        "ERP for pallet companies. Quote new and recycled pallets from your designs, track lumber and cores in "
        "every yard, schedule your nailing lines and manage customer retrieval programs. Built for pallet "
        "manufacturers and pallet recyclers, with ISPM-15 heat treatment records included.")),
    "septic_portable_sanitation": ("Dispatch Made Simple", (
        "Route and dispatch software for septic companies and portable toilet rental businesses. Track every "
        "portable restroom unit on the map, schedule septic pumping and service routes, log disposal for your "
        "manifests and bill customers automatically.")),
    "sign_graphics_shops": ("From Quote to Install", (
        "Shop management software for sign shops and sign companies. Quote channel letters, banners and vehicle "
        "wraps in minutes, move work orders through production, and schedule sign installation crews. Used by "
        "independent shops and franchise owners alike.")),
    "golf_country_clubs": ("Modern Club Management", (
        "Tee sheet, member billing and point of sale for golf courses and country clubs. Members book tee times "
        "from their phone, the pro shop and restaurant charge to house accounts, and monthly dues run "
        "automatically. Built with club managers and golf professionals.")),
    "marinas_boatyards": ("Your Harbor, Organized", (
        "Marina management software for marinas and boatyards. Manage boat slips and dry stack storage, take "
        "transient slip reservations online, schedule haul-outs and service work, and bill slip holders for "
        "electric and fuel dock sales.")),
    "campgrounds_rv_parks": ("Book More Nights", (
        "Reservation software for campgrounds and RV parks. Guests book campsites and cabins online with live "
        "availability, you manage seasonal campers and metered electric, and the camp store runs on the same "
        "system. Loved by family-owned parks and glamping resorts.")),
    "event_wedding_venues": ("Turn Inquiries Into Bookings", (
        "Sales and event management for wedding venues and event venues. Respond to every event inquiry in "
        "minutes, schedule venue tours, send proposals and contracts, and collect payments online. Banquet event "
        "orders and floor plans stay in one place for your team.")),
    "countertop_stone_fabricators": ("Your Shop, Running Smoothly", (
        "Scheduling, quoting and slab inventory software for countertop fabricators. Track every job from "
        "templating to install, lay out pieces on your slabs and remnants, and keep your bridge saws busy. Built "
        "for stone fabricators and granite fabricators.")),
    "flooring_retailers_contractors": ("Sell More Floors", (
        "All-in-one business software for flooring stores and flooring contractors: point of sale, inventory, "
        "flooring estimates and orders, installer scheduling and job costing through to the invoice. Works for one "
        "showroom or twenty, with integrations to your suppliers.")),
    "pawn_shops": ("Built for the Counter", (
        "Point of sale for pawn shops. Write pawn loans and buys in seconds, print pawn tickets, handle forfeited "
        "merchandise and send your daily police reports automatically. Trusted by pawnbrokers from single stores "
        "to multi-state chains.")),
    "painting_contractors": ("Estimate, Schedule, Get Paid", (
        "Estimating and CRM for painting contractors. Build painting estimates on site, follow up automatically, "
        "schedule paint crews and track job costs. Made for residential and commercial painting companies growing "
        "past the owner doing every quote.")),
    "maid_cleaning_services": ("Grow Your Cleaning Business", (
        "Booking and scheduling software for maid services and house cleaning businesses. Clients book online, "
        "recurring cleans schedule themselves, your cleaning teams get their routes on the app and payroll is "
        "ready at the end of the week.")),
    "movie_theaters": ("Sell More Tickets and Popcorn", (
        "Ticketing and point of sale for movie theaters and independent cinemas. Publish showtimes to your "
        "website and apps, sell tickets and concessions from one system, and run loyalty and private screenings. "
        "From single-screen art houses to regional cinema circuits.")),
    "equestrian_facilities": ("Happier Horses, Easier Billing", (
        "Barn management software for boarding stables and equestrian centers. Keep feeding charts, farrier "
        "visits and vet records for every horse, schedule riding lessons and bill boarders each month. Built by "
        "barn owners for barn managers.")),
    "fence_deck_contractors": ("Quote Fences in Minutes", (
        "Estimating software for fence companies. Draw fence lines on satellite maps, get material lists and "
        "prices instantly, and send fence estimates homeowners can sign on the spot. Built for fence contractors "
        "and deck builders.")),
    "locksmiths": ("Answer Every Call", (
        "Dispatch, quoting and invoicing software for locksmiths. Route emergency calls to the nearest van, quote "
        "rekeys and automotive key programming on the spot, and keep master key systems on file for your "
        "commercial customers. Built for mobile locksmiths and storefront shops.")),
    "water_well_drillers": ("Less Paperwork, More Drilling", (
        "Job management for water well drillers and pump installers. Schedule rigs and pump service calls, "
        "complete well logs on a tablet at the site and file them with the state, and invoice the homeowner "
        "before you leave. Made for well drilling contractors.")),
    "auto_glass_shops": ("Quote, Schedule, Bill the Claim", (
        "Software for auto glass shops. Quote windshield replacement with current part pricing, schedule mobile "
        "technicians, document every ADAS calibration and submit glass claims electronically. Trusted by "
        "independent auto glass companies.")),
    "manufactured_housing_communities": ("Built for Your Community", (
        "Property management software made for manufactured housing communities and mobile home parks. Bill lot "
        "rent and submetered utilities, track park-owned homes and home sales, and give residents an online "
        "portal. From single parks to portfolios of MHCs.")),
}

# The catch-alls some niches came out of: their own sellers' pages still target them, not a niche.
CATCH_ALL_PAGES = {
    "recreation_venues": ("One Platform for Every Guest", (
        "Ticketing, point of sale and party booking for family entertainment centers, amusement parks, water "
        "parks and trampoline parks. Sell season passes and online waivers, book birthday parties and run "
        "attractions from one system.")),
    "home_services": ("Grow Your Home Service Business", (
        "Field service software for HVAC, plumbing and electrical contractors. Dispatch technicians, book service "
        "calls online, sell maintenance agreements and get paid in the field. Built for home services companies "
        "that want to grow.")),
    "specialty_hobby_retailers": ("The POS for Specialty Retail", (
        "Point of sale and inventory for independent specialty retailers: bike shops, hobby shops, music stores, "
        "gift shops and pet stores. Sell in store and online, run special orders and keep your inventory in "
        "sync.")),
    "heavy_civil_contractors": ("Estimate Heavy Civil Work With Confidence", (
        "Estimating and equipment management for heavy civil contractors and road builders. Bid DOT lettings, "
        "price earthmoving and site work, and track yellow iron across every job.")),
    "career_vocational_schools": ("Student Information System for Career Schools", (
        "An SIS for career colleges and trade schools: admissions, clock hours attendance, Title IV reporting and "
        "gainful employment disclosures for cosmetology schools, CDL schools and allied health programs.")),
    "manufactured_housing": ("Production Software for Home Builders", (
        "ERP and production scheduling for manufactured housing plants and modular home builders. Build HUD-code "
        "homes to order, track every floor through the line and manage retailer orders and shipments.")),
    "security_alarm_dealers": ("Grow Your RMR", (
        "Business software for alarm dealers and security dealers: manage monitoring contracts and recurring "
        "monthly revenue, reduce attrition, and run service tickets for your installers. Integrates with "
        "Alarm.com and your central station.")),
    "property_management": ("Property Management, Simplified", (
        "Property management software for multifamily and single-family property managers. Collect rent online, "
        "handle work orders and leasing, and give residents and owners their own portals.")),
}

# Bare words another market's page uses in passing: never a cue on their own.
GENERIC_WORDS = {"students", "student", "units", "investors", "venues", "schools", "clinics", "contractors",
                 "shops", "stores", "crews", "members", "clubs", "lessons", "routes", "events", "customers"}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>",
                       nav="<nav><a href='/'>Home</a> <a href='/features'>Features</a> <a href='/pricing'>Pricing"
                           "</a> <a href='/blog'>Blog</a></nav>",
                       footer="<footer>Privacy policy. Terms of service. Book a demo. (c) 2026</footer>")


def _pack() -> dict[str, list[dict[str, object]]]:
    return yaml.safe_load(PACK.read_text(encoding="utf-8"))


def _written_for(kb: KnowledgeBase, key: str) -> set[str]:
    spec = kb.data_points[key]
    return set(spec.applies_to.verticals) | {v.id for v in kb.verticals.values() if key in v.data_points}


def test_every_vertical_of_the_pack_has_a_page_here() -> None:
    assert set(PAGES) == {str(v["id"]) for v in _pack()["verticals"]}


@pytest.mark.parametrize("vertical_id", sorted(PAGES))
def test_a_software_seller_for_the_niche_targets_it_and_gets_its_must_haves(kb: KnowledgeBase,
                                                                            vertical_id: str) -> None:
    site = _site(*PAGES[vertical_id])
    analysis = analyze_seller(site, kb)
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    assert analysis.company.seller_kind == "software"
    assert targeting.verticals and targeting.verticals[0].id == vertical_id, [v.id for v in targeting.verticals]
    musts = [dp.key for section in SECTIONS
             for dp in select_section(section, kb, analysis.company, targeting, site_zones(site), resolved, 10)
             if dp.priority == "must"]
    foreign = [key for key in musts
               if not kb.data_points[key].applies_to.any and (markets := _written_for(kb, key))
               and vertical_id not in markets]
    assert not foreign, (vertical_id, foreign)
    own = [key for key in musts if vertical_id in _written_for(kb, key)]
    assert len(own) >= 5, (vertical_id, musts)


@pytest.mark.parametrize("vertical_id", sorted(CATCH_ALL_PAGES))
def test_the_catch_alls_still_take_their_own_sellers(kb: KnowledgeBase, vertical_id: str) -> None:
    analysis = analyze_seller(_site(*CATCH_ALL_PAGES[vertical_id]), kb)
    _, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    assert targeting.verticals and targeting.verticals[0].id == vertical_id, [v.id for v in targeting.verticals]


def test_cues_are_phrases_not_bare_generic_words(kb: KnowledgeBase) -> None:
    for vertical_id in PAGES:
        phrases = [c.phrase for c in kb.verticals[vertical_id].cues]
        assert not {p.casefold() for p in phrases} & GENERIC_WORDS, vertical_id
        assert all(0.5 <= c.weight <= 1.0 for c in kb.verticals[vertical_id].cues), vertical_id


def test_each_niche_has_its_own_qualifying_data_in_every_section(kb: KnowledgeBase) -> None:
    for vertical_id in PAGES:
        vertical = kb.verticals[vertical_id]
        assert len(vertical.data_points) >= 8, vertical_id
        sections = {kb.data_points[k].section for k in vertical.data_points if not kb.data_points[k].applies_to.any}
        assert sections >= set(SECTIONS), vertical_id
        assert vertical.naics and len(vertical.buyer_titles) >= 4, vertical_id


def test_new_data_points_are_written_for_a_niche_that_lists_them(kb: KnowledgeBase) -> None:
    keys = [str(d["key"]) for d in _pack()["data_points"]]
    assert len(keys) >= 100
    for key in keys:
        spec = kb.data_points[key]
        assert spec.applies_to.verticals and set(spec.applies_to.verticals) <= set(PAGES), key
        for vertical_id in spec.applies_to.verticals:
            assert key in kb.verticals[vertical_id].data_points, (key, vertical_id)
        assert spec.method and spec.sources, key
