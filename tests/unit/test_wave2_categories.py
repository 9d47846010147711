"""Wave 2 seller categories (issue 15, breadth): a realistic page of each kind of seller routes to its category,
the buyers are not the seller's own industry, and the blueprint carries how THAT seller qualifies its buyers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PAGES = {
    "mssp_managed_security": ("Managed Security Services for the Mid-Market", (
        "We are a managed security service provider. Our outsourced SOC watches your endpoints and cloud 24x7, "
        "with managed SIEM, penetration testing services and an incident response retainer. A virtual CISO "
        "builds your SOC 2 and HIPAA programme.")),
    "sba_lenders": ("SBA Loans for Business Acquisitions", (
        "As an SBA preferred lender we close SBA 7(a) and SBA 504 loans: business acquisition loans, partner "
        "buyout financing and owner-occupied commercial real estate, with as little as 10% down.")),
    "secure_shredding_records": ("Secure Document Shredding", (
        "NAID AAA certified secure shredding with locked consoles, scheduled shredding service, purge shredding "
        "for office clean-outs, hard drive destruction and a certificate of destruction for every pickup. "
        "HIPAA-compliant for medical offices and law firms.")),
    "food_copackers": ("Co-Packing for Emerging Food and Beverage Brands", (
        "We are a co-packer and co-manufacturer for snack and beverage brands. Bring your recipe; we handle "
        "scale-up, co-packing, contract packaging and SQF-certified production with a low minimum run.")),
    "commercial_insurance_brokerage": ("Business Insurance Broker", (
        "An independent commercial insurance brokerage. We place general liability insurance, workers' "
        "compensation insurance, commercial auto and cyber for contractors, trucking companies and "
        "manufacturers, and act as your employee benefits broker at every policy renewal.")),
    "recruitment_process_outsourcing": ("Recruitment Process Outsourcing", (
        "Our RPO solutions give you embedded recruiters who own sourcing, screening and offers. Choose "
        "enterprise RPO, project RPO for a hiring surge, or recruiter on demand. Talent acquisition "
        "outsourcing for employers hiring 500+ a year.")),
    "customs_forwarding_services": ("Freight Forwarding and Customs Clearance", (
        "A licensed customs broker and freight forwarder for importers: ocean freight and air freight from "
        "Asia, customs clearance, tariff classification, Section 301 reviews and duty drawback, delivered "
        "door to door.")),
    "trade_show_exhibit_sales": ("Exhibit at the Largest Packaging Show", (
        "Book your booth: exhibit space is selling fast. Download the exhibitor prospectus, review sponsorship "
        "opportunities and meet 30,000 qualified attendees on the show floor. Become an exhibitor today.")),
}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>")


@pytest.mark.parametrize("category_id", sorted(PAGES))
def test_a_wave2_seller_routes_to_its_category_and_qualifies_buyers_its_own_way(
        kb: KnowledgeBase, category_id: str) -> None:
    category = kb.categories[category_id]
    analysis, targeting = routed(_site(*PAGES[category_id]), kb, category_id)
    assert targeting.verticals and targeting.verticals[0].id not in category.own_verticals
    chosen = chosen_keys(kb, analysis, targeting)
    own = {key for key in chosen if category_id in kb.data_points[key].applies_to.categories}
    assert len(own) >= 3, (category_id, sorted(chosen))


def test_wave2_categories_are_mostly_non_software_with_their_own_data_points(kb: KnowledgeBase) -> None:
    ids = _wave2_ids()  # parsed once: the pack is large, and parsing it per category took minutes under load
    wave2 = [c for c in kb.categories.values() if c.id in ids]
    assert len(wave2) >= 36
    assert sum(c.kind != "software" for c in wave2) == len(wave2)
    for category in wave2:
        own = [k for k in category.data_points if category.id in kb.data_points[k].applies_to.categories]
        assert len(own) >= 4, category.id


def _wave2_ids() -> set[str]:
    pack = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "wave2_categories.yaml"
    return {c["id"] for c in yaml.safe_load(pack.read_text())["categories"]}
