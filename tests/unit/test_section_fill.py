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


def test_what_every_local_business_has_fills_the_section_without_pushing_out_its_market() -> None:
    """A local business's new locations, card payments and books come with the ``local`` motion, below every
    data point the targeted market claims itself."""
    kb = load_knowledge()
    targeting = MarketSignals(verticals=[Scored(id="music_schools", score=0.9)], motions=["local"])
    for section, key in (("personalization", "new_location_opening"), ("technographic", "payment_processor"),
                         ("technographic", "accounting_software"), ("personalization", "business_formation_date")):
        ranked = rank_candidates(section, kb, targeting, [])
        fill = next(c for c in ranked if c.spec.key == key)
        own = [c for c in ranked if c.spec.key in kb.verticals["music_schools"].data_points]
        assert own and fill.score >= MIN_SCORE
        assert all(c.score > fill.score for c in own), (section, key)
        # without the motion nothing claims it for this market
        unclaimed = rank_candidates(section, kb, MarketSignals(verticals=targeting.verticals), [])
        assert key not in {c.spec.key for c in unclaimed}
