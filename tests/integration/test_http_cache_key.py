"""The cache key is exactly what was fetched, and ``refresh`` is rationed (issue 13, finding 4)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import pytest

from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client, parse_sse
from tests.support.site_server import RequestRecord, SiteServer, html, serve_site

PLANTED = "Veterinary Clinics"
PAGE = """<html><head><title>Tablely — restaurant software</title></head><body>
<h1>Tablely: the point of sale for restaurants</h1>
<p>Tablely runs orders, tables and payments for restaurants, cafes and bars. Restaurant owners and
general managers use it to take orders at the table, split bills and track inventory.</p>
<p>Welcome, visitor from {source}.</p>
</body></html>"""


def _echoing_home(record: RequestRecord) -> object:
    # a page that echoes a tracking parameter into its text, as many landing pages do
    source = parse_qs(record.query).get("utm_source", ["the web"])[0]
    return html(PAGE.format(source=f"{source}. We sell to {source}" if source != "the web" else source))


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    with serve_site({"/": _echoing_home}) as server:
        yield server


async def test_tracking_parameters_are_neither_keyed_nor_sent(site: SiteServer) -> None:
    poisoned = f"{site.url}/?utm_source={PLANTED.replace(' ', '+')}&utm_medium=cpc&fbclid=x1"
    async with app_client(create_app()) as client:
        first = await client.post(ENRICH, json={"website": poisoned})
        clean = await client.post(ENRICH, json={"website": site.url})
    assert first.status_code == 200 and clean.status_code == 200
    assert clean.headers["x-cache"] == "HIT"  # one key: the URL that was read
    assert [r.query for r in site.requests if r.path == "/"] == [""]  # the tracking parameters never left
    assert PLANTED not in first.text and PLANTED not in clean.text
    assert first.json()["website"] == f"{site.url}/"


async def test_other_query_parameters_are_sent_and_keyed(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        with_query = await client.post(ENRICH, json={"website": f"{site.url}/?lang=en&utm_source=x"})
        without = await client.post(ENRICH, json={"website": site.url})
    assert (with_query.headers["x-cache"], without.headers["x-cache"]) == ("MISS", "MISS")
    assert sorted(r.query for r in site.requests if r.path == "/") == ["", "lang=en"]


async def test_refresh_is_limited_per_tenant_and_blueprint(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", "key-a-0123456789,key-b-0123456789")
    monkeypatch.setenv("BLUEPRINT_REFRESH_INTERVAL_S", "2")
    a, b = {"X-API-Key": "key-a-0123456789"}, {"X-API-Key": "key-b-0123456789"}
    refresh = {"website": site.url, "options": {"cache": "refresh"}}
    other = {"website": f"{site.url}/?lang=en", "options": {"cache": "refresh"}}
    async with app_client(create_app()) as client:
        assert (await client.post(ENRICH, json=refresh, headers=a)).status_code == 200
        limited = await client.post(ENRICH, json=refresh, headers=a)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert limited.headers["retry-after"] in {"1", "2"}  # whole seconds left in the window
        assert limited.json()["error"]["details"]["retry_after_s"] == int(limited.headers["retry-after"])
        streamed = await client.post(ENRICH, params={"stream": "true"}, json=refresh, headers=a)
        assert streamed.status_code == 429 and streamed.headers["content-type"] == "application/json"
        assert (await client.post(ENRICH, json=refresh, headers=b)).status_code == 200  # B's own blueprint
        assert (await client.post(ENRICH, json=other, headers=a)).status_code == 200  # another blueprint
        assert (await client.post(ENRICH, json={"website": site.url}, headers=a)).status_code == 200  # use
        await asyncio.sleep(2.1)
        assert (await client.post(ENRICH, json=refresh, headers=a)).status_code == 200  # the window passed
    assert site.hits["/"] == 4  # the refused refreshes never reached the site


async def test_concurrent_identical_refreshes_share_one_run(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh = {"website": site.url, "options": {"cache": "refresh"}}
    app = create_app()
    async with app_client(app) as client:
        answers = await asyncio.gather(
            *(client.post(ENRICH, json=refresh) for _ in range(5)),
            *(client.post(ENRICH, params={"stream": "true"}, json=refresh) for _ in range(3)),
        )
    assert [a.status_code for a in answers] == [200] * 8  # joining a running refresh costs nothing
    assert app.state.runner.graph_runs == 1
    assert all(parse_sse(a.text.splitlines())[-1].event == "done" for a in answers[5:])
