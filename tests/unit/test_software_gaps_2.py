"""Software categories the catalog lacked (pack software_gaps_2): a realistic page of each kind of vendor routes to
its category, its buyers are the market it sells to, and the blueprint carries the category's own data points
(how THAT vendor qualifies its buyers) rather than a neighbouring market's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PAGES = {
    "edi_b2b_integration": ("Full-Service EDI for Suppliers", (
        "Get EDI compliant with every retailer. Our full-service EDI connects your ERP to Target, Walmart and "
        "Kroger: purchase orders, advance ship notices and invoices flow automatically. Trading partner "
        "onboarding in days, no more retailer compliance chargebacks.")),
    "accounting_practice_management": ("Practice Management for Accounting Firms", (
        "The all-in-one practice management software for accountants. Send engagement letters and tax "
        "organizers, collect documents in a secure client portal, and track every return through your firm "
        "workflow from intake to e-file. Built for accounting firms of 1 to 500 staff.")),
    "sales_tax_compliance": ("Sales Tax Automation", (
        "Automate sales tax calculation, registrations and sales tax filing in every state. Real-time economic "
        "nexus tracking tells you when you cross a threshold, and exemption certificate management keeps "
        "auditors happy. Connects to your ERP, storefront and marketplaces.")),
    "product_information_management": ("Product Information Management", (
        "A PIM system that becomes your single source of truth for product data. Enrich product data once, "
        "then use product content syndication to publish to Amazon, Home Depot, distributors and your own "
        "storefront. Manage 100,000 SKUs, images and translations.")),
    "quality_management_eqms": ("eQMS for Medical Device and Life Sciences", (
        "A validated electronic quality management system: document control software, CAPA management, "
        "nonconformance management, training records and audits in one place. 21 CFR Part 11 and ISO 13485 "
        "compliance out of the box for quality and regulatory teams.")),
    "document_management_ecm": ("Document Management Software", (
        "Go paperless with a cloud document management system. Capture invoices and contracts, route them "
        "through approval workflows, apply records retention policies and find any file in seconds. "
        "Enterprise content management for finance, HR and operations.")),
    "subscription_billing_revenue": ("Subscription Billing and Revenue Management", (
        "Launch any pricing model: subscription billing, usage-based billing and hybrid plans. Automated "
        "dunning recovers failed payments, and revenue recognition keeps you ASC 606 compliant. Built for "
        "SaaS finance teams scaling from $1M to $100M ARR.")),
    "fpa_planning_software": ("Financial Planning and Analysis Software", (
        "Replace spreadsheet budgets with FP&A software that connects to your ERP. Budgeting and forecasting, "
        "driver-based planning, headcount planning and budget vs actuals reporting for the CFO and the "
        "finance team, with rolling forecasts updated daily.")),
    "procurement_source_to_pay": ("Source-to-Pay Procurement Platform", (
        "One procurement platform from intake to payment: intake-to-procure requests, strategic sourcing "
        "with RFx and reverse auctions, supplier lifecycle management and purchase requisitions, with spend "
        "analytics for procurement teams.")),
    "real_estate_agent_crm": ("The Real Estate CRM Top Teams Use", (
        "A real estate CRM with IDX websites, real estate lead generation and smart follow-up. Route Zillow "
        "and Realtor.com leads to the right agent, nurture your sphere and close more listings. Built for "
        "real estate agents, teams and brokerages.")),
    "pharmacy_management_systems": ("Pharmacy Management System for Independents", (
        "Pharmacy management software built for independent pharmacies: a faster dispensing workflow, "
        "integrated pharmacy POS, claims adjudication, med sync and inventory ordering from your wholesaler. "
        "Switch from your old pharmacy software in a weekend.")),
    "student_transportation_software": ("Student Transportation Software", (
        "School bus routing software for district transportation departments. Build efficient routes, track "
        "student ridership with card scans, give families a bus tracking app for parents and schedule every "
        "field trip. Trusted by transportation directors in 40 states.")),
    "k12_student_information_systems": ("A Modern Student Information System", (
        "The student information system for K-12 districts: online registration for schools, attendance and "
        "grading, master scheduling, report cards and transcripts and state reporting in one platform "
        "that teachers, parents and administrators love.")),
    "plm_cad_engineering": ("Cloud PLM for Hardware Teams", (
        "Product lifecycle management that connects engineering and manufacturing. Manage BOMs with BOM "
        "management, run engineering change orders with engineering change management and keep 3D CAD files "
        "in sync with product data management.")),
    "laundry_drycleaning_software": ("Laundry POS and Delivery Software", (
        "The laundry POS for laundromats and dry cleaners. Take wash and fold orders, track garments with "
        "garment tracking, run laundry pickup and delivery software with driver routes and let customers pay "
        "in the app. Dry cleaning software that grows with your stores.")),
    "event_webinar_platforms": ("Event Management Platform for Marketers", (
        "One event management platform for every in-person, virtual and hybrid event. Build registration "
        "sites with our event registration software, run webinars on the built-in webinar platform, and "
        "handle onsite check-in and badge printing. Attendee engagement data flows to your CRM.")),
    "board_management_software": ("The Secure Board Portal", (
        "Board management software for nonprofits, credit unions and hospitals. Build board books in "
        "minutes, share agendas and minutes, collect votes and e-signatures and keep secure director "
        "communications in one board portal that directors love.")),
    "performance_engagement_software": ("Performance Management and Engagement", (
        "Performance management software your managers will use: performance reviews, goals and OKRs, "
        "one-on-ones and 360 feedback, plus employee engagement surveys and pulse surveys with people "
        "analytics for HR teams.")),
}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>")


@pytest.mark.parametrize("category_id", sorted(PAGES))
def test_a_vendor_page_routes_to_its_category_and_gets_its_data_points(kb: KnowledgeBase, category_id: str) -> None:
    category = kb.categories[category_id]
    analysis, targeting = routed(_site(*PAGES[category_id]), kb, category_id)
    assert targeting.verticals
    if category.horizontal:
        assert targeting.horizontal
    else:
        assert targeting.verticals[0].id in category.typical_verticals
    chosen = chosen_keys(kb, analysis, targeting)
    claimed = chosen & set(category.data_points)
    assert len(claimed) >= 4, (category_id, sorted(chosen))


def test_each_category_is_complete_and_horizontal_ones_drop_engineering_data_points(kb: KnowledgeBase) -> None:
    categories = [kb.categories[c] for c in _pack_ids()]
    assert len(categories) >= 18
    engineering = {"source_code_host", "ci_cd_system", "engineering_headcount", "public_github_footprint"}
    for category in categories:
        assert category.kind == "software"
        assert len(category.competitors) >= 10, category.id
        assert len(category.data_points) >= 6, category.id
        sections = {kb.data_points[k].section for k in category.data_points}
        assert sections == {"firmographic", "technographic", "personalization"}, category.id
        assert set(category.typical_verticals) <= set(kb.verticals), category.id
        if category.horizontal:
            assert engineering <= set(category.exclude_data_points), category.id


def _pack_ids() -> list[str]:
    pack = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "software_gaps_2.yaml"
    return [c["id"] for c in yaml.safe_load(pack.read_text())["categories"]]
