"""The graph's state types: what comes in, what the nodes work on, what goes out.

* :class:`InputState` — the ``EnrichmentRequest`` fields at the top level (Studio shows them as a form).
* :class:`BlueprintState` — the working state; each node returns only the keys it sets.
* :class:`OutputState` — ``blueprint``: the finished ``Blueprint`` as a dict.
* :class:`Context` — per-run knobs that are not part of the request (engine, model, limits).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Required, TypedDict

from pydantic import BaseModel, Field

from graph.schemas import (
    CollectionMethod,
    Company,
    Coverage,
    LLMUsage,
    ProviderUsage,
    ResolvedICP,
    Section,
    SourceRecommendation,
    Warning,
)
from tools.site import SiteSnapshot

__all__ = ["BlueprintState", "Context", "InputState", "MarketSignals", "OutputState", "Scored"]


@dataclass
class Context:
    """Runtime context. ``None`` means: take it from the request options, then from settings."""

    engine: Literal["auto", "catalog", "llm"] | None = None
    model: str | None = None
    max_pages: int | None = None
    # the id the runner announced in ``run_started`` (keyed with the server secret and the tenant);
    # ``None`` outside the runner (LangGraph Studio), where the blueprint is stored nowhere
    blueprint_id: str | None = None


class Scored(BaseModel):
    """A knowledge-base vertical or category with how strongly the evidence points at it."""

    id: str
    score: float = Field(ge=0)
    evidence: list[str] = Field(default_factory=list)


class MarketSignals(BaseModel):
    """What the analysis concluded about the seller's market, in knowledge-base terms."""

    categories: list[Scored] = Field(default_factory=list, description="What the seller sells, best first.")
    verticals: list[Scored] = Field(default_factory=list, description="Who the seller sells to, best first.")
    motions: list[str] = Field(default_factory=list)
    horizontal: bool = False
    segment: str | None = Field(default=None, description="smb | mid_market | enterprise, when the site says so.")
    icp_driven: bool = Field(default=False, description="Verticals come from a provided ICP, not the site.")
    open_world: bool = Field(default=False, description="The LLM named markets the catalog lacks: sections may "
                                                        "author more grounded data points of their own.")


def _merge_usage(left: dict[str, ProviderUsage], right: dict[str, ProviderUsage]) -> dict[str, ProviderUsage]:
    merged = dict(left or {})
    for name, usage in (right or {}).items():
        base = merged.get(name, ProviderUsage())
        merged[name] = ProviderUsage(
            calls=base.calls + usage.calls, credits=base.credits + usage.credits, errors=base.errors + usage.errors
        )
    return merged


def _add_llm(left: LLMUsage | None, right: LLMUsage | None) -> LLMUsage:
    a, b = left or LLMUsage(), right or LLMUsage()
    return LLMUsage(
        calls=a.calls + b.calls,
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
    )


class InputState(TypedDict, total=False):
    website: Required[str]
    icp: dict[str, Any] | None
    sample_domains: list[str]
    options: dict[str, Any]


class OutputState(TypedDict, total=False):
    blueprint: dict[str, Any]


class BlueprintState(InputState, total=False):
    started_at: float
    site: SiteSnapshot | None
    provider_evidence: dict[str, Any]
    company: Company
    market: MarketSignals
    resolved_icp: ResolvedICP
    targeting: MarketSignals
    firmographic: Section
    technographic: Section
    personalization: Section
    sources: list[SourceRecommendation]
    collection_methods: list[CollectionMethod]
    coverage: Coverage | None
    warnings: Annotated[list[Warning], operator.add]
    provider_calls: Annotated[dict[str, ProviderUsage], _merge_usage]
    llm_usage: Annotated[LLMUsage, _add_llm]
    blueprint: dict[str, Any]
