"""Seller kinds (issue 14, item 3) and the semantic routing signal (item 2), on small realistic pages."""

from __future__ import annotations

import numpy as np

from graph.engine.analysis import analyze_seller
from graph.engine.icp import resolve_icp
from graph.engine.select import select_section
from graph.engine.semantic import combine, relative
from graph.knowledge import KnowledgeBase
from graph.state import Scored
from tests.support.seller_pages import seller_site
from tools.site import SiteSnapshot


def _site(title: str, body: str) -> SiteSnapshot:
    return seller_site(title, body)


MSP = _site("Managed IT Services for Small Businesses", (
    "<p>Why do managed service providers exist? Because most small businesses have no in-house IT. "
    "Our managed IT services cover help desk support, network monitoring, backup and disaster recovery "
    "and a virtual CIO for a flat monthly fee. Break-fix IT costs more when something goes wrong. "
    "We support offices of 10 to 200 people with Microsoft 365 and cybersecurity services.</p>"))
LENDER = _site("Small Business Working Capital Loans", (
    "<p>A working capital loan covers short-term needs. Common uses: payroll for your employees, utilities, "
    "mortgage or rent, inventory. Lenders look at time in business, monthly revenue and bank statements. "
    "Business funding can arrive within 24 hours of approval; repayment is daily or weekly. "
    "Compare a merchant cash advance and a line of credit before you apply.</p>"))
MACHINING = _site("Precision Metal Parts for OEMs", (
    "<p>OEM teams need machined parts that hold tolerances from first article through production. "
    "Our precision machining, sheet metal and metal fabrication serve semiconductor, aerospace and "
    "automation OEMs, with AS9100 and ISO 9001 quality systems and build to print subassemblies.</p>"))


def test_kinds_are_declared_and_non_software_categories_exist(kb: KnowledgeBase) -> None:
    kinds = {c.kind for c in kb.categories.values()}
    assert {"software", "it_services", "staffing", "lending", "manufacturing", "distribution", "agency",
            "logistics", "facility_services", "marketplace", "training", "payments"} <= kinds
    for category in kb.categories.values():
        if category.kind != "software":
            assert category.data_points, category.id
            assert not set(category.own_verticals) & set(category.typical_verticals), category.id


def test_kind_specific_data_points_are_claimed_by_their_kind(kb: KnowledgeBase) -> None:
    lending = {c.id for c in kb.categories.values() if c.kind == "lending"}
    ucc = kb.data_points["lend_ucc_liens_positions"]
    assert set(ucc.applies_to.categories) <= lending
    assert any(r.source == "ucc_filings" for r in ucc.sources)
    certs = kb.data_points["cm_supplier_certifications"]
    assert certs.applies_to.categories == ["contract_manufacturing"]
    assert "iso_certification_directories" in {r.source for r in certs.sources}


def test_an_msp_sells_to_small_businesses_not_to_msps(kb: KnowledgeBase) -> None:
    analysis = analyze_seller(MSP, kb)
    assert analysis.company.category_id == "managed_it_services"
    assert analysis.company.seller_kind == "it_services"
    # "why managed service providers exist" names the seller: no channel, no claim that it sells to MSPs
    assert analysis.company.channel == "direct" and "channel" not in analysis.market.motions
    assert not [e for e in analysis.company.evidence if "Managed service providers" in e.claim]
    _, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    assert targeting.verticals[0].id != "msps_it_services"
    chosen = [dp.key for s in ("firmographic", "technographic")
              for dp in select_section(s, kb, analysis.company, targeting, [], None, 10)]
    assert "msp_managed_endpoints_clients" not in chosen
    assert "mit_in_house_it_staff" in chosen


def test_a_lender_is_a_lender_not_payroll_software(kb: KnowledgeBase) -> None:
    analysis = analyze_seller(LENDER, kb)
    assert analysis.company.seller_kind == "lending"
    _, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    keys = {dp.key for s in ("firmographic", "personalization")
            for dp in select_section(s, kb, analysis.company, targeting, [], None, 10) if dp.priority != "nice"}
    assert {"lend_time_in_business", "lend_ucc_liens_positions"} <= keys
    assert not {k for k in keys if k.startswith(("payroll", "mortgage"))}


def test_a_components_maker_sells_to_oems(kb: KnowledgeBase) -> None:
    analysis = analyze_seller(MACHINING, kb)
    assert analysis.company.category_id == "contract_manufacturing"
    resolved, _ = resolve_icp(analysis.company, analysis.market, kb, None)
    assert any("Procurement" in t or "Sourcing" in t or "Supply Chain" in t for t in resolved.buyer_titles)


def test_combine_lets_a_described_market_in_and_keeps_cue_order_where_they_agree() -> None:
    cues = [Scored(id="a", score=0.4, evidence=["x"]), Scored(id="b", score=0.35, evidence=["y"])]
    sims = {"a": 0.2, "b": 0.9, "c": 0.95, "d": 0.1, "e": 0.1, "f": 0.1}
    out = combine(cues, sims, 0.35)
    assert [s.id for s in out][:2] == ["b", "a"]  # the page is about b: it passes a's incidental words
    assert "c" in {s.id for s in out}  # described but never cued: it joins, marked as semantic
    assert next(s for s in out if s.id == "c").evidence[0].startswith("semantic:")
    assert combine(cues, {}, 0.35) == cues


def test_relative_closeness_is_page_relative() -> None:
    rel = relative({"a": 0.5, "b": 0.3, "c": 0.2, "d": 0.4})  # median 0.35
    assert rel["a"] == 1.0 and rel["b"] == 0.0 and rel["c"] == 0.0
    assert np.isclose(rel["d"], 1 / 3, atol=1e-4)


def test_a_kind_level_data_point_is_claimed_by_every_category_of_that_kind(kb: KnowledgeBase) -> None:
    """``applies_to.kinds``: the incumbent supplier is asked of a components maker's lead whatever category of
    maker it is (ones added later included), and never of a software vendor's."""
    from graph.engine.select import rank_candidates
    from graph.state import MarketSignals

    spec = kb.data_points["kind_incumbent_supplier"]
    assert set(spec.applies_to.kinds) == {"manufacturing", "distribution"} and not spec.applies_to.categories
    for category in kb.categories.values():
        targeting = MarketSignals(categories=[Scored(id=category.id, score=0.8)])
        keys = {c.spec.key for c in rank_candidates("technographic", kb, targeting, [])}
        assert (spec.key in keys) == (category.kind in {"manufacturing", "distribution"}), category.id


def test_a_components_makers_blueprint_asks_for_the_leads_incumbent_supplier(kb: KnowledgeBase) -> None:
    analysis = analyze_seller(MACHINING, kb)
    assert analysis.company.seller_kind == "manufacturing"
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    points = select_section("technographic", kb, analysis.company, targeting, analysis.zones, resolved, 10)
    assert "kind_incumbent_supplier" in {p.key for p in points}


def test_a_facility_services_sellers_lead_is_asked_for_its_vendor_work_order_platform(kb: KnowledgeBase) -> None:
    """A commercial pest-control, striping or grease-trap firm's leads are multi-site owners who dispatch and pay
    contractors through a work-order platform (ServiceChannel, Corrigo): every facility-services category asks
    for it, and no software vendor's does."""
    from graph.engine.select import rank_candidates
    from graph.state import MarketSignals

    spec = kb.data_points["lt_facilities_vendor_platform"]
    assert "facility_services" in spec.applies_to.kinds
    for category in kb.categories.values():
        targeting = MarketSignals(categories=[Scored(id=category.id, score=0.8)])
        keys = {c.spec.key for c in rank_candidates("technographic", kb, targeting, [])}
        claimed = category.kind == "facility_services" or category.id in spec.applies_to.categories
        assert (spec.key in keys) == claimed, category.id
