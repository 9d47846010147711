"""The HTTP routes. Thin: validate, hand the request to the shared runner, shape its answer.

``POST /v1/campaigns/enrichment`` has two faces on one path: JSON (the documented operation) and
Server-Sent Events. A request that asks for ``text/event-stream`` (or ``?stream=true``) is matched
by :class:`StreamRoute`, a generator endpoint served by FastAPI's own SSE support (keep-alive pings,
cancellation on disconnect); every other request falls through to the JSON operation.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from fastapi.routing import APIRoute
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel
from starlette.routing import Match
from starlette.types import Scope

from graph.fingerprint import package_version
from graph.run import Event
from graph.schemas import Blueprint, EnrichmentRequest
from server.deps import AuthDep, CacheDep, RequestIdDep, RunnerDep, SettingsDep, StreamFlagDep, TenantDep
from server.disconnect import CLIENT_CLOSED_REQUEST, until_disconnected
from server.errors import ErrorEnvelope, json_response
from server.events import SSE_EXAMPLE, to_sse
from server.examples import BLUEPRINT_EXAMPLE, REQUEST_EXAMPLES
from server.markdown_format import WantsMarkdown, markdown_response
from tools.errors import BlueprintError, NotFound
from tools.ssrf import check_url

__all__ = ["StreamRoute", "api_router", "health_router", "wants_stream"]

ENRICHMENT_PATH = "/v1/campaigns/enrichment"


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    what = {
        401: "Missing or invalid API key (only when `BLUEPRINT_API_KEYS` is set): `unauthorized`.",
        404: "No such blueprint (never generated for this API key, expired, or the cache is disabled): "
        "`not_found`.",
        422: "`validation_error` (bad body or malformed JSON), `blocked_url` (private, loopback or metadata "
        "address, non-http scheme) or `insufficient_information` (the site says too little and no ICP "
        "was given; `details.supply` says what to add).",
        413: "The body is larger than `BLUEPRINT_MAX_BODY_BYTES`: `payload_too_large`.",
        429: "Too many requests: `rate_limited`, with `Retry-After` (over the caller's `BLUEPRINT_RATE_LIMIT`, or "
        "a second `refresh` of one blueprint within `BLUEPRINT_REFRESH_INTERVAL_S`).",
        500: "A bug: `internal_error` (logged with the request id; no trace in the answer).",
        502: "A dependency answered badly: `upstream_error`.",
        503: "Every run slot and queue place is taken (`BLUEPRINT_MAX_RUNS`): `overloaded`; retry after "
        "`Retry-After` seconds.",
        504: "A dependency took too long: `timeout`.",
    }
    return {s: {"model": ErrorEnvelope, "description": what[s]} for s in statuses}


# ───────────────────────────── routing by Accept ─────────────────────────────


def wants_stream(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "stream":
            return value.lower() in {"true", "1", "yes", "on"}
    headers = scope.get("headers", [])
    return any(name == b"accept" and b"text/event-stream" in value.lower() for name, value in headers)


class StreamRoute(APIRoute):
    """Matches only requests that asked for an event stream; the JSON route handles the rest."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("type") == "http" and not wants_stream(scope):
            return Match.NONE, {}
        return super().matches(scope)


# ───────────────────────────── dependencies ─────────────────────────────

RequestBody = Annotated[EnrichmentRequest, Body(openapi_examples=REQUEST_EXAMPLES)]


async def checked_request(body: RequestBody, settings: SettingsDep, _stream: StreamFlagDep) -> EnrichmentRequest:
    """Refuse what needs no network to refuse (scheme, credentials, private IP literals, a ``?stream=``
    that is not a boolean) before any run."""
    check_url(body.website, settings.allow_private_hosts)
    return body


CheckedRequest = Annotated[EnrichmentRequest, Depends(checked_request)]


@dataclass
class StartedRun:
    first: Event
    events: AsyncIterator[Event]


async def started_run(request: CheckedRequest, runner: RunnerDep, tenant: TenantDep) -> AsyncIterator[StartedRun]:
    """Start the run and take its first event *before* the response begins.

    The runner raises configuration errors (e.g. engine ``llm`` without an LLM) before its first event,
    so they still come back as a plain JSON 4xx envelope instead of an error inside a 200 stream.
    """
    events = cast(AsyncGenerator[Event, None], runner.stream(request, tenant=tenant))
    try:
        first = await anext(events)
        yield StartedRun(first=first, events=events)
    finally:
        await events.aclose()  # no-op when the stream finished or was cancelled


# ───────────────────────────── enrichment ─────────────────────────────

api_router = APIRouter(prefix="", tags=["enrichment"], dependencies=[AuthDep])

SSE_DOC = (
    "With `Accept: text/event-stream` (or `?stream=true`) the answer is a Server-Sent Events stream "
    "instead: `run_started {blueprint_id, cache, engine}` → per node `node_started {node}` / "
    "`node_completed {node, duration_ms, output}` → `warning {code, message, node}` → "
    "`blueprint {<Blueprint>}` → `done {}`. A failure after the stream began is "
    "`error {code, message, details, request_id}` then `done`. A cache hit streams `run_started` "
    "(cache `hit`), `blueprint`, `done` at once. Every event has an increasing integer `id`; `: ping` "
    "comments keep the connection alive. Disconnecting cancels the run unless another request waits on "
    "the same run. Errors found before the stream begins (validation, blocked URL, engine not "
    "configured) are plain JSON error envelopes."
)


async def stream_enrichment(
    run: Annotated[StartedRun, Depends(started_run, scope="request")], request_id: RequestIdDep
) -> AsyncIterator[ServerSentEvent]:
    async for sse in to_sse(_chain(run), request_id):
        yield sse


async def _chain(run: StartedRun) -> AsyncIterator[Event]:
    yield run.first
    async for event in run.events:
        yield event


STREAM_PARAMETERS = [
    {"name": "stream", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
     "description": "`true`: answer with Server-Sent Events."},
    {"name": "accept", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "`text/event-stream` for Server-Sent Events."},
]

# Registered before the JSON operation so it gets the first look at every POST on this path.
api_router.add_api_route(
    ENRICHMENT_PATH,
    stream_enrichment,
    methods=["POST"],
    response_class=EventSourceResponse,
    include_in_schema=False,  # documented on the JSON operation below (same path and method)
    route_class_override=StreamRoute,
)


@api_router.post(
    ENRICHMENT_PATH,
    response_model=Blueprint,
    summary="Generate an enrichment blueprint (JSON, or a live event stream)",
    description=(
        "Reads the seller's website, infers or applies the ICP, and answers which data points to collect "
        "about leads, where each lives and how to collect it. Identical requests are served from the run "
        "cache (`options.cache`: `use` | `refresh` | `bypass`); the `X-Cache` header says `HIT`, `MISS` or "
        "`BYPASS`. Concurrent identical requests run the graph once; a client that disconnects cancels the "
        "run unless another request waits on it.\n\n" + SSE_DOC
    ),
    responses={
        200: {
            "description": "The blueprint (JSON), or the event stream when one was asked for.",
            "headers": {
                "X-Cache": {"description": "HIT | MISS | BYPASS", "schema": {"type": "string"}},
                "X-Request-ID": {"description": "Echo of the request id", "schema": {"type": "string"}},
            },
            "content": {
                "application/json": {"example": BLUEPRINT_EXAMPLE},
                "text/event-stream": {
                    "schema": {"type": "string", "description": "Server-Sent Events"},
                    "example": SSE_EXAMPLE,
                },
            },
        },
        **_errors(401, 413, 422, 429, 500, 502, 503, 504),
    },
    # ``stream`` and ``Accept`` choose the SSE route before this one is matched (StreamRoute); they are
    # documented here rather than declared as parameters, which FastAPI would resolve on every request
    openapi_extra={"parameters": STREAM_PARAMETERS},
)
async def create_enrichment(
    request: CheckedRequest,
    runner: RunnerDep,
    tenant: TenantDep,
    connection: Request,
) -> Any:
    cached_json = getattr(runner, "cached_json", None)  # a stand-in runner (tests) may offer only stream()
    hit = await cached_json(request, tenant=tenant) if cached_json is not None else None
    if hit is not None:  # the stored bytes as they are: no parse, no validation, no re-serialisation
        return Response(hit, media_type="application/json", headers={"X-Cache": "HIT"})
    # a client that leaves cancels the run, unless another request waits on it (as with SSE)
    answered, outcome = await until_disconnected(connection, _blueprint_of(runner, request, tenant))
    if not answered or outcome is None:
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it; the access log does
    status, blueprint = outcome
    cache = "bypass" if status == "bypass" else str(blueprint.get("meta", {}).get("cache", status))
    return json_response(blueprint, headers={"X-Cache": cache.upper()})


async def _blueprint_of(runner: Any, request: EnrichmentRequest, tenant: str | None) -> tuple[str, dict[str, Any]]:
    """The run's cache status and blueprint; its error as an exception."""
    status = "miss"
    # outputs=False: a JSON answer reads no node_completed output, so none is dumped for it
    events = cast(AsyncGenerator[Event, None], runner.stream(request, tenant=tenant, outputs=False))
    async with contextlib.aclosing(events):
        async for event in events:
            kind = event["event"]
            if kind == "run_started":
                status = event["data"]["cache"]
            elif kind == "blueprint":
                return status, event["data"]  # the runner finishes storing it on its own
            elif kind == "error":
                error = event.get("exception")
                if isinstance(error, BlueprintError):
                    raise error
                raise BlueprintError(str(event["data"].get("message", "internal error")))
    raise BlueprintError("the run ended without a blueprint")


@api_router.get(
    ENRICHMENT_PATH + "/{blueprint_id}",
    response_model=Blueprint,
    summary="A previously generated blueprint, from the cache",
    responses={
        200: {
            "content": {"application/json": {"example": BLUEPRINT_EXAMPLE},
                        "text/markdown": {"schema": {"type": "string"}}},
            "headers": {"X-Cache": {"description": "Always HIT", "schema": {"type": "string"}}},
        },
        **_errors(401, 404, 422, 429, 500, 503),
    },
)
async def get_enrichment(
    blueprint_id: Annotated[
        str, Path(pattern=r"^bp_[0-9a-f]{6,64}$", examples=["bp_3f1c9a0e2b7d4c5a8e6f1b2c"])
    ],
    runner: RunnerDep,
    tenant: TenantDep,
    markdown: WantsMarkdown,
) -> Any:
    found = await runner.find(blueprint_id, tenant=tenant)  # another tenant's id: as if it never existed
    if found is None:
        raise NotFound(
            f"No blueprint {blueprint_id}: it was never generated here for this API key, has expired, or "
            "the cache is disabled.",
            details={"blueprint_id": blueprint_id},
        )
    found["meta"] = {**found.get("meta", {}), "cache": "hit"}
    if markdown:
        return markdown_response(found)
    return json_response(found, headers={"X-Cache": "HIT"})


# ───────────────────────────── health ─────────────────────────────

health_router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"
    version: str
    cache: str


@health_router.get("/healthz", response_model=Health, summary="Liveness (never requires an API key)")
async def healthz(cache: CacheDep) -> Health:
    # no I/O here: a probe must stay cheap, and report the cache as the run left it
    return Health(version=package_version(), cache="disabled" if cache.disabled_reason else "ok")
