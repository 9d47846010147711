"""/docs and /redoc work on an air-gapped machine: their pages load scripts, styles and icons from this
server only (never a CDN or Google Fonts), and every asset they name is served."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from server.app import create_app
from tests.support.http_helpers import app_client

pytestmark = pytest.mark.slow
# src/href attributes and url(...) / fetch-like string URLs in inline scripts
URL_IN_PAGE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""", re.I)
SERVED = "http://testserver"


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", "docs-test-key")  # the docs stay readable without a key
    async with app_client(create_app()) as c:
        yield c


def page_urls(html: str) -> list[str]:
    return [a or b for a, b in URL_IN_PAGE.findall(html)]


@pytest.mark.parametrize(("page", "kinds"), [("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})])
async def test_docs_pages_use_only_local_assets_and_they_are_served(
    client: httpx.AsyncClient, page: str, kinds: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://(?!testserver)", html), "a page of the docs names a remote host"
    assert "cdn.jsdelivr" not in html and "fonts.googleapis" not in html
    urls = page_urls(html)
    assets = [u for u in urls if u != "/openapi.json"]
    assert {re.search(r"\.\w+$", urlsplit(u).path).group(0) for u in assets} >= kinds  # type: ignore[union-attr]
    for url in urls:
        absolute = urljoin(SERVED + page, url)
        assert urlsplit(absolute).netloc == "testserver", url
        asset = await client.get(absolute)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    swagger_js = next((u for u in assets if u.endswith("swagger-ui-bundle.js")), None)
    if page == "/docs":
        assert swagger_js is not None
        bundle = (await client.get(swagger_js)).text
        assert "SwaggerUIBundle" in bundle
        # FastAPI writes OpenAPI 3.1, which Swagger UI renders from version 5 on
        assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
        assert re.search(r'PACKAGE_VERSION:"([5-9]|\d\d)\.', bundle)


async def test_the_docs_assets_are_not_part_of_the_api_schema(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert not [p for p in spec["paths"] if "static" in p or p in {"/docs", "/redoc"}]
