"""Per-request custom data points: validated in the request, placed in their section by the seller's
priorities, carried through sources and collection methods, marked ``origin: "custom"``, in the cache key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from graph import agenerate_blueprint
from graph.engine.custom import place_custom
from graph.engine.plan import plan_collection, plan_sources
from graph.engine.text import Zone
from graph.fingerprint import run_key
from graph.knowledge import load_knowledge
from graph.schemas import Company, DataPoint, EnrichmentRequest
from tools.errors import InvalidRequest

SPAN = {"key": "span_of_control", "name": "Span of control", "section": "firmographic",
        "description": "Technicians per supervisor.", "value_type": "number", "example": "8 technicians per lead"}


def _request(*customs: dict[str, Any], max_data_points: int = 4) -> EnrichmentRequest:
    return EnrichmentRequest.model_validate({"website": "acme.example", "options": {
        "max_data_points": max_data_points, "custom_data_points": list(customs)}})


def _catalog(*priorities: str) -> list[DataPoint]:
    return [DataPoint(key=f"catalog_{i}", name=f"C{i}", description="d", why="w", priority=p)  # type: ignore[arg-type]
            for i, p in enumerate(priorities)]


def test_the_request_bounds_and_checks_custom_data_points() -> None:
    assert _request(SPAN).options.custom_data_points[0].value_type == "number"
    with pytest.raises(ValidationError, match="at most 25"):
        _request(*({**SPAN, "key": f"k{i}"} for i in range(26)))
    with pytest.raises(ValidationError, match="must be unique: span_of_control"):
        _request(SPAN, SPAN)
    with pytest.raises(ValidationError, match="value_type"):
        _request({**SPAN, "value_type": "string"})  # the closed set only
    with pytest.raises(ValidationError, match="section"):
        _request({**SPAN, "section": "elsewhere"})
    with pytest.raises(ValidationError, match="key"):
        _request({**SPAN, "key": "Span Of Control"})


def test_placed_by_priority_and_the_catalog_gives_way() -> None:
    kb, company = load_knowledge(), Company(name="Acme")
    points = _catalog("must", "should", "should", "nice")
    named = [Zone(name="hero", text="We track the span of control of every crew.", weight=1.0)]
    request = _request(SPAN, {**SPAN, "key": "crew_count", "name": "Crew count"}, max_data_points=4)
    placed = place_custom("firmographic", points, request, kb, company, named, None)
    # named on the seller's site: must, right after the must-haves; the other after the shoulds
    assert [p.key for p in placed] == ["catalog_0", "span_of_control", "catalog_1", "crew_count"]
    span = placed[1]
    assert span.priority == "must" and span.origin == "custom" and span.value_type == "number"
    assert span.evidence and "span of control" in span.evidence.lower() and "asked for" in span.why
    assert placed[3].priority == "should" and placed[3].source_ids == ["company_website"]  # default source
    # another section is untouched, and a section never holds fewer than its custom data points
    assert place_custom("technographic", points, request, kb, company, named, None) == points
    tight = place_custom("firmographic", points, _request(SPAN, max_data_points=1), kb, company, [], None)
    assert [p.key for p in tight] == ["span_of_control"]


def test_a_custom_key_replaces_the_catalog_entry_and_plans_from_its_own_sources() -> None:
    kb = load_knowledge()
    own = {**SPAN, "key": "ownership_type", "name": "Who owns it", "sources": ["careers_page"]}
    request = _request(own)
    catalog = [DataPoint(key="ownership_type", name="Ownership type", description="d", why="w", priority="must",
                         source_ids=["apollo", "clearbit"], source_fields={"apollo": "organization.x"})]
    placed = place_custom("firmographic", catalog, request, kb, Company(), [], None)
    assert [(p.key, p.origin, p.source_ids) for p in placed] == [("ownership_type", "custom", ["careers_page"])]
    assert place_custom("personalization", catalog, request, kb, Company(), [], None) == []
    sources = plan_sources(kb, placed)
    assert [(s.id, s.provides) for s in sources] == [("careers_page", ["ownership_type"])]
    (method,) = plan_collection(kb, {"firmographic": placed})
    assert method.provider_order == ["careers_page"] and method.method == "llm_extraction"
    assert method.cadence == "quarterly"  # the section's default, not the catalog entry's


def test_custom_data_points_are_part_of_the_cache_key() -> None:
    def key(request: EnrichmentRequest) -> str:
        return run_key(request, engine="catalog", model=None, knowledge_version="v")

    plain = key(_request())
    assert key(_request(SPAN)) != plain
    assert key(_request({**SPAN, "description": "Supervisors per crew."})) != key(_request(SPAN))
    assert key(_request(SPAN)) == key(_request(dict(SPAN)))


async def test_unknown_sources_are_refused_before_anything_runs() -> None:
    with pytest.raises(InvalidRequest) as raised:
        await agenerate_blueprint("https://acme.example", options={
            "custom_data_points": [{**SPAN, "sources": ["company_website", "our_crm"]}]})
    assert raised.value.details["unknown_sources"] == ["our_crm"]
    assert "company_website" in raised.value.details["known_sources"]
