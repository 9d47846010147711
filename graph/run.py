"""Running the graph: cache lookup, one run per identical request, events as they happen.

:class:`BlueprintRunner` is what the HTTP server, the CLI and the Python API share. ``stream()`` yields
the contract's events (``run_started``, ``node_started``, ``node_completed``, ``warning``,
``blueprint``, ``done``, or ``error`` then ``done``) as dicts ``{"event": name, "data": {...}}``; an
``error`` event also carries the raised exception under ``"exception"`` (not part of the wire format).

Stampede protection: identical concurrent requests share one in-flight run per process (every
subscriber replays its events from the start), and processes sharing a cache take a run lock
(:mod:`graph.run_lock`) so only one of them runs the graph; the others wait for its result in the
cache. A subscriber that goes away cancels the run only when nobody else is waiting on it. A run
starts when a subscriber asks for the event after ``run_started``: a stream's first event is sent
before the graph takes the event loop, and a client gone by then costs no run. Cached pages of the
seller's site are reused only in cache mode ``use``; ``refresh`` and ``bypass`` read the site again
(``bypass`` reads and writes no cache at all, provider answers included).

Admission: in the server, a new run (never one that joins an identical
flight) takes a place among the process's run slots (:mod:`graph.admission`, ``BLUEPRINT_MAX_RUNS``),
waiting in a bounded queue for its turn, or is refused with ``Overloaded`` before its first event.

Tenancy (:mod:`graph.tenancy`): ``tenant`` (the HTTP API's key holder, ``None`` elsewhere) goes into
the run key, so tenants share neither cache entries nor runs nor ids, and :meth:`find` answers a
blueprint id only to whoever may read it. With ``refresh_interval_s`` (the server's
``BLUEPRINT_REFRESH_INTERVAL_S``) a ``refresh`` that would start a run is refused with ``RateLimited``
while the same tenant's previous refresh of the same blueprint is younger than the window; joining an
identical refresh already running here costs nothing and is let through.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from graph.admission import RunSlots, RunTicket
from graph.cache import AsyncPageCache, AsyncResponseCache, RunCache, open_run_cache
from graph.engine.custom import unknown_custom_sources
from graph.fingerprint import blueprint_id_for, run_key
from graph.hot_cache import HotCache, hit_bytes
from graph.knowledge import load_knowledge
from graph.node_outputs import lazy_outputs, with_outputs
from graph.resources import Resources, open_resources, use_resources
from graph.run_lock import RunLocks
from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import Settings, get_settings
from graph.state import Context
from graph.tenancy import PUBLIC_SCOPE, RefreshLimiter, ServerSecret, may_read, scope_for, tenant_id
from tools.errors import BlueprintError, InvalidRequest

__all__ = ["BlueprintRunner", "Event", "open_runner"]

log = logging.getLogger(__name__)
Event = dict[str, Any]


@dataclass
class _Flight:
    """One in-flight run and everything it has published so far."""

    key: str
    events: list[Event] = field(default_factory=list)
    finished: bool = False
    delivered: bool = False  # the blueprint is out; what remains (storing it) must not be cancelled
    error: BlueprintError | None = None
    subscribers: int = 0
    task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # starts the run; called when a subscriber asks for the event after ``run_started``, so a stream's
    # first event is on the wire before the graph takes the event loop
    starter: Callable[[], Coroutine[Any, Any, None]] | None = None
    ticket: RunTicket | None = None  # its place among the process's run slots (graph/admission.py)

    def publish(self, event: str, data: dict[str, Any], exception: BaseException | None = None) -> None:
        self.events.append({"event": event, "data": data, **({"exception": exception} if exception else {})})
        self.changed.set()

    def start(self) -> None:
        if self.task is None and self.starter is not None:
            self.task, self.starter = asyncio.create_task(self.starter()), None

    async def follow(self) -> AsyncIterator[Event]:
        index = 0
        while True:
            while index < len(self.events):
                yield self.events[index]
                index += 1
            self.start()
            if self.finished:
                return
            self.changed.clear()
            if index == len(self.events) and not self.finished:
                await self.changed.wait()


class BlueprintRunner:
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        cache: RunCache | None = None,
        resources: Resources | None = None,
        hot_ttl_s: float = 5.0,
        refresh_interval_s: float = 0.0,
        slots: RunSlots | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.cache = cache
        self.locks = RunLocks(cache) if cache is not None else None
        self.resources = resources
        self.secret = ServerSecret(self.settings, cache)
        # 0: refresh as often as asked (the CLI and the Python API); the server passes its setting
        self.refresh_limit = RefreshLimiter(refresh_interval_s)
        self._flights: dict[str, _Flight] = {}
        self.graph_runs = 0  # how many times this runner actually executed the graph
        # finished blueprints as response bytes, never kept longer than the shared cache keeps them
        ttl = self.settings.cache_ttl_s
        self.hot = HotCache(ttl_s=min(hot_ttl_s, ttl) if ttl else hot_ttl_s)
        self.slots = slots  # the server's cap on concurrent new runs; None: no cap (CLI, Python API)

    # ── public ──
    async def stream(
        self,
        request: EnrichmentRequest,
        *,
        engine: str | None = None,
        model: str | None = None,
        tenant: str | None = None,
        outputs: bool = True,
    ) -> AsyncGenerator[Event, None]:
        """The run's events (see the module's docstring). ``outputs=False``: a caller that never reads a
        ``node_completed`` event's ``output`` (a plain JSON answer) gets it undumped, and no dump is made
        on its behalf (:mod:`graph.node_outputs`)."""
        resolved, model, key = await self._identify(request, engine, model, tenant)
        blueprint_id = blueprint_id_for(key, await self.secret.get())
        mode = request.options.cache
        cache = self.cache if mode != "bypass" and self.cache is not None else None
        if cache is not None and not cache.is_open and not await asyncio.to_thread(getattr, cache, "available"):
            cache = None
        if mode == "refresh":
            if cache is not None and f"{key}:refresh" not in self._flights:  # joining one costs nothing
                # raises RateLimited; no await follows before the flight is registered, so identical
                # refreshes waiting on the same claim all join the one run
                await self.refresh_limit.claim(cache, f"{tenant or '-'}:{key}")
            self.hot.discard(key)  # this process must not answer the entry being replaced
        if mode == "use" and cache is not None:
            hit = await asyncio.to_thread(cache.get, key)
            if hit is not None:
                # the stored id: one made under an earlier server secret is still the one GET finds
                started = {"blueprint_id": hit.get("blueprint_id", blueprint_id), "cache": "hit", "engine": resolved}
                yield {"event": "run_started", "data": started}
                yield {"event": "blueprint", "data": _as_hit(hit)}
                yield {"event": "done", "data": {}}
                return
        flight_key = f"{key}:{mode}" if mode != "bypass" else f"{key}:bypass:{id(request)}"
        flight = self._flights.get(flight_key)
        if flight is None:
            # a new run needs a place among the run slots; Overloaded (503) before anything is published
            flight = _Flight(key=flight_key, ticket=self.slots.reserve() if self.slots else None)
            self._flights[flight_key] = flight
            context = Context(engine=resolved, model=model, blueprint_id=blueprint_id)
            status = "bypass" if mode == "bypass" else "miss"
            flight.publish("run_started", {"blueprint_id": blueprint_id, "cache": status, "engine": resolved})
            scope = scope_for(request, tenant, share_public=self.settings.share_public_blueprints)
            owner = (tenant, scope == PUBLIC_SCOPE)
            flight.starter = functools.partial(self._execute, flight, request, key, context, cache, status, owner)
        flight.subscribers += 1
        try:
            async for event in flight.follow():
                yield with_outputs(event) if outputs else event
        finally:
            flight.subscribers -= 1
            if flight.subscribers == 0 and not (flight.finished or flight.delivered):
                if flight.task is not None:
                    flight.task.cancel()  # nobody is listening any more
                elif self._flights.get(flight_key) is flight:  # left before the run began: never run it
                    del self._flights[flight_key]
                    if flight.ticket is not None:
                        flight.ticket.release()

    async def cached_json(
        self,
        request: EnrichmentRequest,
        *,
        engine: str | None = None,
        model: str | None = None,
        tenant: str | None = None,
    ) -> bytes | None:
        """A cache hit as ready-to-send JSON bytes (``meta.cache`` = ``hit``), or ``None`` (then use
        :meth:`stream`). Served from the in-process hot cache without a thread hop, parse or
        serialisation; a miss there is looked up in the shared cache once and kept hot."""
        if request.options.cache != "use" or self.cache is None:
            return None
        try:
            _, _, key = await self._identify(request, engine, model, tenant)
        except InvalidRequest:
            return None  # stream() raises it with the full story
        body = self.hot.get(key)
        if body is not None:
            return body
        cache = self.cache
        if not cache.is_open and not await asyncio.to_thread(getattr, cache, "available"):
            return None
        found = await asyncio.to_thread(cache.get, key)
        if found is None:
            return None
        body = hit_bytes(found)
        self.hot.put(key, body)
        return body

    async def generate(
        self,
        request: EnrichmentRequest,
        *,
        engine: str | None = None,
        model: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        tenant: str | None = None,
    ) -> tuple[Blueprint, str]:
        """Run to completion; returns the blueprint and the cache status (hit|miss|bypass).

        ``on_event`` sees every event as it arrives (the CLI's progress display)."""
        status = "miss"
        events = self.stream(request, engine=engine, model=model, tenant=tenant, outputs=on_event is not None)
        async with contextlib.aclosing(events):
            async for event in events:
                if on_event is not None:
                    on_event(event)
                if event["event"] == "run_started":
                    status = event["data"]["cache"]
                elif event["event"] == "blueprint":
                    blueprint = Blueprint.model_validate(event["data"])
                    return blueprint, blueprint.meta.cache if status != "bypass" else "bypass"
                elif event["event"] == "error":
                    raise self._error_of(event)
        raise BlueprintError("the run ended without a blueprint")

    async def find(self, blueprint_id: str, *, tenant: str | None = None) -> dict[str, Any] | None:
        """The stored blueprint ``blueprint_id`` if ``tenant`` may read it; else ``None``, exactly as
        for an id that never existed (an answer must not tell whose it is)."""
        cache = self.cache
        if cache is None:
            return None
        share = self.settings.share_public_blueprints

        def lookup() -> dict[str, Any] | None:
            entry = cache.lookup_id(blueprint_id)
            if entry is None or not may_read(entry, tenant, share_public=share):
                return None
            return cache.get(entry.key)

        return await asyncio.to_thread(lookup)

    async def tenant_for(self, api_key: str) -> str:
        """The tenant id of an API key (what is stored with its blueprints instead of the key)."""
        return tenant_id(await self.secret.get(), api_key)

    async def aclose(self) -> None:
        """Cancel the runs still in flight and wait until every run lock is released: a caller closes
        the cache only after this (``asyncio.run`` would otherwise drop a pending release)."""
        for flight in list(self._flights.values()):
            if flight.task is not None and not flight.task.done():
                flight.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flight.task
        if self.locks is not None:
            await self.locks.aclose()

    # ── internals ──
    async def _identify(
        self, request: EnrichmentRequest, engine: str | None, model: str | None, tenant: str | None = None
    ) -> tuple[Literal["catalog", "llm"], str | None, str]:
        """The resolved engine, the model and the run key (whose blueprint it is included)."""
        resolved = self.settings.resolve_engine(engine or request.options.engine)  # type: ignore[arg-type]
        if resolved == "llm" and not self.settings.llm_configured:
            raise InvalidRequest(
                "engine 'llm' needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL, or use engine 'catalog'",
                details={"field": "options.engine"},
            )
        model = (model or self.settings.blueprint_model) if resolved == "llm" else None
        # the knowledge base is loaded once per process: only the first load is worth a thread hop
        kb = load_knowledge() if load_knowledge.cache_info().currsize else await asyncio.to_thread(load_knowledge)
        unknown = unknown_custom_sources(request, kb)
        if unknown:
            raise InvalidRequest(
                f"options.custom_data_points names unknown sources: {', '.join(unknown)}",
                details={"field": "options.custom_data_points", "unknown_sources": unknown,
                         "known_sources": sorted(kb.sources)},
            )
        scope = scope_for(request, tenant, share_public=self.settings.share_public_blueprints)
        return resolved, model, run_key(
            request, engine=resolved, model=model, knowledge_version=kb.version, scope=scope
        )

    def _error_of(self, event: Event) -> BlueprintError:
        error = event.get("exception")
        if isinstance(error, BlueprintError):
            return error
        exc = BlueprintError(event["data"].get("message", "internal error"))
        exc.code = event["data"].get("code", "internal_error")
        return exc

    async def _execute(
        self, flight: _Flight, request: EnrichmentRequest, key: str, context: Context,
        cache: RunCache | None, status: str, owner: tuple[str | None, bool] = (None, False),
    ) -> None:
        locked = False
        try:
            if flight.ticket is not None:
                await flight.ticket.acquire()  # queued behind the runs already holding a slot
            if cache is not None and self.locks is not None:
                refresh = request.options.cache == "refresh"
                locked, shared = await self.locks.acquire(key, refresh=refresh)
                if shared is not None:  # another process ran it meanwhile
                    flight.publish("blueprint", _as_hit(shared))
                    flight.delivered = True
                    return
            blueprint = await self._run_graph(flight, request, context, cache)
            blueprint["meta"]["cache"] = status
            if cache is not None:  # stored before it is answered: a GET by id right after must find it
                await asyncio.to_thread(functools.partial(cache.set, key, blueprint, owner=owner[0], shared=owner[1]))
                self.hot.put(key, hit_bytes(blueprint))
            flight.publish("blueprint", blueprint)
            flight.delivered = True  # a listener leaving now must not cancel the unlock that follows
        except BlueprintError as exc:
            flight.error = exc
            flight.publish("error", exc.to_dict(), exc)
            flight.delivered = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("run failed unexpectedly")
            flight.error = BlueprintError(f"internal error ({type(exc).__name__})")
            flight.publish("error", flight.error.to_dict(), flight.error)
            flight.delivered = True
        finally:
            # the bookkeeping comes first and never awaits: a listener leaving now (which may cancel
            # this task) must not leave the flight registered, or identical requests would wait forever
            flight.finished = True
            flight.publish("done", {})
            self._flights.pop(flight.key, None)
            if flight.ticket is not None:
                flight.ticket.release()
            if locked and self.locks is not None:
                await self.locks.release(key)  # runs to the end even when this task is being cancelled

    async def _run_graph(
        self, flight: _Flight, request: EnrichmentRequest, context: Context, cache: RunCache | None
    ) -> dict[str, Any]:
        from graph.compiled import graph

        self.graph_runs += 1
        inputs = request.model_dump(mode="json")
        reuse_pages = request.options.cache == "use"  # refresh/bypass mean: read the site again
        async with contextlib.AsyncExitStack() as stack:
            resources = self.resources
            if resources is None:
                page_cache = AsyncPageCache(cache) if cache is not None and reuse_pages else None
                responses = AsyncResponseCache(cache) if cache is not None else None
                resources = await stack.enter_async_context(
                    open_resources(self.settings, page_cache=page_cache, response_cache=responses))
            else:  # same clients; refresh/bypass read the site again, bypass touches no cache at all
                if not reuse_pages and resources.page_cache is not None:
                    resources = dataclasses.replace(resources, page_cache=None)
                if cache is None and resources.response_cache is not None:
                    resources = dataclasses.replace(resources, response_cache=None)
            stack.enter_context(use_resources(resources))
            stack.enter_context(lazy_outputs())  # dumped for the subscribers that read them (stream())
            blueprint: dict[str, Any] | None = None
            async for mode, payload in graph.astream(inputs, context=context, stream_mode=["custom", "updates"]):
                if mode == "custom" and isinstance(payload, dict) and "event" in payload:
                    data = {k: v for k, v in payload.items() if k != "event"}
                    flight.publish(payload["event"], data)
                elif mode == "updates" and isinstance(payload, dict) and "assemble" in payload:
                    blueprint = payload["assemble"]["blueprint"]
        if blueprint is None:
            raise BlueprintError("the graph finished without a blueprint")
        return blueprint


def _as_hit(blueprint: dict[str, Any]) -> dict[str, Any]:
    meta = {**blueprint.get("meta", {}), "cache": "hit"}
    return {**blueprint, "meta": meta}


@contextlib.asynccontextmanager
async def open_runner(settings: Settings | None = None) -> AsyncIterator[BlueprintRunner]:
    """A runner with its own run cache (from settings), for one-off callers: the Python API and the CLI.
    The server keeps one runner for its whole lifespan instead."""
    settings = settings or get_settings()
    cache = open_run_cache(settings)
    runner = BlueprintRunner(settings=settings, cache=cache)
    try:
        yield runner
    finally:
        await runner.aclose()
        cache.close()
