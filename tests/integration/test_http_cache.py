"""The run cache through HTTP: modes use/refresh/bypass, TTL expiry, in-process stampede, unusable folder."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client, parse_sse
from tests.support.site_server import SiteServer


def body(site: SiteServer, cache: str = "use") -> dict[str, object]:
    return {"website": site.url, "options": {"cache": cache}}


async def test_cache_modes(site: SiteServer) -> None:
    app = create_app()
    async with app_client(app) as client:
        first = await client.post(ENRICH, json=body(site))
        hit = await client.post(ENRICH, json=body(site))
        assert (first.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
        assert app.state.runner.graph_runs == 1 and site.hits["/"] == 1

        refreshed = await client.post(ENRICH, json=body(site, "refresh"))
        assert refreshed.headers["x-cache"] == "MISS"
        assert app.state.runner.graph_runs == 2
        assert site.hits["/"] == 2  # refresh reads the site again, not the page cache
        after = await client.post(ENRICH, json=body(site))
        assert after.headers["x-cache"] == "HIT"
        assert after.json()["meta"]["generated_at"] == refreshed.json()["meta"]["generated_at"]

        bypass = await client.post(ENRICH, json=body(site, "bypass"))
        assert bypass.headers["x-cache"] == "BYPASS"
        assert bypass.json()["meta"]["cache"] == "bypass"
        assert app.state.runner.graph_runs == 3 and site.hits["/"] == 3
        # the cache still holds the refreshed run, not the bypassed one
        stored = await client.get(f"{ENRICH}/{first.json()['blueprint_id']}")
        assert stored.json()["meta"]["generated_at"] == refreshed.json()["meta"]["generated_at"]


async def test_bypass_neither_reads_nor_writes(site: SiteServer) -> None:
    app = create_app()
    async with app_client(app) as client:
        bypass = await client.post(ENRICH, json=body(site, "bypass"))
        assert bypass.headers["x-cache"] == "BYPASS"
        missing = await client.get(f"{ENRICH}/{bypass.json()['blueprint_id']}")
        assert missing.status_code == 404
        assert (await client.post(ENRICH, json=body(site))).headers["x-cache"] == "MISS"


async def test_entries_expire_after_the_ttl(site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPRINT_CACHE_TTL_S", "1")
    monkeypatch.setenv("BLUEPRINT_PAGE_CACHE_TTL_S", "1")
    app = create_app()
    async with app_client(app) as client:
        assert (await client.post(ENRICH, json=body(site))).headers["x-cache"] == "MISS"
        made = await client.post(ENRICH, json=body(site))
        assert made.headers["x-cache"] == "HIT"
        await asyncio.sleep(1.3)
        assert (await client.get(f"{ENRICH}/{made.json()['blueprint_id']}")).status_code == 404
        assert (await client.post(ENRICH, json=body(site))).headers["x-cache"] == "MISS"
        assert app.state.runner.graph_runs == 2


async def test_identical_concurrent_requests_run_once_in_one_process(site: SiteServer) -> None:
    app = create_app()
    async with app_client(app) as client:
        # JSON and streaming subscribers alike share the one in-flight run
        json_calls = [client.post(ENRICH, json=body(site)) for _ in range(20)]
        sse_calls = [client.post(ENRICH, params={"stream": "true"}, json=body(site)) for _ in range(10)]
        answers = await asyncio.gather(*json_calls, *sse_calls)
    assert all(a.status_code == 200 for a in answers)
    assert app.state.runner.graph_runs == 1
    assert site.hits["/"] == 1
    ids = {a.json()["blueprint_id"] for a in answers[:20]}
    for streamed in answers[20:]:
        events = parse_sse(streamed.text.splitlines())
        assert events[-2].event == "blueprint"
        ids.add(events[-2].data["blueprint_id"])
    assert len(ids) == 1


def _unusable_dirs(tmp_path: Path) -> list[Path]:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    dirs = [blocker / "cache"]  # cannot be created: a file is in the way
    if os.geteuid() != 0:  # root writes anywhere; a read-only folder only stops other users
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o500)
        dirs.append(readonly / "cache")
    return dirs


async def test_unusable_cache_folder_degrades_with_one_warning(
    site: SiteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for directory in _unusable_dirs(tmp_path):
        caplog.clear()
        caplog.set_level(logging.WARNING)
        monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(directory))
        from graph.settings import get_settings

        get_settings.cache_clear()
        app = create_app()
        async with app_client(app) as client:
            answers = [await client.post(ENRICH, json=body(site)) for _ in range(3)]
            streamed = await client.post(ENRICH, params={"stream": "true"}, json=body(site))
            health = await client.get("/healthz")
            lookup = await client.get(f"{ENRICH}/{answers[0].json()['blueprint_id']}")
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["x-cache"] for a in answers] == ["MISS", "MISS", "MISS"]
        assert parse_sse(streamed.text.splitlines())[-2].event == "blueprint"
        assert health.json()["cache"] == "disabled"
        assert lookup.status_code == 404
        warnings = [r for r in caplog.records if "cache disabled" in r.getMessage()]
        assert len(warnings) == 1, [r.getMessage() for r in caplog.records]


async def test_cache_hit_is_fast_through_http(site: SiteServer) -> None:
    app = create_app()
    async with app_client(app) as client:
        await client.post(ENRICH, json=body(site))
        started = time.perf_counter()
        for _ in range(20):
            assert (await client.post(ENRICH, json=body(site))).headers["x-cache"] == "HIT"
        per_call = (time.perf_counter() - started) / 20
    assert per_call < 0.25  # generous: a hit must never re-run the graph (seconds), ~ms in practice
    assert isinstance(client, httpx.AsyncClient)
