"""A market's cue written in the plural also finds its singular ("marinas" finds "marina billing"), as one cue."""

from __future__ import annotations

import pytest

from graph.engine.cues import score_cues, singular_of
from graph.engine.text import Zone
from graph.knowledge.models import Cue, Vertical


@pytest.mark.parametrize(("phrase", "weight", "expected"), [
    ("marinas", 1.0, "marina"),
    ("dance studios", 1.0, "dance studio"),
    ("churches", 1.0, "church"),
    ("agencies", 0.9, "agency"),
    ("businesses", 1.0, "business"),
    ("boxes", 1.0, "box"),
])
def test_a_plural_cue_gets_its_singular(phrase: str, weight: float, expected: str) -> None:
    assert singular_of(Cue(phrase=phrase, weight=weight)) == expected


@pytest.mark.parametrize(("phrase", "weight"), [
    ("practices", 0.5),       # a weak one-word cue: "practice" names anything
    ("manufacturers", 1.0),   # a role in the singular is one party ("authorized by the manufacturer")
    ("retailers", 1.0),
    ("retail POS", 1.0),      # an acronym: "retail POs" are purchase orders
    ("logistics", 1.0),       # no singular
    ("pet boarding", 1.0),    # a gerund
    ("repair shop", 1.0),     # the singular: cue lists and pages name markets in the plural
    ("EHS", 1.0),
])
def test_some_cues_have_no_singular(phrase: str, weight: float) -> None:
    assert singular_of(Cue(phrase=phrase, weight=weight)) is None


def _marinas() -> Vertical:
    return Vertical.model_validate({
        "id": "marinas_test", "name": "Marinas", "description": "Marinas and boatyards.",
        "industry_labels": ["Marinas"], "cues": [{"phrase": "marinas", "weight": 1.0},
                                                  {"phrase": "boat slips", "weight": 1.0},
                                                  {"phrase": "boatyards", "weight": 1.0}],
        "buyer_titles": ["Marina Manager", "Harbor Master"],
    })


def test_the_other_number_is_found_only_when_asked_and_counts_as_the_same_cue() -> None:
    market = _marinas()
    zones = [Zone("body", "Marina billing made simple. Every marina, every boat slip.", 1.0, "u")]
    assert score_cues([market], zones, min_distinct=1) == []
    found = score_cues([market], zones, min_distinct=1, singulars=True)
    assert [s.id for s in found] == ["marinas_test"]
    assert set(found[0].evidence) == {"marinas", "boat slips"}  # evidence names the cues as written
    # "marina" and "marinas" in one zone are one cue: they add up like repeats, not like two cues
    both = score_cues([market], [Zone("body", "marina marinas", 1.0, "u")], min_distinct=2, singulars=True)
    one = score_cues([market], [Zone("body", "marinas marinas", 1.0, "u")], min_distinct=2, singulars=True)
    assert both[0].score == pytest.approx(one[0].score, abs=0.02)


def test_a_generic_word_is_no_stronger_in_a_title_while_a_specific_cue_is() -> None:
    """"Five Tips for Booking a Court Reporter": a title weighs three times the body, but "tips" (a common word,
    weighted GENERIC_CUE) is no more telling there than in a paragraph; "court reporters" in a title is."""
    from graph.engine.cues import GENERIC_CUE

    pos = Vertical.model_construct(id="pos", cues=[Cue(phrase="tips", weight=GENERIC_CUE)])
    court = Vertical.model_construct(id="court", cues=[Cue(phrase="court reporters", weight=1.0)])

    def score(item: Vertical, zone: str, weight: float, text: str) -> float:
        found = score_cues([item], [Zone(zone, text, weight, "https://seller.example/")], min_distinct=1)
        return found[0].score

    assert score(pos, "title", 3.0, "Five tips") == score(pos, "body", 1.0, "Five tips")
    assert score(court, "title", 3.0, "Court reporters") > score(court, "body", 1.0, "Court reporters")
