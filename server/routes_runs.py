"""Runs as resources (the long-running-operation pattern): start a run, look at it, follow its events, cancel it.

``POST /v1/campaigns/enrichment/runs`` (the same body as ``POST /v1/campaigns/enrichment``) answers
``202`` with ``Location: …/runs/{run_id}`` at once; a cache hit answers ``200`` with the blueprint's
location instead. ``GET …/runs/{run_id}`` is the run's status, timings, warnings and, once done, its
blueprint. ``GET …/runs/{run_id}/events`` streams the run's events (ids 1, 2, 3, ...) from after
``Last-Event-ID`` (or ``?last_event_id=``, or the start) and follows it live until ``done``; several
clients may follow one run, from any process sharing the run cache. ``DELETE …/runs/{run_id}`` cancels it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from graph.runs import FINISHED, RunManager
from server.deps import AuthDep, RequestIdDep, RunnerDep, SettingsDep, TenantDep, require_api_key
from server.errors import json_response
from server.events import wire_data
from server.routes import ENRICHMENT_PATH, CheckedRequest, _errors
from server.run_access import sign_stream, stream_token_valid
from tools.errors import NotFound, Unauthorized

__all__ = ["runs_router"]

RUNS_PATH = ENRICHMENT_PATH + "/runs"
RUN_ID = Annotated[str, Path(pattern=r"^run_[0-9a-f]{32}$", examples=["run_5b0c8e1f2a3d4c6b9e7f0a1b2c3d4e5f"])]
HIDDEN = ("tenant", "blueprint_event_id", "heartbeat_at")  # bookkeeping, not part of the resource


class RunLinks(BaseModel):
    self: str
    events: str | None = Field(description="The event stream; carries a short-lived `token` when API keys are "
                               "set. `null` on a cache hit.")
    blueprint: str | None = Field(default=None, description="The blueprint's own resource, once done.")


class RunResource(BaseModel):
    run_id: str | None = Field(description="`null` on a cache hit (no run was needed).")
    status: str = Field(description="queued | running | done | failed")
    website: str | None = None
    blueprint_id: str | None = None
    engine: str | None = None
    cache: str | None = Field(default=None, description="hit | miss | bypass")
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: float | None = None
    nodes: dict[str, Any] = Field(default_factory=dict, description="Per node: `{duration_ms}`.")
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    error: dict[str, Any] | None = Field(default=None, description="`{code, message, details}` when failed.")
    last_event_id: int = 0
    request_id: str | None = None
    cancel_requested: bool | None = None
    links: RunLinks | None = None
    blueprint: dict[str, Any] | None = Field(default=None, description="The blueprint, once done.")


async def get_runs(request: Request) -> RunManager:
    runs: RunManager = request.app.state.runs
    return runs


RunsDep = Annotated[RunManager, Depends(get_runs)]


async def _owned_run(run_id: str, runs: RunManager, owner: str | None) -> dict[str, Any]:
    record = await runs.get(run_id)
    if record is None or record.get("tenant") != owner:  # another key's run is as absent as a missing one
        raise NotFound(f"No run {run_id}: it never existed here, or has expired.", details={"run_id": run_id})
    return record


def _resource(record: dict[str, Any], settings: SettingsDep, blueprint: dict[str, Any] | None = None) -> dict:
    run_id = record["run_id"]
    token = sign_stream(settings, run_id, record.get("tenant"))
    links = {"self": f"{RUNS_PATH}/{run_id}",
             "events": f"{RUNS_PATH}/{run_id}/events" + (f"?token={token}" if token else ""),
             "blueprint": f"{ENRICHMENT_PATH}/{record['blueprint_id']}" if record["status"] == "done" else None}
    body = {k: v for k, v in record.items() if k not in HIDDEN}
    return {**body, "links": links, "blueprint": blueprint}


runs_router = APIRouter(tags=["runs"])


@runs_router.post(
    RUNS_PATH,
    status_code=202,
    response_model=RunResource,
    summary="Start a run (answers at once; follow it by its events or its status)",
    description=(
        "Same body as `POST /v1/campaigns/enrichment`. Answers `202 Accepted` with `Location: "
        "/v1/campaigns/enrichment/runs/{run_id}` and the run (status `queued`). When the blueprint is "
        "already in the cache, answers `200` with `Location` = the blueprint's own URL and no run."
    ),
    responses={200: {"description": "Cache hit: `Location` is the blueprint."}, **_errors(401, 422, 429, 500)},
    dependencies=[AuthDep],
)
async def start_run(
    body: CheckedRequest, runner: RunnerDep, runs: RunsDep, settings: SettingsDep, tenant: TenantDep,
    request_id: RequestIdDep,
) -> Response:
    hit = await runner.cached_json(body, tenant=tenant)
    if hit is not None:
        blueprint_id = orjson.loads(hit)["blueprint_id"]
        location = f"{ENRICHMENT_PATH}/{blueprint_id}"
        answer = {"run_id": None, "status": "done", "blueprint_id": blueprint_id, "cache": "hit",
                  "website": body.website, "links": {"self": location, "events": None, "blueprint": location}}
        return json_response(answer, 200, headers={"Location": location, "X-Cache": "HIT"})
    record = await runs.start(body, tenant=tenant, request_id=request_id)
    return json_response(_resource(record, settings), 202, headers={"Location": f"{RUNS_PATH}/{record['run_id']}"})


@runs_router.get(
    RUNS_PATH + "/{run_id}",
    response_model=RunResource,
    summary="A run: status, timings, warnings, and the blueprint once done",
    responses=_errors(401, 404, 422, 500),
    dependencies=[AuthDep],
)
async def get_run(run_id: RUN_ID, runs: RunsDep, settings: SettingsDep, tenant: TenantDep) -> Response:
    record = await _owned_run(run_id, runs, tenant)
    blueprint = await runs.blueprint(record) if record["status"] == "done" else None
    return json_response(_resource(record, settings, blueprint))


@runs_router.delete(
    RUNS_PATH + "/{run_id}",
    response_model=RunResource,
    summary="Cancel a run",
    description=(
        "Stops the run (it ends `failed` with error code `cancelled`; a graph run shared with an identical "
        "request still in progress elsewhere goes on for that one). A finished run is left as it is. "
        "`200` with the run once stopped; `202` with `cancel_requested` when another replica owns it."
    ),
    responses={202: {"description": "Asked the owning replica to stop the run."}, **_errors(401, 404, 422, 500)},
    dependencies=[AuthDep],
)
async def cancel_run(run_id: RUN_ID, runs: RunsDep, settings: SettingsDep, tenant: TenantDep) -> Response:
    await _owned_run(run_id, runs, tenant)
    record = await runs.cancel(run_id)
    if record is None:
        raise NotFound(f"No run {run_id}.", details={"run_id": run_id})
    status = 202 if record.get("cancel_requested") and record["status"] not in FINISHED else 200
    return json_response(_resource(record, settings), status)


_bearer = HTTPBearer(auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


async def readable_run(
    request: Request, run_id: RUN_ID, runs: RunsDep, settings: SettingsDep,
    token: Annotated[str | None, Query(description="The stream token from the run's `links.events`.")] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    api_key: Annotated[str | None, Depends(_api_key)] = None,
) -> dict[str, Any]:
    """The run, when the caller may read its events: by API key (header) or by the run's stream token."""
    if not settings.api_keys:
        return await _owned_run(run_id, runs, None)
    key = (bearer.credentials if bearer else None) or api_key
    if key:
        await require_api_key(request, settings, bearer, api_key)  # leaves the key's tenant on request.state
        return await _owned_run(run_id, runs, request.state.tenant)
    if not token:
        raise Unauthorized("An API key (header) or the run's stream token (`?token=`, from the run's "
                           "`links.events`) is required.")
    record = await runs.get(run_id)
    if record is None or not stream_token_valid(settings, token, run_id, record.get("tenant")):
        raise Unauthorized("The stream token is not valid for this run, or has expired: fetch the run again.")
    return record


class _NothingMore(Exception):
    """The run is over and the client has seen its every event."""


class RunEventsRoute(APIRoute):
    """Answers ``204 No Content`` to a client resuming after a finished run's last event: the SSE way to
    tell an ``EventSource`` to stop reconnecting (an empty ``200`` stream would have it come back forever)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except _NothingMore:
                return Response(status_code=204)

        return route


async def resume_point(
    record: Annotated[dict[str, Any], Depends(readable_run)],
    last_event_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="Resume after this event id.")] = None,
) -> int:
    after = last_event_id or 0
    if last_event_header and last_event_header.strip().isdigit():
        after = max(after, int(last_event_header.strip()))
    if record["status"] in FINISHED and after >= record["last_event_id"] > 0:
        raise _NothingMore
    return after


async def run_events(
    record: Annotated[dict[str, Any], Depends(readable_run)],
    after: Annotated[int, Depends(resume_point)],
    runs: RunsDep,
) -> AsyncIterator[ServerSentEvent]:
    first, ended = True, False
    async for event in runs.follow(record["run_id"], after):
        payload = orjson.dumps(wire_data(event, record.get("request_id"))).decode()
        # retry: a browser that lost the stream comes back after 1 s instead of its default 3-5 s
        yield ServerSentEvent(event=event["event"], id=str(event["id"]), raw_data=payload,
                              retry=1000 if first else None)
        first, ended = False, event["event"] == "done"
    if not ended:
        # the client resumed after an id past the run's last event while it was running: nothing was left to
        # send, yet every stream ends with `done` (its id is the client's own, so a reconnect gets 204)
        yield ServerSentEvent(event="done", id=str(after), raw_data="{}")


# added rather than decorated: only add_api_route takes the route class
runs_router.add_api_route(
    RUNS_PATH + "/{run_id}/events",
    run_events,
    methods=["GET"],
    response_class=EventSourceResponse,
    route_class_override=RunEventsRoute,
    summary="The run's events (Server-Sent Events), resumable with Last-Event-ID",
    description=(
        "The events of `POST /v1/campaigns/enrichment` with `Accept: text/event-stream`, with ids 1, 2, 3, ... "
        "for this run: replayed from after `Last-Event-ID` (header, sent by `EventSource` when it reconnects) "
        "or `?last_event_id=`, else from the start, then followed live until `done`. Any number of clients may "
        "follow one run, on any replica sharing the run cache. Resuming after the last event of a finished run "
        "answers `204` (which tells `EventSource` to stop); resuming past the end of a running run sends `done` "
        "when it ends. Authenticate with the API key header, or with "
        "the `token` from the run's `links.events` (for `EventSource`, which cannot send headers)."
    ),
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
               204: {"description": "Nothing more: the run is over and every event was seen."},
               **_errors(401, 404, 422, 500)},
)
