"""A loopback HubSpot portal for the CRM properties API, answering in the real API's shapes.

It keeps groups and properties per object type, so a second apply meets what the first created. It
checks inputs by HubSpot's own rules (name pattern, type/fieldType pairing, enumeration options, an
existing group) and answers like HubSpot:

===========================================  =============================================================
group create                                 201 created, 409 ``CONFLICT`` when the group exists
batch create, all new and valid              201 ``{"status": "COMPLETE", "results": [...]}``
batch create, some refused                   207 multi-status: ``results`` plus ``errors`` (``numErrors``)
batch create, every input already exists     409 ``OBJECT_ALREADY_EXISTS``
batch create, every input invalid            400 ``VALIDATION_ERROR``
property read                                200, or 404 ``OBJECT_NOT_FOUND``
``Authorization: Bearer`` + :data:`TOKEN`    accepted; any other token 401 ``INVALID_AUTHENTICATION``
:data:`LEAKY_TOKEN`                          401 whose message echoes the token (a leak to redact)
:data:`BUSY_TOKEN`                           the first request answers 429 with ``Retry-After: 1``
===========================================  =============================================================

Like the provider stand-in it answers forward-proxy requests, so clients use the stable fake host
:data:`HUBSPOT_STANDIN_URL` and cassettes replay without a server. Recorded cassettes carry no
timestamps, server banners, user agents or accept-encodings (nothing that depends on the machine, the
date or a dependency's version) and never the token.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import vcr

from tests.support.provider_standin import serve_answers
from tools.http import make_client

HUBSPOT_STANDIN_URL = "http://hubspot.standin.test"
TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
LEAKY_TOKEN = "pat-na1-leaky000-2222-3333-4444-555555555555"
BUSY_TOKEN = "pat-na1-busy0000-2222-3333-4444-555555555555"
TOKENS = (TOKEN, LEAKY_TOKEN, BUSY_TOKEN)
CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "hubspot"
STAMP = "2026-01-01T00:00:00Z"

# HubSpot's own rules for properties (the stand-in enforces them; tests/unit/test_exports.py checks exports by them)
HUBSPOT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
HUBSPOT_FIELD_TYPES = {
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
    "bool": {"booleancheckbox"},
    "number": {"number"},
    "string": {"text", "textarea", "phonenumber", "html", "file"},
    "date": {"date"},
    "datetime": {"date"},
}
_ROUTE = re.compile(r"^/crm/v3/properties/(?P<ot>companies|contacts)(?:/(?P<rest>.+))?$")


def _error(status: int, category: str, message: str, **extra: Any) -> tuple[int, dict[str, str], bytes]:
    body = {"status": "error", "message": message, "correlationId": "00000000-0000-4000-8000-000000000000",
            "category": category, **extra}
    return status, {"content-type": "application/json;charset=utf-8"}, json.dumps(body).encode()


def _ok(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json;charset=utf-8"}, json.dumps(body).encode()


class HubSpotStandIn:
    """The portal's state. ``properties`` seeds it: ``{object_type: {name: property}}``.

    ``strict_conflicts`` answers a whole batch 409 as soon as one input exists (creating nothing), the
    stricter of the behaviours a client must handle, instead of a 207 for the mixed case."""

    def __init__(self, properties: dict[str, dict[str, dict[str, Any]]] | None = None, *,
                 strict_conflicts: bool = False) -> None:
        self.strict_conflicts = strict_conflicts
        self.groups: dict[str, set[str]] = {"companies": {"companyinformation"}, "contacts": {"contactinformation"}}
        self.properties: dict[str, dict[str, dict[str, Any]]] = {"companies": {}, "contacts": {}}
        for object_type, props in (properties or {}).items():
            self.properties[object_type].update(copy.deepcopy(props))
        self.requests: list[dict[str, Any]] = []
        self.busy_answered = False
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        payload = json.loads(body) if body else None
        with self.lock:
            self.requests.append({"method": method, "path": path, "json": payload})
            auth = headers.get("authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
            if token == LEAKY_TOKEN:
                return _error(401, "INVALID_AUTHENTICATION",
                              f"The access token {token} is invalid or has been revoked.")
            if token not in (TOKEN, BUSY_TOKEN):
                return _error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API "
                              "supports OAuth 2.0 authentication and private app access tokens.")
            if token == BUSY_TOKEN and not self.busy_answered:
                self.busy_answered = True
                status, out_headers, out = _error(429, "RATE_LIMITS", "You have reached your secondly limit.",
                                                  errorType="RATE_LIMIT", policyName="SECONDLY")
                return status, {**out_headers, "retry-after": "1"}, out
            return self._route(method, path, payload)

    def _route(self, method: str, path: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
        match = _ROUTE.match(path)
        if not match:
            return _error(404, "OBJECT_NOT_FOUND", f"No route for {path}")
        object_type, rest = match["ot"], unquote(match["rest"] or "")
        if method == "POST" and rest == "groups":
            return self._create_group(object_type, payload)
        if method == "POST" and rest == "batch/create":
            return self._batch_create(object_type, payload.get("inputs") or [])
        if method == "POST" and not rest:
            problem = self._problem(object_type, payload)
            if problem is not None:
                return _error(400, *problem)
            return _ok(201, self._store(object_type, payload))
        if method == "GET" and rest and "/" not in rest:
            prop = self.properties[object_type].get(rest)
            if prop is None:
                return _error(404, "OBJECT_NOT_FOUND", f"Unable to find property {rest} for {object_type}")
            return _ok(200, prop)
        return _error(405, "METHOD_NOT_ALLOWED", f"{method} {path} is not supported")

    def _create_group(self, object_type: str, group: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        name = str(group.get("name") or "")
        if not HUBSPOT_NAME.match(name) or not group.get("label"):
            return _error(400, "VALIDATION_ERROR", f"Invalid property group name {name!r}")
        if name in self.groups[object_type]:
            return _error(409, "CONFLICT", f"A property group named '{name}' already exists.")
        self.groups[object_type].add(name)
        return _ok(201, {"name": name, "label": group["label"], "displayOrder": group.get("displayOrder", -1),
                         "archived": False})

    def _problem(self, object_type: str, prop: dict[str, Any]) -> tuple[str, str] | None:
        """(category, message) of the first rule ``prop`` breaks, or None."""
        name = str(prop.get("name") or "")
        if not HUBSPOT_NAME.match(name):
            return "VALIDATION_ERROR", f"Property name '{name}' must match ^[a-z][a-z0-9_]*$"
        if name in self.properties[object_type]:
            return "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists."
        kind, field_type = prop.get("type"), prop.get("fieldType")
        if kind not in HUBSPOT_FIELD_TYPES or field_type not in HUBSPOT_FIELD_TYPES[kind]:
            return "VALIDATION_ERROR", f"Property '{name}': fieldType {field_type} is not valid for type {kind}"
        if prop.get("groupName") not in self.groups[object_type]:
            return "VALIDATION_ERROR", f"Property '{name}': group {prop.get('groupName')} does not exist"
        if kind in {"enumeration", "bool"}:
            values = [o.get("value") for o in prop.get("options") or []]
            if not values or len(set(values)) != len(values):
                return "VALIDATION_ERROR", f"Property '{name}': an enumeration needs unique option values"
        return None

    def _store(self, object_type: str, prop: dict[str, Any]) -> dict[str, Any]:
        stored = {**prop, "options": prop.get("options") or [], "createdAt": STAMP, "updatedAt": STAMP,
                  "hidden": False, "formField": False, "calculated": False, "hasUniqueValue": False,
                  "modificationMetadata": {"archivable": True, "readOnlyDefinition": False,
                                           "readOnlyValue": False}}
        self.properties[object_type][prop["name"]] = stored
        return stored

    def _batch_create(self, object_type: str, inputs: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
        if self.strict_conflicts:
            taken = [p.get("name") for p in inputs if p.get("name") in self.properties[object_type]]
            if taken:
                return _error(409, "OBJECT_ALREADY_EXISTS", f"Property named '{taken[0]}' already exists.")
        results, errors = [], []
        for prop in inputs:
            problem = self._problem(object_type, prop)
            if problem is None:
                results.append(self._store(object_type, prop))
            else:
                errors.append({"status": "error", "category": problem[0], "message": problem[1],
                               "context": {"name": [prop.get("name")]}})
        if errors and not results:
            categories = {e["category"] for e in errors}
            if categories == {"OBJECT_ALREADY_EXISTS"}:
                return _error(409, "OBJECT_ALREADY_EXISTS", errors[0]["message"])
            first = next(e for e in errors if e["category"] != "OBJECT_ALREADY_EXISTS")
            return _error(400, "VALIDATION_ERROR", first["message"], context=first["context"])
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": STAMP, "completedAt": STAMP}
        if errors:
            return _ok(207, {**body, "numErrors": len(errors), "errors": errors})
        return _ok(201, body)


@contextmanager
def serve_hubspot(standin: HubSpotStandIn | None = None) -> Iterator[HubSpotStandIn]:
    """Run the portal on a free loopback port for the block; ``standin.url`` is its address."""
    with serve_answers(standin or HubSpotStandIn()) as served:
        yield served


# -- cassettes -------------------------------------------------------------------------------------

_DROP_REQUEST = ("authorization", "user-agent", "accept-encoding", "connection", "host")
_DROP_RESPONSE = ("date", "server")


def _clean_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() in _DROP_REQUEST:
            del request.headers[name]
    return request


def _clean_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() not in _DROP_RESPONSE}
    return response


@dataclass
class HubSpotRecording:
    standin: HubSpotStandIn | None
    sent: list[httpx.Request] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(proxy=self.standin.url) if self.standin else None
        http = make_client("hubspot", timeout=5.0, transport=transport)

        async def keep(request: httpx.Request) -> None:
            self.sent.append(request)

        http.event_hooks["request"].append(keep)
        return http


@contextmanager
def hubspot_cassette(name: str, standin: HubSpotStandIn | None = None) -> Iterator[HubSpotRecording]:
    """Replay ``tests/cassettes/hubspot/<name>.yaml`` (``record_mode="none"``); when it is missing (or
    ``PROVIDER_CASSETTES=rerecord``), record it against ``standin`` (a fresh, empty portal by default)."""
    path = CASSETTES / f"{name}.yaml"
    if os.environ.get("PROVIDER_CASSETTES") == "rerecord" and path.exists():
        path.unlink()
    recorder = vcr.VCR(
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        before_record_request=_clean_request,
        before_record_response=_clean_response,
        decode_compressed_response=True,
    )
    if path.exists():
        with recorder.use_cassette(str(path), record_mode="none"):
            yield HubSpotRecording(standin=None)
        return
    with serve_hubspot(standin) as live, recorder.use_cassette(str(path), record_mode="once"):
        yield HubSpotRecording(standin=live)
