"""A loopback stand-in for Apollo and Clearbit, serving our own fixtures in the real response shapes.

It answers both origin-form requests (``GET /api/v1/organizations/enrich?...`` on its own address) and
forward-proxy requests (``GET http://apollo.standin.test/api/v1/...``), so tests can use stable fake
hosts (``APOLLO_STANDIN_URL``, ``CLEARBIT_STANDIN_URL``) and route them here with
``httpx.AsyncHTTPTransport(proxy=standin.url)`` while recording cassettes.

Scenarios are scripted by the lead domain (or email), so a cassette replays without any server state:

================================  ================================================================
``harborlane.example`` & co       200 with a record (see :data:`COMPANIES`; some records are sparse)
``unknown.example``               Apollo ``{}`` / Clearbit 404 ``unknown_record``
``queued.example``                Clearbit 202 ``queued`` twice, then 200
``busy.example``                  429 with ``retry-after: 1`` once, then 200
``busy-nohint.example``           429 without ``retry-after`` once, then 200
``throttled.example``             429 (``retry-after: 2``) every time
``flaky.example``                 500 once, then 200
``broken.example``                500 every time
``slow.example``                  answers after 1.5 s (client timeouts)
``garbage.example``               200 with an HTML body
``lowquota.example``              200 with almost no requests left in the minute window
``localhost`` (no dot)            422 invalid domain
================================  ================================================================

Keys decide auth: :data:`APOLLO_KEY` / :data:`CLEARBIT_KEY` work; :data:`APOLLO_REVOKED_KEY` gets 401
text/plain; :data:`APOLLO_SCOPED_KEY` gets 403 ``API_INACCESSIBLE``; :data:`APOLLO_FREE_KEY` gets 403
paid-plan-only on people match; :data:`CLEARBIT_BAD_KEY` gets 401 ``invalid_api_key``.

``ProviderStandIn(echo_key=True)`` is a provider that leaks: the key it was sent is appended to every
string of every answer — error messages, types and codes, nested fields, text/plain bodies and record
values (domains and emails excepted, so records still match) — to test that redaction misses nothing.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import vcr

from tools.http import make_client

__all__ = [
    "APOLLO_FREE_KEY",
    "APOLLO_KEY",
    "APOLLO_REVOKED_KEY",
    "APOLLO_SCOPED_KEY",
    "APOLLO_STANDIN_URL",
    "CASSETTES",
    "CLEARBIT_BAD_KEY",
    "CLEARBIT_KEY",
    "CLEARBIT_STANDIN_URL",
    "COMPANIES",
    "TEST_SECRETS",
    "FakeClock",
    "ProviderStandIn",
    "Recording",
    "apollo_org_response",
    "cassette_name",
    "clearbit_company_response",
    "provider_cassette",
    "serve_providers",
]

APOLLO_STANDIN_URL = "http://apollo.standin.test/api/v1"
CLEARBIT_STANDIN_URL = "http://clearbit.standin.test"

APOLLO_KEY = "apk-standin-7Qm2Zt9Lw4Rx"
APOLLO_REVOKED_KEY = "apk-revoked-3Hd8Ns1Pv6Kc"
APOLLO_SCOPED_KEY = "apk-scoped-9Fj2Wq5Ty0Lb"
APOLLO_FREE_KEY = "apk-freeplan-4Gx7Mr2Cz8Ue"
CLEARBIT_KEY = "sk_standin_5Vb9Kp3Xn7Qa"
CLEARBIT_BAD_KEY = "sk_badkey_2Lm6Rt8Yw1Js"
TEST_SECRETS = [
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_SCOPED_KEY,
    APOLLO_FREE_KEY,
    CLEARBIT_KEY,
    CLEARBIT_BAD_KEY,
]

_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers"
_LEAD = "harborlane.example"

# Lead companies: overrides on top of our Harbor Lane fixture. ``None`` removes a field, so fill
# rates differ by provider and field (sparse records are the realistic case).
COMPANIES: dict[str, dict[str, Any]] = {
    _LEAD: {},
    "brightpath.example": {
        "name": "Brightpath Dental Group",
        "employees": 85,
        "industry": "hospital & health care",
        "tech": ["Dentrix", "Weave", "Google Analytics"],
        "country": "United States",
    },
    "copperkettle.example": {
        "name": "Copper Kettle Bistro",
        "employees": 24,
        "industry": "restaurants",
        "tech": None,
        "funding": None,
        "country": "Canada",
    },
    "norrsken.example": {
        "name": "Norrsken Robotics AB",
        "employees": 130,
        "industry": "machinery",
        "tech": ["SAP", "HubSpot"],
        "revenue": None,
        "country": "Sweden",
    },
    "tinyleaf.example": {
        "name": "Tinyleaf",
        "employees": None,
        "industry": None,
        "tech": None,
        "revenue": None,
        "funding": None,
        "country": None,
    },
}
for _name in ("busy", "busy-nohint", "flaky", "queued", "lowquota"):
    COMPANIES[f"{_name}.example"] = {"name": f"{_name.title()} Corp", "employees": 50}

_SCRIPTED_FAILURES: dict[str, tuple[int, dict[str, str], int]] = {
    # domain -> (status, extra headers, how many times before succeeding; -1 = always)
    "busy.example": (429, {"retry-after": "1"}, 1),
    "busy-nohint.example": (429, {}, 1),
    "throttled.example": (429, {"retry-after": "2"}, -1),
    "flaky.example": (500, {}, 1),
    "broken.example": (500, {}, -1),
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_FIXTURES / name).read_text())
    return data


def apollo_org_response(domain: str) -> dict[str, Any]:
    """What the stand-in's ``GET /organizations/enrich`` answers for a known lead domain."""
    return {"organization": _apollo_org(domain)}


def clearbit_company_response(domain: str) -> dict[str, Any]:
    """What the stand-in's ``GET /v2/companies/find`` answers for a known lead domain."""
    return _clearbit_company(domain)


def _apollo_org(domain: str) -> dict[str, Any]:
    spec = COMPANIES[domain]
    org = copy.deepcopy(_load("apollo_organization_enrich.json")["organization"])
    slug = domain.split(".")[0]
    org.update(
        primary_domain=domain,
        website_url=f"http://www.{domain}",
        name=spec.get("name", org["name"]),
        linkedin_url=f"http://www.linkedin.com/company/{slug}",
        id=f"64a0c0ffee{zlib.crc32(slug.encode()):014d}",
    )
    _set(org, "estimated_num_employees", spec, "employees")
    _set(org, "industry", spec, "industry")
    _set(org, "country", spec, "country")
    _set(org, "annual_revenue", spec, "revenue")
    if "tech" in spec:
        org["technology_names"] = spec["tech"] or []
        org["current_technologies"] = [
            {"uid": t.lower().replace(" ", "_"), "name": t, "category": "Other"} for t in spec["tech"] or []
        ]
    if "funding" in spec and spec["funding"] is None:
        org.update(latest_funding_stage=None, latest_funding_round_date=None, funding_events=[])
    return org


def _clearbit_company(domain: str) -> dict[str, Any]:
    spec = COMPANIES[domain]
    company = copy.deepcopy(_load("clearbit_company.json"))
    company.update(domain=domain, name=spec.get("name", company["name"]), domainAliases=[])
    if "employees" in spec:
        company["metrics"]["employees"] = spec["employees"]
    if "revenue" in spec and spec["revenue"] is None:
        company["metrics"]["estimatedAnnualRevenue"] = None
    if "country" in spec:
        company["geo"]["country"] = spec["country"]
    if "tech" in spec:
        company["tech"] = [t.lower().replace(" ", "_") for t in spec["tech"] or []]
    return company


def _set(target: dict[str, Any], key: str, spec: dict[str, Any], spec_key: str) -> None:
    if spec_key in spec:
        target[key] = spec[spec_key]


def _clearbit_person(email: str) -> dict[str, Any] | None:
    local, _, domain = email.partition("@")
    if domain not in COMPANIES:
        return None
    given, _, family = local.partition(".")
    return {
        "id": f"d54c54ad-40be-4305-8a34-{zlib.crc32(email.encode()):012d}",
        "name": {
            "fullName": f"{given.title()} {family.title()}".strip(),
            "givenName": given.title(),
            "familyName": family.title() or None,
        },
        "email": email,
        "location": "Savannah, GA, US",
        "timeZone": "America/New_York",
        "geo": {
            "city": "Savannah",
            "state": "Georgia",
            "stateCode": "GA",
            "country": "United States",
            "countryCode": "US",
            "lat": 32.08,
            "lng": -81.09,
        },
        "bio": None,
        "site": None,
        "avatar": None,
        "employment": {
            "domain": domain,
            "name": COMPANIES[domain].get("name", "Harbor Lane Logistics"),
            "title": "VP of Operations",
            "role": "operations",
            "subRole": None,
            "seniority": "executive",
        },
        "facebook": {"handle": None},
        "github": {"handle": None},
        "twitter": {"handle": None},
        "linkedin": {"handle": f"in/{given}-{family}"},
        "gravatar": {"handle": None},
        "fuzzy": False,
        "emailProvider": False,
        "indexedAt": "2026-09-14T08:00:00.000Z",
    }


class ProviderStandIn:
    """The server's state: request log and per-scenario counters (reset between tests)."""

    def __init__(self, *, echo_key: bool = False) -> None:
        self.echo_key = echo_key
        self.requests: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.url = ""

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.counts.clear()

    def _once(self, key: str, times: int) -> bool:
        """True while the scripted failure for ``key`` should still happen."""
        with self.lock:
            self.counts[key] += 1
            return times < 0 or self.counts[key] <= times

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        payload = json.loads(body) if body else {}
        with self.lock:
            self.requests.append(
                {"method": method, "path": url.path, "query": query, "json": payload, "headers": headers}
            )
        if url.path.startswith("/v2/"):
            clearbit = _ClearbitRoutes(self, headers)
            key, answer = clearbit.key, clearbit.route(url.path, query)
        else:
            apollo = _ApolloRoutes(self, headers)
            key, answer = apollo.key, apollo.route(url.path, query, payload)
        return _echo(answer, key) if self.echo_key and key else answer


# record fields that identify what was asked for: kept as they are when echoing, so records still match
_IDENTIFIERS = {"primary_domain", "website_url", "domain", "email"}


def _echo(answer: tuple[int, dict[str, str], bytes], key: str) -> tuple[int, dict[str, str], bytes]:
    """``answer`` with ``key`` appended to every string in it (the leaky provider of ``echo_key``)."""
    status, headers, body = answer

    def plant(value: Any, name: Any = None) -> Any:
        if isinstance(value, dict):
            return {k: plant(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [plant(v, name) for v in value]
        if isinstance(value, str) and name not in _IDENTIFIERS:
            return f"{value} {key}"
        return value

    if headers.get("content-type", "").startswith("application/json"):
        return status, headers, json.dumps(plant(json.loads(body))).encode()
    return status, headers, body + f" {key}".encode()


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"content-type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(data).encode(),
    )


def _scripted(
    standin: ProviderStandIn, route: str, domains: list[str], body_429: Any, body_500: Any
) -> tuple[int, dict[str, str], bytes] | None:
    for domain in domains:
        if domain == "slow.example":
            time.sleep(1.5)
        if domain == "garbage.example":
            return 200, {"content-type": "text/html"}, b"<html><body>Upstream proxy error</body>"
        failure = _SCRIPTED_FAILURES.get(domain)
        if failure and standin._once(f"{route}:{domain}", failure[2]):
            status, extra, _ = failure
            return _json(status, body_429 if status == 429 else body_500, extra)
    return None


class _ApolloRoutes:
    def __init__(self, standin: ProviderStandIn, headers: dict[str, str]) -> None:
        self.standin, self.key = standin, headers.get("x-api-key", "")

    def quota(self, low: bool = False) -> dict[str, str]:
        return {
            "x-rate-limit-minute": "50",
            "x-rate-limit-hourly": "200",
            "x-rate-limit-24-hour": "600",
            "x-minute-requests-left": "1" if low else "42",
            "x-hourly-requests-left": "180",
            "x-24-hour-requests-left": "575",
        }

    def route(
        self, path: str, query: dict[str, str], payload: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        endpoint = path.split("/api/v1", 1)[-1]
        if self.key not in (APOLLO_KEY, APOLLO_SCOPED_KEY, APOLLO_FREE_KEY):
            return 401, {"content-type": "text/plain; charset=utf-8"}, b"Invalid access credentials."
        if self.key == APOLLO_SCOPED_KEY:
            return _json(
                403,
                {
                    "error": f"This API key is not authorized to access api/v1{endpoint}. Request an API "
                    "key from your administrator that includes this endpoint in its configured scope.",
                    "error_code": "API_INACCESSIBLE",
                },
            )
        if endpoint == "/people/match":
            if self.key == APOLLO_FREE_KEY:
                return _json(
                    403, {"message": "This endpoint is only available to Apollo users on paid plans."}
                )
            person = _load("apollo_people_match.json")["person"]
            found = payload.get("email") == person["email"]
            return _json(200, {"person": person if found else None, "request_id": 3310021}, self.quota())
        domains = (
            [query.get("domain", "")]
            if endpoint == "/organizations/enrich"
            else list(payload.get("domains", []))
        )
        if endpoint == "/organizations/bulk_enrich" and len(domains) > 10:
            return _json(
                400,
                {
                    "status": "failed",
                    "error_code": "RECORD_LIMIT_EXCEEDED",
                    "error_message": "cannot enrich more than 10 in a single request",
                },
            )
        if not all(domains) or any("." not in d for d in domains):
            return _json(422, {"error": "Invalid parameter 'domain'"})
        rate_msg = {
            "message": f"The maximum number of api calls allowed for api/v1{endpoint} is 50 times "
            "per minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
        }
        scripted = _scripted(self.standin, endpoint, domains, rate_msg, {"error": "Internal server error"})
        if scripted:
            return scripted
        headers = self.quota(low="lowquota.example" in domains)
        if endpoint == "/organizations/enrich":
            return _json(
                200, {"organization": _apollo_org(domains[0])} if domains[0] in COMPANIES else {}, headers
            )
        orgs = [_apollo_org(d) for d in dict.fromkeys(domains) if d in COMPANIES]
        return _json(
            200,
            {
                "status": "success",
                "error_code": None,
                "error_message": None,
                "total_requested_domains": len(domains),
                "unique_domains": len(set(domains)),
                "unique_enriched_records": len(orgs),
                "missing_records": len(set(domains)) - len(orgs),
                "organizations": orgs,
            },
            headers,
        )


class _ClearbitRoutes:
    def __init__(self, standin: ProviderStandIn, headers: dict[str, str]) -> None:
        self.standin = standin
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        self.key = base64.b64decode(value).decode().split(":")[0] if scheme.lower() == "basic" else value

    def route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        quota = {"x-ratelimit-limit": "600", "x-ratelimit-remaining": "597", "x-ratelimit-reset": "41"}
        if not self.key:
            return _json(
                401,
                {
                    "error": {
                        "type": "auth_required",
                        "message": "Authentication is required for "
                        "this action. Sign up at https://clearbit.com",
                    }
                },
            )
        if self.key != CLEARBIT_KEY:
            return _json(401, {"error": {"type": "invalid_api_key", "message": "Invalid API key provided"}})
        ident = query.get("domain") or query.get("email", "")
        domain = ident.partition("@")[2] if "@" in ident else ident
        if "email" in query and "@" not in ident:
            return _json(422, {"error": {"type": "email_invalid", "message": "Invalid email."}})
        if "." not in domain:
            return _json(422, {"error": {"type": "domain_invalid", "message": "Invalid domain."}})
        scripted = _scripted(
            self.standin,
            path,
            [domain],
            {"error": {"type": "rate_limit", "message": "Rate limit exceeded."}},
            {"error": {"type": "server_error", "message": "Something went wrong."}},
        )
        if scripted:
            return scripted
        if domain == "queued.example" and self.standin._once(f"{path}:queued", 2):
            return _json(
                202, {"error": {"type": "queued", "message": "Lookup queued; retry shortly."}}, quota
            )
        if domain not in COMPANIES:
            return _json(404, {"error": {"type": "unknown_record", "message": "Record not found"}}, quota)
        if path == "/v2/companies/find":
            return _json(200, _clearbit_company(domain), quota)
        person = _clearbit_person(ident)
        if person is None:
            return _json(404, {"error": {"type": "unknown_record", "message": "Person not found"}}, quota)
        if path == "/v2/combined/find":
            return _json(200, {"person": person, "company": _clearbit_company(domain)}, quota)
        return _json(200, person, quota)


class Answers(Protocol):
    """A stand-in's HTTP behaviour: (status, headers, body) for a request, and where it is served."""

    url: str

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes, /
               ) -> tuple[int, dict[str, str], bytes]: ...


A = TypeVar("A", bound=Answers)


def _handler(standin: Answers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, out = standin.answer(self.command, self.path, headers, body)
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            # The client may have given up already (timeout tests); there is nobody left to tell.
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(out)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


@contextmanager
def serve_answers(
    standin: A, *, configure: Callable[[ThreadingHTTPServer], None] | None = None
) -> Iterator[A]:
    """Serve any stand-in on a free loopback port for the duration of the block (``standin.url``).

    ``configure`` adjusts the server before it starts (the benchmark widens its backlog, for instance)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(standin))
    server.daemon_threads = True
    if configure is not None:
        configure(server)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_providers(
    standin: ProviderStandIn | None = None, *, configure: Callable[[ThreadingHTTPServer], None] | None = None
) -> Iterator[ProviderStandIn]:
    """Run the provider stand-in (a fresh one by default) on a free loopback port for the block."""
    with serve_answers(standin or ProviderStandIn(), configure=configure) as served:
        yield served


# -- cassettes -------------------------------------------------------------------------------------

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "providers"
FILTER_HEADERS = ["authorization", "x-api-key", "cookie", "set-cookie"]


@dataclass
class Recording:
    """What a test needs inside :func:`provider_cassette`: clients routed to the stand-in when recording."""

    standin: ProviderStandIn | None
    recording: bool
    sent: list[httpx.Request] = field(default_factory=list)

    def client(self, provider: str, *, timeout: float = 5.0) -> httpx.AsyncClient:
        # While recording, the fake hosts are reached through the stand-in acting as a forward proxy;
        # vcrpy records the request as the client made it (fake host), so replay needs no server.
        transport = httpx.AsyncHTTPTransport(proxy=self.standin.url) if self.standin else None
        http = make_client(provider, timeout=timeout, transport=transport)

        async def keep(request: httpx.Request) -> None:  # lets tests check what was sent, replay too
            self.sent.append(request)

        http.event_hooks["request"].append(keep)
        return http


def cassette_name(prefix: str, test_name: str) -> str:
    """One cassette per test: ``<prefix>_<test name as an identifier>``."""
    return f"{prefix}_" + re.sub(r"\W+", "_", test_name).strip("_")


@contextmanager
def provider_cassette(name: str, *, ignore_hosts: Sequence[str] = ()) -> Iterator[Recording]:
    """Replay ``tests/cassettes/providers/<name>.yaml``; record it against the stand-in if missing.

    ``ignore_hosts`` are never recorded (e.g. the loopback seller site of a whole-graph test).
    ``PROVIDER_CASSETTES=rerecord`` deletes and records again (commit the result).
    """
    path = CASSETTES / f"{name}.yaml"
    if os.environ.get("PROVIDER_CASSETTES") == "rerecord" and path.exists():
        path.unlink()
    recorder = vcr.VCR(
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        filter_headers=FILTER_HEADERS,
        filter_query_parameters=["api_key", "key"],
        ignore_hosts=list(ignore_hosts),
        decode_compressed_response=True,
    )
    if path.exists():
        with recorder.use_cassette(str(path), record_mode="none"):
            yield Recording(standin=None, recording=False)
        return
    with serve_providers() as standin, recorder.use_cassette(str(path), record_mode="once"):
        yield Recording(standin=standin, recording=True)


class FakeClock:
    """Monotonic time that only moves when someone sleeps: retry and limiter tests never wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
