"""Running the graph: cache lookup, one run per identical request, events as they happen.

:class:`BlueprintRunner` is what the HTTP server, the CLI and the Python API share. ``stream()`` yields
the contract's events (``run_started``, ``node_started``, ``node_completed``, ``warning``,
``blueprint``, ``done``, or ``error`` then ``done``) as dicts ``{"event": name, "data": {...}}``; an
``error`` event also carries the raised exception under ``"exception"`` (not part of the wire format).

Stampede protection: identical concurrent requests share one in-flight run per process (every
subscriber replays its events from the start), and processes sharing a cache folder take an atomic
lock so only one of them runs the graph; the others wait for its result in the cache. A subscriber that
goes away cancels the run only when nobody else is waiting on it. A run starts when a subscriber asks for
the event after ``run_started``: a stream's first event is sent before the graph takes the event loop,
and a client gone by then costs no run. Cached pages of the seller's site are reused only in cache mode
``use``; ``refresh`` and ``bypass`` read the site again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from graph.cache import AsyncPageCache, AsyncResponseCache, RunCache, open_run_cache
from graph.engine.custom import unknown_custom_sources
from graph.fingerprint import blueprint_id_for, run_key
from graph.hot_cache import HotCache, hit_bytes
from graph.knowledge import load_knowledge
from graph.resources import Resources, open_resources, use_resources
from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import Settings, get_settings
from graph.state import Context
from tools.errors import BlueprintError, InvalidRequest

__all__ = ["BlueprintRunner", "Event", "open_runner"]

log = logging.getLogger(__name__)
Event = dict[str, Any]
LOCK_TTL_S = 300.0
POLL_S = 0.05


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
    ) -> None:
        self.settings = settings or get_settings()
        self.cache = cache
        self.resources = resources
        self._flights: dict[str, _Flight] = {}
        self.graph_runs = 0  # how many times this runner actually executed the graph
        # finished blueprints as response bytes, never kept longer than the shared cache keeps them
        ttl = self.settings.cache_ttl_s
        self.hot = HotCache(ttl_s=min(hot_ttl_s, ttl) if ttl else hot_ttl_s)

    # ── public ──
    async def stream(
        self, request: EnrichmentRequest, *, engine: str | None = None, model: str | None = None
    ) -> AsyncIterator[Event]:
        resolved, model, key = await self._identify(request, engine, model)
        blueprint_id = blueprint_id_for(key)
        mode = request.options.cache
        if mode == "refresh":
            self.hot.discard(key)  # this process must not answer the entry being replaced
        cache = self.cache if mode != "bypass" and self.cache is not None else None
        if cache is not None and not cache.is_open and not await asyncio.to_thread(getattr, cache, "available"):
            cache = None
        if mode == "use" and cache is not None:
            hit = await asyncio.to_thread(cache.get, key)
            if hit is not None:
                started = {"blueprint_id": blueprint_id, "cache": "hit", "engine": resolved}
                yield {"event": "run_started", "data": started}
                yield {"event": "blueprint", "data": _as_hit(hit)}
                yield {"event": "done", "data": {}}
                return
        flight_key = f"{key}:{mode}" if mode != "bypass" else f"{key}:bypass:{id(request)}"
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = _Flight(key=flight_key)
            self._flights[flight_key] = flight
            context = Context(engine=resolved, model=model)
            status = "bypass" if mode == "bypass" else "miss"
            flight.publish("run_started", {"blueprint_id": blueprint_id, "cache": status, "engine": resolved})
            flight.starter = functools.partial(self._execute, flight, request, key, context, cache, status)
        flight.subscribers += 1
        try:
            async for event in flight.follow():
                yield event
        finally:
            flight.subscribers -= 1
            if flight.subscribers == 0 and not (flight.finished or flight.delivered):
                if flight.task is not None:
                    flight.task.cancel()  # nobody is listening any more
                elif self._flights.get(flight_key) is flight:  # left before the run began: never run it
                    del self._flights[flight_key]

    async def cached_json(
        self, request: EnrichmentRequest, *, engine: str | None = None, model: str | None = None
    ) -> bytes | None:
        """A cache hit as ready-to-send JSON bytes (``meta.cache`` = ``hit``), or ``None`` (then use
        :meth:`stream`). Served from the in-process hot cache without a thread hop, parse or
        serialisation; a miss there is looked up in the shared cache once and kept hot."""
        if request.options.cache != "use" or self.cache is None:
            return None
        try:
            _, _, key = await self._identify(request, engine, model)
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
    ) -> tuple[Blueprint, str]:
        """Run to completion; returns the blueprint and the cache status (hit|miss|bypass).

        ``on_event`` sees every event as it arrives (the CLI's progress display)."""
        status = "miss"
        async for event in self.stream(request, engine=engine, model=model):
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

    async def aclose(self) -> None:
        for flight in list(self._flights.values()):
            if flight.task is not None and not flight.task.done():
                flight.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flight.task

    # ── internals ──
    async def _identify(
        self, request: EnrichmentRequest, engine: str | None, model: str | None
    ) -> tuple[Literal["catalog", "llm"], str | None, str]:
        """The resolved engine, the model and the run key."""
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
        return resolved, model, run_key(request, engine=resolved, model=model, knowledge_version=kb.version)

    def _error_of(self, event: Event) -> BlueprintError:
        error = event.get("exception")
        if isinstance(error, BlueprintError):
            return error
        exc = BlueprintError(event["data"].get("message", "internal error"))
        exc.code = event["data"].get("code", "internal_error")
        return exc

    async def _execute(
        self, flight: _Flight, request: EnrichmentRequest, key: str, context: Context,
        cache: RunCache | None, status: str,
    ) -> None:
        locked = False
        try:
            if cache is not None:
                refresh = request.options.cache == "refresh"
                locked, shared = await self._acquire(cache, key, refresh=refresh)
                if shared is not None:  # another process ran it meanwhile
                    flight.publish("blueprint", _as_hit(shared))
                    flight.delivered = True
                    return
            blueprint = await self._run_graph(flight, request, context, cache)
            blueprint["meta"]["cache"] = status
            if cache is not None:  # stored before it is answered: a GET by id right after must find it
                await asyncio.to_thread(cache.set, key, blueprint)
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
            if locked and cache is not None:
                # shielded: the lock is released even when this task is being cancelled
                await asyncio.shield(asyncio.to_thread(cache.unlock, key))

    async def _acquire(
        self, cache: RunCache, key: str, *, refresh: bool = False
    ) -> tuple[bool, dict[str, Any] | None]:
        """Take the cross-process lock, or wait for the holder's result.

        With ``refresh`` an entry already in the cache is stale by definition: the lock holder runs
        anyway, and a waiter takes the entry only once the holder has released the lock (rewritten it).
        """
        deadline = time.monotonic() + LOCK_TTL_S
        while time.monotonic() < deadline:
            if await asyncio.to_thread(cache.try_lock, key, LOCK_TTL_S):
                if refresh:
                    return True, None
                hit = await asyncio.to_thread(cache.get, key)  # re-check: the holder may just have finished
                return True, hit
            await asyncio.sleep(POLL_S)
            if refresh and await asyncio.to_thread(cache.locked, key):
                continue
            hit = await asyncio.to_thread(cache.get, key)
            if hit is not None:
                return False, hit
        return False, None  # a stale lock: run anyway

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
            elif not reuse_pages and resources.page_cache is not None:
                resources = dataclasses.replace(resources, page_cache=None)  # same clients, no cached pages
            stack.enter_context(use_resources(resources))
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
