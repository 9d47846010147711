"""Load and lifecycle against a real uvicorn: 200 concurrent requests, disconnects, shutdown, bad caches.

The seller pages come from the loopback site server. "Mixed" means: cache hits (keys warmed first),
misses (fresh keys, several identical requests each) and SSE streams, all at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from graph.cache import RunCache
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, TABLELY, app_client, parse_sse, tablely_home
from tests.support.site_server import RequestRecord, Route, SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
SSE = {"accept": "text/event-stream"}
RSS_GROWTH_LIMIT = 200 * 1024 * 1024  # generous on purpose: a leak of 200 runs' state would exceed it




def _body(site: SiteServer, variant: int) -> dict[str, Any]:
    # distinct ICP notes → distinct run keys over the same seller site
    return {"website": site.url, "icp": {"notes": f"load variant {variant}"}}


def _flights(server: UvicornThread) -> list[Any]:
    runner: BlueprintRunner = server.app.state.runner

    async def grab() -> list[Any]:
        return list(runner._flights.values())

    return server.call(grab)


def _settle(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


async def _one(client: httpx.AsyncClient, url: str, body: dict[str, Any], stream: bool) -> tuple[str, str]:
    """One request; returns (kind, outcome) where outcome is 'ok' or what went wrong."""
    if not stream:
        answer = await client.post(url + ENRICH, json=body)
        ok = answer.status_code == 200 and answer.json().get("blueprint_id")
        return "json", "ok" if ok else f"{answer.status_code} {answer.text[:200]}"
    async with client.stream("POST", url + ENRICH, json=body, headers=SSE) as answer:
        lines = [line async for line in answer.aiter_lines()]
    names = [e.event for e in parse_sse(lines)]
    ok = answer.status_code == 200 and names[-2:] == ["blueprint", "done"] and "error" not in names
    return "sse", "ok" if ok else f"{answer.status_code} {names}"


async def test_200_concurrent_mixed_requests_without_errors_or_leaks(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = psutil.Process()
    # a server sized for this load (uvicorn's own limit too): 200 requests in progress at once
    monkeypatch.setenv("BLUEPRINT_MAX_REQUESTS", "1000")
    get_settings.cache_clear()
    with UvicornThread(create_app(), limit_concurrency=1000) as server:
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            for variant in range(5):  # warm five keys: the hits
                assert (await _one(client, server.url, _body(site, variant), stream=False))[1] == "ok"
            gc.collect()
            baseline_rss = process.memory_info().rss
            baseline_tasks = server.tasks()
            warm_runs = server.app.state.runner.graph_runs
            # 200 requests over 10 keys: 5 cached, 5 fresh; every third one streams
            jobs = [_one(client, server.url, _body(site, i % 10), stream=i % 3 == 0) for i in range(200)]
            started = time.monotonic()
            results = await asyncio.gather(*jobs)
            elapsed = time.monotonic() - started
        failures = [r for r in results if r[1] != "ok"]
        assert failures == [], failures[:5]
        assert sum(1 for kind, _ in results if kind == "sse") == 67
        # the five fresh keys ran once each, however many requests asked for them
        assert server.app.state.runner.graph_runs - warm_runs == 5
        assert site.hits["/"] <= 10  # at most once per run (pages may also come from the page cache)
        assert _settle(lambda: not _flights(server)), "in-flight runs left behind"
        assert _settle(lambda: not (server.tasks() - baseline_tasks)), server.tasks() - baseline_tasks
    gc.collect()
    growth = process.memory_info().rss - baseline_rss
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / 1e6:.0f} MB"
    assert elapsed < 60, f"200 requests took {elapsed:.1f}s"


async def test_many_clients_leaving_mid_stream_leave_no_tasks(site: SiteServer) -> None:
    slow = SlowHome(1.5)
    with serve_site({"/": slow}, directory=TABLELY) as slow_site, UvicornThread(create_app()) as server:
        baseline = server.tasks()
        async with httpx.AsyncClient(timeout=30) as client:

            async def leave_early(variant: int) -> None:
                body = {"website": slow_site.url, "icp": {"notes": f"leaver {variant % 5}"}}
                async with client.stream("POST", server.url + ENRICH, json=body, headers=SSE) as answer:
                    async for line in answer.aiter_lines():
                        if line.startswith("event: node_started"):
                            return  # disconnect while the site is still thinking

            await asyncio.gather(*(leave_early(i) for i in range(40)))
        assert _settle(lambda: not _flights(server)), "runs kept going after all their clients left"
        assert _settle(lambda: not (server.tasks() - baseline)), server.tasks() - baseline


class SlowHome:
    """The homepage, answered ``delay`` seconds after it was asked for (in the site server's thread)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.asked = threading.Event()

    def __call__(self, record: RequestRecord) -> Route:
        self.asked.set()
        time.sleep(self.delay)
        return html(tablely_home())


async def test_leaving_right_after_an_error_leaves_no_stuck_run(tmp_path: Path) -> None:
    settings = get_settings()
    cache = RunCache(tmp_path / "cache", ttl_s=60)
    runner = BlueprintRunner(settings=settings, cache=cache)
    request = EnrichmentRequest.model_validate({"website": "https://unresolvable-seller.invalid"})
    try:
        events = runner.stream(request)
        assert isinstance(events, AsyncGenerator)
        async for event in events:
            if event["event"] == "error":
                break  # the client goes away as soon as it has read the error
        await events.aclose()
        await asyncio.sleep(0.3)
        assert not runner._flights
        async with asyncio.timeout(5):  # the same request again must not wait on a dead run
            names = [e["event"] async for e in runner.stream(request)]
        assert names[-2:] == ["error", "done"]
    finally:
        await runner.aclose()
        cache.close()


def test_graceful_shutdown_finishes_runs_in_flight(site: SiteServer) -> None:
    slow = SlowHome(1.0)
    with serve_site({"/": slow}, directory=TABLELY) as slow_site:
        server = UvicornThread(create_app()).start()
        answers: list[httpx.Response] = []

        def ask(variant: int) -> None:
            body = {"website": slow_site.url, "icp": {"notes": f"shutdown {variant}"}}
            answers.append(httpx.post(server.url + ENRICH, json=body, timeout=30))

        callers = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
        for caller in callers:
            caller.start()
        assert slow.asked.wait(5) and _settle(lambda: len(_flights(server)) == 3)
        url = server.url
        stopped_at = time.monotonic()
        server.stop()  # should_exit while three runs are in flight: uvicorn lets them finish
        for caller in callers:
            caller.join(10)
        assert time.monotonic() - stopped_at < 10
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert all(a.json()["blueprint_id"] for a in answers)
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/healthz", timeout=2)  # and then it is gone


def test_shutdown_past_the_grace_period_cancels_runs_cleanly(site: SiteServer) -> None:
    slow = SlowHome(6.0)
    with serve_site({"/": slow}, directory=TABLELY) as slow_site:
        server = UvicornThread(create_app(), timeout_graceful_shutdown=1).start()
        runner: BlueprintRunner = server.app.state.runner
        outcomes: list[str] = []

        def ask() -> None:
            try:
                answer = httpx.post(server.url + ENRICH, json={"website": slow_site.url}, timeout=30)
                outcomes.append(str(answer.status_code))
            except httpx.TransportError as exc:
                outcomes.append(type(exc).__name__)

        caller = threading.Thread(target=ask)
        caller.start()
        assert slow.asked.wait(5)
        (flight,) = _flights(server)
        stopped_at = time.monotonic()
        server.stop()
        caller.join(10)
        assert time.monotonic() - stopped_at < 5  # not the 6 s the site would take
        assert flight.task is not None and flight.task.done()  # cancelled by the lifespan, not orphaned
        assert not runner._flights
        assert outcomes and outcomes[0] != "200"  # the client learns the answer is not coming


async def test_corrupt_cache_database_degrades_with_one_warning(
    site: SiteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "cache.db").write_bytes(b"this is not sqlite\x00" * 512)  # diskcache's database file
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(folder))
    get_settings.cache_clear()
    caplog.set_level(logging.WARNING)
    app = create_app()
    async with app_client(app) as client:
        answers = [await client.post(ENRICH, json={"website": site.url}) for _ in range(3)]
        streamed = await client.post(ENRICH, params={"stream": "true"}, json={"website": site.url})
        health = await client.get("/healthz")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["x-cache"] for a in answers] == ["MISS", "MISS", "MISS"]
    assert parse_sse(streamed.text.splitlines())[-2].event == "blueprint"
    assert health.json()["cache"] == "disabled"
    warnings = [r for r in caplog.records if "cache disabled" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert (folder / "cache.db").read_bytes().startswith(b"this is not sqlite")  # left for a human to inspect
