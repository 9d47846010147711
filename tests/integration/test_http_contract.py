"""Contract tests of every route and error envelope, in process (``httpx.ASGITransport``).

The seller's site is the loopback ``tablely`` fixture; the graph runs for real with the catalog engine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from graph.schemas import Blueprint
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client, parse_sse
from tests.support.site_server import SiteServer
from tools.errors import (
    BlueprintError,
    InsufficientInformation,
    RateLimited,
    SiteFetchError,
    UpstreamError,
    UpstreamTimeout,
)

SECTIONS = ("firmographic", "technographic", "personalization", "sources", "collection_methods")




@pytest.fixture
async def app(site: SiteServer) -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app) as c:
        yield c


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return error


# ───────────────────────────── POST (JSON) ─────────────────────────────


async def test_post_answers_a_blueprint_then_serves_it_from_the_cache(
    client: httpx.AsyncClient, site: SiteServer, app: FastAPI
) -> None:
    first = await client.post(ENRICH, json={"website": site.url})
    assert first.status_code == 200, first.text
    assert first.headers["x-cache"] == "MISS"
    blueprint = Blueprint.model_validate(first.json())
    assert blueprint.meta.cache == "miss"
    assert blueprint.company.name == "Tablely"
    assert all(
        getattr(blueprint, s).data_points for s in ("firmographic", "technographic", "personalization")
    )

    again = await client.post(ENRICH, json={"website": site.url + "/"})  # same request once normalised
    assert again.headers["x-cache"] == "HIT"
    assert again.json()["blueprint_id"] == blueprint.blueprint_id
    assert again.json()["meta"]["cache"] == "hit"
    assert app.state.runner.graph_runs == 1
    assert site.hits["/"] == 1


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "trace-42.a"})
    assert given.headers["x-request-id"] == "trace-42.a"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": "evil id\twith spaces"})
    assert hostile.headers["x-request-id"] != "evil id\twith spaces"
    error = await client.get("/nowhere", headers={"X-Request-ID": "req-7"})
    assert assert_envelope(error, 404, "not_found")["request_id"] == "req-7"


# ───────────────────────────── GET by id, health ─────────────────────────────


async def test_get_by_id_returns_the_cached_blueprint(client: httpx.AsyncClient, site: SiteServer) -> None:
    made = (await client.post(ENRICH, json={"website": site.url})).json()
    found = await client.get(f"{ENRICH}/{made['blueprint_id']}")
    assert found.status_code == 200
    assert found.headers["x-cache"] == "HIT"
    assert found.json()["blueprint_id"] == made["blueprint_id"]
    assert found.json()["firmographic"] == made["firmographic"]


async def test_get_unknown_id_is_404_and_a_malformed_id_422(client: httpx.AsyncClient) -> None:
    error = assert_envelope(await client.get(f"{ENRICH}/bp_0123456789abcdef01234567"), 404, "not_found")
    assert error["details"] == {"blueprint_id": "bp_0123456789abcdef01234567"}
    assert_envelope(await client.get(f"{ENRICH}/not-an-id"), 422, "validation_error")


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["cache"] == "ok"


# ───────────────────────────── errors ─────────────────────────────


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        (b'{"website": "https://acme.example",', "body", "not valid JSON"),
        (b"", "body", "JSON body is required"),
        (b'{"website": "ftp://acme.example"}', "body.website", "http or https"),
        (b'{"website": "acme.example", "colour": "red"}', "body.colour", "Extra inputs"),
        (b'{"website": "acme.example", "options": {"cache": "sometimes"}}', "body.options.cache", "use"),
        (
            b'{"website": "acme.example", "sample_domains": ['
            + b",".join(b'"d%d.example"' % i for i in range(26))
            + b"]}",
            "body.sample_domains",
            "25",
        ),
    ],
)
async def test_bad_bodies_are_readable_422s(
    client: httpx.AsyncClient, content: bytes, field: str, fragment: str
) -> None:
    response = await client.post(ENRICH, content=content, headers={"content-type": "application/json"})
    error = assert_envelope(response, 422, "validation_error")
    problems = error["details"]["errors"]
    assert any(p["field"] == field and fragment in p["message"] for p in problems), problems
    assert fragment in error["message"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "website",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://localhost:8080/",
        "http://user:pw@acme.example/",
    ],
)
async def test_blocked_urls_are_422_before_any_stream(
    client: httpx.AsyncClient, website: str, stream: bool
) -> None:
    response = await client.post(
        ENRICH, params={"stream": "true"} if stream else None, json={"website": website}
    )
    error = assert_envelope(response, 422, "blocked_url")
    assert error["details"]["url"] == website


@pytest.mark.parametrize("stream", [False, True])
async def test_unconfigured_llm_engine_is_422_before_any_stream(
    client: httpx.AsyncClient, site: SiteServer, stream: bool
) -> None:
    headers = {"accept": "text/event-stream"} if stream else {}
    response = await client.post(
        ENRICH, headers=headers, json={"website": site.url, "options": {"engine": "llm"}}
    )
    assert assert_envelope(response, 422, "validation_error")["details"]["field"] == "options.engine"
    assert site.hits["/"] == 0


async def test_unreadable_site_without_icp_is_insufficient_information(
    client: httpx.AsyncClient, site: SiteServer
) -> None:
    response = await client.post(ENRICH, json={"website": site.url_for("/missing-site")})
    error = assert_envelope(response, 422, "insufficient_information")
    assert error["details"]["supply"]


async def test_failure_after_the_stream_began_is_an_error_event_then_done(
    client: httpx.AsyncClient, site: SiteServer
) -> None:
    response = await client.post(
        ENRICH,
        params={"stream": "true"},
        json={"website": site.url_for("/missing-site")},
        headers={"X-Request-ID": "stream-err"},
    )
    assert response.status_code == 200
    events = parse_sse(response.text.splitlines())
    names = [e.event for e in events]
    assert names[0] == "run_started"
    assert names[-2:] == ["error", "done"]
    error = events[-2].data
    assert error["code"] == "insufficient_information"
    assert error["request_id"] == "stream-err"
    assert "exception" not in error


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/v2/nothing"), 404, "not_found")
    wrong = await client.delete("/healthz")
    assert_envelope(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "GET"


class _FailingRunner:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def stream(self, request: Any, **_: Any) -> AsyncIterator[dict[str, Any]]:
        raise self.error
        yield {}  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InsufficientInformation("too little", details={"supply": ["icp"]}), 422, "insufficient_information"),
        (RateLimited("slow down"), 429, "rate_limited"),
        (SiteFetchError("the site answered 503"), 502, "upstream_error"),
        (UpstreamError("bad gateway"), 502, "upstream_error"),
        (UpstreamTimeout("too slow"), 504, "timeout"),
        (BlueprintError("generic"), 500, "internal_error"),
    ],
)
async def test_blueprint_errors_map_to_their_status(
    app: FastAPI, site: SiteServer, error: BlueprintError, status: int, code: str
) -> None:
    async with app_client(app) as client:
        real = app.state.runner
        app.state.runner = _FailingRunner(error)
        try:
            response = await client.post(ENRICH, json={"website": site.url})
        finally:
            app.state.runner = real
    assert assert_envelope(response, status, code)["message"] == error.message


async def test_unexpected_errors_are_500_without_a_trace_but_logged_with_one(
    app: FastAPI, site: SiteServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="server")
    async with app_client(app) as client:
        app.state.runner = _FailingRunner(RuntimeError("secret internals: key=sk-123"))
        response = await client.post(ENRICH, json={"website": site.url}, headers={"X-Request-ID": "bug-1"})
    error = assert_envelope(response, 500, "internal_error")
    assert "sk-123" not in response.text and "secret internals" not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].exc_info is not None and isinstance(logged[0].exc_info[1], RuntimeError)
    assert error["request_id"] == "bug-1"


# ───────────────────────────── SSE content ─────────────────────────────


@pytest.mark.parametrize("how", ["accept", "query"])
async def test_stream_events_in_contract_order(client: httpx.AsyncClient, site: SiteServer, how: str) -> None:
    kwargs: dict[str, Any] = (
        {"headers": {"accept": "text/event-stream"}} if how == "accept" else {"params": {"stream": "true"}}
    )
    response = await client.post(ENRICH, json={"website": site.url}, **kwargs)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "x-request-id" in response.headers
    events = parse_sse(response.text.splitlines())
    names = [e.event for e in events]
    assert names[0] == "run_started" and events[0].data["cache"] == "miss"
    assert events[0].data["engine"] == "catalog" and events[0].data["blueprint_id"].startswith("bp_")
    assert names[-2:] == ["blueprint", "done"]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    started = [e.data["node"] for e in events if e.event == "node_started"]
    completed = {e.data["node"]: e.data for e in events if e.event == "node_completed"}
    assert set(SECTIONS) <= set(started) and set(started) == set(completed)

    def position(kind: str, node: str) -> int:
        return next(i for i, e in enumerate(events) if e.event == kind and e.data["node"] == node)

    for node in started:
        assert position("node_started", node) < position("node_completed", node)
    assert position("node_completed", "resolve_icp") < min(position("node_started", s) for s in SECTIONS[:3])
    assert max(position("node_completed", s) for s in SECTIONS[:3]) < position("node_started", "sources")
    assert completed["firmographic"]["output"]["data_points"]
    assert completed["sources"]["output"]
    assert isinstance(completed["firmographic"]["duration_ms"], float | int)
    assert set(names) <= {"run_started", "node_started", "node_completed", "warning", "blueprint", "done"}
    Blueprint.model_validate(events[-2].data)


async def test_stream_of_a_cache_hit_is_three_events(client: httpx.AsyncClient, site: SiteServer) -> None:
    await client.post(ENRICH, json={"website": site.url})
    response = await client.post(ENRICH, params={"stream": "true"}, json={"website": site.url})
    events = parse_sse(response.text.splitlines())
    assert [e.event for e in events] == ["run_started", "blueprint", "done"]
    assert events[0].data["cache"] == "hit"
    assert events[1].data["meta"]["cache"] == "hit"


async def test_stream_false_wins_over_accept(client: httpx.AsyncClient, site: SiteServer) -> None:
    response = await client.post(
        ENRICH,
        params={"stream": "false"},
        headers={"accept": "text/event-stream"},
        json={"website": site.url},
    )
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-cache"] == "MISS"


# ───────────────────────────── OpenAPI ─────────────────────────────


async def test_openapi_documents_routes_schemas_errors_and_the_stream(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    post = spec["paths"][ENRICH]["post"]
    exports = ENRICH + "/{blueprint_id}/exports/{format}"
    runs = {ENRICH + "/runs", ENRICH + "/runs/{run_id}", ENRICH + "/runs/{run_id}/events"}
    assert set(spec["paths"]) == {ENRICH, ENRICH + "/{blueprint_id}", exports, "/healthz", *runs}
    assert {"200", "401", "404", "422"} <= set(spec["paths"][exports]["get"]["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/EnrichmentRequest")
    assert post["requestBody"]["content"]["application/json"]["examples"]["with_icp"]["value"]["icp"]
    ok = post["responses"]["200"]["content"]
    assert ok["application/json"]["schema"]["$ref"].endswith("/Blueprint")
    assert ok["application/json"]["example"]["blueprint_id"]
    assert "event: run_started" in ok["text/event-stream"]["example"]
    assert "X-Cache" in post["responses"]["200"]["headers"]
    for status in ("401", "422", "429", "500", "502", "504"):
        ref = post["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorEnvelope")
    get = spec["paths"][ENRICH + "/{blueprint_id}"]["get"]
    assert {"200", "401", "404"} <= set(get["responses"])
    assert {"Blueprint", "EnrichmentRequest", "ErrorEnvelope", "ErrorBody"} <= set(
        spec["components"]["schemas"]
    )
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert (await client.get("/docs")).status_code == 200
