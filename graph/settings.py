"""Settings from the environment (and a ``.env`` file), read once and cached.

This is the only module that reads the environment. Secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Rate", "Settings", "get_settings", "parse_rate"]

Engine = Literal["auto", "catalog", "llm"]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Rate(NamedTuple):
    """A request rate: ``requests`` per ``period_s`` seconds."""

    requests: int
    period_s: int


_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(value: object) -> object:
    """``"60/minute"`` → ``Rate(60, 60)``; ``None``, ``""`` and ``"off"`` → ``None`` (no limit)."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in {"", "off", "none"}:
        return None
    count, _, unit = text.partition("/")
    unit = unit.strip()
    unit = unit if unit == "s" else unit.removesuffix("s")  # "minutes" → "minute"
    if not count.strip().isdigit() or int(count) < 1 or unit not in _PERIODS:
        raise ValueError(f"expected N/second, N/minute or N/hour (N >= 1), got {value!r}")
    return Rate(int(count), _PERIODS[unit])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # LLM engine (any OpenAI-compatible endpoint)
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    blueprint_model: str = Field(default="gpt-4o-mini", validation_alias="BLUEPRINT_MODEL")
    blueprint_engine: Engine = Field(default="auto", validation_alias="BLUEPRINT_ENGINE")
    llm_timeout_s: float = Field(default=60.0, gt=0, validation_alias="BLUEPRINT_LLM_TIMEOUT_S")
    # Azure OpenAI's deployment-style endpoints need ``?api-version=`` (its /openai/v1/ endpoint does not)
    openai_api_version: str | None = Field(default=None, validation_alias="OPENAI_API_VERSION")
    llm_max_calls: int = Field(default=6, ge=4, le=20, validation_alias="BLUEPRINT_LLM_MAX_CALLS")
    llm_max_prompt_tokens: int = Field(
        default=15_000, ge=4_000, validation_alias="BLUEPRINT_LLM_MAX_PROMPT_TOKENS"
    )
    llm_max_tool_calls: int = Field(default=2, ge=0, le=4, validation_alias="BLUEPRINT_LLM_MAX_TOOL_CALLS")

    # Providers
    apollo_api_key: SecretStr | None = Field(default=None, validation_alias="APOLLO_API_KEY")
    apollo_base_url: str = Field(default="https://api.apollo.io/api/v1", validation_alias="APOLLO_BASE_URL")
    clearbit_api_key: SecretStr | None = Field(default=None, validation_alias="CLEARBIT_API_KEY")
    clearbit_base_url: str | None = Field(default=None, validation_alias="CLEARBIT_BASE_URL")

    # Cache
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("enrichment-blueprint")),
        validation_alias="BLUEPRINT_CACHE_DIR",
    )
    cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=0, validation_alias="BLUEPRINT_CACHE_TTL_S")
    page_cache_ttl_s: int = Field(default=24 * 3600, ge=0, validation_alias="BLUEPRINT_PAGE_CACHE_TTL_S")
    cache_url: str | None = Field(default=None, validation_alias="BLUEPRINT_CACHE_URL")

    # Website fetching
    allow_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="BLUEPRINT_ALLOW_PRIVATE_HOSTS"
    )
    fetch_timeout_s: float = Field(default=10.0, gt=0, validation_alias="BLUEPRINT_FETCH_TIMEOUT_S")
    site_deadline_s: float = Field(default=20.0, gt=0, validation_alias="BLUEPRINT_SITE_DEADLINE_S")
    max_pages: int = Field(default=7, ge=1, le=20, validation_alias="BLUEPRINT_MAX_PAGES")

    # HTTP API
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, validation_alias="BLUEPRINT_API_KEYS"
    )
    # Tenancy (see graph/tenancy.py): the key of blueprint ids and tenant ids; else one is generated
    # once and kept in the cache (folder or Redis)
    server_secret: SecretStr | None = Field(default=None, validation_alias="BLUEPRINT_SERVER_SECRET")
    share_public_blueprints: bool = Field(default=False, validation_alias="BLUEPRINT_SHARE_PUBLIC_BLUEPRINTS")
    # the server runs ``options.cache: refresh`` at most once per window per tenant and blueprint; 0: no limit
    refresh_interval_s: int = Field(default=60, ge=0, validation_alias="BLUEPRINT_REFRESH_INTERVAL_S")

    _split = field_validator("allow_private_hosts", "api_keys", mode="before")(_split_csv)

    # Admission control (HTTP server): request bodies, per-key request rate, concurrent cold runs
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, validation_alias="BLUEPRINT_MAX_BODY_BYTES")
    # ``N/second|minute|hour`` per API key (per client address without keys); unset or ``off``: no limit
    rate_limit: Rate | None = Field(default=None, validation_alias="BLUEPRINT_RATE_LIMIT")
    max_runs: int = Field(default=8, ge=1, validation_alias="BLUEPRINT_MAX_RUNS")
    run_queue: int = Field(default=32, ge=0, validation_alias="BLUEPRINT_RUN_QUEUE")
    # API requests in progress per process (hits and joined runs included); unset: 2 × (runs + queue)
    max_requests: int | None = Field(default=None, ge=1, validation_alias="BLUEPRINT_MAX_REQUESTS")

    _rate = field_validator("rate_limit", mode="before")(parse_rate)

    # Knowledge packs from outside the package, loaded after the built-in ones (os.pathsep- or comma-separated)
    knowledge_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, validation_alias="BLUEPRINT_KNOWLEDGE_DIR"
    )

    @field_validator("knowledge_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for chunk in value.split(os.pathsep) for part in chunk.split(",") if part.strip()]
        return value

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or bool(self.openai_base_url)

    def resolve_engine(self, requested: Engine | None) -> Literal["catalog", "llm"]:
        """``auto`` means llm when an LLM is configured, else the offline catalog engine."""
        engine = requested if requested and requested != "auto" else self.blueprint_engine
        if engine == "auto":
            return "llm" if self.llm_configured else "catalog"
        return engine

    @property
    def secret_values(self) -> list[str]:
        """Every configured secret: each ``SecretStr`` field, alone or in a list (the keys of today, the
        service's API keys, and any token added later). Upstream answers and errors are redacted of them."""
        values: list[str] = []
        for name in type(self).model_fields:
            field = getattr(self, name)
            for item in field if isinstance(field, list) else [field]:
                if isinstance(item, SecretStr) and item.get_secret_value():
                    values.append(item.get_secret_value())
        return values

    # HubSpot (``blueprint export … --to hubspot --apply``): a private app token; the base URL points it
    # at a proxy or a stand-in, as APOLLO_BASE_URL does
    hubspot_access_token: SecretStr | None = Field(default=None, validation_alias="HUBSPOT_ACCESS_TOKEN")
    hubspot_base_url: str = Field(default="https://api.hubapi.com", validation_alias="HUBSPOT_BASE_URL")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests call ``get_settings.cache_clear()`` after changing the env."""
    return Settings()
