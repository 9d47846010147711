"""Services sellers, second wave (issue 14, item 3): a realistic page of each kind of services seller - business
lenders, employment services, professional and technical services, facility, logistics, agency, training and
marketplace sellers - routes to its category and kind, its buyers are not its own industry, and the blueprint
carries the data that category qualifies its buyers by."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PACK = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "services_sellers_2.yaml"

PAGES = {
    "purchase_order_financing": ("Purchase Order Financing for Growing Product Companies", (
        "Won a big order but can't pay your supplier? Our purchase order financing pays your manufacturer "
        "directly so you can fulfill large orders from retail chains and distributors. PO funding from $100k "
        "to $20M, repaid when your customer pays.")),
    "asset_based_lending": ("Asset-Based Lending for the Middle Market", (
        "Senior secured asset-based loans from $5M to $150M. We build a borrowing base on your eligible "
        "receivables and inventory, close ABL facilities in weeks and stay with you through turnarounds, "
        "refinancings and DIP financing.")),
    "professional_employer_organization": ("A PEO Built for Small Businesses", (
        "As a professional employer organization we become your co-employer: payroll, payroll taxes, "
        "workers' compensation coverage and big-company benefits for your worksite employees, with an HR "
        "team on call.")),
    "outsourced_hr_consulting": ("Outsourced HR for Growing Companies", (
        "No HR department? Our fractional HR consultants write your employee handbook, run an HR audit, "
        "handle terminations and investigations and keep you compliant in every state - a dedicated HR "
        "manager on demand.")),
    "accounting_finance_staffing": ("Accounting and Finance Staffing", (
        "Our finance and accounting recruiters place temporary accountants, AP and AR specialists, interim "
        "controllers and financial analysts for month-end close, audits and system conversions - temporary, "
        "contract-to-hire and direct hire.")),
    "on_demand_shift_staffing": ("On-Demand Staffing for Warehouses and Hospitality", (
        "Post a shift and get vetted workers in hours. Our staffing marketplace connects warehouses, "
        "restaurants and event venues with on-demand workers - no minimums, same-day staffing, pay only "
        "for hours worked.")),
    "occupational_health_drug_testing": ("Occupational Health Services for Employers", (
        "Occupational medicine for employers: DOT physicals, pre-employment drug screening, random drug "
        "testing and a random testing consortium for owner-operators, medical review officer services, "
        "work injury care and respirator fit testing at clinics near your sites.")),
    "contact_center_outsourcing": ("Customer Experience Outsourcing", (
        "Outsourced customer support that feels in-house. Our nearshore contact center teams handle "
        "voice, chat and email for fast-growing brands - call center outsourcing with dedicated agents, "
        "QA and workforce management included.")),
    "answering_virtual_receptionist": ("Live Receptionists for Your Business", (
        "Never miss a call. Our live virtual receptionist service answers every call 24/7, captures new "
        "client intake, books appointments and handles after-hours answering for law firms, medical "
        "practices and contractors.")),
    "product_testing_certification": ("Product Safety Testing and Certification", (
        "An ISO/IEC 17025 accredited lab and nationally recognized testing laboratory. We handle product "
        "safety testing, EMC testing, FCC certification and CE marking so manufacturers reach global "
        "markets on schedule.")),
    "product_design_engineering_services": ("Product Design and Development Firm", (
        "A product development firm for hardware companies: industrial design services, mechanical "
        "engineering services, electronics and embedded systems design, prototyping and design for "
        "manufacturability through to transfer to your manufacturer.")),
    "commercial_debt_collection": ("Commercial Collection Agency", (
        "B2B debt collection for manufacturers, distributors and service firms. Our commercial collections "
        "team recovers past-due accounts on a contingency basis - no recovery, no fee - with forwarding "
        "attorneys nationwide.")),
    "regulated_medical_waste": ("Medical Waste Disposal for Healthcare Practices", (
        "Regulated medical waste pickup for clinics, dental offices, veterinary hospitals and labs: sharps "
        "disposal, red bag waste, sharps mail-back kits and pharmaceutical waste disposal with compliant "
        "manifests and OSHA training.")),
    "environmental_remediation_abatement": ("Environmental Remediation and Abatement Contractor", (
        "A licensed abatement contractor for asbestos abatement and lead abatement ahead of demolition, "
        "soil remediation and groundwater remediation at industrial sites, PFAS remediation and 24/7 "
        "emergency spill response.")),
    "parking_management_services": ("Parking Management Company", (
        "We run garages and lots for property owners, hospitals, hotels and universities: parking "
        "management services, valet parking services, parking enforcement services and shuttles that "
        "grow parking revenue.")),
    "contract_logistics_warehousing": ("Contract Logistics and Warehousing", (
        "Dedicated warehousing and multi-client facilities for manufacturers and consumer brands: contract "
        "logistics, cross-docking, transloading and retail distribution center operations across a national "
        "network.")),
    "final_mile_courier_delivery": ("Final-Mile Delivery for Retailers", (
        "Same-day courier and final-mile delivery for retailers and supply houses: on-demand courier "
        "runs, scheduled routes, big and bulky delivery and white glove delivery with installation.")),
    "paid_media_agency": ("Performance Marketing Agency", (
        "A paid media agency for ecommerce and SaaS brands. Paid search, paid social and programmatic - "
        "our Google Ads agency and Meta ads agency teams manage $400M in ad spend under management and "
        "report on ROAS every week.")),
    "amazon_marketplace_agency": ("Amazon Agency for Brands", (
        "Full-service Amazon marketing agency: Seller Central management, Amazon PPC management, Amazon "
        "listing optimization and A+ content, and a Walmart marketplace agency team for brands ready to "
        "grow.")),
    "video_production_agency": ("Corporate Video Production Company", (
        "A video production company for marketing teams: brand films, animated explainer videos, "
        "testimonial videos and product demos - corporate video production from script to final cut.")),
    "sales_training": ("Sales Training that Sticks", (
        "Sales training programs for B2B sales teams: a proven sales methodology, prospecting training, "
        "negotiation training and sales coaching for managers, delivered as sales workshops and reinforced "
        "after your sales kickoff.")),
    "freelance_talent_marketplace": ("Hire Freelancers You Can Trust", (
        "A freelance marketplace of vetted freelancers: developers, designers and marketers. Post a "
        "project, hire freelancers in 48 hours and pay on milestones - on-demand talent for teams of "
        "every size.")),
    "industrial_hazardous_waste": ("Hazardous Waste Management for Industry", (
        "Hazardous waste disposal for plants, labs and shops: waste characterization and waste profiling, "
        "lab pack services, drum and bulk pickup, universal waste recycling and parts washer service, with "
        "hazardous waste manifests and RCRA compliance support.")),
    "ediscovery_litigation_support": ("eDiscovery and Managed Review", (
        "eDiscovery services for law firms and corporate legal departments: forensic collection, processing "
        "and Relativity hosting, technology-assisted review and managed review teams for litigation, "
        "investigations and second requests.")),
    "claims_tpa_services": ("Claims Administration for Self-Insured Employers", (
        "A third-party administrator for self-insured employers and public entities: workers' compensation "
        "claims management, liability claims administration and large deductible programs, with managed "
        "care and online loss runs.")),
    "corporate_relocation_services": ("Corporate Relocation Services", (
        "A relocation management company for employers: relocation policy design, lump-sum relocation and "
        "fully managed moves, home sale assistance, destination services and international assignment "
        "management for your transferees.")),
}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>")


def _pack_ids() -> set[str]:
    # the C loader where built: the pure-Python one is slow on a loaded machine
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {c["id"] for c in yaml.load(PACK.read_text(), Loader=loader)["categories"]}


def test_every_category_of_the_pack_has_a_page_here() -> None:
    assert _pack_ids() == set(PAGES)


@pytest.mark.parametrize("category_id", sorted(PAGES))
def test_a_services_seller_routes_to_its_category_and_qualifies_buyers_its_own_way(
        kb: KnowledgeBase, category_id: str) -> None:
    category = kb.categories[category_id]
    analysis, targeting = routed(_site(*PAGES[category_id]), kb, category_id)
    assert targeting.verticals and targeting.verticals[0].id not in category.own_verticals
    chosen = chosen_keys(kb, analysis, targeting)
    # the category's own qualifying data: its own data points and those it reuses from other packs
    own = {key for key in chosen
           if key in category.data_points or category_id in kb.data_points[key].applies_to.categories}
    assert len(own) >= 3, (category_id, sorted(chosen))


def test_the_pack_is_non_software_with_buyer_data_in_every_section(kb: KnowledgeBase) -> None:
    for category_id in _pack_ids():
        category = kb.categories[category_id]
        assert category.kind != "software", category_id
        assert len(category.competitors) >= 10, category_id
        sections = {kb.data_points[k].section for k in category.data_points}
        assert {"firmographic", "technographic", "personalization"} <= sections, category_id
