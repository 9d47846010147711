"""Routing a seller's page through the catalog engine as the knowledge-wave tests do: its analysis, the markets
its blueprint is written for, and the data points each section chooses (no zones, no user ICP)."""

from __future__ import annotations

from graph.engine.analysis import SellerAnalysis, analyze_seller
from graph.engine.icp import resolve_icp
from graph.engine.select import select_section
from graph.knowledge import KnowledgeBase
from graph.schemas import DataPoint
from graph.state import MarketSignals
from tools.site import SiteSnapshot

SECTIONS = ("firmographic", "technographic", "personalization")


def routed(site: SiteSnapshot, kb: KnowledgeBase, category_id: str | None = None,
           kind: str | None = None) -> tuple[SellerAnalysis, MarketSignals]:
    """The page's analysis and targeting; with ``category_id``, asserts the page reads as that category and as
    ``kind`` (the category's own kind unless given)."""
    analysis = analyze_seller(site, kb)
    if category_id is not None:
        assert analysis.company.category_id == category_id
        assert analysis.company.seller_kind == (kind or kb.categories[category_id].kind)
    _, targeting = resolve_icp(analysis.company, analysis.market, kb, None)
    return analysis, targeting


def chosen_sections(kb: KnowledgeBase, analysis: SellerAnalysis,
                    targeting: MarketSignals) -> dict[str, list[DataPoint]]:
    """Each data point section as the blueprint would choose it (10 data points at most)."""
    return {section: select_section(section, kb, analysis.company, targeting, [], None, 10) for section in SECTIONS}


def chosen_keys(kb: KnowledgeBase, analysis: SellerAnalysis, targeting: MarketSignals) -> set[str]:
    return {dp.key for dps in chosen_sections(kb, analysis, targeting).values() for dp in dps}
