"""Precision over recall (issue 14, item 5), over every committed eval case with its page in the repository.

A must/should data point is claimed by a market or seller kind the blueprint states (a targeted vertical,
one of the targeted categories, a targeted motion) or is generic core; an evidence quote contains the
words that support it; the summary is never page chrome.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from graph.engine.analysis import CHROME, analyze_seller, site_zones
from graph.engine.icp import resolve_icp
from graph.engine.select import INTEGRATION_KEY, select_section
from graph.engine.text import normalize
from graph.knowledge import load_knowledge
from graph.schemas import Company, DataPoint
from graph.state import MarketSignals
from tests.support.claims import claimed
from tools.extract import extract_page
from tools.site import SiteSnapshot

EVALS = Path(__file__).parents[2] / "evals"
SETS = ("cases.json", "holdout/cases.json", "holdout2/cases.json")
SECTIONS = ("firmographic", "technographic", "personalization")


def _cases() -> list[tuple[str, Path, str]]:
    out = []
    for name in SETS:
        path = EVALS / name
        for case in json.loads(path.read_text(encoding="utf-8")):
            out.append((f"{name.split('/')[0]}:{case['id']}", path.parent / case["site"], case.get("url") or ""))
    return out


CASES = _cases()


@cache
def _run(site_file: Path, url: str) -> tuple[SiteSnapshot, MarketSignals, dict[str, list[DataPoint]], Company]:
    kb = load_knowledge()
    url = url or "https://seller.example/"
    page = extract_page(site_file.read_text(encoding="utf-8"), url, kind="home")
    site = SiteSnapshot(url=url, final_url=url, domain=url.split("/")[2], pages=[page])
    analysis = analyze_seller(site, kb)
    resolved, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    zones = site_zones(site)
    sections = {s: select_section(s, kb, analysis.company, targeting, zones, resolved, 10) for s in SECTIONS}
    return site, targeting, sections, analysis.company




def test_every_committed_case_has_its_page() -> None:
    assert len(CASES) >= 40
    assert all(path.exists() for _, path, _ in CASES)


@pytest.mark.parametrize(("case_id", "site_file", "url"), CASES, ids=[c[0] for c in CASES])
def test_must_and_should_items_belong_to_a_targeted_market(case_id: str, site_file: Path, url: str) -> None:
    kb = load_knowledge()
    _, targeting, sections, _ = _run(site_file, url)
    stray = [f"{s}:{dp.key}" for s, dps in sections.items() for dp in dps
             if dp.priority in {"must", "should"} and not claimed(dp.key, kb, targeting)]
    assert not stray, f"{case_id}: must/should items from markets the blueprint does not target: {stray}"


@pytest.mark.parametrize(("case_id", "site_file", "url"), CASES, ids=[c[0] for c in CASES])
def test_evidence_quotes_contain_the_words_that_support_them(case_id: str, site_file: Path, url: str) -> None:
    kb = load_knowledge()
    _, _, sections, company = _run(site_file, url)
    for dps in sections.values():
        for dp in dps:
            if dp.evidence is None or dp.key == INTEGRATION_KEY:
                continue
            quote = normalize(dp.evidence)
            assert any(normalize(p) in quote for p in kb.data_points[dp.key].signals), (case_id, dp.key, dp.evidence)
    assert not CHROME.match(company.summary), (case_id, company.summary)
    names = {**{v.name: v for v in kb.verticals.values()}, **{c.name: c for c in kb.categories.values()}}
    for ev in company.evidence:
        if ev.claim.startswith(("sells: ", "sells to: ")):
            market = names[ev.claim.split(": ", 1)[1]]
            quote = normalize(ev.snippet)
            assert any(normalize(c.phrase) in quote for c in market.cues), (case_id, ev.claim, ev.snippet)


def test_summary_skips_navigation_and_glossary_chrome() -> None:
    html = ("<html><head><title>Precision Metal Parts for OEMs | Lux</title></head><body>"
            "<h2>Skip to main content</h2><h2>Table of Contents</h2><h2>What is machining?</h2>"
            "<h1>Machined parts for OEM production lines</h1><p>We machine parts.</p></body></html>")
    page = extract_page(html, "https://lux.example/", kind="home")
    site = SiteSnapshot(url="https://lux.example/", final_url="https://lux.example/", domain="lux.example",
                        pages=[page])
    summary = analyze_seller(site, load_knowledge()).company.summary
    assert summary in {"Machined parts for OEM production lines", "Precision Metal Parts for OEMs"}
