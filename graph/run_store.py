"""Where runs-as-resources live beyond one process: a record and an event log per run, in the run cache.

A run's record (status, timings, warnings, ...) is one JSON text under ``runs:<run_id>``; its events
are an append-only log under ``runs:<run_id>:events`` (diskcache items keyed by position, or a Redis
list), each ``{"id": n, "event": name, "data": {...}}`` with ``n`` = 1, 2, 3, ... So any process or
replica sharing the cache can answer ``GET …/runs/{id}`` and replay the events from any
``Last-Event-ID``. A cancel asked on another replica is a flag the owning process polls for.

Everything here is blocking (sqlite or Redis): callers on the event loop go through
``asyncio.to_thread``. With the cache disabled every write is dropped and every read finds nothing;
the owning process still serves its own runs from memory (:mod:`graph.runs`).
"""

from __future__ import annotations

from typing import Any

import orjson

from graph.cache import RunCache

__all__ = ["RunStore"]

MIN_TTL_S = 3600  # a run's events outlive the run long enough to reconnect, even with a tiny cache TTL


class RunStore:
    def __init__(self, cache: RunCache | None, ttl_s: int) -> None:
        self.cache = cache
        # 0 means "forever" for blueprints; runs are operations, not results: keep them a week at most
        self.ttl_s = max(MIN_TTL_S, ttl_s) if ttl_s else 7 * 24 * 3600

    def save(self, record: dict[str, Any]) -> None:
        if self.cache is not None:
            self.cache.set_text(f"runs:{record['run_id']}", orjson.dumps(record).decode(), self.ttl_s)

    def load(self, run_id: str) -> dict[str, Any] | None:
        raw = self.cache.get_text(f"runs:{run_id}") if self.cache is not None else None
        return orjson.loads(raw) if raw is not None else None

    def append(self, run_id: str, event: dict[str, Any]) -> None:
        """Store ``event`` (which carries its ``id``); the owner appends in order, one event at a time."""
        if self.cache is not None:
            self.cache.append_text(f"runs:{run_id}:events", orjson.dumps(event).decode(), self.ttl_s)

    def events_after(self, run_id: str, last_id: int) -> list[dict[str, Any]]:
        if self.cache is None:
            return []
        return [orjson.loads(raw) for raw in self.cache.texts_from(f"runs:{run_id}:events", last_id + 1)]

    def event(self, run_id: str, event_id: int) -> dict[str, Any] | None:
        found = self.cache.texts_from(f"runs:{run_id}:events", event_id)[:1] if self.cache is not None else []
        return orjson.loads(found[0]) if found else None

    def request_cancel(self, run_id: str) -> None:
        if self.cache is not None:
            self.cache.set_text(f"runs:{run_id}:cancel", "1", self.ttl_s)

    def cancel_requested(self, run_id: str) -> bool:
        return self.cache is not None and self.cache.get_text(f"runs:{run_id}:cancel") is not None
