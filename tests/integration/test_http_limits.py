"""Per-caller rate limit and run-slot refusals as the HTTP API answers them (envelopes and headers)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client, tablely_home
from tests.support.site_server import SiteServer, html, serve_site

KEY_A, KEY_B = "k-rate-a-0123456789", "k-rate-b-9876543210"
MISSING = f"{ENRICH}/bp_{'0' * 24}"  # a cheap /v1 route: 404, no run


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch, offline_env: None) -> None:
    monkeypatch.setenv("BLUEPRINT_RATE_LIMIT", "2/minute")
    monkeypatch.setenv("BLUEPRINT_API_KEYS", f"{KEY_A},{KEY_B}")
    get_settings.cache_clear()


async def test_each_key_gets_its_rate_then_429_with_retry_after(limited: None) -> None:
    async with app_client(create_app()) as client:
        a = {"X-API-Key": KEY_A}
        answers = [await client.get(MISSING, headers=a) for _ in range(3)]
        assert [r.status_code for r in answers] == [404, 404, 429]
        assert [r.headers["ratelimit-remaining"] for r in answers] == ["1", "0", "0"]
        assert all(r.headers["ratelimit-limit"] == "2" for r in answers)
        refused = answers[-1]
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and error["details"]["limit"] == 2
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert error["request_id"] == refused.headers["x-request-id"]

        other = await client.get(MISSING, headers={"Authorization": f"Bearer {KEY_B}"})
        assert other.status_code == 404 and other.headers["ratelimit-remaining"] == "1"  # its own budget
        assert (await client.get(MISSING)).status_code == 401  # no key: refused, and counts for nobody
        health = await client.get("/healthz")
        assert health.status_code == 200 and "ratelimit-limit" not in health.headers


async def test_without_keys_the_rate_is_per_client_address(
    monkeypatch: pytest.MonkeyPatch, offline_env: None
) -> None:
    monkeypatch.setenv("BLUEPRINT_RATE_LIMIT", "1/hour")
    get_settings.cache_clear()
    async with app_client(create_app()) as client:
        assert (await client.get(MISSING)).status_code == 404
        refused = await client.get(MISSING)
        assert refused.status_code == 429 and refused.headers["ratelimit-reset"] == refused.headers["retry-after"]


async def test_without_a_rate_setting_nothing_is_limited_or_announced(offline_env: None) -> None:
    async with app_client(create_app()) as client:
        answers = [await client.get(MISSING) for _ in range(5)]
    assert {r.status_code for r in answers} == {404}
    assert not any("ratelimit-limit" in r.headers for r in answers)


async def test_a_new_run_beyond_the_slots_is_503_with_retry_after(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch, offline_env: None
) -> None:
    monkeypatch.setenv("BLUEPRINT_MAX_RUNS", "1")
    monkeypatch.setenv("BLUEPRINT_RUN_QUEUE", "0")
    get_settings.cache_clear()
    app = create_app()
    async with app_client(app) as client:
        held = app.state.runner.slots.reserve()  # another run holds the only place
        for stream in (False, True):
            refused = await client.post(ENRICH, params={"stream": str(stream).lower()}, json={"website": site.url})
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/json"  # not a stream that begins, then fails
            error = refused.json()["error"]
            assert error["code"] == "overloaded" and error["details"]["max_runs"] == 1
            assert int(refused.headers["retry-after"]) >= 1
        held.release()
        assert (await client.post(ENRICH, json={"website": site.url})).status_code == 200


async def test_requests_beyond_max_requests_are_refused_at_the_door(
    monkeypatch: pytest.MonkeyPatch, offline_env: None
) -> None:
    monkeypatch.setenv("BLUEPRINT_MAX_REQUESTS", "1")
    get_settings.cache_clear()
    slow = dataclasses.replace(html(tablely_home()), wait=1.0)
    with serve_site({"/": slow}) as site:
        app = create_app()
        async with app_client(app) as client:
            first = asyncio.create_task(client.post(ENRICH, json={"website": site.url}))
            while site.hits["/"] == 0:  # the first request is in progress, its run waiting for the site
                await asyncio.sleep(0.01)
            refused = await client.get(MISSING)
            assert refused.status_code == 503 and refused.json()["error"]["code"] == "overloaded"
            assert int(refused.headers["retry-after"]) >= 1
            assert (await client.get("/healthz")).status_code == 200  # not an API route: never refused
            assert (await first).status_code == 200
            assert (await client.get(MISSING)).status_code == 404  # room again
