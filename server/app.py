"""The FastAPI application: ``create_app()`` (also uvicorn's factory: ``server.app:create_app``).

The lifespan owns everything long-lived — the HTTP clients (:class:`graph.resources.Resources`), the
run cache and the :class:`graph.run.BlueprintRunner` that shares in-flight runs — and preloads the
knowledge base so the first request does not pay for it. Nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from graph.admission import RunSlots
from graph.cache import AsyncPageCache, AsyncResponseCache, open_run_cache
from graph.fingerprint import package_version
from graph.knowledge import KnowledgeError, load_knowledge
from graph.resources import open_resources
from graph.run import BlueprintRunner
from graph.run_store import RunStore
from graph.runs import RunManager
from graph.settings import Settings, get_settings
from server.admission import AdmissionMiddleware
from server.errors import install_error_handlers
from server.logging import configure_logging
from server.memory import trim_heap
from server.middleware import RequestContextMiddleware
from server.page import page_router
from server.routes import api_router, health_router
from server.routes_exports import exports_router
from server.routes_runs import runs_router

__all__ = ["create_app"]

log = logging.getLogger("server.app")

DESCRIPTION = """\
Tells a revenue team which data points to collect about its leads, where each lives (Apollo, Clearbit,
BuiltWith, registries, the lead's own website...) and how to collect it — from the team's own website
and, optionally, its Ideal Customer Profile.

Every non-2xx answer is `{"error": {"code", "message", "details", "request_id"}}`. Send `X-Request-ID` to
correlate logs (one is generated otherwise; it is echoed on every answer). When the server has API keys
(`BLUEPRINT_API_KEYS`), every `/v1` route needs `Authorization: Bearer <key>` or `X-API-Key: <key>`.
"""


def _warm_up(settings: Settings) -> None:
    """Load the knowledge base (a broken one stops start-up, not a request), then import and compile what
    a run needs — the graph, the engine's phrase matchers (~1 s in all) and the LLM client library when an
    LLM is configured — so the first request does not wait for them."""
    kb = load_knowledge()
    import graph.compiled
    from graph.engine.warm import warm_up

    warm_up(kb)
    if settings.llm_configured:
        import graph.engine.llm  # noqa: F401


class StartupReportMiddleware:
    """Replaces the traceback Starlette sends with a failed start-up (uvicorn prints it) by the report
    the lifespan left in ``report``: an invalid knowledge pack reads as ``blueprint knowledge validate``
    prints it. Every other scope passes through untouched."""

    def __init__(self, app: Any, report: list[str]) -> None:
        self.app, self.report = app, report

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def reporting(message: Any) -> None:
            if message.get("type") == "lifespan.startup.failed" and self.report:
                message = {**message, "message": "cannot start: " + self.report[-1]}
            await send(message)

        await self.app(scope, receive, reporting)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. ``settings`` defaults to the process settings (environment and ``.env``)."""
    configure_logging(secrets=(settings or get_settings()).secret_values)

    startup_report: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = settings or get_settings()
        cache = open_run_cache(active)
        # opening probes the folder: an unusable one is logged once and the service runs uncached
        available = await asyncio.to_thread(lambda: cache.available)
        try:
            await asyncio.to_thread(_warm_up, active)
        except KnowledgeError as exc:
            await asyncio.to_thread(cache.close)
            startup_report.append(exc.report())  # what the server says instead of a traceback
            raise
        page_cache = AsyncPageCache(cache) if available else None
        # provider answers are memoized like on the CLI/Python path (company 30 days, person 7 days): a
        # `refresh` runs the graph again but does not pay the providers again for what they just said
        responses = AsyncResponseCache(cache) if available else None
        async with open_resources(active, page_cache=page_cache, response_cache=responses) as resources:
            slots = RunSlots(active.max_runs, active.run_queue)  # cold runs at once, and waiting
            runner = BlueprintRunner(settings=active, cache=cache, resources=resources, slots=slots,
                                     refresh_interval_s=active.refresh_interval_s)
            await runner.secret.get()  # read (or made) once now, not by the first request
            app.state.settings, app.state.cache, app.state.runner = active, cache, runner
            app.state.runs = runs = RunManager(runner, RunStore(cache, active.cache_ttl_s))
            # Everything loaded so far lives as long as the process (~200k objects: modules, the knowledge
            # base, compiled matchers); a full garbage collection walks all of them, ~100 ms with the event
            # loop stopped. Frozen, they are skipped; unfrozen at shutdown, so an embedding process (tests,
            # a notebook) can free them.
            gc.collect()
            trim_heap()  # what start-up freed goes back to the system (server/memory.py says why)
            gc.freeze()
            # last: "ready" is said once start-up's work is done (the server listens right after)
            log.info(
                "ready", extra={"cache": "ok" if available else "disabled", "auth": bool(active.api_keys)}
            )
            try:
                yield
            finally:
                gc.unfreeze()
                await runs.aclose()
                await runner.aclose()
                await asyncio.to_thread(cache.close)

    # /docs and /redoc load Swagger UI and ReDoc from this server (under /static-offline-docs), not from a
    # CDN, so the API docs work on an air-gapped machine
    app = FastAPIOffline(
        title="Enrichment Blueprint",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        # Starlette's trailing-slash redirect builds an absolute URL from the Host header: a forged Host
        # would be reflected into Location. No route ends in "/", so "/x/" is a plain 404 envelope.
        redirect_slashes=False,
    )
    install_error_handlers(app)
    app.add_middleware(StartupReportMiddleware, report=startup_report)
    app.add_middleware(AdmissionMiddleware)  # inside the request context: its refusals carry the request id
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(exports_router)
    app.include_router(runs_router)
    app.include_router(page_router)
    return app
