"""Pydantic models of the knowledge base's data files (``data/sources.yaml`` and ``data/packs/*.yaml``).

A *pack* is one reviewable YAML file holding any of: verticals (who a seller sells to), product
categories (what a seller sells), data points (the unit of a blueprint) and sources (where a data point
lives). Packs are merged at load; ids are global and must be unique across all packs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from graph.schemas import Method, SectionName, SourceKind, ValueOption, ValueType

__all__ = [
    "AppliesTo",
    "Cue",
    "DataPointSpec",
    "Pack",
    "ProductCategory",
    "SellerKind",
    "SizeBand",
    "SourceRef",
    "SourceSpec",
    "Vertical",
]

_ID = r"^[a-z][a-z0-9_]*$"
Motion = Literal["channel", "plg", "enterprise", "smb", "local", "ecommerce", "b2c", "public_sector"]
MIN_OPTIONS, MAX_OPTIONS = 2, 40
# What a seller sells, as a kind: the buyer's qualifying data differ by kind (a lender qualifies by time in
# business and liens, a components maker by product lines and certifications, a SaaS vendor by its stack).
SellerKind = Literal[
    "software", "it_services", "agency", "staffing", "facility_services", "manufacturing", "distribution",
    "lending", "payments", "marketplace", "logistics", "training", "professional_services",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cue(_Model):
    """A phrase that, found on a seller's site (or in a provided ICP), is evidence for a vertical/category.

    Matching is case-insensitive on word boundaries; ``weight`` is how telling the phrase is (a brand
    name of an incumbent tool can be 1.0, a generic word 0.2).
    """

    phrase: str = Field(min_length=2)
    weight: float = Field(default=0.5, gt=0, le=1.0)


class SizeBand(_Model):
    min_employees: int | None = None
    max_employees: int | None = None


class SourceRef(_Model):
    """Where one data point can be found. ``field`` is the exact path in an API provider's response
    (dotted, ``[]`` for list items, e.g. ``organization.funding_events[].date``); for other sources a
    short locator such as 'Item 20 outlet tables' or 'careers page'."""

    source: str = Field(pattern=_ID)
    field: str | None = None
    note: str | None = None


class AppliesTo(_Model):
    """Where a data point is relevant. ``any`` marks a generic data point (low prior everywhere)."""

    verticals: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    kinds: list[SellerKind] = Field(
        default_factory=list,
        description="Seller kinds whose every category claims it (a components maker's lead's incumbent supplier).")
    motions: list[Motion] = Field(default_factory=list)
    any: bool = False


class DataPointSpec(_Model):
    key: str = Field(pattern=_ID)
    section: SectionName
    name: str
    description: str
    value_type: ValueType = "text"
    unit: str | None = Field(default=None, description="Unit of a number/integer/currency value.")
    options: list[ValueOption] = Field(default_factory=list, description="Allowed values of an enum/multi_enum.")
    example: str = Field(description="A value of the data point's type (see graph.values.parse_value).")
    why: str = Field(
        description="Rationale template. Placeholders: {seller} {offering} {segment} {evidence}."
    )
    qualification_rule: str | None = None
    applies_to: AppliesTo
    weight: float = Field(default=1.0, gt=0, le=3.0)
    sources: list[SourceRef] = Field(min_length=1)
    method: Method | None = None
    cadence: str | None = None
    signals: list[str] = Field(
        default_factory=list, description="Phrases on the seller's site that make this data point more relevant."
    )
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _typed(self) -> DataPointSpec:
        choice = self.value_type in {"enum", "multi_enum"}
        if choice and not MIN_OPTIONS <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"{self.key}: an {self.value_type} needs {MIN_OPTIONS}-{MAX_OPTIONS} options")
        if not choice and self.options:
            raise ValueError(f"{self.key}: options only go with enum/multi_enum, not {self.value_type}")
        for attr in ("value", "label"):
            seen = [getattr(o, attr).casefold() for o in self.options]
            if len(seen) != len(set(seen)):
                raise ValueError(f"{self.key}: option {attr}s must be unique")
        if self.value_type == "number" and not self.unit:
            raise ValueError(f"{self.key}: a number needs a unit")
        return self

    @field_validator("why")
    @classmethod
    def _template(cls, value: str) -> str:
        value.format(seller="", offering="", segment="", evidence="")  # fails on unknown placeholders
        return value


class Vertical(_Model):
    """A target market: who a seller sells to."""

    id: str = Field(pattern=_ID)
    name: str
    description: str = ""
    parent: str | None = None
    industry_labels: list[str] = Field(min_length=1, description="How the ICP names this market.")
    cues: list[Cue] = Field(min_length=3)
    buyer_titles: list[str] = Field(min_length=2)
    size_band: SizeBand | None = None
    incumbent_tools: list[str] = Field(default_factory=list)
    data_points: list[str] = Field(default_factory=list, description="Data point keys this market pulls in.")
    exclude_data_points: list[str] = Field(default_factory=list)
    apollo_industries: list[str] = Field(default_factory=list)
    naics: list[str] = Field(default_factory=list)
    motions: list[Motion] = Field(default_factory=list)


class ProductCategory(_Model):
    """What a seller sells."""

    id: str = Field(pattern=_ID)
    name: str
    kind: SellerKind = Field(default="software", description="The seller kind this category belongs to.")
    description: str = ""
    cues: list[Cue] = Field(min_length=3)
    buyer_titles: list[str] = Field(min_length=2)
    typical_verticals: list[str] = Field(
        default_factory=list, description="Markets assumed when the site names none (first = most typical)."
    )
    horizontal: bool = Field(default=False, description="Sells to businesses of every vertical (e.g. payroll).")
    one_market: bool = Field(
        default=False,
        description="Its products are built for one market at a time (an EHR for dental or for behavioral health): "
                    "when the site names one of its typical markets, the others are not assumed.",
    )
    competitors: list[str] = Field(default_factory=list, description="Tools a lead may run that this replaces.")
    complements: list[str] = Field(default_factory=list, description="Tools this typically plugs into.")
    data_points: list[str] = Field(default_factory=list)
    exclude_data_points: list[str] = Field(default_factory=list)
    motions: list[Motion] = Field(default_factory=list)
    own_verticals: list[str] = Field(
        default_factory=list,
        description="The seller's own industry (an MSP for managed IT, a 3PL for fulfilment): its words are on the "
                    "page, but it is not the buyer unless the page says it sells to it.",
    )
    buyer_verticals: list[str] = Field(
        default_factory=list,
        description="When set, the only markets this kind of seller sells to: a components maker sells to OEMs "
                    "(manufacturers, device makers); the sectors its page names are its buyers' end markets.",
    )
    buyer_market_weight: float = Field(
        default=1.0, ge=0, le=1.0,
        description="How much the buyer market's own data points count for this kind of seller: a lender qualifies "
                    "a restaurant by lending criteria, not by its menu; a software vendor by the restaurant's stack.",
    )


class SourceSpec(_Model):
    id: str = Field(pattern=_ID)
    name: str
    kind: SourceKind
    url: str | None = None
    access: str = Field(description="key / plan / public, e.g. 'API key; paid plan'.")
    cost: str = Field(description="The cost model in words, e.g. '1 credit per record (~$0.03)'.")
    cost_per_1k_usd: float = Field(ge=0, description="Estimated USD per 1,000 leads looked up.")
    rate_limit: str | None = None
    freshness: str = ""
    compliance: str | None = None
    notes: str = ""
    method: Method = Field(description="How this source is usually collected from.")
    verticals: list[str] = Field(default_factory=list, description="Markets where this source is specific.")
    countries: list[str] = Field(
        default_factory=list,
        description="Where the source has data: ISO 3166-1 alpha-2 codes ('GB', not 'UK'), 'EU' for an EU-wide "
                    "source, or ['ALL'] for one that works everywhere. The sources plan prefers the ones that serve "
                    "the seller's and the ICP's countries.",
    )

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.fullmatch(r"[A-Z]{2}|ALL", c) or c == "UK"]
        if bad:
            raise ValueError(f"countries must be ISO 3166-1 alpha-2 codes, 'EU' or 'ALL', not {bad}")
        if "ALL" in value and len(value) > 1:
            raise ValueError("'ALL' stands alone in countries")
        if len(set(value)) != len(value):
            raise ValueError("a country appears twice")
        return value


class Pack(_Model):
    verticals: list[Vertical] = Field(default_factory=list)
    categories: list[ProductCategory] = Field(default_factory=list)
    data_points: list[DataPointSpec] = Field(default_factory=list)
    sources: list[SourceSpec] = Field(default_factory=list)
