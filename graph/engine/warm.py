"""Warm the catalog engine before the first request: compile its phrase matchers and indexes, load the
embedding model and embed the markets.

The matchers index thousands of knowledge-base phrases by first word (~70 ms in all; compiled into
regexes, as they were, ~0.45 s), built on first use and kept for the process. A server builds them at
start-up by running the engine once over a small synthetic page, so its first caller does not wait for
them.
"""

from __future__ import annotations

from typing import get_args

from graph.engine.analysis import analyze_seller, site_zones
from graph.engine.select import rank_candidates
from graph.engine.semantic import load_embedder, semantic_index
from graph.engine.tailor import market_words
from graph.knowledge import KnowledgeBase
from graph.schemas import SectionName
from tools.extract import extract_page
from tools.site import SiteSnapshot

__all__ = ["warm_up"]

SECTIONS: tuple[SectionName, ...] = get_args(SectionName)
_PAGE = """<html><head><title>Example | Software for teams</title></head><body><h1>Software for teams</h1>
<p>Scheduling and billing software for clinics, restaurants and trucking fleets across the United States.</p>
<a href="/pricing">Pricing</a><a href="/partners">Become a partner</a></body></html>"""


def warm_up(kb: KnowledgeBase) -> None:
    page = extract_page(_PAGE, "https://warm-up.invalid/", "home")
    site = SiteSnapshot(url=page.url, final_url=page.url, domain="warm-up.invalid", pages=[page])
    market = analyze_seller(site, kb).market
    zones = site_zones(site)
    for section in SECTIONS:
        rank_candidates(section, kb, market, zones)
    market_words(kb)  # the market names data point texts are tailored with (analysis built the known products)
    embedder = load_embedder()  # pages with weak cues consult the embedding: load it and the market vectors now
    if embedder is not None:
        semantic_index(kb, embedder)
