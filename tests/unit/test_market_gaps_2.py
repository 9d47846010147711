"""Missing markets and seller categories, second gaps wave (issue 14; pack market_gaps_2.yaml).

Buyer markets: firearms retailers (FFL dealers) and resellers / liquidation buyers - a software vendor's page for
each targets the new market first and every must-have of its blueprint is that market's own or generic.
Seller categories: FFL compliance software, apparel cut-and-sew production, liquidation marketplaces, used
process-equipment marketplaces and ready-mix dispatch software - a realistic page of each routes to its category
and kind, its buyers are not its own industry, and its must-haves belong to it, to the buyer market it targets or
to any company. Two categories are extended, not duplicated: a retail-compliance 3PL reads as ecommerce fulfilment
with its retail data, and a legal translation firm qualifies a law firm by the firm's practice, not a hospital's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase
from tests.support.routing import chosen_keys, chosen_sections, routed
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot

PACK = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data" / "packs" / "market_gaps_2.yaml"

VERTICAL_PAGES = {
    "firearms_retailers": ("Run Your Gun Store, Not Your Paperwork", (
        "Point of sale and inventory built for gun stores and FFL dealers. Ring up firearms, ammunition and "
        "accessories, start every Form 4473 on a tablet, keep your acquisitions and dispositions in sync, and handle "
        "firearm transfers from online orders without retyping. Trusted by independent gun shops and multi-store "
        "firearms retailers.")),
    "resellers_liquidators": ("Grow Your Resale Business", (
        "Inventory and crosslisting software for online resellers. Photograph an item once and list it on eBay, "
        "Poshmark, Mercari and Facebook Marketplace, track every pallet you buy and what it earned, and see profit by "
        "load. Built for resellers and flippers, bin store owners and Whatnot sellers who source from liquidation.")),
}

CATEGORY_PAGES = {
    "ffl_compliance_software": ("ATF Compliance Without the Headaches", (
        "The electronic bound book trusted by thousands of federal firearms licensees. Record acquisitions and "
        "dispositions, complete the electronic 4473 with built-in error checking, and import from your distributors "
        "automatically. Our FFL compliance software passes ATF inspections for dealers, pawnbrokers and "
        "manufacturers.")),
    "apparel_contract_manufacturing": ("Clothing Manufacturer for Growing Brands", (
        "We are a cut and sew manufacturer in Los Angeles producing for emerging and established fashion brands. "
        "From your tech pack to finished goods: pattern making and grading, sampling and bulk production with low "
        "minimums. Full package production for knits, wovens and activewear, made in the USA.")),
    "liquidation_marketplaces": ("Buy Returns and Overstock Direct From Top Retailers", (
        "Bid on customer returns pallets and overstock truckloads from the biggest retailers in the country. "
        "Manifested loads and pallets in general merchandise, electronics, apparel and home goods, with new auctions "
        "every day. Register with your resale certificate and start buying liquidation today.")),
    "used_process_equipment_marketplaces": ("Quality Used Processing Equipment", (
        "We buy and sell used process equipment for the food, pharmaceutical, chemical and plastics industries. "
        "Browse thousands of mixers, reactors, stainless steel tanks, fillers and complete packaging lines in stock "
        "in our warehouses. Plant closing? Sell your surplus equipment to us or let us run the auction.")),
    "ready_mix_dispatch_software": ("Dispatch Every Load With Confidence", (
        "Ready-mix dispatch and ticketing software for concrete producers. Take orders, schedule trucks, connect to "
        "your batch panel and send digital delivery tickets to contractors. Our aggregates ticketing module runs "
        "your scale house, and everything flows to billing.")),
}

RETAIL_3PL_PAGE = ("B2B and DTC Fulfillment for Growing Brands", (
    "Our warehouses handle retail compliance fulfillment for consumer brands selling into Walmart, Target and Costco: "
    "EDI orders, routing guide compliance, labeling and palletizing to each retailer's standards, so you stop paying "
    "chargebacks. We pick and pack your Shopify orders from the same inventory."))

LEGAL_TRANSLATION_PAGE = ("Legal Translation Services for Law Firms", (
    "Certified translation and court-certified interpreters for law firms and corporate legal departments. We "
    "translate contracts, pleadings and foreign-language discovery documents for cross-border litigation and "
    "international arbitration, with secure review workflows that plug into your e-discovery platform. Deposition "
    "interpreters in 150 languages."))

HOSPITAL_INTERPRETING_PAGE = ("Medical Interpreting for Hospitals", (
    "Video remote interpreting and over-the-phone interpreting for hospitals and health systems. Qualified medical "
    "interpreters in 240 languages connect in under 30 seconds, so your patients with limited English get care they "
    "understand and you meet Section 1557."))

# Bare words another market's page uses in passing: never a cue on their own.
GENERIC_WORDS = {"quality", "custom", "solutions", "services", "fleet", "carriers", "units", "security", "payments",
                 "resellers", "retailers", "pallets", "equipment", "dispatch", "compliance", "manufacturing",
                 "liquidation", "surplus", "apparel", "firearms", "dealers", "brands"}


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, f"<p>{body}</p>",
                       nav="<nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/contact'>Contact</a></nav>",
                       footer="<footer>Privacy policy. Terms. (c) 2026</footer>")


def _pack() -> dict[str, list[dict[str, object]]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(PACK.read_text(encoding="utf-8"), Loader=loader)


def _new_ids(kind: str) -> set[str]:
    return {str(entry["id"]) for entry in _pack()[kind] if not entry.get("extend")}


def _written_for(kb: KnowledgeBase, key: str) -> set[str]:
    spec = kb.data_points[key]
    return set(spec.applies_to.verticals) | {v.id for v in kb.verticals.values() if key in v.data_points}


def _musts(kb: KnowledgeBase, site: SiteSnapshot, category_id: str | None = None) -> tuple[list[str], list[str]]:
    """The targeted verticals and the must-have data point keys of the page's blueprint."""
    analysis, targeting = routed(site, kb, category_id)
    musts = [dp.key for dps in chosen_sections(kb, analysis, targeting).values() for dp in dps
             if dp.priority == "must"]
    return [v.id for v in targeting.verticals], musts


def test_every_new_entry_of_the_pack_has_a_page_here() -> None:
    assert _new_ids("verticals") == set(VERTICAL_PAGES)
    assert _new_ids("categories") == set(CATEGORY_PAGES)


@pytest.mark.parametrize("vertical_id", sorted(VERTICAL_PAGES))
def test_a_software_vendor_for_the_new_market_targets_it_with_its_own_must_haves(kb: KnowledgeBase,
                                                                                 vertical_id: str) -> None:
    verticals, musts = _musts(kb, _site(*VERTICAL_PAGES[vertical_id]))
    assert verticals and verticals[0] == vertical_id, verticals
    foreign = [k for k in musts if not kb.data_points[k].applies_to.any
               and (markets := _written_for(kb, k)) and vertical_id not in markets]
    assert not foreign, (vertical_id, foreign)
    own = [k for k in musts if vertical_id in _written_for(kb, k)]
    assert len(own) >= 5, (vertical_id, musts)


@pytest.mark.parametrize("category_id", sorted(CATEGORY_PAGES))
def test_a_seller_page_routes_to_its_category_and_its_must_haves_belong_to_it(kb: KnowledgeBase,
                                                                              category_id: str) -> None:
    category = kb.categories[category_id]
    verticals, musts = _musts(kb, _site(*CATEGORY_PAGES[category_id]), category_id)
    assert verticals and verticals[0] in category.typical_verticals, verticals
    assert verticals[0] not in category.own_verticals
    targeted = set(verticals)

    def belongs(key: str) -> bool:
        spec = kb.data_points[key]
        markets = _written_for(kb, key)
        return (key in category.data_points or category_id in spec.applies_to.categories
                or category.kind in spec.applies_to.kinds or spec.applies_to.any or not markets
                or bool(markets & targeted & set(category.typical_verticals)))

    assert not [k for k in musts if not belongs(k)], (category_id, musts)
    claimed = [k for k in musts if k in category.data_points]
    assert len(claimed) >= 3, (category_id, musts)


def test_a_retail_compliance_3pl_reads_as_ecommerce_fulfilment_with_its_retail_data(kb: KnowledgeBase) -> None:
    analysis, targeting = routed(_site(*RETAIL_3PL_PAGE), kb, "ecommerce_fulfillment_3pl")
    chosen = chosen_keys(kb, analysis, targeting)
    assert {"tpl_retail_compliance", "edi_provider_in_use", "tpl_order_volume"} <= chosen, sorted(chosen)


def test_a_legal_translation_firm_qualifies_law_firms_by_their_practice(kb: KnowledgeBase) -> None:
    verticals, musts = _musts(kb, _site(*LEGAL_TRANSLATION_PAGE), "translation_interpreting_services")
    assert verticals[0] == "law_firms", verticals
    assert {"law_firm_practice_areas", "legal_document_management_ediscovery"} <= set(musts), musts


def test_a_hospital_interpreting_firm_gets_no_law_firm_data(kb: KnowledgeBase) -> None:
    verticals, musts = _musts(kb, _site(*HOSPITAL_INTERPRETING_PAGE), "translation_interpreting_services")
    analysis, targeting = routed(_site(*HOSPITAL_INTERPRETING_PAGE), kb)
    chosen = chosen_keys(kb, analysis, targeting)
    assert verticals[0] == "hospitals_health_systems", verticals
    assert not {"law_firm_practice_areas", "legal_document_management_ediscovery"} & chosen, sorted(chosen)
    assert "tis_lep_population" in musts


def test_new_entries_are_complete_and_cued_by_phrases(kb: KnowledgeBase) -> None:
    for category_id in CATEGORY_PAGES:
        category = kb.categories[category_id]
        assert len(category.competitors) >= 10, category_id
        assert len(category.data_points) >= 6, category_id
        assert set(category.typical_verticals) <= set(kb.verticals), category_id
        sections = {kb.data_points[k].section for k in category.data_points}
        assert sections == {"firmographic", "technographic", "personalization"}, category_id
        assert not {c.phrase.casefold() for c in category.cues} & GENERIC_WORDS, category_id
        assert all(0.5 <= c.weight <= 1.0 for c in category.cues), category_id
    for vertical_id in VERTICAL_PAGES:
        vertical = kb.verticals[vertical_id]
        assert len(vertical.data_points) >= 8 and vertical.naics and len(vertical.buyer_titles) >= 4, vertical_id
        assert not {c.phrase.casefold() for c in vertical.cues} & GENERIC_WORDS, vertical_id
        assert all(0.5 <= c.weight <= 1.0 for c in vertical.cues), vertical_id


def test_new_data_points_have_a_method_and_belong_to_an_entry_that_lists_them(kb: KnowledgeBase) -> None:
    keys = [str(d["key"]) for d in _pack()["data_points"] if not d.get("extend")]
    listed = {k for c in kb.categories.values() for k in c.data_points} | {
        k for v in kb.verticals.values() for k in v.data_points}
    assert len(keys) >= 20
    for key in keys:
        spec = kb.data_points[key]
        assert spec.method and spec.sources, key
        assert key in listed, key
