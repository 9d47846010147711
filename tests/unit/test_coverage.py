"""Coverage probe maths: fill rates from raw provider responses and waterfall reordering."""

from __future__ import annotations

from typing import Any

import pytest

from graph.knowledge.base import load_knowledge
from tests.support.provider_standin import apollo_org_response, clearbit_company_response
from tools.coverage import field_map, fill_rates, order_providers

LEADS = [
    "harborlane.example",
    "brightpath.example",
    "copperkettle.example",
    "norrsken.example",
    "tinyleaf.example",
]


def test_fill_rates_count_not_found_as_unfilled() -> None:
    responses: dict[str, dict[str, dict[str, Any] | None]] = {
        "apollo": {
            "a.example": {"organization": {"technology_names": ["Samsara"], "industry": "x"}},
            "b.example": {"organization": {"technology_names": [], "industry": "y"}},
            "c.example": None,
            "d.example": {"organization": {"current_technologies": [{"name": "SAP"}]}},
        },
        "clearbit": {"a.example": {"tech": ["samsara"]}, "b.example": {"tech": None}},
    }
    paths = {
        "tech_stack": {
            "apollo": ["organization.technology_names", "organization.current_technologies[].name"],
            "clearbit": ["tech"],
        },
        "industry": {"apollo": ["organization.industry"], "builtwith": ["ignored"]},
    }
    assert fill_rates(responses, paths) == {
        "tech_stack": {"apollo": 0.5, "clearbit": 0.5},
        "industry": {"apollo": 0.5},  # no answers from builtwith: no rate rather than 0.0
    }
    assert fill_rates({}, paths) == {}


def test_fill_rates_over_the_knowledge_base_and_stand_in_records() -> None:
    kb = load_knowledge()
    paths = field_map(kb.data_points.values())
    assert paths["employee_count"] == {
        "apollo": ["organization.estimated_num_employees"],
        "clearbit": ["metrics.employees"],
    }
    responses: dict[str, dict[str, dict[str, Any] | None]] = {
        "apollo": {d: apollo_org_response(d) for d in LEADS} | {"unknown.example": None},
        "clearbit": {d: clearbit_company_response(d) for d in LEADS},
    }
    rates = fill_rates(responses, paths)
    assert rates, "the knowledge base maps data points to provider field paths"
    for by_provider in rates.values():
        assert all(0.0 <= rate <= 1.0 for rate in by_provider.values())
    # Employees: Apollo misses Tinyleaf and the unknown domain (4 of 6); Clearbit misses Tinyleaf (4 of 5).
    assert rates["employee_count"]["apollo"] == pytest.approx(4 / 6, abs=0.001)
    assert rates["employee_count"]["clearbit"] == pytest.approx(4 / 5, abs=0.001)


def test_order_providers_by_rate_then_cost_keeping_unmeasured_slots() -> None:
    order = ["company_website", "clearbit", "apollo", "builtwith"]
    rates = {"clearbit": 0.6, "apollo": 0.8}
    assert order_providers(order, rates) == ["company_website", "apollo", "clearbit", "builtwith"]
    tie = {"clearbit": 0.8, "apollo": 0.8}
    assert order_providers(order, tie, {"apollo": 30, "clearbit": 150}) == [
        "company_website",
        "apollo",
        "clearbit",
        "builtwith",
    ]
    assert order_providers(order, {}) == order
