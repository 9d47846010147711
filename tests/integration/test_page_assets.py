"""The page at ``/`` is self-contained (air-gapped machines): every asset it names is served by this app,
nothing points elsewhere, the Content-Security-Policy forbids anything but this server, and the asset
route serves a fixed list of files, never a path taken from the URL. It stays open when API keys are
set (the page itself asks for a key when the API answers 401)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from server.app import create_app
from tests.support.http_helpers import app_client

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", "page-test-key")
    async with app_client(create_app()) as c:
        yield c


async def test_the_page_names_only_its_own_assets_and_they_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    urls = [u for u in ASSET.findall(page.text) if not u.startswith(("data:", "#"))]
    assert {"/assets/app.js", "/assets/app.css"} <= set(urls)
    for url in urls:
        assert url.startswith("/"), f"the page points elsewhere: {url}"
        if url.startswith("/assets/"):
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert "http://" not in asset.text and "https://" not in asset.text, f"{url} names another host"
    script = (await client.get("/assets/app.js")).headers
    assert script["content-type"].startswith("text/javascript") and script["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/assets/index.html", "/assets/..%2Fpage.py", "/assets/%2e%2e/app.py",
                                  "/assets/", "/assets/app.js/x"])
async def test_the_asset_route_serves_a_fixed_list(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


async def test_the_page_is_not_part_of_the_api_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/" not in paths and not any(p.startswith("/assets") for p in paths)
