"""Sources chosen by the leads' countries (issue 15, item 4): a non-US market gets its own registers first and
never a US-only registry as the only source of a data point."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from graph.engine.analysis import analyze_seller, site_zones
from graph.engine.geo import FALLBACK_SOURCE, source_ids_for, target_markets
from graph.engine.icp import resolve_icp
from graph.engine.plan import plan_collection, plan_sources
from graph.engine.select import select_section
from graph.knowledge import KnowledgeBase
from graph.knowledge.countries import countries_in, serves
from graph.schemas import ICP, Company, DataPoint, ResolvedICP
from tools.extract import extract_page
from tools.site import SiteSnapshot

SITES = Path(__file__).parents[1] / "fixtures" / "sites"
MARKETS = [frozenset(m) for m in ({"GB"}, {"CA"}, {"AU"}, {"IN"}, {"DE"}, {"FR"}, {"EU"}, {"GB", "US"}, {"NZ"})]


def us_only(kb: KnowledgeBase, sid: str) -> bool:
    return kb.sources[sid].countries == ["US"]


@pytest.mark.parametrize(("words", "codes"), [
    (["UK and Ireland"], {"GB", "IE"}), (["DACH"], {"DE"}), (["North America"], {"US", "CA"}), (["GB"], {"GB"}),
    (["United States"], {"US"}), (["U.S."], {"US"}), (["Russia", "Belarus"], set()), (["worldwide"], {"ALL"}),
    (["European Union"], {"EU"}), (["Australia and New Zealand"], {"AU", "NZ"}), (["India"], {"IN"}),
])
def test_geography_words_become_country_codes(words: list[str], codes: set[str]) -> None:
    assert countries_in(words) == codes


def test_a_source_serves_its_countries_the_eu_and_its_members() -> None:
    assert serves(["GB"], "GB") and not serves(["GB"], "US") and serves(["ALL"], "IN")
    assert serves(["EU"], "DE") and serves(["DE"], "EU") and not serves(["EU"], "GB")
    assert serves([], "GB")  # undeclared: never hidden


def _company(domain: str = "seller.com", geographies: list[str] | None = None) -> Company:
    return Company(name="Seller", domain=domain, geographies=geographies or [])


def test_markets_come_from_the_icp_then_from_the_seller() -> None:
    provided = ResolvedICP(source="provided", geographies=["United Kingdom", "Ireland"])
    assert target_markets(_company(), provided) == {"GB", "IE"}
    inferred = ResolvedICP(source="inferred", geographies=["Canada"])
    assert target_markets(_company(geographies=["Canada"]), inferred) == {"CA", "US"}  # a .com keeps the US
    assert target_markets(_company("fleetco.co.uk"), None) == {"GB"}  # a UK domain, no US named
    assert target_markets(_company("werk.de", ["European Union"]), None) == {"DE", "EU"}
    assert target_markets(_company(geographies=["European Union"]), None) == {"EU", "US"}  # a GDPR page
    assert target_markets(None, None) == {"US"}
    silent = ResolvedICP(source="provided", geographies=["Canada"], inferred_fields=["geographies"])
    assert target_markets(_company(), silent) == {"US"}  # filled in from the site: not what the user said


@pytest.mark.parametrize("markets", MARKETS, ids=lambda m: "+".join(sorted(m)))
def test_every_data_point_has_a_source_for_every_market(kb: KnowledgeBase, markets: frozenset[str]) -> None:
    for dp in kb.data_points.values():
        kept = source_ids_for(kb, [r.source for r in dp.sources], markets)
        assert kept, dp.key
        for market in markets:
            assert any(serves(kb.sources[sid].countries, market) for sid in kept), (dp.key, market)
        if "US" not in markets:
            assert not any(us_only(kb, sid) for sid in kept), dp.key


def test_the_us_market_sees_no_foreign_register(kb: KnowledgeBase) -> None:
    for dp in kb.data_points.values():
        kept = source_ids_for(kb, [r.source for r in dp.sources], frozenset({"US"}))
        assert all(serves(kb.sources[sid].countries, "US") for sid in kept), dp.key
        assert FALLBACK_SOURCE not in kept or FALLBACK_SOURCE in {r.source for r in dp.sources}, dp.key


def test_a_market_register_replaces_the_us_one_and_comes_first(kb: KnowledgeBase) -> None:
    refs = [r.source for r in kb.data_points["fleet_power_units"].sources]
    assert "fmcsa_safer" in refs
    gb = source_ids_for(kb, refs, frozenset({"GB"}))
    assert "fmcsa_safer" not in gb and gb[0] == "uk_vehicle_operator_licensing"
    both = source_ids_for(kb, refs, frozenset({"GB", "US"}))
    assert both[0] == "uk_vehicle_operator_licensing" and "fmcsa_safer" in both


def test_a_data_point_with_only_us_registers_falls_back_to_research(kb: KnowledgeBase) -> None:
    only_us = next(dp for dp in kb.data_points.values() if all(us_only(kb, r.source) for r in dp.sources))
    refs = [r.source for r in only_us.sources]
    assert source_ids_for(kb, refs, frozenset({"AU"})) == [FALLBACK_SOURCE]
    assert source_ids_for(kb, refs, frozenset({"AU", "US"})) == [*refs, FALLBACK_SOURCE]
    assert source_ids_for(kb, refs, frozenset({"US"})) == refs
    assert source_ids_for(kb, refs, frozenset({"ALL"})) == refs


@cache
def _snapshot(name: str) -> SiteSnapshot:
    html = (SITES / f"engine_{name}.html").read_text(encoding="utf-8")
    url = f"https://{name.replace('_', '')}.example/"
    return SiteSnapshot(url=url, final_url=url, domain=f"{name.replace('_', '')}.example",
                        pages=[extract_page(html, url, kind="home")])


@pytest.mark.parametrize(("seller", "geography", "market"), [
    ("restaurant_pos", "United Kingdom", "GB"), ("vetlab", "Australia", "AU"), ("schoolbus", "India", "IN"),
    ("restaurant_pos", "Germany", "DE"),
])
def test_a_blueprint_for_non_us_leads_never_leans_on_a_us_only_registry(
    kb: KnowledgeBase, seller: str, geography: str, market: str
) -> None:
    site = _snapshot(seller)
    analysis = analyze_seller(site, kb)
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb, ICP(geographies=[geography]))
    zones = site_zones(site)
    sections = {s: select_section(s, kb, analysis.company, targeting, zones, resolved, 12)
                for s in ("firmographic", "technographic", "personalization")}
    chosen: list[DataPoint] = [dp for dps in sections.values() for dp in dps]
    recommended = plan_sources(kb, chosen)
    assert not [s.id for s in recommended if us_only(kb, s.id)]
    for dp in chosen:
        assert any(serves(kb.sources[sid].countries, market) for sid in dp.source_ids), dp.key
    for method in plan_collection(kb, sections):
        assert not [sid for sid in method.provider_order if us_only(kb, sid)]
    market_specific = [s.id for s in recommended if market in kb.sources[s.id].countries]
    assert market_specific, f"no {market} source recommended"


def test_every_source_says_where_it_has_data(kb: KnowledgeBase) -> None:
    assert [s.id for s in kb.sources.values() if not s.countries] == []


def test_ten_or_more_sources_of_their_own_for_the_uk_canada_australia_india_and_the_eu(kb: KnowledgeBase) -> None:
    from graph.knowledge.countries import EU, EU_MEMBERS

    own = {market: [s for s in kb.sources.values() if s.countries and set(s.countries) <= codes]
           for market, codes in {"GB": {"GB"}, "CA": {"CA"}, "AU": {"AU", "NZ"}, "IN": {"IN"},
                                 "EU": EU_MEMBERS | {EU}}.items()}
    assert {m: len(sources) for m, sources in own.items() if len(sources) < 10} == {}
    for sources in own.values():  # each says what it costs, how fresh it is and what the law asks
        for s in sources:
            assert s.access and s.cost and s.freshness and s.compliance and s.url, s.id


def test_every_source_has_access_cost_freshness_and_compliance_notes(kb: KnowledgeBase) -> None:
    lacking = [s.id for s in kb.sources.values() if not (s.access and s.cost and s.freshness and s.compliance)]
    assert lacking == []
