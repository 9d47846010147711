"""The LLM-facing output models and their strict JSON schemas.

They are thin on purpose: the model only decides what needs judgement (which ids, which data points,
in what order, why); names, descriptions and sources of catalog data points come from the knowledge
base. Every field is required (nullable where optional) because OpenAI's strict json_schema mode
requires it, and the schemas are sent with every call, so descriptions are short (they cost tokens).
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalysisDraft",
    "DraftDataPoint",
    "DraftEvidence",
    "DraftICP",
    "DraftSource",
    "SectionDraft",
    "response_format",
    "strict_schema",
]

Motion = Literal["channel", "plg", "enterprise", "smb", "local", "ecommerce", "b2c", "public_sector"]


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DraftEvidence(_Draft):
    claim: str = Field(description="What the quote supports, e.g. 'sells to: dental clinics'.")
    snippet: str = Field(description="Verbatim quote from the website.")


class DraftICP(_Draft):
    industries: list[str]
    buyer_titles: list[str]
    min_employees: int | None
    max_employees: int | None
    geographies: list[str]
    technologies: list[str] = Field(description="Tools the ideal customer runs (that the seller plugs into).")
    confidence: float = Field(description="0..1")


class AnalysisDraft(_Draft):
    """The seller: what it sells, to whom, and its ICP."""

    name: str
    summary: str = Field(description="One or two sentences in plain words.")
    offering: str = Field(description="What it sells, in a phrase.")
    category_ids: list[str]
    vertical_ids: list[str]
    markets_served: list[str] = Field(description="Segments in the seller's own words.")
    channel: Literal["direct", "partner", "mixed"]
    motions: list[Motion]
    integrations: list[str]
    customers: list[str]
    geographies: list[str]
    evidence: list[DraftEvidence]
    icp: DraftICP


class DraftSource(_Draft):
    source_id: str
    field: str | None = Field(description="API provider response field path, exactly as listed; else null.")


class DraftDataPoint(_Draft):
    key: str = Field(description="Candidate key, or a new snake_case key when new=true.")
    new: bool
    priority: Literal["must", "should", "nice"]
    why: str
    evidence: str | None
    name: str
    description: str
    value_type: str
    example: str
    sources: list[DraftSource]


class SectionDraft(_Draft):
    """The chosen data points, best first."""

    data_points: list[DraftDataPoint]


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items() if k not in {"title", "default"}}
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the shape strict mode accepts (all required, no extra keys)."""
    schema: dict[str, Any] = _strict(copy.deepcopy(model.model_json_schema()))
    return schema


@functools.cache
def response_format(model: type[BaseModel]) -> dict[str, Any]:
    """``response_format`` for chat completions: a strict json_schema named after the model (built once:
    schema generation costs milliseconds of CPU per call). Treat the result as read-only."""
    return {"type": "json_schema",
            "json_schema": {"name": model.__name__, "strict": True, "schema": strict_schema(model)}}
