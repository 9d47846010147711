"""The run store keeps a run's record and its event log in the run cache: in order, from any position,
across cache instances (= processes) sharing a folder or a Redis; and the stream tokens that let a
browser's EventSource read one run's events."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from graph.cache import RunCache
from graph.cache_redis import RedisRunCache
from graph.run_store import RunStore
from graph.settings import Settings
from server.run_access import TOKEN_TTL_S, sign_stream, stream_token_valid

REDIS_URL = os.environ.get("BLUEPRINT_TEST_REDIS_URL")


def _exercise(writer: RunStore, reader: RunStore) -> None:
    run_id = "run_" + uuid.uuid4().hex
    assert reader.load(run_id) is None and reader.events_after(run_id, 0) == []
    writer.save({"run_id": run_id, "status": "running", "last_event_id": 0})
    for n in range(1, 6):
        writer.append(run_id, {"id": n, "event": "node_started", "data": {"node": f"n{n}"}})
    assert [e["id"] for e in reader.events_after(run_id, 0)] == [1, 2, 3, 4, 5]
    assert [e["id"] for e in reader.events_after(run_id, 3)] == [4, 5]
    assert reader.events_after(run_id, 5) == []
    assert reader.event(run_id, 2) == {"id": 2, "event": "node_started", "data": {"node": "n2"}}
    assert reader.load(run_id) == {"run_id": run_id, "status": "running", "last_event_id": 0}
    assert not reader.cancel_requested(run_id)
    reader.request_cancel(run_id)
    assert writer.cancel_requested(run_id)


def test_a_second_cache_on_the_same_folder_reads_what_the_first_wrote(tmp_path: Path) -> None:
    first, second = RunCache(tmp_path, ttl_s=60), RunCache(tmp_path, ttl_s=60)
    try:
        _exercise(RunStore(first, 60), RunStore(second, 60))
    finally:
        first.close()
        second.close()


@pytest.mark.skipif(not REDIS_URL, reason="BLUEPRINT_TEST_REDIS_URL is not set (see .ci/run)")
def test_two_redis_clients_share_runs() -> None:
    assert REDIS_URL
    prefix = f"test-runs-{uuid.uuid4().hex[:8]}:"
    first = RedisRunCache(REDIS_URL, ttl_s=60, prefix=prefix)
    second = RedisRunCache(REDIS_URL, ttl_s=60, prefix=prefix)
    try:
        _exercise(RunStore(first, 60), RunStore(second, 60))
    finally:
        first.clear()
        first.close()
        second.close()


def test_without_a_cache_nothing_is_kept_and_nothing_fails() -> None:
    store = RunStore(None, 60)
    store.save({"run_id": "run_x"})
    store.append("run_x", {"id": 1, "event": "done", "data": {}})
    assert store.load("run_x") is None and store.events_after("run_x", 0) == []
    assert not store.cancel_requested("run_x")


def test_runs_outlive_a_tiny_cache_ttl_long_enough_to_reconnect() -> None:
    assert RunStore(None, 5).ttl_s >= 3600
    assert RunStore(None, 0).ttl_s > 0  # "forever" for blueprints; runs still expire


def _settings(*keys: str) -> Settings:
    return Settings(**{"BLUEPRINT_API_KEYS": ",".join(keys)})


def test_a_stream_token_opens_one_run_for_its_owner_until_it_expires() -> None:
    settings = _settings("key-one", "key-two")
    owner = "tenant_one"  # a tenant id (graph/tenancy.py), never the key
    token = sign_stream(settings, "run_a", owner, now=1000.0)
    assert token is not None and "key-one" not in token
    assert stream_token_valid(settings, token, "run_a", owner, now=1000.0 + TOKEN_TTL_S - 1)
    assert not stream_token_valid(settings, token, "run_a", owner, now=1000.0 + TOKEN_TTL_S + 1)
    assert not stream_token_valid(settings, token, "run_b", owner, now=1000.0)
    assert not stream_token_valid(settings, token, "run_a", "tenant_two", now=1000.0)
    expires, _, signature = token.partition(".")
    forged = f"{int(expires) + 3600}.{signature}"  # a later expiry breaks the signature
    assert not stream_token_valid(settings, forged, "run_a", owner, now=1000.0)
    assert not stream_token_valid(settings, "garbage", "run_a", owner, now=1000.0)
    # another replica with the same keys verifies it; a server with other keys does not
    assert stream_token_valid(_settings("key-two", "key-one"), token, "run_a", owner, now=1000.0)
    assert not stream_token_valid(_settings("other"), token, "run_a", owner, now=1000.0)


def test_without_api_keys_runs_have_no_owner_and_need_no_token() -> None:
    settings = _settings()
    assert sign_stream(settings, "run_a", None) is None
