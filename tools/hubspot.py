"""HubSpot CRM properties client: create a property group and properties in a portal, idempotently.

Plain parameters in, plain data out (this module never imports ``graph``): it takes the document of the
``hubspot`` export (``{"object_type", "group", "batch_create": {"inputs"}}``) and applies it:

1. ``POST /crm/v3/properties/{objectType}/groups`` — 201 created, 409 the group exists (fine);
2. ``POST /crm/v3/properties/{objectType}/batch/create`` — 201 all created; 207 multi-status (some
   created, the rest listed in ``errors``); 409 when the inputs already exist;
3. every property that already exists is read back (``GET …/{name}``) and compared: reported *same* or
   *differs* (with the fields that differ), never overwritten.

Requests go through the project's one HTTP policy (retries on 429/5xx honouring ``Retry-After``,
timeouts, a rate limiter); the token travels only in the ``Authorization`` header, and every answer and
error is redacted of it (and of the other configured secrets) before anything reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from tools.errors import BlueprintError, InvalidRequest, ProviderError
from tools.http import ProviderLimiter, ProviderUsage, RetryPolicy, make_client, send
from tools.provider_base import error_for_response, transport_error
from tools.redaction import Redactor

__all__ = ["DEFAULT_BASE_URL", "PROVIDER", "ApplyReport", "HubSpotClient", "compare_property", "plan_lines"]

PROVIDER = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
#: Private apps may send 100 requests per 10 seconds; stay under it.
RATE_PER_MIN = 500.0
#: Inputs per batch request (HubSpot's batch endpoints take at most 100).
BATCH_LIMIT = 100
COMPARED = ("label", "type", "fieldType", "groupName")
_CONFLICT = {"OBJECT_ALREADY_EXISTS", "CONFLICT"}
_NAMED = re.compile(r"(?:named|name)\s+'([a-z][a-z0-9_]*)'", re.IGNORECASE)


@dataclass
class ApplyReport:
    """What ``apply`` did: the group, and each property created, already there (same / differs) or failed."""

    object_type: str
    group: Literal["created", "exists"] = "exists"
    created: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    differs: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"object_type": self.object_type, "group": self.group, "created": self.created,
                "same": self.same, "differs": self.differs, "failed": self.failed}

    def to_text(self) -> str:
        lines = [f"HubSpot {self.object_type}: property group {self.group}; {len(self.created)} created, "
                 f"{len(self.same)} already there (same), {len(self.differs)} already there (differs, "
                 f"left unchanged), {len(self.failed)} failed"]
        lines += [f"  created  {name}" for name in self.created]
        lines += [f"  same     {name}" for name in self.same]
        lines += [f"  differs  {name}: {', '.join(fields)}" for name, fields in self.differs.items()]
        lines += [f"  failed   {name}: {message}" for name, message in self.failed.items()]
        return "\n".join(lines)


def plan_lines(document: dict[str, Any]) -> list[str]:
    """The ``--dry-run`` plan: what ``apply`` would send, without contacting HubSpot."""
    object_type, group = document["object_type"], document["group"]
    inputs = document["batch_create"]["inputs"]
    lines = [f"POST /crm/v3/properties/{object_type}/groups  {group['name']!r} ({group['label']})",
             f"POST /crm/v3/properties/{object_type}/batch/create  {len(inputs)} properties:"]
    for prop in inputs:
        options = f", {len(prop['options'])} options" if prop.get("options") else ""
        lines.append(f"  {prop['name']}  {prop['type']}/{prop['fieldType']}{options}  {prop['label']!r}")
    lines.append("Properties that already exist are compared and reported, never overwritten.")
    return lines


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(o.get("value")), str(o.get("label"))) for o in prop.get("options") or []]


def compare_property(wanted: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    """The fields of ``wanted`` that the portal's ``existing`` property does not match."""
    differs = [name for name in COMPARED if wanted.get(name) != existing.get(name)]
    if wanted.get("options") is not None and _options(wanted) != _options(existing):
        differs.append("options")
    return differs


def _error_names(error: dict[str, Any]) -> list[str]:
    context = error.get("context") or {}
    names = [str(n) for key in ("name", "propertyName") for n in context.get(key) or []]
    return names or _NAMED.findall(str(error.get("message") or ""))


class HubSpotClient:
    """Async HubSpot properties client (one per apply). ``secrets`` are other configured secrets to mask."""

    def __init__(
        self,
        token: SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http: httpx.AsyncClient | None = None,
        limiter: ProviderLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        secrets: Iterable[str | SecretStr] = (),
    ) -> None:
        if not token.get_secret_value().strip():
            raise InvalidRequest("HUBSPOT_ACCESS_TOKEN is empty: set a private app access token.")
        self._token = token
        self._redactor = Redactor([token, *secrets])
        self._base = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or make_client(PROVIDER, timeout=timeout)
        self.limiter = limiter or ProviderLimiter(PROVIDER, per_minute=RATE_PER_MIN)
        self.retry = retry or RetryPolicy()
        self.usage = ProviderUsage()

    def __repr__(self) -> str:  # never the token
        return f"HubSpotClient(base_url={self._base!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> HubSpotClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # -- public API -----------------------------------------------------------------------------

    async def apply(self, document: dict[str, Any]) -> ApplyReport:
        """Create the document's group and properties; report what was created, found or refused."""
        object_type = str(document["object_type"])
        inputs: list[dict[str, Any]] = list(document["batch_create"]["inputs"])
        report = ApplyReport(object_type=object_type)
        status, _ = await self._call("POST", f"/crm/v3/properties/{object_type}/groups", document["group"],
                                     accept=(201, 409))
        report.group = "created" if status == 201 else "exists"
        by_name = {str(p["name"]): p for p in inputs}
        existing: list[str] = []
        for start in range(0, len(inputs), BATCH_LIMIT):
            await self._batch(object_type, inputs[start : start + BATCH_LIMIT], report, existing)
        for name in existing:
            await self._compare(object_type, by_name.get(name, {"name": name}), report)
        return report

    async def get_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        status, body = await self._call("GET", f"/crm/v3/properties/{object_type}/{quote(name, safe='')}",
                                        None, accept=(200, 404))
        return body if status == 200 else None

    # -- steps ----------------------------------------------------------------------------------

    async def _batch(self, object_type: str, chunk: list[dict[str, Any]], report: ApplyReport,
                     existing: list[str]) -> None:
        status, body = await self._call("POST", f"/crm/v3/properties/{object_type}/batch/create",
                                        {"inputs": chunk}, accept=(200, 201, 207, 400, 409))
        if status == 409:  # HubSpot does not say which inputs exist: look at each one
            await self._one_by_one(object_type, chunk, report, existing)
        elif status == 400:
            message = str(body.get("message") or "validation error")
            for name in _error_names(body) or [str(p["name"]) for p in chunk]:
                report.failed[name] = message
        else:
            report.created += [str(r.get("name")) for r in body.get("results") or [] if r.get("name")]
            for error in body.get("errors") or []:
                conflict = str(error.get("category")) in _CONFLICT
                for name in _error_names(error):
                    if conflict:
                        existing.append(name)
                    else:
                        report.failed[name] = str(error.get("message") or error.get("category") or "error")

    async def _one_by_one(self, object_type: str, inputs: list[dict[str, Any]], report: ApplyReport,
                          existing: list[str]) -> None:
        for prop in inputs:
            name = str(prop["name"])
            if await self.get_property(object_type, name) is not None:
                existing.append(name)
                continue
            status, body = await self._call("POST", f"/crm/v3/properties/{object_type}", prop,
                                            accept=(200, 201, 400, 409))
            if status in (200, 201):
                report.created.append(name)
            elif status == 409:
                existing.append(name)
            else:
                report.failed[name] = str(body.get("message") or "validation error")

    async def _compare(self, object_type: str, wanted: dict[str, Any], report: ApplyReport) -> None:
        name = str(wanted["name"])
        found = await self.get_property(object_type, name)
        if found is None:
            report.failed[name] = "HubSpot reported the property as existing but could not read it back"
            return
        differs = compare_property(wanted, found)
        if differs:
            report.differs[name] = differs
        else:
            report.same.append(name)

    # -- plumbing --------------------------------------------------------------------------------

    async def _call(self, method: Literal["GET", "POST"], path: str, json: dict[str, Any] | None, *,
                    accept: tuple[int, ...]) -> tuple[int, dict[str, Any]]:
        """(status, decoded redacted body) for an accepted status; any other answer raises, redacted."""
        try:
            status, body = await self._request(method, path, json, accept)
            return status, self._redactor.value(body)
        except BlueprintError as exc:
            self._redactor.error(exc)  # in place: the same exception goes on, its chain kept
            raise

    async def _request(self, method: Literal["GET", "POST"], path: str, json: dict[str, Any] | None,
                       accept: tuple[int, ...]) -> tuple[int, dict[str, Any]]:
        headers = {"authorization": f"Bearer {self._token.get_secret_value()}", "accept": "application/json"}
        try:
            response = await send(
                lambda: self._http.request(method, f"{self._base}{path}", json=json, headers=headers),
                limiter=self.limiter, retry=self.retry, usage=self.usage,
            )
        except httpx.TransportError as exc:
            self.usage.errors += 1
            # the URL tried, so a wrong HUBSPOT_BASE_URL is seen at once
            raise transport_error(PROVIDER, f"HubSpot at {self._base}", exc) from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.status_code not in accept:
            self.usage.errors += 1
            info = self._redactor.value(body) if isinstance(body, dict) else {}
            message = str(info.get("message") or self._redactor.text(response.text[:300]))
            reason = str(info.get("category") or f"http_{response.status_code}").lower()
            raise error_for_response(PROVIDER, "HubSpot", response, reason=reason, detail=message)
        if not isinstance(body, dict):
            self.usage.errors += 1
            raise ProviderError("HubSpot returned an unreadable response.", provider=PROVIDER,
                                http_status=response.status_code, details={"reason": "bad_body"})
        return response.status_code, body
