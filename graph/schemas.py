"""Pydantic models of the contract: the request, the blueprint and its sections.

The section models are both the API's response parts and the LLM engine's structured-output targets,
so their field descriptions are written for a reader and for a model alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.urls import canonical_url

if TYPE_CHECKING:
    from graph.exports import Export

__all__ = [
    "ICP",
    "Blueprint",
    "CollectionMethod",
    "Company",
    "CompanySize",
    "Coverage",
    "CustomDataPoint",
    "DataPoint",
    "EnrichmentRequest",
    "Evidence",
    "LLMUsage",
    "Meta",
    "Options",
    "ProviderUsage",
    "ResolvedICP",
    "RevenueRange",
    "Section",
    "SourceRecommendation",
    "ValueOption",
    "ValueType",
    "Warning",
]

SCHEMA_VERSION = "1"
MAX_SAMPLE_DOMAINS = 25
SectionName = Literal["firmographic", "technographic", "personalization"]
Priority = Literal["must", "should", "nice"]
Method = Literal[
    "api_enrichment", "waterfall", "web_scrape", "llm_extraction", "manual_research", "form_capture", "intent_feed"
]
SourceKind = Literal["api", "dataset", "website", "registry", "manual"]
ValueType = Literal[
    "integer", "number", "currency", "percent", "date", "boolean", "enum", "multi_enum", "url", "text"
]
VALUE_TYPES: frozenset[str] = frozenset(ValueType.__args__)  # type: ignore[attr-defined]
# value types of blueprints written before the closed set (cached runs, saved files) and loose LLM answers
LEGACY_VALUE_TYPES = {"string": "text", "list": "text", "list[string]": "text", "range": "text",
                      "currency_usd": "currency", "float": "number", "int": "integer", "bool": "boolean"}

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


_TAG = re.compile(r"</?[A-Za-z!?][^<>]*>")


def neutralise_markup(text: str) -> str:
    """Text from a site is text. A site's entity-escaped markup (``&lt;img onerror=…&gt;`` in its title,
    ``og:site_name`` or meta description) is decoded when the page is read; in fields a consumer may
    drop into HTML unescaped, tags are removed and a stray angle bracket becomes a look-alike (‹ ›)."""
    if "<" not in text and ">" not in text:
        return text
    text = _TAG.sub(" ", text).replace("<", "‹").replace(">", "›")
    return re.sub(r"[ \t]{2,}", " ", text).strip()


PlainText = Annotated[str, AfterValidator(neutralise_markup)]


def normalize_domain(value: str) -> str:
    """A bare, lower-case host from a domain or URL (``https://www.Acme.com/x`` → ``acme.com``)."""
    raw = value.strip()
    host = urlsplit(raw if "://" in raw else f"//{raw}").hostname or ""
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


# ───────────────────────────── request ─────────────────────────────


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CompanySize(_Strict):
    min_employees: int | None = Field(default=None, ge=0)
    max_employees: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CompanySize:
        lo, hi = self.min_employees, self.max_employees
        if lo and hi and lo > hi:
            raise ValueError("min_employees must not exceed max_employees")
        return self


class RevenueRange(_Strict):
    min_usd: float | None = Field(default=None, ge=0)
    max_usd: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> RevenueRange:
        lo, hi = self.min_usd, self.max_usd
        if lo and hi and lo > hi:
            raise ValueError("min_usd must not exceed max_usd")
        return self


class ICP(_Strict):
    """The team's Ideal Customer Profile. Every field is optional; what is given wins over inference."""

    industries: list[str] = Field(default_factory=list, max_length=50)
    company_size: CompanySize | None = None
    annual_revenue: RevenueRange | None = None
    geographies: list[str] = Field(default_factory=list, max_length=50)
    buyer_titles: list[str] = Field(default_factory=list, max_length=50)
    technologies: list[str] = Field(default_factory=list, max_length=50)
    notes: str = Field(default="", max_length=4000)

    def is_empty(self) -> bool:
        return not (
            self.industries or self.geographies or self.buyer_titles or self.technologies or self.notes
            or (self.company_size and (self.company_size.min_employees or self.company_size.max_employees))
            or (self.annual_revenue and (self.annual_revenue.min_usd or self.annual_revenue.max_usd))
        )


MAX_CUSTOM_DATA_POINTS = 25
CustomValueType = Literal[
    "integer", "number", "currency", "percent", "date", "boolean", "enum", "multi_enum", "url", "text"
]


class CustomDataPoint(_Strict):
    """A data point the team asks for in this request only (no knowledge pack needed)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="Stable snake_case key.")
    name: str = Field(min_length=1, max_length=160)
    section: SectionName
    description: str = Field(min_length=1, max_length=1000)
    value_type: CustomValueType = "text"
    sources: list[str] = Field(
        default_factory=list, max_length=10,
        description="Knowledge-base source ids, best first (default: the lead's own website).",
    )
    example: str = Field(default="", max_length=500)


class Options(_Strict):
    engine: Literal["auto", "catalog", "llm"] = "auto"
    max_data_points: int = Field(default=10, ge=1, le=30, description="Data points per section.")
    providers: list[Literal["apollo", "clearbit"]] = Field(
        default_factory=lambda: ["apollo", "clearbit"]  # type: ignore[arg-type]
    )
    cache: Literal["use", "refresh", "bypass"] = "use"
    credit_budget: int | None = Field(
        default=None, ge=0, le=10_000, description="Most provider credits the coverage probe may spend."
    )
    custom_data_points: list[CustomDataPoint] = Field(
        default_factory=list, max_length=MAX_CUSTOM_DATA_POINTS,
        description="Data points to add to this blueprint, placed in their section by the seller's priorities.",
    )

    @field_validator("custom_data_points")
    @classmethod
    def _unique_keys(cls, values: list[CustomDataPoint]) -> list[CustomDataPoint]:
        keys = [v.key for v in values]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"custom data point keys must be unique: {', '.join(repeated)}")
        return values


class EnrichmentRequest(_Strict):
    """What the caller asks for: their own website, optionally their ICP and sample lead domains."""

    website: str = Field(min_length=1, max_length=2048, examples=["https://acme.example"])
    icp: ICP | None = None
    sample_domains: list[str] = Field(default_factory=list, max_length=MAX_SAMPLE_DOMAINS)
    options: Options = Field(default_factory=Options)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str) -> str:
        value = value.strip()
        if "://" not in value:
            if not _DOMAIN_RE.match(normalize_domain(value)) or "/" in value.split("?")[0].rstrip("/"):
                raise ValueError("website must be an http(s) URL or a bare domain such as acme.com")
            value = f"https://{value}"
        parts = urlsplit(value)
        if parts.scheme.lower() not in {"http", "https"}:
            raise ValueError("website must use http or https")
        if not parts.hostname:
            raise ValueError("website URL has no host")
        try:
            # the form that is fetched and keyed, one and the same (tools.urls says why)
            return canonical_url(value)
        except ValueError as exc:
            raise ValueError("website URL has an invalid port") from exc

    @field_validator("sample_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for raw in values:
            domain = normalize_domain(raw)
            if not _DOMAIN_RE.match(domain):
                raise ValueError(f"not a domain: {raw!r}")
            if domain not in out:
                out.append(domain)
        return out

    @property
    def domain(self) -> str:
        return normalize_domain(self.website)


# ───────────────────────────── blueprint ─────────────────────────────


class Evidence(BaseModel):
    """One observation behind an inference: what was concluded, the snippet, and where it was seen."""

    claim: str = Field(description="What this evidence supports, e.g. 'sells to: restaurants'.")
    snippet: str = Field(default="", description="The seller's own words (or a provider value).")
    source: str = Field(default="", description="URL of the page, or 'apollo' / 'clearbit' / 'icp'.")
    confidence: float = Field(default=0.5, ge=0, le=1)


class Company(BaseModel):
    name: PlainText = ""
    domain: str = ""
    summary: PlainText = ""
    offering: str = Field(default="", description="What the seller sells, in a phrase.")
    category: str = Field(default="", description="The seller's product category.")
    category_id: str | None = None
    categories: list[str] = Field(default_factory=list, description="Knowledge-base category ids, best first.")
    seller_kind: str | None = Field(
        default=None, description="What kind of seller it is: software, it_services, agency, staffing, lending, "
                                  "manufacturing, distribution, logistics, ... (the top category's kind).")
    markets_served: list[str] = Field(default_factory=list)
    verticals: list[str] = Field(default_factory=list, description="Knowledge-base vertical ids, best first.")
    channel: Literal["direct", "partner", "mixed"] = "direct"
    motions: list[str] = Field(default_factory=list)
    integrations: list[str] = Field(default_factory=list)
    customers: list[str] = Field(default_factory=list)
    size_hints: list[str] = Field(default_factory=list)
    geographies: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)


class ResolvedICP(BaseModel):
    source: Literal["provided", "inferred"] = "inferred"
    confidence: float = Field(default=0.0, ge=0, le=1)
    industries: list[str] = Field(default_factory=list)
    company_size: dict[str, int | None] = Field(default_factory=dict)
    annual_revenue: dict[str, float | None] = Field(default_factory=dict)
    geographies: list[str] = Field(default_factory=list)
    buyer_titles: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    notes: str = ""
    inferred_fields: list[str] = Field(
        default_factory=list, description="Fields filled by inference when the provided ICP was silent."
    )
    evidence: list[Evidence] = Field(default_factory=list)


class ValueOption(BaseModel):
    """One allowed value of an ``enum``/``multi_enum`` data point: a stable snake_case value and its label."""

    model_config = ConfigDict(frozen=True)

    value: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)
    label: str = Field(min_length=1, max_length=100)


class DataPoint(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable snake_case key.")
    name: PlainText
    description: str
    why: PlainText = Field(description="Why this seller should collect it, tied to its evidence or ICP.")
    priority: Priority = "should"
    value_type: ValueType = Field(default="text", description="The type of the collected value.")
    unit: str | None = Field(default=None, description="Unit of a number (e.g. 'visits per month').")
    options: list[ValueOption] = Field(default_factory=list, description="Allowed values of an enum/multi_enum.")
    example: str = ""
    qualification_rule: str | None = None
    source_ids: list[str] = Field(default_factory=list)
    source_fields: dict[str, str] = Field(
        default_factory=dict, description="Source id → field path in that provider's response (API sources)."
    )
    evidence: str | None = None
    origin: Literal["catalog", "llm", "custom"] = "catalog"

    @field_validator("value_type", mode="before")
    @classmethod
    def _legacy_type(cls, value: object) -> object:
        return LEGACY_VALUE_TYPES.get(value, value) if isinstance(value, str) else value


class Section(BaseModel):
    data_points: list[DataPoint] = Field(default_factory=list)


class SourceRecommendation(BaseModel):
    id: str
    name: str
    kind: SourceKind
    provides: list[str] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict, description="Data point key → provider field path.")
    access: str = ""
    cost: str = ""
    url: str | None = None
    notes: str = ""


class CollectionMethod(BaseModel):
    data_points: list[str]
    method: Method
    provider_order: list[str] = Field(default_factory=list)
    cadence: str = ""
    est_cost_per_1k_leads_usd: float = 0.0
    validation: str = ""
    notes: str = ""


class Coverage(BaseModel):
    sample_size: int
    by_data_point: dict[str, dict[str, float]] = Field(default_factory=dict)
    domains_enriched: dict[str, int] = Field(default_factory=dict)


class Warning(BaseModel):
    code: str
    message: str
    node: str | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="Machine-readable context, e.g. low_confidence: candidates and what to supply.")


class ProviderUsage(BaseModel):
    calls: int = 0
    credits: int = 0
    errors: int = 0


class LLMUsage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Meta(BaseModel):
    engine: str = "catalog"
    model: str | None = None
    duration_ms: int = 0
    cache: Literal["hit", "miss", "bypass"] = "miss"
    provider_calls: dict[str, ProviderUsage] = Field(default_factory=dict)
    llm: LLMUsage = Field(default_factory=LLMUsage)
    version: str = ""
    knowledge_version: str = ""
    generated_at: str = ""


class Blueprint(BaseModel):
    schema_version: str = SCHEMA_VERSION
    blueprint_id: str
    website: str
    company: Company
    icp: ResolvedICP
    firmographic: Section
    technographic: Section
    personalization: Section
    sources: list[SourceRecommendation] = Field(default_factory=list)
    collection_methods: list[CollectionMethod] = Field(default_factory=list)
    coverage: Coverage | None = None
    warnings: list[Warning] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)

    def to_markdown(self) -> str:
        from graph.markdown import render_markdown

        return render_markdown(self)

    def export(self, fmt: str, *, object_type: str = "companies") -> Export:
        """This blueprint compiled for ``fmt``: hubspot, salesforce, jsonschema, clay or csv."""
        from graph.exports import export_blueprint

        return export_blueprint(self, fmt, object_type=object_type)

    def _repr_markdown_(self) -> str:  # Jupyter rich display
        return self.to_markdown()

    def data_points(self) -> list[DataPoint]:
        return [*self.firmographic.data_points, *self.technographic.data_points, *self.personalization.data_points]
