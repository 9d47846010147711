"""Runner events → Server-Sent Events.

The runner yields ``{"event": name, "data": {...}}`` (an ``error`` event also carries the Python
exception under ``"exception"``, which never goes on the wire). Each becomes one
:class:`fastapi.sse.ServerSentEvent` with ``event:`` = name, ``id:`` = 1, 2, 3, ... and ``data:`` = the
payload as compact JSON. FastAPI's SSE response adds keep-alive comments while the run is quiet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi.sse import ServerSentEvent

from graph.run import Event

__all__ = ["EVENT_NAMES", "SSE_EXAMPLE", "to_sse", "wire_data"]

EVENT_NAMES = ("run_started", "node_started", "node_completed", "warning", "blueprint", "error", "done")


def wire_data(event: Event, request_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = dict(event.get("data") or {})
    if event["event"] == "error":
        data.setdefault("details", {})
        data["request_id"] = request_id
    return data


async def to_sse(
    events: AsyncIterator[Event], request_id: str | None, start_id: int = 1
) -> AsyncIterator[ServerSentEvent]:
    next_id = start_id
    async for event in events:
        payload = orjson.dumps(wire_data(event, request_id)).decode()
        yield ServerSentEvent(event=event["event"], id=str(next_id), raw_data=payload)
        next_id += 1


SSE_EXAMPLE = """\
event: run_started
data: {"blueprint_id":"bp_3f1c9a0e2b7d4c5a8e6f1b2c","cache":"miss","engine":"catalog"}
id: 1

event: node_started
data: {"node":"fetch_site"}
id: 2

event: node_completed
data: {"node":"fetch_site","duration_ms":412.5,"output":{"pages":["https://tablely.example/"],"words":1830,"errors":[]}}
id: 3

event: node_started
data: {"node":"firmographic"}
id: 8

event: node_completed
data: {"node":"firmographic","duration_ms":3.1,"output":{"data_points":[{"key":"location_count"}]}}
id: 9

event: warning
data: {"code":"provider_skipped","message":"No APOLLO_API_KEY: Apollo was not used.","node":"analyze_company"}
id: 17

event: blueprint
data: {"schema_version":"1","blueprint_id":"bp_3f1c9a0e2b7d4c5a8e6f1b2c","website":"https://tablely.example"}
id: 18

event: done
data: {}
id: 19

"""
