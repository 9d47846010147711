"""Clearbit (legacy, optional): company find, person find and combined find.

``200`` is a record; ``202`` means Clearbit queued the lookup, so we poll with backoff within a bounded
wait; ``404 unknown_record`` is "not found" (None, not an error). ``base_url_override`` (the
``CLEARBIT_BASE_URL`` setting) replaces the scheme and host of every Clearbit host, keeping paths.
``.raw`` holds the record as Clearbit returned it (field paths such as ``metrics.employees``).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterable
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr

from tools.errors import BlueprintError, InvalidRequest, ProviderError, UpstreamTimeout
from tools.http import (
    CACHE_TTL_S,
    Clock,
    ProviderLimiter,
    ProviderUsage,
    ResponseCache,
    RetryPolicy,
    Sleep,
    cache_key,
    make_client,
    send,
)
from tools.provider_base import RawRecord, error_for_response, normalize_domain, tolerant_model, transport_error
from tools.redaction import Redactor

__all__ = ["ClearbitClient", "ClearbitCompany", "ClearbitPerson"]

PROVIDER = "clearbit"
COMPANY_HOST = "https://company.clearbit.com"
PERSON_HOST = "https://person.clearbit.com"


class ClearbitCompany(RawRecord):
    id: str | None = None
    name: str | None = None
    legalName: str | None = None
    domain: str | None = None
    description: str | None = None
    foundedYear: int | None = None
    location: str | None = None
    type: str | None = None
    tags: list[str] = Field(default_factory=list)
    tech: list[str] = Field(default_factory=list)
    category: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    geo: dict[str, Any] = Field(default_factory=dict)


class ClearbitPerson(RawRecord):
    id: str | None = None
    email: str | None = None
    name: dict[str, Any] = Field(default_factory=dict)
    employment: dict[str, Any] = Field(default_factory=dict)
    geo: dict[str, Any] = Field(default_factory=dict)


class ClearbitClient:
    """Async Clearbit client. ``queued_wait_s`` bounds how long a 202 (queued) lookup is polled.

    ``secrets`` are the other configured secrets: they are masked, with the client's own key, in every
    answer (records, cached records) and every error this client hands out.
    """

    def __init__(
        self,
        api_key: SecretStr,
        base_url_override: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        cache: ResponseCache | None = None,
        limiter: ProviderLimiter | None = None,
        retry: RetryPolicy | None = None,
        auth_scheme: Literal["basic", "bearer"] = "basic",
        timeout: float = 15.0,
        owns_http: bool | None = None,
        queued_wait_s: float = 20.0,
        poll_initial_s: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        secrets: Iterable[str | SecretStr] = (),
    ) -> None:
        self._key = api_key
        self._redactor = Redactor([api_key, *secrets])
        self._override = base_url_override.rstrip("/") if base_url_override else None
        # A client we built is ours to close; an injected one is the caller's unless they hand it over.
        self._owns_http = (http is None) if owns_http is None else owns_http
        self._http = http or make_client(PROVIDER, timeout=timeout)
        self._cache = cache
        self._auth_scheme = auth_scheme
        self.limiter = limiter or ProviderLimiter(PROVIDER)
        self.retry = retry or RetryPolicy()
        self.usage = ProviderUsage()
        self.queued_wait_s = queued_wait_s
        self.poll_initial_s = poll_initial_s
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:  # never the key
        return f"ClearbitClient(base_url_override={self._override!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ClearbitClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def url(self, host: str, path: str) -> str:
        """``https://company.clearbit.com`` + path, or the override's scheme and host + path."""
        return f"{self._override or host}{path}"

    # -- public API -----------------------------------------------------------------------------

    async def find_company(self, domain: str) -> ClearbitCompany | None:
        """The company at ``domain``, or None when Clearbit has no record (404 unknown_record)."""
        norm = normalize_domain(domain)
        if not norm:
            raise InvalidRequest("A domain is required for a Clearbit company lookup.")
        raw = await self._lookup("company", norm, self.url(COMPANY_HOST, "/v2/companies/find"),
                                 {"domain": norm})
        return tolerant_model(ClearbitCompany, raw).with_raw(raw) if raw else None

    async def find_person(self, email: str) -> ClearbitPerson | None:
        """The person behind ``email``, or None when unknown."""
        email = _check_email(email)
        raw = await self._lookup("person", email, self.url(PERSON_HOST, "/v2/people/find"),
                                 {"email": email})
        return tolerant_model(ClearbitPerson, raw).with_raw(raw) if raw else None

    async def find_combined(self, email: str) -> tuple[ClearbitPerson | None, ClearbitCompany | None]:
        """Person and their company in one call (``/v2/combined/find``)."""
        email = _check_email(email)
        raw = await self._lookup("combined", email, self.url(PERSON_HOST, "/v2/combined/find"),
                                 {"email": email})
        person, company = (raw or {}).get("person"), (raw or {}).get("company")
        return (
            tolerant_model(ClearbitPerson, person).with_raw(person) if isinstance(person, dict) else None,
            tolerant_model(ClearbitCompany, company).with_raw(company) if isinstance(company, dict) else None,
        )

    # -- plumbing --------------------------------------------------------------------------------

    async def _lookup(self, kind: str, ident: str, url: str, params: dict[str, str]) -> dict[str, Any] | None:
        key = cache_key(PROVIDER, kind, ident)
        if self._cache is not None and (hit := await self._cache.get(key)) is not None:
            self.usage.cache_hits += 1
            # entries written before answers were redacted (or by another deployment) are cleaned on the way out
            cached: dict[str, Any] | None = self._redactor.value(hit.get("raw"))
            return cached
        try:
            raw = await self._find(url, params)
        except BlueprintError as exc:
            self._redactor.error(exc)  # in place: the same exception goes on, its chain kept
            raise
        self.usage.credits += raw is not None
        if self._cache is not None:
            kind_ttl = CACHE_TTL_S["person" if kind == "person" else "company"]
            ttl = kind_ttl if raw else CACHE_TTL_S["not_found"]
            await self._cache.set(key, {"raw": raw}, ttl)
        return raw

    async def _find(self, url: str, params: dict[str, str]) -> dict[str, Any] | None:
        deadline = self._clock() + self.queued_wait_s
        delay = self.poll_initial_s
        while True:
            response = await self._get(url, params)
            if response.status_code != 202:
                return self._record(response)
            # 202: Clearbit queued the lookup. Poll again with backoff, within the bounded wait.
            remaining = deadline - self._clock()
            if remaining <= 0:
                self.usage.errors += 1
                raise UpstreamTimeout("Clearbit is still looking this record up; try again later.",
                                      details={"provider": PROVIDER, "reason": "queued"})
            await self._sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)

    async def _get(self, url: str, params: dict[str, str]) -> httpx.Response:
        secret = self._key.get_secret_value()
        # The key travels only in the Authorization header (Basic with the key as user, or Bearer).
        if self._auth_scheme == "basic":
            token = base64.b64encode(f"{secret}:".encode()).decode()
            authorization = f"Basic {token}"
        else:
            authorization = f"Bearer {secret}"
        headers = {"accept": "application/json", "authorization": authorization}
        try:
            return await send(
                lambda: self._http.get(url, params=params, headers=headers),
                limiter=self.limiter, retry=self.retry, usage=self.usage,
            )
        except httpx.TransportError as exc:
            self.usage.errors += 1
            raise transport_error(PROVIDER, "Clearbit", exc) from exc

    def _record(self, response: httpx.Response) -> dict[str, Any] | None:
        """The record, redacted whole before any field is read (error type, message, nested fields, data)."""
        try:
            body = self._redactor.value(response.json())
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        if response.status_code == 404:
            return None  # unknown_record: Clearbit has nothing on it, which is an answer, not a failure
        if response.status_code >= 400:
            self.usage.errors += 1
            reason = str(error.get("type") or f"http_{response.status_code}")
            detail = str(error.get("message") or "")
            raise error_for_response(PROVIDER, "Clearbit", response, reason=reason, detail=detail)
        if not isinstance(body, dict):
            self.usage.errors += 1
            raise ProviderError("Clearbit returned an unreadable response.", provider=PROVIDER,
                                http_status=response.status_code, details={"reason": "bad_body"})
        return body


def _check_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidRequest("A valid email address is required for a Clearbit person lookup.")
    return email
