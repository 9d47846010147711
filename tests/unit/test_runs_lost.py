"""A run whose owning process died mid-run is reported ``failed`` (``run_lost``) by the others, and its
followers there get the events it stored, then the end of the stream — nobody waits for it forever."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from graph.cache import RunCache
from graph.run_store import RunStore
from graph.runs import LOST_AFTER_S, RunManager


def _orphan(store: RunStore, run_id: str, heartbeat_at: float) -> None:
    store.save({"run_id": run_id, "status": "running", "last_event_id": 2, "heartbeat_at": heartbeat_at,
                "error": None})
    store.append(run_id, {"id": 1, "event": "run_started", "data": {}})
    store.append(run_id, {"id": 2, "event": "node_started", "data": {"node": "fetch_site"}})


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(RunCache(tmp_path, ttl_s=60), 60)


async def test_a_silent_owner_means_the_run_was_lost(store: RunStore) -> None:
    manager = RunManager(runner=None, store=store)  # type: ignore[arg-type]  (no run is started here)
    _orphan(store, "run_dead", time.time() - LOST_AFTER_S - 1)
    record = await manager.get("run_dead")
    assert record is not None and record["status"] == "failed" and record["error"]["code"] == "run_lost"
    seen: list[dict[str, Any]] = [event async for event in manager.follow("run_dead", 0)]
    assert [e["id"] for e in seen] == [1, 2]
    assert [e["id"] async for e in manager.follow("run_dead", 1)] == [2]


async def test_a_recent_heartbeat_means_the_run_is_still_running(store: RunStore) -> None:
    manager = RunManager(runner=None, store=store)  # type: ignore[arg-type]
    _orphan(store, "run_alive", time.time())
    record = await manager.get("run_alive")
    assert record is not None and record["status"] == "running" and record["error"] is None
