"""The catalog engine on realistic seller pages: ICP inference and override, ranking, sources, collection plan.

Each seller page under ``tests/fixtures/sites/engine_*.html`` is extracted with the real extractor and
run through the engine's pure functions (no HTTP, no graph), the same calls the graph's nodes make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from graph.engine.analysis import SellerAnalysis, analyze_seller, site_zones
from graph.engine.icp import resolve_icp
from graph.engine.plan import plan_collection, plan_sources
from graph.engine.select import select_section
from graph.engine.wording import short_name
from graph.knowledge import KnowledgeBase, load_knowledge
from graph.schemas import ICP, CollectionMethod, DataPoint, ResolvedICP, SourceRecommendation
from graph.state import MarketSignals
from tools.extract import extract_page
from tools.site import SiteSnapshot

SITES = Path(__file__).parents[1] / "fixtures" / "sites"
SECTIONS = ("firmographic", "technographic", "personalization")
SELLERS = ("vetlab", "schoolbus", "expense", "restaurant_pos", "devsec")
# data points about the lead's own source code: they belong to developer-tool sellers only
SOURCE_CODE_KEYS = {"source_code_host", "programming_languages_ecosystems", "public_github_footprint",
                    "ci_cd_system", "existing_appsec_tools", "container_iac_stack"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class EngineRun:
    site: SiteSnapshot
    analysis: SellerAnalysis
    icp: ResolvedICP
    targeting: MarketSignals
    sections: dict[str, list[DataPoint]]
    sources: list[SourceRecommendation]
    methods: list[CollectionMethod]

    def chosen(self) -> list[str]:
        return [dp.key for dps in self.sections.values() for dp in dps]


@cache
def snapshot(name: str) -> SiteSnapshot:
    html = (SITES / f"engine_{name}.html").read_text(encoding="utf-8")
    url = f"https://{name.replace('_', '')}.example/"
    page = extract_page(html, url, kind="home")
    return SiteSnapshot(url=url, final_url=url, domain=f"{name.replace('_', '')}.example", pages=[page])


def run_engine(name: str, icp: ICP | None = None, limit: int = 10) -> EngineRun:
    """What the graph's nodes do, in order, with the catalog engine."""
    kb = load_knowledge()
    site = snapshot(name)
    analysis = analyze_seller(site, kb)
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb, icp)
    zones = site_zones(site)
    sections = {s: select_section(s, kb, analysis.company, targeting, zones, resolved, limit) for s in SECTIONS}
    chosen = [dp for dps in sections.values() for dp in dps]
    return EngineRun(site, analysis, resolved, targeting, sections, plan_sources(kb, chosen),
                     plan_collection(kb, sections))


@cache
def inferred(name: str) -> EngineRun:
    return run_engine(name)


# ───────────────────────────── company analysis and ICP inference ─────────────────────────────

EXPECTED_MARKET = {
    # seller → (a vertical it sells to, words the inferred industries must contain, a buyer title word)
    "vetlab": ("veterinary_clinics", "veterinary", "practice"),
    "schoolbus": ("k12_schools", "k-12", ""),
    "restaurant_pos": ("restaurants", "restaurant", "operat"),
    "devsec": ("software_saas", "software", "security"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MARKET))
def test_inferred_icp_names_the_sellers_market(name: str) -> None:
    run = inferred(name)
    vertical, industry_word, title_word = EXPECTED_MARKET[name]
    assert run.icp.source == "inferred"
    assert run.icp.inferred_fields == []  # nothing was provided, so nothing is marked as filled in
    assert run.targeting.verticals[0].id == vertical
    assert vertical in run.analysis.company.verticals
    assert any(industry_word in i.lower() for i in run.icp.industries), run.icp.industries
    assert run.icp.buyer_titles
    assert any(title_word in t.lower() for t in run.icp.buyer_titles), run.icp.buyer_titles
    assert 0.3 <= run.icp.confidence <= 0.95


@pytest.mark.parametrize("name", SELLERS)
def test_inference_carries_evidence_from_the_page(name: str) -> None:
    run = inferred(name)
    page_text = " ".join(f"{p.title} {p.meta_description} {' '.join(p.headings)} {p.text} {' '.join(p.integrations)}"
                         for p in run.site.pages)
    assert run.icp.evidence, "an inferred ICP says why"
    for evidence in run.icp.evidence:
        assert evidence.claim.startswith(("sells to", "channel", "horizontal"))
        assert 0 <= evidence.confidence <= 1
        if evidence.snippet:  # the seller's own words, not a paraphrase
            assert words(evidence.snippet) <= words(page_text), evidence.snippet
    sells_to = [e for e in run.analysis.company.evidence if e.claim.startswith("sells to")]
    assert sells_to and sells_to[0].snippet and sells_to[0].source == run.site.url


def test_company_profile_from_the_page() -> None:
    company = inferred("vetlab").analysis.company
    assert company.name == "Petrivia Diagnostics"  # og:site_name
    assert company.domain == "vetlab.example"
    assert "Veterinary clinics and animal hospitals" in company.markets_served
    assert {"Cornerstone", "AVImark", "Vetspire"} <= set(company.integrations)
    assert "Lakeside Animal Hospital" in company.customers
    assert "United States" in company.geographies
    # customers listed below an "Integrations" paragraph are not integrations (regression)
    assert not set(company.customers) & set(company.integrations)
    assert not set(company.customers) & set(inferred("vetlab").icp.technologies)


def test_horizontal_seller_is_recognised_and_gets_finance_buyers() -> None:
    run = inferred("expense")
    assert run.analysis.market.horizontal
    assert run.analysis.company.category_id == "expense_spend_management"
    assert any(e.claim.startswith("horizontal") for e in run.icp.evidence)
    titles = {t.lower() for t in run.icp.buyer_titles}
    assert {"cfo", "controller"} <= titles
    assert {"QuickBooks", "NetSuite", "Xero"} <= set(run.icp.technologies)


def test_school_bus_seller_is_a_k12_seller_not_a_trucking_one() -> None:
    run = inferred("schoolbus")
    assert run.targeting.verticals[0].id == "k12_schools"
    assert "trucking_carriers" not in {v.id for v in run.targeting.verticals}
    keys = set(run.chosen())
    assert {"k12_student_enrollment", "k12_student_information_system"} <= keys
    assert "usdot_operating_authority" not in keys


# ───────────────────────────── ICP override ─────────────────────────────


def test_provided_icp_wins_where_it_speaks_and_inference_fills_the_rest() -> None:
    icp = ICP(industries=["Emergency and specialty veterinary hospitals"], buyer_titles=["Medical Director"],
              geographies=["Canada"])
    run = run_engine("vetlab", icp)
    assert run.icp.source == "provided"
    assert run.icp.industries == icp.industries
    assert run.icp.buyer_titles == ["Medical Director"]
    assert run.icp.geographies == ["Canada"]
    # silent fields are filled from inference and marked as such
    assert set(run.icp.inferred_fields) == {"company_size", "technologies"}
    assert run.icp.technologies == inferred("vetlab").icp.technologies
    assert run.icp.company_size == inferred("vetlab").icp.company_size
    assert 0.8 <= run.icp.confidence < 1.0
    assert run.icp.evidence[0].source == "icp"


def test_a_complete_provided_icp_has_full_confidence_and_nothing_inferred() -> None:
    icp = ICP.model_validate({
        "industries": ["restaurant groups"], "buyer_titles": ["COO"], "geographies": ["United States"],
        "technologies": ["Toast"], "company_size": {"min_employees": 50, "max_employees": 5000},
        "annual_revenue": {"min_usd": 5_000_000}, "notes": "multi-unit operators",
    })
    run = run_engine("restaurant_pos", icp)
    assert run.icp.inferred_fields == []
    assert run.icp.confidence == 1.0
    assert run.icp.company_size == {"min_employees": 50, "max_employees": 5000}
    assert run.icp.annual_revenue["min_usd"] == 5_000_000
    assert run.icp.technologies == ["Toast"]
    assert run.icp.notes == "multi-unit operators"


def test_icp_of_multi_unit_qsr_franchisees_brings_franchise_data_points() -> None:
    plain = inferred("restaurant_pos")
    icp = ICP(industries=["multi-unit QSR franchisees"], notes="franchisees of national QSR franchise brands")
    run = run_engine("restaurant_pos", icp)
    assert run.targeting.icp_driven
    assert run.targeting.verticals[0].id == "restaurants"
    assert "franchise_brands" in {v.id for v in run.targeting.verticals}
    assert "franchise_brands" not in {v.id for v in plain.targeting.verticals}
    keys = set(run.chosen())
    assert {"franchise_system_size", "franchise_development_momentum"} <= keys - set(plain.chosen())
    assert {"franchisee_unit_acquisitions", "franchise_approved_tech_vendors", "restaurant_unit_count"} <= keys


def test_icp_naming_a_narrower_segment_reshapes_the_targeting() -> None:
    plain = inferred("restaurant_pos")
    run = run_engine("restaurant_pos", ICP(industries=["restaurant franchisors"]))
    assert run.targeting.icp_driven
    assert run.targeting.verticals[0].id == "franchise_brands"
    new = set(run.chosen()) - set(plain.chosen())
    assert {"franchise_system_size", "franchise_fees_royalties", "franchise_development_momentum"} <= new
    firmographic = [dp.key for dp in run.sections["firmographic"]]
    assert firmographic.index("franchise_system_size") < 3
    assert any("franchis" in i for i in run.icp.industries)


def test_icp_brings_a_vertical_to_a_horizontal_seller() -> None:
    plain = inferred("expense")
    run = run_engine("expense", ICP(industries=["restaurant groups"]))
    assert not any(k.startswith("restaurant_") for k in plain.chosen())
    assert run.targeting.verticals[0].id == "restaurants"
    assert {"restaurant_unit_count", "restaurant_pos_system"} <= set(run.chosen())
    # what the seller itself sells still shapes the technographics
    assert "expense_management_tool" in run.chosen()


def test_icp_technologies_lift_matching_data_points() -> None:
    plain = inferred("expense")
    run = run_engine("expense", ICP(technologies=["payroll"]))
    rank = {dp.key: i for i, dp in enumerate(run.sections["technographic"])}
    plain_rank = {dp.key: i for i, dp in enumerate(plain.sections["technographic"])}
    key = "current_payroll_provider"
    assert key in rank
    assert rank[key] < plain_rank.get(key, len(plain_rank))


# ───────────────────────────── ranking ─────────────────────────────


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_max_data_points_is_honoured(limit: int) -> None:
    run = run_engine("restaurant_pos", limit=limit)
    for section, dps in run.sections.items():
        assert 1 <= len(dps) <= limit, section
    assert len(run.sections["firmographic"]) == limit  # a rich market fills every slot


@pytest.mark.parametrize("name", SELLERS)
def test_priorities_are_ordered_and_sections_have_no_duplicates(name: str) -> None:
    run = inferred(name)
    order = {"must": 0, "should": 1, "nice": 2}
    all_keys = run.chosen()
    assert len(all_keys) == len(set(all_keys)), "a data point appears in two places"
    for section, dps in run.sections.items():
        assert dps, f"{name}: empty {section}"
        ranks = [order[dp.priority] for dp in dps]
        assert ranks == sorted(ranks), f"{name} {section}: {[dp.priority for dp in dps]}"
        assert dps[0].priority == "must"


@pytest.mark.parametrize("name", SELLERS)
def test_every_why_is_tied_to_this_seller(name: str, kb: KnowledgeBase) -> None:
    run = inferred(name)
    company = run.analysis.company
    anchors = [company.name, company.offering, short_name(company.offering),
               *(kb.verticals[v.id].name for v in run.targeting.verticals),
               *(short_name(kb.verticals[v.id].name) for v in run.targeting.verticals),
               *(label for v in run.targeting.verticals for label in kb.verticals[v.id].industry_labels),
               *(kb.categories[c.id].name for c in run.targeting.categories)]
    for dp in (dp for dps in run.sections.values() for dp in dps):
        why = dp.why.lower()
        assert len(dp.why) > 40
        tied = any(a and a.lower() in why for a in anchors) or bool(dp.evidence and dp.evidence.lower() in why)
        assert tied, f"{name}/{dp.key}: generic why: {dp.why}"
    # at least some whys quote the seller's site or name the seller
    assert any(company.name in dp.why or (dp.evidence and dp.evidence in dp.why)
               for dps in run.sections.values() for dp in dps)


@pytest.mark.parametrize("name", SELLERS)
def test_excluded_data_points_never_appear(name: str, kb: KnowledgeBase) -> None:
    run = inferred(name)
    excluded = set(kb.verticals[run.targeting.verticals[0].id].exclude_data_points)
    top_category = run.targeting.categories[0] if run.targeting.categories else None
    if top_category is not None and top_category.score >= 0.3:
        excluded |= set(kb.categories[top_category.id].exclude_data_points)
    assert excluded, f"{name}: the test needs a market that excludes something"
    assert not excluded & set(run.chosen())


@pytest.mark.parametrize("name", ["restaurant_pos", "vetlab", "schoolbus", "expense"])
def test_no_source_code_data_points_for_non_software_sellers(name: str) -> None:
    assert not SOURCE_CODE_KEYS & set(inferred(name).chosen())


def test_source_code_data_points_for_a_developer_security_seller() -> None:
    keys = set(inferred("devsec").chosen())
    assert {"source_code_host", "existing_appsec_tools"} <= keys
    assert not any(k.startswith("restaurant_") for k in keys)


def test_veterinary_seller_gets_no_human_healthcare_data_points() -> None:
    keys = set(inferred("vetlab").chosen())
    assert not {"hipaa_breach_report", "behavioral_ehr_system", "home_care_software"} & keys


def test_vet_practice_management_seller_is_not_an_accounting_vendor() -> None:
    run = inferred("vetpms")
    assert run.targeting.verticals[0].id == "veterinary_clinics"
    assert run.analysis.company.category_id != "accounting_software"
    assert "Controller" not in run.icp.buyer_titles


def test_data_points_are_complete_records() -> None:
    for name in SELLERS:
        for dp in (dp for dps in inferred(name).sections.values() for dp in dps):
            assert dp.name and dp.description and dp.example and dp.value_type
            assert dp.source_ids, f"{name}/{dp.key} has no source"


# ───────────────────────────── sources ─────────────────────────────


@pytest.mark.parametrize("name", SELLERS)
def test_sources_are_deduplicated_and_cover_every_data_point(name: str, kb: KnowledgeBase) -> None:
    run = inferred(name)
    ids = [s.id for s in run.sources]
    assert len(ids) == len(set(ids))
    by_id = {s.id: s for s in run.sources}
    for dp in (dp for dps in run.sections.values() for dp in dps):
        for sid in dp.source_ids:
            assert sid in by_id, f"{dp.key}: source {sid} missing"
            assert dp.key in by_id[sid].provides
    for source in run.sources:
        assert source.kind == kb.sources[source.id].kind
        assert len(source.provides) == len(set(source.provides))
        assert set(source.provides) <= set(run.chosen())
        assert source.access and source.cost


@pytest.mark.parametrize("name", SELLERS)
def test_api_sources_carry_field_maps(name: str, kb: KnowledgeBase) -> None:
    run = inferred(name)
    apis = [s for s in run.sources if s.id in {"apollo", "apollo_people", "clearbit"}]
    assert apis, f"{name}: no Apollo/Clearbit source at all"
    for source in apis:
        catalogued = {k for k in source.provides if k in kb.data_points}
        assert catalogued <= set(source.fields), source.id  # every catalogued key has its field path
        for key, path in source.fields.items():
            expected = {r.field for r in kb.data_points[key].sources if r.source == source.id}
            assert path in expected


def test_integration_target_has_an_apollo_field_path() -> None:
    apollo = next(s for s in inferred("restaurant_pos").sources if s.id == "apollo")
    assert "integrated_tools_in_use" in apollo.provides
    assert "integrated_tools_in_use" in apollo.fields


def test_field_paths_are_real_provider_paths() -> None:
    run = inferred("expense")
    apollo = next(s for s in run.sources if s.id == "apollo")
    assert apollo.fields["employee_count"].endswith("estimated_num_employees")
    clearbit = next(s for s in run.sources if s.id == "clearbit")
    assert clearbit.fields["employee_count"] == "metrics.employees"


def test_linkedin_based_sources_carry_compliance_notes() -> None:
    found = []
    for name in SELLERS:
        for source in inferred(name).sources:
            if "linkedin" in source.id or "linkedin" in source.name.lower():
                found.append(source)
                assert "scrap" in source.notes.lower(), source.notes
    assert found, "no seller's blueprint cites a LinkedIn-based source"
    people = [s for n in SELLERS for s in inferred(n).sources if s.id == "apollo_people"]
    for source in people:
        assert "GDPR" in source.notes


# ───────────────────────────── collection methods ─────────────────────────────


@pytest.mark.parametrize("name", SELLERS)
def test_every_data_point_is_collected_exactly_once(name: str) -> None:
    run = inferred(name)
    planned = [key for m in run.methods for key in m.data_points]
    assert sorted(planned) == sorted(run.chosen())


@pytest.mark.parametrize("name", SELLERS)
def test_collection_methods_are_usable_plans(name: str, kb: KnowledgeBase) -> None:
    run = inferred(name)
    source_ids = {s.id for s in run.sources}
    for method in run.methods:
        assert method.provider_order, method
        assert set(method.provider_order) <= source_ids
        assert len(method.provider_order) == len(set(method.provider_order))
        assert method.est_cost_per_1k_leads_usd >= 0
        assert method.cadence
        assert method.validation
        if method.method == "waterfall":  # a waterfall falls back from one source to the next
            assert len(method.provider_order) >= 2, method
        if method.method == "api_enrichment":
            assert kb.sources[method.provider_order[0]].method == "api_enrichment", method
    # cheap automated methods come first
    rank = ["api_enrichment", "waterfall", "intent_feed", "web_scrape", "llm_extraction", "form_capture",
            "manual_research"]
    positions = [rank.index(m.method) for m in run.methods]
    assert positions == sorted(positions)


def test_cadence_follows_the_section() -> None:
    run = inferred("restaurant_pos")
    cadence = {key: m.cadence for m in run.methods for key in m.data_points}
    assert all(cadence[dp.key] for dp in run.sections["personalization"])
    weekly = [dp.key for dp in run.sections["personalization"] if "week" in cadence[dp.key] or
              "event" in cadence[dp.key] or "daily" in cadence[dp.key]]
    assert weekly, cadence
    quarterly = [dp.key for dp in run.sections["firmographic"] if "quarter" in cadence[dp.key]]
    assert quarterly, cadence


def test_waterfall_cost_counts_fallbacks_at_a_discount(kb: KnowledgeBase) -> None:
    run = inferred("expense")
    for method in run.methods:
        first = kb.sources[method.provider_order[0]].cost_per_1k_usd
        total = sum(kb.sources[s].cost_per_1k_usd for s in method.provider_order)
        assert first <= method.est_cost_per_1k_leads_usd + 0.01
        assert method.est_cost_per_1k_leads_usd <= total + 0.01


def test_warm_up_builds_every_matcher_a_run_needs() -> None:
    from graph.engine import cues
    from graph.engine.warm import SECTIONS, warm_up

    kb = load_knowledge()
    warm_up(kb)
    assert all(("select.section_index", s) in kb._derived for s in SECTIONS)
    assert {"tailor.market_words", "seller_names.known_products"} <= set(kb._derived)
    built = [index.items for index in cues._CUE_INDEXES.values()]
    assert tuple(kb.categories.values()) in built and tuple(kb.verticals.values()) in built
