"""The schema of a team's knowledge pack: the built-in entries plus ``override``, ``extend`` and ``exclude``.

* ``override: true`` on an entry replaces the earlier entry with the same id;
* ``extend: true`` on an entry adds to the lists of the earlier entry (cues, sources, data points...);
* ``exclude: [ids]`` at the top removes data points or sources (and what only they made possible).

``blueprint schema pack`` prints :func:`pack_json_schema` for editors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from graph.knowledge.models import (
    _ID,
    AppliesTo,
    Cue,
    DataPointSpec,
    Motion,
    ProductCategory,
    SourceRef,
    SourceSpec,
    Vertical,
)

__all__ = [
    "ENTRY_ADAPTERS",
    "ENTRY_MODELS",
    "KINDS",
    "SINGULAR",
    "TOP_KEYS",
    "Extension",
    "ExternalPack",
    "Kind",
    "pack_json_schema",
]

Kind = Literal["verticals", "categories", "data_points", "sources"]
KINDS: tuple[Kind, ...] = ("sources", "verticals", "categories", "data_points")  # the order entries merge in
SINGULAR = {"verticals": "vertical", "categories": "category", "data_points": "data point", "sources": "source"}

_OVERRIDE = Field(default=False, description="Replace the earlier entry (built-in or from another pack) with this id.")


class VerticalEntry(Vertical):
    override: bool = _OVERRIDE


class CategoryEntry(ProductCategory):
    override: bool = _OVERRIDE


class DataPointEntry(DataPointSpec):
    override: bool = _OVERRIDE


class SourceEntry(SourceSpec):
    override: bool = _OVERRIDE


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    extend: Literal[True] = Field(description="Add these items to the lists of the earlier entry with this id.")


class VerticalExtension(Extension):
    id: str = Field(pattern=_ID)
    industry_labels: list[str] = Field(default_factory=list)
    cues: list[Cue] = Field(default_factory=list)
    buyer_titles: list[str] = Field(default_factory=list)
    incumbent_tools: list[str] = Field(default_factory=list)
    data_points: list[str] = Field(default_factory=list)
    exclude_data_points: list[str] = Field(default_factory=list)
    apollo_industries: list[str] = Field(default_factory=list)
    naics: list[str] = Field(default_factory=list)
    motions: list[Motion] = Field(default_factory=list)


class CategoryExtension(Extension):
    id: str = Field(pattern=_ID)
    cues: list[Cue] = Field(default_factory=list)
    buyer_titles: list[str] = Field(default_factory=list)
    typical_verticals: list[str] = Field(default_factory=list)
    competitors: list[str] = Field(default_factory=list)
    complements: list[str] = Field(default_factory=list)
    data_points: list[str] = Field(default_factory=list)
    exclude_data_points: list[str] = Field(default_factory=list)
    motions: list[Motion] = Field(default_factory=list)


class DataPointExtension(Extension):
    key: str = Field(pattern=_ID)
    sources: list[SourceRef] = Field(default_factory=list)
    applies_to: AppliesTo | None = Field(default=None, description="Markets added to where it applies.")
    signals: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SourceExtension(Extension):
    id: str = Field(pattern=_ID)
    verticals: list[str] = Field(default_factory=list)


def _shape(value: Any) -> str:
    flag = value.get("extend") if isinstance(value, dict) else getattr(value, "extend", False)
    return "extend" if flag else "entry"


def _item(entry: type[BaseModel], extension: type[BaseModel]) -> Any:
    return Annotated[Annotated[entry, Tag("entry")] | Annotated[extension, Tag("extend")], Discriminator(_shape)]


VerticalItem = _item(VerticalEntry, VerticalExtension)
CategoryItem = _item(CategoryEntry, CategoryExtension)
DataPointItem = _item(DataPointEntry, DataPointExtension)
SourceItem = _item(SourceEntry, SourceExtension)


class ExternalPack(BaseModel):
    """A knowledge pack: verticals, product categories, data points and sources, plus overrides,
    extensions and exclusions of earlier entries."""

    model_config = ConfigDict(extra="forbid", title="Enrichment Blueprint knowledge pack")

    name: str | None = Field(default=None, description="The pack's name (default: the file name without .yaml).")
    description: str = ""
    verticals: list[VerticalItem] = Field(default_factory=list)  # type: ignore[valid-type]
    categories: list[CategoryItem] = Field(default_factory=list)  # type: ignore[valid-type]
    data_points: list[DataPointItem] = Field(default_factory=list)  # type: ignore[valid-type]
    sources: list[SourceItem] = Field(default_factory=list)  # type: ignore[valid-type]
    exclude: list[str] = Field(
        default_factory=list, description="Data point keys or source ids never to recommend (built-in or earlier)."
    )


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of a pack file, for editors (``# yaml-language-server: $schema=...``)."""
    schema = ExternalPack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


ENTRY_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {
    "verticals": TypeAdapter(VerticalItem),
    "categories": TypeAdapter(CategoryItem),
    "data_points": TypeAdapter(DataPointItem),
    "sources": TypeAdapter(SourceItem),
}
TOP_KEYS = set(ExternalPack.model_fields)
ENTRY_MODELS: dict[Kind, type[BaseModel]] = {
    "verticals": VerticalEntry, "categories": CategoryEntry, "data_points": DataPointEntry, "sources": SourceEntry,
}

