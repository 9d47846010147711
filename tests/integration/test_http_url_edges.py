"""URL edge cases through the HTTP API: each is a 422 envelope or a 404, never a 500, never a reflected Host.

Before the fix: ``http://xn--/`` and a site redirecting to an unparseable ``Location`` were 500s, and
``POST /v1/campaigns/enrichment/`` answered 307 with ``Location: http://<the caller's Host header>/...``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.site_server import SiteServer, redirect, serve_site

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": redirect("http://[::1"), "/idna": redirect("http://xn--/")}) as server:
        yield server


@pytest.fixture
async def client(site: SiteServer) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app()
    async with app_client(app) as c:
        yield c


@pytest.mark.parametrize("website", ["http://xn--/", "http://xn--a/", "https://xn--ls8h.la/", "http://a:99999/"])
async def test_urls_no_parser_accepts_are_422_not_500(client: httpx.AsyncClient, website: str) -> None:
    response = await client.post(ENRICH, json={"website": website})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"blocked_url", "validation_error"}


@pytest.mark.parametrize("path", ["/", "/idna"])
async def test_a_redirect_to_an_unparseable_target_is_blocked_url(
    client: httpx.AsyncClient, site: SiteServer, path: str
) -> None:
    response = await client.post(ENRICH, json={"website": site.url_for(path), "options": {"cache": "bypass"}})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "blocked_url"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_trailing_slash_never_reflects_the_host_header(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, ENRICH + "/", headers={"Host": "evil.example"}, json={})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "evil.example" not in response.text
    assert response.json()["error"]["code"] == "not_found"
