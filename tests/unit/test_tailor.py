"""Data point texts name the blueprint's own markets: other claimants' names are cut from lists."""

from __future__ import annotations

from graph.engine.select import data_point_markets
from graph.engine.tailor import TailoredTexts, foreign_names, names_other_markets, spec_texts, tailor_text, tailored
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals, Scored


def _targeting(*verticals: str, horizontal: bool = False) -> MarketSignals:
    return MarketSignals(verticals=[Scored(id=v, score=0.6) for v in verticals], horizontal=horizontal)


def _tailor(kb: KnowledgeBase, key: str, targeting: MarketSignals) -> TailoredTexts:
    spec = kb.data_points[key]
    claimants = data_point_markets(kb, spec.section).get(key, set())
    return tailored(spec, foreign_names(kb, targeting, claimants, spec_texts(spec)))


def test_a_dental_blueprint_names_no_hospital_or_pharmacy(kb: KnowledgeBase) -> None:
    text = _tailor(kb, "new_care_site_or_expansion", _targeting("dental_practices")).description
    assert "hospital" not in text.lower() and "pharmacy" not in text.lower()
    assert text.startswith("New clinic, office") and "de novo locations" in text


def test_the_markets_targeted_keep_their_names(kb: KnowledgeBase) -> None:
    spec = kb.data_points["new_care_site_or_expansion"]
    text = _tailor(kb, spec.key, _targeting("dental_practices", "hospitals_health_systems")).description
    assert "hospital" in text


def test_a_horizontal_seller_or_no_target_changes_nothing(kb: KnowledgeBase) -> None:
    spec = kb.data_points["new_care_site_or_expansion"]
    for targeting in (_targeting("dental_practices", horizontal=True), _targeting()):
        assert _tailor(kb, spec.key, targeting).description == spec.description


def test_list_rules() -> None:
    foreign = frozenset({("hospital",), ("dentist",)})
    # a list's first item carries the lead-in: kept even when it names the market
    assert tailor_text("Roles for dentists, nurses, coders and aides.", foreign) == (
        "Roles for dentists, nurses, coders and aides.")
    # items after it are cut, and the closing conjunction stays last
    assert tailor_text("Openings: clinics, hospitals, offices, and labs.", foreign) == (
        "Openings: clinics, offices, and labs.")
    # two alternatives are a phrase, not a list; a list never falls below two items
    assert tailor_text("Clinic or hospital openings.", foreign) == "Clinic or hospital openings."
    assert tailor_text("Clinics, hospitals, dentists.", foreign) == "Clinics, hospitals, dentists."
    # plural and singular, whole words only
    text = "Sites: clinic, hospitality suite, office."
    assert tailor_text(text, foreign) == text


def test_a_tool_name_is_no_market_name(kb: KnowledgeBase) -> None:
    # "Retail" names a market, but also tools ("Lightspeed Retail", "Oracle Retail"): never cut as a market
    text = _tailor(kb, "retail_pos_system", _targeting("apparel_jewelry_retailers")).description
    assert "Lightspeed Retail" in text and "Oracle Retail" in text


def test_an_enum_example_is_left_as_an_option(kb: KnowledgeBase) -> None:
    enums = [s for s in kb.data_points.values() if s.value_type in {"enum", "multi_enum"}]
    for spec in enums[:200]:
        out = tailored(spec, frozenset({("hospital",)}))
        assert out.example == spec.example


def test_a_quote_about_other_markets_is_recognised(kb: KnowledgeBase) -> None:
    home_care = _targeting("home_health_senior_care")
    quote = "They work well for retail, restaurants, and facilities with fixed locations."
    assert names_other_markets(quote, kb, home_care)
    # one other market named is a quote about the buyer's world, not about other markets
    assert not names_other_markets("Caregivers visit clients at home and in restaurants.", kb, home_care)
    assert not names_other_markets(quote, kb, _targeting("home_health_senior_care", horizontal=True))
