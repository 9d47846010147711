"""Content lints that fail the build (issue 15, item 3): templated filler and examples from other markets.

(The third, a `why` template that reads badly with any segment name, is tests/unit/test_why_wording.py.)
"""

from __future__ import annotations

from graph.knowledge import KnowledgeBase, load_knowledge
from graph.knowledge.lints import foreign_examples, templated_pairs, tool_markets
from graph.knowledge.models import AppliesTo, Cue, DataPointSpec, ProductCategory, SourceRef, Vertical


def test_no_two_data_points_differ_only_by_a_markets_name() -> None:
    findings = templated_pairs(load_knowledge())
    assert findings == [], "\n".join(f"{f.keys}: {f.message}" for f in findings)


def test_no_example_names_a_company_from_another_market() -> None:
    findings = foreign_examples(load_knowledge())
    assert findings == [], "\n".join(f"{f.keys}: {f.message}" for f in findings)


def test_every_market_has_tools_the_example_lint_can_check() -> None:
    tools = tool_markets(load_knowledge())
    assert len(tools) > 300
    assert "restaurants" in tools["Toast"]


# ───────────── the lints catch what they are for (a small knowledge base of made-up content) ─────────────


def _vertical(ident: str, name: str, labels: list[str], tools: list[str]) -> Vertical:
    return Vertical(id=ident, name=name, industry_labels=labels, buyer_titles=["Owner", "Manager"],
                    cues=[Cue(phrase=f"{ident} cue {n}") for n in range(3)], incumbent_tools=tools)


def _dp(key: str, name: str, description: str, verticals: list[str], example: str = "n/a") -> DataPointSpec:
    return DataPointSpec(key=key, section="technographic", name=name, description=description, example=example,
                         why="{seller} sells {offering} to {segment}.", applies_to=AppliesTo(verticals=verticals),
                         sources=[SourceRef(source="company_website")])


def _kb(*data_points: DataPointSpec) -> KnowledgeBase:
    kb = KnowledgeBase(version="t")
    kb.verticals = {v.id: v for v in (
        _vertical("restaurants", "Restaurants and food service operators", ["restaurants", "food service"], ["Toast"]),
        _vertical("hotels_hospitality", "Hotels and lodging", ["hotels", "lodging"], ["Opera PMS", "Cloudbeds"]),
    )}
    kb.categories = {"pos": ProductCategory(id="pos", name="POS", cues=[Cue(phrase=f"pos {n}") for n in range(3)],
                                            buyer_titles=["Owner", "GM"], competitors=["Toast"],
                                            typical_verticals=["restaurants"])}
    kb.data_points = {dp.key: dp for dp in data_points}
    return kb


def test_a_pair_stamped_out_per_market_is_found() -> None:
    hotels = ["hotels_hospitality"]
    kb = _kb(_dp("r_booking", "Booking tool used by the restaurant", "Which booking tool restaurants run.",
                 ["restaurants"]),
             _dp("h_booking", "Booking tool used by the hotel", "Which booking tool hotels run.", hotels),
             _dp("h_pms", "Property management system", "The PMS at the hotel's front desk.", hotels))
    found = templated_pairs(kb)
    assert {f.keys for f in found} == {("r_booking", "h_booking")}
    assert {f.message.split(" ")[0] for f in found} == {"names", "descriptions"}


def test_an_example_borrowed_from_another_market_is_found() -> None:
    pms = _dp("h_pms", "Property management system", "The PMS at the front desk.", ["hotels_hospitality"],
              example="Toast")
    pms_ok = _dp("h_pms_ok", "Property management system", "The PMS at the front desk.", ["hotels_hospitality"],
                 example="Opera PMS, moving to Cloudbeds")
    assert [f.keys for f in foreign_examples(_kb(pms, pms_ok))] == [("h_pms",)]
    # once the hotel market's own data points talk about the tool, it is a hotel tool too
    outlet = _dp("h_fnb", "Restaurant POS in the hotel (e.g. Toast)", "Outlet POS.", ["hotels_hospitality"],
                 example="Toast in the lobby bar")
    assert foreign_examples(_kb(pms, pms_ok, outlet)) == []
