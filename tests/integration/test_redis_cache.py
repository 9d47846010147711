"""The Redis run cache (``BLUEPRINT_CACHE_URL=redis://...``) against a real ``redis-server``.

``.ci/run`` starts one and exports ``BLUEPRINT_TEST_REDIS_URL``; without it the tests that need Redis
are skipped (the unreachable-Redis tests always run). Each test uses its own key prefix, so they never
see each other's keys in the shared database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from graph.cache import RunCache, open_run_cache
from graph.cache_redis import RedisRunCache, redact_url
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Settings, get_settings
from tests.support.http_helpers import ENRICH, free_port
from tests.support.site_server import SiteServer

REDIS_URL = os.environ.get("BLUEPRINT_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="BLUEPRINT_TEST_REDIS_URL is not set (see .ci/run)")


def _dead_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"bp-test-{uuid.uuid4().hex[:8]}:"
    yield name
    if REDIS_URL:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{name}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def cache(prefix: str) -> Iterator[RedisRunCache]:
    assert REDIS_URL
    made = RedisRunCache(REDIS_URL, ttl_s=60, page_ttl_s=60, prefix=prefix)
    yield made
    made.close()




def _blueprint(blueprint_id: str = "bp1") -> dict[str, object]:
    return {"blueprint_id": blueprint_id, "website": "https://acme.example", "meta": {"cache": "miss"}}


# ── the factory ──────────────────────────────────────────────────────────────────────────────────
def test_factory_picks_the_backend_from_the_settings(tmp_path: Path) -> None:
    default = open_run_cache(Settings.model_validate({"BLUEPRINT_CACHE_DIR": str(tmp_path)}))
    assert type(default) is RunCache and default.directory == tmp_path
    chosen = open_run_cache(Settings.model_validate(
        {"BLUEPRINT_CACHE_URL": "redis://:s3cret@cache.internal:6379/2", "BLUEPRINT_CACHE_TTL_S": 5}
    ))
    assert isinstance(chosen, RedisRunCache) and chosen.ttl_s == 5
    assert "s3cret" not in repr(chosen)  # the password never reaches logs or `blueprint cache stats`
    assert redact_url("redis://:s3cret@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


# ── the surface, on a real server ──────────────────────────────────────────────────────────────
@needs_redis
def test_blueprints_pages_and_provider_responses_round_trip(cache: RedisRunCache, prefix: str) -> None:
    assert cache.available and cache.get("k1") is None
    cache.set("k1", _blueprint("bp1"))
    assert cache.get("k1") == _blueprint("bp1")
    assert cache.get_by_id("bp1") == _blueprint("bp1") and cache.get_by_id("nope") is None
    cache.set_page("https://acme.example/", "<h1>ünïcode</h1>")
    assert cache.get_page("https://acme.example/") == "<h1>ünïcode</h1>"
    cache.set_json("apollo:acme.example", {"organization": {"name": "Acme"}}, 60)
    assert cache.get_json("apollo:acme.example") == {"organization": {"name": "Acme"}}
    raw = redis.Redis.from_url(REDIS_URL or "", decode_responses=True)
    try:
        stored = raw.get(f"{prefix}run:k1")
        assert isinstance(stored, str) and stored.startswith("{")  # JSON text, never pickle
        assert 0 < raw.ttl(f"{prefix}run:k1") <= 60 and 0 < raw.ttl(f"{prefix}page:https://acme.example/") <= 60
    finally:
        raw.close()
    stats = cache.stats()
    assert (stats["available"], stats["blueprints"], stats["pages"]) == (True, 1, 1)


@needs_redis
def test_entries_expire_after_the_ttl(prefix: str) -> None:
    short = RedisRunCache(REDIS_URL or "", ttl_s=1, page_ttl_s=1, prefix=prefix)
    short.set("k", _blueprint())
    short.set_page("u", "x")
    assert short.get("k") is not None
    time.sleep(1.2)
    assert short.get("k") is None and short.get_by_id("bp1") is None and short.get_page("u") is None
    short.close()


@needs_redis
def test_lock_is_exclusive_across_instances_and_released_only_by_its_holder(prefix: str) -> None:
    a = RedisRunCache(REDIS_URL or "", ttl_s=60, prefix=prefix)
    b = RedisRunCache(REDIS_URL or "", ttl_s=60, prefix=prefix)
    assert a.try_lock("k", "A", 30) is True
    assert b.try_lock("k", "B", 30) is False and b.locked("k") and b.lock_owner("k") == "A"
    b.unlock("k", "B")  # B does not hold it: a no-op
    assert a.locked("k") and b.try_lock("k", "B", 30) is False
    a.unlock("k", "A")
    assert not a.locked("k") and a.lock_owner("k") is None and b.try_lock("k", "B", 0.2) is True
    time.sleep(0.3)  # a crashed holder's lease runs out
    assert a.try_lock("k", "A", 30) is True
    b.unlock("k", "B")  # B's lease ran out and A holds a new one: B must not release A's
    assert a.lock_owner("k") == "A"
    a.unlock("k", "A")
    a.close()
    b.close()


@needs_redis
def test_lock_lease_is_short_renewed_and_handed_over_only_by_compare_and_swap(prefix: str) -> None:
    cache = RedisRunCache(REDIS_URL or "", ttl_s=60, prefix=prefix)
    raw = redis.Redis.from_url(REDIS_URL or "", decode_responses=True)
    try:
        assert cache.try_lock("k", "A", 0.5)
        assert 0 < raw.pttl(f"{prefix}lock:k") <= 500  # a short PX lease, not the run's whole TTL
        time.sleep(0.3)
        assert cache.swap_lock("k", "A", "A", 0.5)  # renewed: a fresh lease
        assert raw.pttl(f"{prefix}lock:k") > 300
        assert cache.swap_lock("k", "B", "C", 5) is False and cache.lock_owner("k") == "A"  # B holds nothing
        assert cache.swap_lock("k", "A", "C", 5) and cache.lock_owner("k") == "C"  # taken over from A
        assert raw.pttl(f"{prefix}lock:k") > 4000
        assert cache.swap_lock("k", "A", "A", 5) is False  # A lost it: its renewal must not steal it back
        time.sleep(0.6)
        assert cache.lock_owner("k") == "C"  # the old lease did not expire the new owner
    finally:
        raw.close()
        cache.unlock("k", "C")
        cache.close()


@needs_redis
def test_clear_removes_only_our_prefix(cache: RedisRunCache, prefix: str) -> None:
    raw = redis.Redis.from_url(REDIS_URL or "")
    other = f"other-{uuid.uuid4().hex}"
    try:
        raw.set(other, "kept", ex=60)
        cache.set("k1", _blueprint("a"))
        cache.set("k2", _blueprint("b"))
        assert cache.clear() == 4  # two runs, two id index entries
        assert cache.get("k1") is None and raw.get(other) == b"kept"
    finally:
        raw.delete(other)
        raw.close()


# ── degrading ──────────────────────────────────────────────────────────────────────────────────
def test_unreachable_redis_runs_uncached_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="graph.cache")
    dead = RedisRunCache(_dead_url(), ttl_s=60)
    started = time.monotonic()
    for _ in range(5):
        assert dead.available is False
        assert dead.get("k") is None and dead.get_by_id("x") is None and dead.get_page("u") is None
        dead.set("k", _blueprint())
        dead.set_page("u", "x")
        assert dead.try_lock("k", "A", 10) is True  # nobody to coordinate with: run
        assert dead.swap_lock("k", "A", "A", 10) is True  # a renewal does not report a lost lock
        dead.unlock("k", "A")
        assert dead.locked("k") is False and dead.lock_owner("k") is None
    assert dead.stats()["available"] is False and dead.clear() == 0
    assert time.monotonic() - started < 3  # one connection attempt, then the cool-down
    warnings = [r for r in caplog.records if "cache disabled" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert dead.disabled_reason is not None


async def test_a_run_with_unreachable_redis_still_delivers(site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPRINT_CACHE_URL", _dead_url())
    get_settings.cache_clear()
    from graph.api import agenerate_blueprint

    first = await agenerate_blueprint(site.url)
    second = await agenerate_blueprint(site.url)
    assert first.meta.cache == second.meta.cache == "miss"
    assert site.hits["/"] == 2  # uncached: each run reads the site


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_cache_comes_back_when_redis_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="graph.cache")
    monkeypatch.setattr("graph.cache_redis.RETRY_AFTER_S", 0.2)
    port = free_port()
    cache = RedisRunCache(f"redis://127.0.0.1:{port}/0", ttl_s=60)
    assert cache.available is False
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not cache.available:
            assert time.monotonic() < deadline, "redis did not come up"
            time.sleep(0.1)
        cache.set("k", _blueprint())
        assert cache.get("k") == _blueprint() and cache.disabled_reason is None
        proc.terminate()
        proc.wait(5)
        assert cache.get("k") is None  # down again: a miss, not an exception
        assert cache.available is False
    finally:
        proc.kill()
        proc.wait(5)
        cache.close()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cache disabled" in m for m in messages) == 2  # one per outage
    assert any("reachable again" in m for m in messages)


# ── stampede across replicas ───────────────────────────────────────────────────────────────────
@needs_redis
async def test_identical_requests_across_two_replicas_run_once(site: SiteServer, prefix: str) -> None:
    settings = get_settings()
    caches = [RedisRunCache(REDIS_URL or "", ttl_s=60, page_ttl_s=60, prefix=prefix) for _ in range(2)]
    runners = [BlueprintRunner(settings=settings, cache=c) for c in caches]
    request = EnrichmentRequest.model_validate({"website": site.url})
    try:
        results = await asyncio.gather(*(runners[i % 2].generate(request) for i in range(20)))
    finally:
        for runner, cache in zip(runners, caches, strict=True):
            await runner.aclose()
            cache.close()
    assert site.hits["/"] == 1
    assert sum(r.graph_runs for r in runners) == 1
    assert len({bp.blueprint_id for bp, _ in results}) == 1
    assert sorted({status for _, status in results}) == ["hit", "miss"]  # the other replica waited for it


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parents[2])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during startup"
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not start")


@pytest.mark.slow
@needs_redis
async def test_two_server_processes_share_one_run_and_its_result(site: SiteServer, tmp_path: Path) -> None:
    env = {**os.environ, "BLUEPRINT_CACHE_URL": REDIS_URL or "", "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
           "BLUEPRINT_ENGINE": "catalog", "BLUEPRINT_CACHE_TTL_S": "120",
           "BLUEPRINT_PAGE_CACHE_TTL_S": "120"}
    # separate cache folders too: only Redis is shared between the two "machines"
    ports = [free_port(), free_port()]
    procs = [_serve(p, {**env, "BLUEPRINT_CACHE_DIR": str(tmp_path / f"replica{i}")}) for i, p in enumerate(ports)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    body = {"website": site.url, "icp": {"notes": f"replica test {uuid.uuid4().hex}"}}  # a fresh key per run
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_healthy(url, proc)
        async with httpx.AsyncClient(timeout=60) as client:
            answers = await asyncio.gather(*(client.post(urls[i % 2] + ENRICH, json=body) for i in range(20)))
            assert [a.status_code for a in answers] == [200] * 20
            assert site.hits["/"] == 1
            assert len({a.json()["blueprint_id"] for a in answers}) == 1
            # a blueprint made on one replica is served by the other
            blueprint_id = answers[0].json()["blueprint_id"]
            for url in urls:
                found = await client.get(f"{url}{ENRICH}/{blueprint_id}")
                assert found.status_code == 200 and found.json()["blueprint_id"] == blueprint_id
                assert (await client.post(url + ENRICH, json=body)).headers["x-cache"] == "HIT"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert site.hits["/"] == 1
