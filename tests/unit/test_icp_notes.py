"""An ICP's notes can rule markets out; what its industries name is never ruled out."""

from __future__ import annotations

from graph.engine.icp import excluded_by_notes, targeting_for
from graph.knowledge import load_knowledge
from graph.schemas import ICP
from graph.state import MarketSignals, Scored


def test_exclusion_phrasings_are_understood() -> None:
    kb = load_knowledge()
    assert "hospitals_health_systems" in excluded_by_notes("Home health agencies only; hospitals excluded.", kb)
    assert "franchise_brands" in excluded_by_notes("Only franchisee groups. Exclude franchisors.", kb)
    assert "clinical_research_orgs" in excluded_by_notes("Emerging biotech sponsors, not CROs.", kb)
    assert excluded_by_notes("Prioritise brands with an approved-vendor list.", kb) == set()


def test_notes_remove_a_site_market_but_not_the_icp_market() -> None:
    kb = load_knowledge()
    market = MarketSignals(verticals=[Scored(id="hospitals_health_systems", score=0.9),
                                      Scored(id="home_health_senior_care", score=0.8)])
    icp = ICP(industries=["Home health agencies", "Hospice"], notes="Hospitals excluded.")
    targeted = {v.id for v in targeting_for(market, kb, icp).verticals}
    assert "home_health_senior_care" in targeted
    assert "hospitals_health_systems" not in targeted
