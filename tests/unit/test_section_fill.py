"""A thin section is filled with data points that fit any company (hiring, funding, headcount), never more."""

from __future__ import annotations

from graph.engine.select import FILL_TO, MIN_SCORE, rank_candidates, select_section
from graph.knowledge import load_knowledge
from graph.schemas import Company
from graph.state import MarketSignals, Scored


def test_a_thin_personalization_section_gets_generic_triggers_at_nice() -> None:
    kb = load_knowledge()
    # a market with few triggers of its own: its section would stop short of FILL_TO
    targeting = MarketSignals(verticals=[Scored(id="funeral_deathcare", score=0.8)])
    ranked = rank_candidates("personalization", kb, targeting, [])
    above = [c for c in ranked if c.score >= MIN_SCORE]
    assert len(above) < FILL_TO["personalization"]
    points = select_section("personalization", kb, Company(name="Acme", domain="acme.test"), targeting, [], None,
                            limit=10, ranked=ranked)
    assert len(points) == FILL_TO["personalization"]
    generic = [p for p in points if kb.data_points[p.key].applies_to.any and p.key not in {c.spec.key for c in above}]
    assert generic and all(p.priority == "nice" for p in generic)
    assert "hiring_activity" in {p.key for p in points}


def test_a_full_section_takes_nothing_from_below_the_bar() -> None:
    kb = load_knowledge()
    targeting = MarketSignals(verticals=[Scored(id="restaurants", score=0.9)])
    ranked = rank_candidates("firmographic", kb, targeting, [])
    points = select_section("firmographic", kb, Company(name="Acme", domain="acme.test"), targeting, [], None,
                            limit=10, ranked=ranked)
    below = {c.spec.key for c in ranked if c.score < MIN_SCORE}
    above = [c for c in ranked if c.score >= MIN_SCORE]
    assert len(above) >= FILL_TO["firmographic"]
    assert not below & {p.key for p in points}
