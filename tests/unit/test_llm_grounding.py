"""Grounding of the LLM's drafts: only knowledge-base ids, sources and field paths survive."""

from __future__ import annotations

import pytest

from graph.engine.llm_grounding import (
    MAX_NEW,
    MAX_NEW_OPEN_WORLD,
    corpus_of,
    ground_analysis,
    ground_section,
    known_fields,
    merge_icp_suggestion,
)
from graph.engine.llm_models import AnalysisDraft, DraftDataPoint, DraftEvidence, DraftICP, DraftSource, SectionDraft
from graph.engine.select import Candidate
from graph.knowledge import KnowledgeBase
from graph.schemas import ICP, Company, CompanySize, ResolvedICP
from graph.state import MarketSignals, Scored
from tools.site import Page, SiteSnapshot

SITE = SiteSnapshot(url="https://tablely.example", final_url="https://tablely.example", domain="tablely.example",
                    pages=[Page(url="https://tablely.example/", kind="home", title="Tablely",
                                text="The cloud restaurant POS built for growing multi-location restaurant groups.")])
CORPUS = corpus_of(SITE)


def _candidates(kb: KnowledgeBase, n: int = 5) -> list[Candidate]:
    specs = [s for s in kb.by_section("firmographic")][:n]
    return [Candidate(spec=s, score=1.0 - i / 10, reason="Restaurants") for i, s in enumerate(specs)]


def _dp(key: str, *, new: bool = False, sources: list[DraftSource] | None = None, evidence: str | None = None,
        name: str = "", description: str = "") -> DraftDataPoint:
    return DraftDataPoint(key=key, new=new, priority="must", why=f"why {key}", evidence=evidence, name=name,
                          description=description, value_type="string", example="", sources=sources or [])


def test_catalog_pick_is_rebuilt_from_the_knowledge_base(kb: KnowledgeBase) -> None:
    cands = _candidates(kb)
    spec = cands[2].spec
    draft = SectionDraft(data_points=[_dp(spec.key, sources=[DraftSource(source_id="made_up", field="x.y")],
                                          evidence="multi-location restaurant groups")])
    section, warnings = ground_section("firmographic", draft, cands, kb, CORPUS, limit=5)
    [point] = section.data_points
    assert (point.name, point.description, point.origin) == (spec.name, spec.description, "catalog")
    assert point.source_ids == [r.source for r in spec.sources]  # the model's sources are ignored for catalog keys
    assert point.why == f"why {spec.key}" and point.evidence == "multi-location restaurant groups"
    assert warnings == []


def test_invented_source_id_and_field_path_are_dropped_with_a_warning(kb: KnowledgeBase) -> None:
    field = sorted(known_fields(kb)["apollo"])[0]
    draft = SectionDraft(data_points=[
        _dp("lead_signal_a", new=True, name="A", description="a", sources=[
            DraftSource(source_id="crystal_ball_api", field=None),
            DraftSource(source_id="apollo", field="organization.secret_budget_usd"),
            DraftSource(source_id="apollo", field=field)]),
        _dp("lead_signal_b", new=True, name="B", description="b",
            sources=[DraftSource(source_id="crystal_ball_api", field=None)]),
    ])
    section, warnings = ground_section("firmographic", draft, _candidates(kb), kb, CORPUS, limit=5)
    assert [(p.key, p.origin, p.source_ids) for p in section.data_points] == [("lead_signal_a", "llm", ["apollo"])]
    [warning] = warnings
    assert warning.code == "llm_ungrounded" and warning.node == "firmographic"
    for dropped in ("crystal_ball_api", "organization.secret_budget_usd", "lead_signal_b"):
        assert dropped in warning.message


def test_keys_that_are_not_candidates_and_unquoted_evidence_are_dropped(kb: KnowledgeBase) -> None:
    cands = _candidates(kb, 3)
    other = next(s for s in kb.by_section("firmographic") if s.key not in {c.spec.key for c in cands})
    draft = SectionDraft(data_points=[_dp(other.key), _dp(cands[0].spec.key, evidence="we serve 9,000 hospitals")])
    section, warnings = ground_section("firmographic", draft, cands, kb, CORPUS, limit=5)
    assert [p.key for p in section.data_points] == [cands[0].spec.key]
    assert section.data_points[0].evidence is None  # not on the seller's site
    assert other.key in warnings[0].message


def test_limit_dedup_and_empty_answer(kb: KnowledgeBase) -> None:
    cands = _candidates(kb, 5)
    keys = [c.spec.key for c in cands]
    draft = SectionDraft(data_points=[_dp(k) for k in [keys[0], keys[0], *keys[1:]]])
    section, _ = ground_section("firmographic", draft, cands, kb, CORPUS, limit=3)
    assert [p.key for p in section.data_points] == keys[:3]
    with pytest.raises(ValueError):
        ground_section("firmographic", SectionDraft(data_points=[]), cands, kb, CORPUS, limit=3)


def _analysis(**overrides: object) -> AnalysisDraft:
    data: dict[str, object] = dict(
        name="Tablely", summary="Restaurant POS.", offering="restaurant POS", category_ids=["nope_category"],
        vertical_ids=["restaurants", "made_up_vertical"], markets_served=["multi-unit restaurants"],
        channel="direct", motions=["smb"], integrations=["Toast", "Invented Tool"], customers=[],
        geographies=["United States"],
        evidence=[DraftEvidence(claim="sells to: restaurant groups", snippet="multi-location restaurant groups"),
                  DraftEvidence(claim="sells to: hospitals", snippet="trusted by 500 hospitals")],
        icp=DraftICP(industries=["Restaurants"], buyer_titles=["COO"], min_employees=20, max_employees=2000,
                     geographies=["United States"], technologies=["Toast"], confidence=0.8))
    data.update(overrides)
    return AnalysisDraft.model_validate(data)


def test_analysis_keeps_known_ids_and_real_quotes(kb: KnowledgeBase) -> None:
    market = MarketSignals(categories=[Scored(id=next(iter(kb.categories)), score=0.5)],
                           verticals=[Scored(id="restaurants", score=0.3)])
    company, signals, icp, warnings = ground_analysis(_analysis(), Company(name="x"), market, kb, CORPUS)
    assert signals.verticals[0].id == "restaurants" and signals.verticals[0].score >= 0.8
    assert signals.categories == market.categories  # no valid category id: the catalog's stay
    assert [e.snippet for e in company.evidence] == ["multi-location restaurant groups"]
    assert "Invented Tool" not in company.integrations
    assert icp.source == "inferred" and icp.buyer_titles == ["COO"]
    message = warnings[0].message
    assert "made_up_vertical" in message and "nope_category" in message and "500 hospitals" in message


def test_icp_suggestion_never_overrides_what_the_user_provided() -> None:
    provided = ICP(industries=["Dental clinics"], company_size=CompanySize(min_employees=5, max_employees=50))
    resolved = ResolvedICP(source="provided", industries=["Dental clinics"], buyer_titles=["Office manager"],
                           company_size={"min_employees": 5, "max_employees": 50}, inferred_fields=["buyer_titles"])
    suggestion = ResolvedICP(industries=["Hospitals"], buyer_titles=["Practice owner"], confidence=0.7,
                             company_size={"min_employees": 100, "max_employees": None}, technologies=["Dentrix"])
    merged = merge_icp_suggestion(resolved, suggestion, provided)
    assert merged.industries == ["Dental clinics"]
    assert merged.company_size == {"min_employees": 5, "max_employees": 50}
    assert merged.buyer_titles == ["Practice owner"] and merged.technologies == ["Dentrix"]
    assert set(merged.inferred_fields) == {"buyer_titles", "technologies"}
    assert merged.source == "provided"


def test_an_invented_point_keeps_a_type_only_when_its_example_reads_as_it() -> None:
    from graph.engine.llm_grounding import _free_type

    assert _free_type("integer", "340") == "integer"
    assert _free_type("currency_usd", "$62M") == "currency"  # an old name is understood
    assert _free_type("integer", "about 340") == "text"      # an example of another type: text
    assert _free_type("enum", "Shopify") == "text"           # no options: no picklist
    assert _free_type("string", "anything") == "text"


def test_a_market_named_in_other_words_maps_to_the_catalog_by_meaning(kb: KnowledgeBase) -> None:
    draft = _analysis(vertical_ids=["animal_hospitals_and_vet_clinics"], markets_served=["veterinary clinics"])
    _, signals, _, warnings = ground_analysis(draft, Company(name="x"), MarketSignals(), kb, CORPUS)
    assert signals.verticals[0].id == "veterinary_clinics" and not signals.open_world
    assert not any("animal_hospitals" in w.message for w in warnings)


def test_a_niche_the_catalog_lacks_opens_the_world_for_the_sections(kb: KnowledgeBase) -> None:
    draft = _analysis(vertical_ids=["commercial_beekeeping_operations"],
                      markets_served=["commercial beekeepers", "pollination service operators"])
    _, signals, _, warnings = ground_analysis(draft, Company(name="x"), MarketSignals(), kb, CORPUS)
    assert signals.open_world
    assert not any("beekeeping" in w.message for w in warnings)  # the niche itself is not ungrounded
    cands = _candidates(kb, 3)
    new = [_dp(f"apiary_point_{i}", new=True, sources=[DraftSource(source_id="manual_research", field=None)],
               name=f"Apiary point {i}", description="Hives under contract, researched per lead.")
           for i in range(6)]
    section, _ = ground_section("firmographic", SectionDraft(data_points=new), cands, kb, CORPUS, limit=10,
                                max_new=MAX_NEW_OPEN_WORLD)
    assert len(section.data_points) == 6 and all(p.origin == "llm" for p in section.data_points)
    capped, dropped = ground_section("firmographic", SectionDraft(data_points=new), cands, kb, CORPUS, limit=10)
    assert len(capped.data_points) == MAX_NEW and dropped  # outside the open world: three, the rest reported
