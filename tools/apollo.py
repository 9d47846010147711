"""Apollo.io: organization enrich, bulk organization enrich (<= 10 per call) and people match.

Typed results are tolerant (extra and missing fields are fine) and each keeps the raw response as
``.raw`` in the single-record envelope (``{"organization": {...}}`` / ``{"person": {...}}``), so the
coverage probe can evaluate knowledge-base field paths such as ``organization.technology_names``
the same way for single and bulk results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr

from tools.errors import BlueprintError, InvalidRequest, ProviderError
from tools.http import (
    CACHE_TTL_S,
    ProviderLimiter,
    ProviderUsage,
    ResponseCache,
    RetryPolicy,
    cache_key,
    make_client,
    send,
)
from tools.provider_base import RawRecord, error_for_response, normalize_domain, tolerant_model, transport_error
from tools.redaction import Redactor

__all__ = ["DEFAULT_BASE_URL", "ApolloClient", "ApolloOrganization", "ApolloPerson"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.apollo.io/api/v1"
BULK_LIMIT = 10  # Apollo refuses more than 10 domains per bulk_enrich call (RECORD_LIMIT_EXCEEDED)
PROVIDER = "apollo"


class ApolloOrganization(RawRecord):
    id: str | None = None
    name: str | None = None
    primary_domain: str | None = None
    website_url: str | None = None
    linkedin_url: str | None = None
    industry: str | None = None
    industries: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    estimated_num_employees: int | None = None
    annual_revenue: float | None = None
    founded_year: int | None = None
    technology_names: list[str] = Field(default_factory=list)
    city: str | None = None
    state: str | None = None
    country: str | None = None
    short_description: str | None = None
    latest_funding_stage: str | None = None


class ApolloPerson(RawRecord):
    id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    seniority: str | None = None
    email: str | None = None
    email_status: str | None = None
    linkedin_url: str | None = None
    departments: list[str] = Field(default_factory=list)
    city: str | None = None
    country: str | None = None
    organization: ApolloOrganization | None = None


def _organization(org: dict[str, Any]) -> ApolloOrganization:
    return tolerant_model(ApolloOrganization, org).with_raw({"organization": org})


def _person(person: dict[str, Any]) -> ApolloPerson:
    return tolerant_model(ApolloPerson, person).with_raw({"person": person})


class ApolloClient:
    """Async Apollo client. One per run or lifespan; ``usage`` counts calls, credits and errors.

    ``secrets`` are the other configured secrets: they are masked, with the client's own key, in every
    answer (records, cached records) and every error this client hands out.
    """

    def __init__(
        self,
        api_key: SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http: httpx.AsyncClient | None = None,
        cache: ResponseCache | None = None,
        limiter: ProviderLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        owns_http: bool | None = None,
        secrets: Iterable[str | SecretStr] = (),
    ) -> None:
        self._key = api_key
        self._redactor = Redactor([api_key, *secrets])
        self._base = base_url.rstrip("/")
        # A client we built is ours to close; an injected one is the caller's unless they hand it over.
        self._owns_http = (http is None) if owns_http is None else owns_http
        self._http = http or make_client(PROVIDER, timeout=timeout)
        self._cache = cache
        self.limiter = limiter or ProviderLimiter(PROVIDER)
        self.retry = retry or RetryPolicy()
        self.usage = ProviderUsage()

    def __repr__(self) -> str:  # never the key
        return f"ApolloClient(base_url={self._base!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ApolloClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # -- public API -----------------------------------------------------------------------------

    async def enrich_organization(self, domain: str) -> ApolloOrganization | None:
        """The organization behind ``domain``, or None when Apollo has no record (no credit used)."""
        found = await self._enrich([domain], single=True)
        return found[domain]

    async def bulk_enrich_organizations(self, domains: list[str]) -> dict[str, ApolloOrganization | None]:
        """Each input domain -> its organization or None; cached domains are not requested again."""
        return await self._enrich(domains, single=False)

    async def _enrich(self, domains: list[str], *, single: bool) -> dict[str, ApolloOrganization | None]:
        wanted = {d: normalize_domain(d) for d in domains}
        if not all(wanted.values()):
            raise InvalidRequest("Every domain must be a non-empty domain name.")
        records: dict[str, dict[str, Any] | None] = {}
        misses: list[str] = []
        for norm in dict.fromkeys(wanted.values()):
            hit = await self._cache_get("company", norm)
            if hit is None:
                misses.append(norm)
            else:
                records[norm] = hit.get("raw")
        for start in range(0, len(misses), BULK_LIMIT):
            chunk = misses[start : start + BULK_LIMIT]
            if single:
                body = await self._call("GET", "/organizations/enrich", params={"domain": chunk[0]})
                fetched = {chunk[0]: body.get("organization") or None}
            else:
                body = await self._call("POST", "/organizations/bulk_enrich", json={"domains": chunk})
                fetched = _match_organizations(chunk, body.get("organizations"))
            for norm, org in fetched.items():
                raw = {"organization": org} if isinstance(org, dict) else None
                self.usage.credits += raw is not None
                records[norm] = raw
                await self._cache_set("company", norm, raw)
        return {d: _organization(r["organization"]) if (r := records.get(n)) else None
                for d, n in wanted.items()}

    async def match_person(
        self,
        *,
        email: str | None = None,
        name: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        domain: str | None = None,
        organization_name: str | None = None,
        linkedin_url: str | None = None,
    ) -> ApolloPerson | None:
        """People match (POST /people/match); None when Apollo finds nobody. Personal emails are
        never revealed (no extra credits, no personal data beyond what the blueprint needs)."""
        named = bool(name or (first_name and last_name))
        if not (email or linkedin_url or (named and (domain or organization_name))):
            raise InvalidRequest("Person match needs an email, a LinkedIn URL, or a name plus company.")
        query = {
            "email": email, "name": name, "first_name": first_name, "last_name": last_name,
            "domain": normalize_domain(domain) if domain else None,
            "organization_name": organization_name, "linkedin_url": linkedin_url,
        }
        body_in = {k: v for k, v in query.items() if v}
        ident = "|".join(f"{k}={v}" for k, v in sorted(body_in.items()))
        hit = await self._cache_get("person", ident)
        if hit is not None:
            return _person(hit["raw"]["person"]) if hit.get("raw") else None
        body = await self._call("POST", "/people/match",
                                json={**body_in, "reveal_personal_emails": False})
        person = body.get("person")
        raw = {"person": person} if isinstance(person, dict) and person else None
        self.usage.credits += raw is not None
        await self._cache_set("person", ident, raw)
        return _person(raw["person"]) if raw else None

    # -- plumbing --------------------------------------------------------------------------------

    async def _call(self, method: Literal["GET", "POST"], path: str, *,
                    params: dict[str, str] | None = None,
                    json: dict[str, Any] | None = None) -> dict[str, Any]:
        """Apollo's decoded answer, redacted; every error raised on the way is redacted too."""
        try:
            body: dict[str, Any] = self._redactor.value(await self._request(method, path, params, json))
        except BlueprintError as exc:
            self._redactor.error(exc)  # in place: the same exception goes on, its chain kept
            raise
        return body

    async def _request(self, method: Literal["GET", "POST"], path: str,
                       params: dict[str, str] | None, json: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self._base}{path}"
        headers = {"x-api-key": self._key.get_secret_value(), "accept": "application/json"}
        try:
            response = await send(
                lambda: self._http.request(method, url, params=params, json=json, headers=headers),
                limiter=self.limiter, retry=self.retry, usage=self.usage,
            )
        except httpx.TransportError as exc:
            self.usage.errors += 1
            raise transport_error(PROVIDER, "Apollo", exc) from exc
        if response.status_code >= 400:
            self.usage.errors += 1
            raise self._error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.usage.errors += 1
            raise ProviderError("Apollo returned an unreadable response.", provider=PROVIDER,
                                http_status=response.status_code, details={"reason": "bad_body"})
        return body

    def _error(self, response: httpx.Response) -> ProviderError:
        # the body is redacted whole before any field is read: a key echoed in error, message,
        # error_code, a nested field or a text/plain body cannot reach the error
        try:
            body = self._redactor.value(response.json())
        except ValueError:
            body = None  # Apollo's 401 is text/plain
        info: dict[str, Any] = body if isinstance(body, dict) else {}
        message = str(info.get("error") or info.get("message") or info.get("error_message")
                      or self._redactor.text(response.text) or "")
        code = str(info.get("error_code") or "")
        if response.status_code == 401:
            reason = "invalid_api_key"
        elif code == "API_INACCESSIBLE":
            reason = "api_inaccessible"
        elif response.status_code == 403 and "paid plan" in message.lower():
            reason = "paid_plan_only"
        elif response.status_code == 429:
            reason = "rate_limited"
        else:
            reason = code.lower() or f"http_{response.status_code}"
        return error_for_response(PROVIDER, "Apollo", response, reason=reason, detail=message)

    async def _cache_get(self, kind: str, ident: str) -> dict[str, Any] | None:
        if self._cache is None:
            return None
        hit = await self._cache.get(cache_key(PROVIDER, kind, ident))
        self.usage.cache_hits += hit is not None
        # entries written before answers were redacted (or by another deployment) are cleaned on the way out
        redacted: dict[str, Any] | None = self._redactor.value(hit)
        return redacted

    async def _cache_set(self, kind: str, ident: str, raw: dict[str, Any] | None) -> None:
        if self._cache is not None:
            ttl = CACHE_TTL_S[kind] if raw is not None else CACHE_TTL_S["not_found"]
            await self._cache.set(cache_key(PROVIDER, kind, ident), {"raw": raw}, ttl)


def _match_organizations(chunk: list[str], organizations: Any) -> dict[str, dict[str, Any] | None]:
    """Pair bulk results with the requested domains by primary domain or website host."""
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(chunk)
    for org in organizations if isinstance(organizations, list) else []:
        if not isinstance(org, dict):
            continue
        for candidate in (org.get("primary_domain"), org.get("website_url")):
            norm = normalize_domain(candidate) if isinstance(candidate, str) else ""
            if norm in found and found[norm] is None:
                found[norm] = org
                break
        else:
            log.debug("apollo bulk_enrich returned an organization for an unrequested domain")
    return found
