"""Runs as resources: a run started now, followed and cancelled later, from any process sharing the cache.

:class:`RunManager` drives one :meth:`graph.run.BlueprintRunner.stream` per run in a background task
(so identical requests still share one in-flight graph run) and records every event twice: in memory,
where followers in this process are woken at once, and in the run cache (:class:`graph.run_store.RunStore`),
where followers in another process or replica poll for it. Events get ids 1, 2, 3, ... per run, so a
follower resumes exactly after the last id it saw — none lost, none repeated.

Statuses: ``queued`` (accepted; the graph has not begun), ``running``, ``done`` (the blueprint is
out), ``failed`` (an error, or a cancel: error code ``cancelled``). The record also holds the timings
(per node and overall), the warnings, and the id of the blueprint event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from graph.run import BlueprintRunner, Event
from graph.run_store import RunStore
from graph.schemas import EnrichmentRequest

__all__ = ["FINISHED", "RunManager", "new_run_id"]

log = logging.getLogger(__name__)
FINISHED = ("done", "failed")
POLL_S = 0.1  # how often a follower in another process looks for new events
CANCEL_POLL_S = 0.5  # how often the owner looks for a cancel asked on another replica
HEARTBEAT_S = 10.0  # how often the owner re-saves a quiet run's record, to show it is still alive
LOST_AFTER_S = 60.0  # a run whose owner has been silent this long died with its process
LOST = {"code": "run_lost", "details": {},
        "message": "The server process running this run stopped before it finished; start the run again."}
KEEP_FINISHED = 128  # finished runs kept in memory (the cache keeps them for their TTL)
CANCELLED = {"code": "cancelled", "message": "The run was cancelled.", "details": {}}


def new_run_id() -> str:
    return "run_" + secrets.token_hex(16)  # unguessable: a run id is as good as a link to it


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _LiveRun:
    """A run owned by this process: its record and every event so far, ids 1..n at index 0..n-1."""

    record: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return bool(self.events) and self.events[-1]["event"] == "done"


class RunManager:
    def __init__(self, runner: BlueprintRunner, store: RunStore) -> None:
        self.runner = runner
        self.store = store
        self._live: OrderedDict[str, _LiveRun] = OrderedDict()

    # ── public ──
    @property
    def active(self) -> int:
        """Runs of this process still in progress (for a cap on concurrent runs: these hold no request)."""
        return sum(1 for live in self._live.values() if not live.finished)

    async def start(
        self, request: EnrichmentRequest, *, tenant: str | None = None, request_id: str | None = None
    ) -> dict[str, Any]:
        """Accept a run and return its record (status ``queued``). Errors found before the run would
        begin (an engine that is not configured) are raised here, not recorded."""
        # the tenant scopes the run key (graph/tenancy.py): its blueprint is stored as that tenant's
        events = cast(AsyncGenerator[Event, None], self.runner.stream(request, tenant=tenant))
        first = await anext(events)  # run_started: cheap; the graph starts when the next event is asked for
        started = first["data"]
        record: dict[str, Any] = {
            "run_id": new_run_id(), "status": "queued", "blueprint_id": started.get("blueprint_id"),
            "engine": started.get("engine"), "cache": started.get("cache"), "website": request.website,
            "tenant": tenant, "request_id": request_id, "created_at": _now(), "started_at": None,
            "finished_at": None, "duration_ms": None, "nodes": {}, "warnings": [], "error": None,
            "blueprint_event_id": None, "last_event_id": 0, "heartbeat_at": time.time(),
        }
        live = _LiveRun(record=record)
        self._live[record["run_id"]] = live
        await asyncio.to_thread(self.store.save, dict(record))
        # the run outlives the request that started it; its log lines keep that request's id
        live.task = asyncio.create_task(self._drive(live, first, events), name=f"run {record['run_id']}")
        return dict(record)

    async def get(self, run_id: str) -> dict[str, Any] | None:
        live = self._live.get(run_id)
        if live is not None:
            return dict(live.record)
        return _unless_lost(await asyncio.to_thread(self.store.load, run_id))

    async def blueprint(self, record: dict[str, Any]) -> dict[str, Any] | None:
        event_id = record.get("blueprint_event_id")
        if not event_id:
            return None
        live = self._live.get(record["run_id"])
        found = (live.events[event_id - 1] if live is not None and len(live.events) >= event_id
                 else await asyncio.to_thread(self.store.event, record["run_id"], event_id))
        return found["data"] if found is not None and found["event"] == "blueprint" else None

    async def follow(self, run_id: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """The run's events with ids above ``after``, then live ones until ``done``."""
        live = self._live.get(run_id)
        if live is not None:
            index = max(0, after)
            while True:
                while index < len(live.events):
                    yield live.events[index]
                    index += 1
                if live.finished:
                    return
                live.changed.clear()
                if index >= len(live.events):  # (>=: a client may claim an id beyond the last one)
                    await live.changed.wait()
        last = after
        while True:
            batch = await asyncio.to_thread(self.store.events_after, run_id, last)
            for event in batch:
                yield event
                last = event["id"]
                if event["event"] == "done":
                    return
            if not batch:
                record = _unless_lost(await asyncio.to_thread(self.store.load, run_id))
                if record is None or (record["status"] in FINISHED and record["last_event_id"] <= last):
                    return
                await asyncio.sleep(POLL_S)

    async def cancel(self, run_id: str) -> dict[str, Any] | None:
        """Cancel the run; its record afterwards. A run owned by another process is asked to stop
        (``cancel_requested``) and stops within a moment."""
        live = self._live.get(run_id)
        if live is None:
            record = await asyncio.to_thread(self.store.load, run_id)
            if record is not None and record["status"] not in FINISHED:
                await asyncio.to_thread(self.store.request_cancel, run_id)
                record["cancel_requested"] = True
            return record
        if live.task is not None and not live.task.done():
            live.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(live.task)
        return dict(live.record)

    async def aclose(self) -> None:
        tasks = [live.task for live in self._live.values() if live.task is not None and not live.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ── internals ──
    async def _drive(self, live: _LiveRun, first: Event, events: AsyncGenerator[Event, None]) -> None:
        watcher = asyncio.create_task(self._watch(live, asyncio.current_task()))
        try:
            await self._record(live, first)
            async for event in events:
                await self._record(live, event)
        except asyncio.CancelledError:
            if not live.finished:  # followers must learn the run is over
                await events.aclose()  # leaves the shared run to other listeners, or cancels it
                await self._record(live, {"event": "error", "data": dict(CANCELLED)})
                await self._record(live, {"event": "done", "data": {}})
        except Exception:
            log.exception("run %s failed unexpectedly", live.record["run_id"])
            if not live.finished:
                error = {"code": "internal_error", "message": "internal error; the logs name the run", "details": {}}
                await self._record(live, {"event": "error", "data": error})
                await self._record(live, {"event": "done", "data": {}})
        finally:
            watcher.cancel()
            await events.aclose()
            self._retire()

    async def _watch(self, live: _LiveRun, task: asyncio.Task[Any] | None) -> None:
        """While the run lasts: stop it when another replica asked, and show it is alive when quiet."""
        if self.store.cache is None or task is None:
            return
        while not live.finished:
            await asyncio.sleep(CANCEL_POLL_S)
            if await asyncio.to_thread(self.store.cancel_requested, live.record["run_id"]):
                task.cancel()
                return
            if time.time() - live.record["heartbeat_at"] > HEARTBEAT_S:
                live.record["heartbeat_at"] = time.time()
                await asyncio.to_thread(self.store.save, dict(live.record))

    async def _record(self, live: _LiveRun, event: Event) -> None:
        name, data = event["event"], dict(event.get("data") or {})
        stored = {"id": len(live.events) + 1, "event": name, "data": data}
        record = live.record
        if name not in ("run_started", "done") and record["status"] == "queued":
            record["status"], record["started_at"] = "running", _now()
        if name == "node_completed":
            record["nodes"][data.get("node", "?")] = {"duration_ms": data.get("duration_ms")}
        elif name == "warning":
            record["warnings"].append(data)
        elif name == "blueprint":
            record["status"], record["blueprint_event_id"] = "done", stored["id"]
            record["blueprint_id"] = data.get("blueprint_id", record["blueprint_id"])
        elif name == "error":
            record["status"], record["error"] = "failed", data
        elif name == "done":
            if record["status"] not in FINISHED:  # a stream that ended without an answer
                record["status"] = "failed"
                record["error"] = {"code": "internal_error", "message": "The run ended without a blueprint.",
                                   "details": {}}
            record["finished_at"] = _now()
            record["duration_ms"] = round((time.monotonic() - live.started) * 1000, 1)
        record["last_event_id"], record["heartbeat_at"] = stored["id"], time.time()
        live.events.append(stored)
        live.changed.set()
        snapshot = dict(record)
        # shielded: a cancel arriving now must not leave the shared copy behind the local one
        await asyncio.shield(asyncio.to_thread(self._persist, snapshot, stored))

    def _persist(self, record: dict[str, Any], event: dict[str, Any]) -> None:
        self.store.append(record["run_id"], event)  # the event first: a record never names a missing one
        self.store.save(record)

    def _retire(self) -> None:
        finished = [run_id for run_id, live in self._live.items() if live.finished]
        for run_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._live[run_id]


def _unless_lost(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run another process owns, as it stands — or ``failed`` with ``run_lost`` when that process
    stopped heartbeating mid-run (it crashed or was killed), so nobody waits for it forever."""
    if record is None or record["status"] in FINISHED:
        return record
    if time.time() - float(record.get("heartbeat_at") or 0) > LOST_AFTER_S:
        return {**record, "status": "failed", "error": dict(LOST)}
    return record
