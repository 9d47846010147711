"""The reference: a bare FastAPI app answering the same JSON bytes, and a bare SSE endpoint.

Run by the benchmark in its own uvicorn process, configured like ``blueprint serve``, so both sides pay
the same process, event loop and loopback costs: ``BENCH_BARE_JSON`` names the file with the bytes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

FIRST_EVENT = '{"blueprint_id":"bp_000000000000000000000000","cache":"bypass","engine":"catalog"}'


def create_app() -> FastAPI:
    body = Path(os.environ["BENCH_BARE_JSON"]).read_bytes()
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    @app.post("/bare-sse", response_class=EventSourceResponse)
    async def bare_sse() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(event="run_started", id="1", raw_data=FIRST_EVENT)
        yield ServerSentEvent(event="done", id="2", raw_data="{}")

    return app
