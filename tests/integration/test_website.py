"""read_site against hostile and normal sites on a loopback server: each case ends bounded and clear."""

from __future__ import annotations

import dataclasses
import gzip
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.resources import site_limits
from graph.settings import Settings
from tests.support.site_server import Route, SiteServer, drip, html, huge, redirect, serve_site
from tools import ssrf
from tools.errors import BlockedURL, SiteFetchError, UpstreamTimeout
from tools.website import MAX_BODY_BYTES, SiteLimits, build_site_client, fetch_page, read_site

pytestmark = pytest.mark.slow

SITES = Path(__file__).parents[1] / "fixtures" / "sites"
HOST = "site.test"  # a public-looking name that the fake resolver maps to the loopback server


@pytest.fixture
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DNS lookup answers 127.0.0.1 (and is recorded), so tests can use real-looking names."""
    calls: list[str] = []

    async def fake(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "system_resolve", fake)
    return calls


def settings(**overrides: object) -> SiteLimits:
    values: dict[str, object] = {"BLUEPRINT_ALLOW_PRIVATE_HOSTS": HOST, "BLUEPRINT_SITE_DEADLINE_S": 10.0}
    values.update({f"BLUEPRINT_{k.upper()}": v for k, v in overrides.items()})
    return site_limits(Settings(**values))  # type: ignore[arg-type]


@pytest.fixture
async def tablely(resolve_to_loopback: list[str]) -> AsyncIterator[SiteServer]:
    async with serve_site(directory=SITES / "tablely") as site:
        yield site


async def test_reads_home_and_picks_the_right_subpages_concurrently(tablely: SiteServer) -> None:
    slow = {p: dataclasses.replace(html((SITES / f"tablely{p}.html").read_bytes()), wait=0.4)
            for p in ("/about", "/product", "/customers", "/integrations", "/pricing")}  # fmt: skip
    tablely.routes.update(slow)
    started = time.perf_counter()
    snap = await read_site(f"{tablely.url_for('/', host=HOST)}", limits=settings())
    elapsed = time.perf_counter() - started

    assert [p.kind for p in snap.pages] == [
        "home", "about", "product", "solutions", "customers", "integrations", "pricing",
    ]  # fmt: skip
    assert snap.errors == []
    assert snap.domain == HOST and snap.final_url == tablely.url_for("/", host=HOST)
    assert elapsed < 1.5, f"sub-pages were not fetched concurrently ({elapsed:.2f} s for 5 × 0.4 s)"
    for never in ("/blog", "/careers", "/privacy", "/demo", "/partners"):
        assert tablely.hits[never] == 0, never
    assert sum(tablely.hits.values()) == 7
    pricing = next(p for p in snap.pages if p.kind == "pricing")
    assert "Pro: $149/month per location" in pricing.pricing_hints
    integrations = next(p for p in snap.pages if p.kind == "integrations")
    assert "Olo" in integrations.integrations
    assert all(r.headers["User-Agent"].startswith("EnrichmentBlueprint/") for r in tablely.requests)


async def test_max_pages_limits_subpages(tablely: SiteServer) -> None:
    snap = await read_site(tablely.url_for("/", host=HOST), limits=settings(), max_pages=3)
    assert [p.kind for p in snap.pages] == ["home", "about", "product"]


async def test_subpage_failures_and_deadline_are_recorded_not_raised(tablely: SiteServer) -> None:
    tablely.routes["/pricing"] = html("<h1>oops</h1>", status=500)
    tablely.routes["/about"] = dataclasses.replace(html("<h1>About</h1>"), wait=5)
    snap = await read_site(tablely.url_for("/", host=HOST), limits=settings(site_deadline_s=1.0))
    kinds = [p.kind for p in snap.pages]
    assert "pricing" not in kinds and "about" not in kinds and "integrations" in kinds
    assert any(e.endswith("/pricing: " + f"{tablely.url_for('/pricing', host=HOST)} answered HTTP 500.")
               for e in snap.errors), snap.errors  # fmt: skip
    assert any("/about: not read before the 1 s deadline" in e for e in snap.errors), snap.errors


async def test_ten_megabyte_page_is_capped_not_buffered(resolve_to_loopback: list[str]) -> None:
    async with serve_site({"/": huge(10 * 1024 * 1024)}) as site:
        async with build_site_client(settings()) as client:
            tracemalloc.start()
            fetched = await fetch_page(client, site.url_for("/", host=HOST), allow_hosts=[HOST])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert fetched.truncated and fetched.bytes_read == MAX_BODY_BYTES
        assert peak < 4 * MAX_BODY_BYTES, f"peak {peak / 1e6:.1f} MB while reading a capped page"
        assert site.bytes_sent["/"] < 10 * 1024 * 1024  # the client hung up; the rest was never sent
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
        assert snap.home is not None and 0 < len(snap.home.text) <= 30_000


async def test_gzip_bomb_is_capped_after_decompression(resolve_to_loopback: list[str]) -> None:
    bomb = gzip.compress(b"<p>" + b"A" * (64 * 1024 * 1024) + b"</p>")
    assert len(bomb) < 200_000
    route = Route(headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}, body=bomb)
    async with serve_site({"/": route}) as site, build_site_client(settings()) as client:
        fetched = await fetch_page(client, site.url_for("/", host=HOST), allow_hosts=[HOST])
    assert fetched.truncated and fetched.bytes_read == MAX_BODY_BYTES


async def test_gzip_page_is_decoded(resolve_to_loopback: list[str]) -> None:
    body = gzip.compress("<title>Zipped</title><p>Crème brûlée POS</p>".encode())
    route = Route(headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, body=body)
    async with serve_site({"/": route}) as site:
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
    assert snap.home is not None and snap.home.title == "Zipped" and "Crème brûlée POS" in snap.home.text


async def test_endless_redirects_stop_after_five(resolve_to_loopback: list[str]) -> None:
    routes = {f"/r{i}": redirect(f"/r{(i + 1) % 4}") for i in range(4)}
    async with serve_site(routes) as site:
        with pytest.raises(SiteFetchError) as caught:
            await read_site(site.url_for("/r0", host=HOST), limits=settings())
        assert sum(site.hits.values()) == 6  # the first request and five redirects, not one more
    assert caught.value.details["reason"] == "too_many_redirects"
    assert "redirected more than 5 times" in caught.value.message


async def test_five_redirects_are_followed(resolve_to_loopback: list[str]) -> None:
    routes: dict[str, object] = {f"/r{i}": redirect(f"/r{i + 1}", status=301 + i % 2) for i in range(5)}
    routes["/r5"] = html("<title>Landed</title><p>Here</p>")
    async with serve_site(routes) as site:  # type: ignore[arg-type]
        snap = await read_site(site.url_for("/r0", host=HOST), limits=settings())
    assert snap.final_url == site.url_for("/r5", host=HOST) and snap.home is not None
    assert snap.home.title == "Landed"


async def test_redirect_to_a_blocked_host_never_reaches_it(resolve_to_loopback: list[str]) -> None:
    async with serve_site({"/admin": html("internal")}) as internal, serve_site({}) as public:
        public.routes["/"] = redirect(internal.url + "/admin")  # 127.0.0.1 itself is not allow-listed
        with pytest.raises(BlockedURL) as caught:
            await read_site(public.url_for("/", host=HOST), limits=settings())
        assert public.hits["/"] == 1 and internal.hits["/admin"] == 0
    assert caught.value.details["reason"] == "loopback"


async def test_name_resolving_to_private_address_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    async def private(host: str, port: int) -> list[str]:
        return ["10.0.0.8"]

    monkeypatch.setattr(ssrf, "system_resolve", private)
    with pytest.raises(BlockedURL) as caught:
        await read_site("https://intranet.example/", limits=site_limits(Settings()))
    assert caught.value.details["reason"] == "private"


async def test_slow_drip_body_hits_the_total_deadline(resolve_to_loopback: list[str]) -> None:
    async with serve_site({"/": drip("<p>" + "x" * 5000 + "</p>", every=0.05)}) as site:
        started = time.perf_counter()
        with pytest.raises(UpstreamTimeout) as caught:
            await read_site(site.url_for("/", host=HOST), limits=settings(site_deadline_s=1.0))
        elapsed = time.perf_counter() - started
    assert 0.9 < elapsed < 2.5
    assert caught.value.details["reason"] == "deadline" and caught.value.code == "timeout"


@pytest.mark.parametrize(
    "ctype", ["image/png", "application/octet-stream", "application/pdf", "application/json"]
)
async def test_non_html_content_is_a_clear_error(resolve_to_loopback: list[str], ctype: str) -> None:
    route = Route(headers={"Content-Type": ctype}, body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000)
    async with serve_site({"/": route}) as site:
        with pytest.raises(SiteFetchError) as caught:
            await read_site(site.url_for("/", host=HOST), limits=settings())
    assert caught.value.details["reason"] == "content_type"
    assert f"is not a web page (content type {ctype})" in caught.value.message


async def test_binary_without_content_type_is_refused(resolve_to_loopback: list[str]) -> None:
    async with serve_site({"/": Route(headers={}, body=b"GIF89a\x00\x00\x01")}) as site:
        with pytest.raises(SiteFetchError) as caught:
            await read_site(site.url_for("/", host=HOST), limits=settings())
    assert caught.value.details["reason"] == "content_type"


@pytest.mark.parametrize(("status", "reason"), [(404, "http_status"), (503, "http_status"), (200, "empty")])
async def test_homepage_errors_carry_url_reason_and_status(
    resolve_to_loopback: list[str], status: int, reason: str
) -> None:
    async with serve_site({"/": html("   " if status == 200 else "<h1>err</h1>", status=status)}) as site:
        with pytest.raises(SiteFetchError) as caught:
            await read_site(site.url_for("/", host=HOST), limits=settings())
    assert caught.value.details == {"url": site.url_for("/", host=HOST), "reason": reason, "status": status}


async def test_connection_refused_is_a_site_fetch_error(resolve_to_loopback: list[str]) -> None:
    site = serve_site({}).start()
    url = site.url_for("/", host=HOST)
    site.stop()  # nothing listens on that port any more
    with pytest.raises(SiteFetchError) as caught:
        await read_site(url, limits=settings())
    assert caught.value.details["reason"] == "network"


async def test_invalid_utf8_is_decoded_with_replacement(resolve_to_loopback: list[str]) -> None:
    body = (SITES / "messy.html").read_bytes()
    async with serve_site({"/": html(body, content_type="text/html; charset=utf-8")}) as site:
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
    assert snap.home is not None
    assert "\ufffd" in snap.home.text and "cafés across Europe" in snap.home.text


async def test_meta_charset_is_honoured(resolve_to_loopback: list[str]) -> None:
    body = '<meta charset="windows-1252"><title>Café “Systems”</title><p>Crème</p>'.encode("cp1252")
    async with serve_site({"/": html(body, content_type="text/html")}) as site:
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
    assert snap.home is not None and snap.home.title == "Café “Systems”"


async def test_plain_text_homepage(resolve_to_loopback: list[str]) -> None:
    async with serve_site(
        {"/": html("Acme sells <b>POS</b>\nto restaurants.", content_type="text/plain")}
    ) as site:
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
    assert snap.home is not None and snap.home.text == "Acme sells <b>POS</b>\nto restaurants."


async def test_prompt_injection_page_is_only_extracted(resolve_to_loopback: list[str]) -> None:
    async with serve_site({"/": html((SITES / "injection.html").read_bytes())}) as site:
        snap = await read_site(site.url_for("/", host=HOST), limits=settings())
        assert dict(site.hits) == {"/": 1}  # nothing the page says makes us fetch anything else
    assert snap.home is not None and "IGNORE ALL PREVIOUS INSTRUCTIONS" in snap.home.text
    assert len(snap.pages) == 1 and snap.errors == []


async def test_page_cache_serves_repeat_reads_without_requests(tablely: SiteServer) -> None:
    class MemoryCache:
        def __init__(self) -> None:
            self.data: dict[str, str] = {}

        async def get(self, url: str) -> str | None:
            return self.data.get(url)

        async def set(self, url: str, html: str) -> None:
            self.data[url] = html

    cache = MemoryCache()
    first = await read_site(tablely.url_for("/", host=HOST), limits=settings(), page_cache=cache)
    hits = sum(tablely.hits.values())
    second = await read_site(tablely.url_for("/", host=HOST), limits=settings(), page_cache=cache)
    assert sum(tablely.hits.values()) == hits == len(cache.data) == 7
    assert [p.model_dump() for p in second.pages] == [p.model_dump() for p in first.pages]


async def test_bare_domain_gets_https_and_blocked_scheme_is_refused() -> None:
    with pytest.raises(BlockedURL):
        await read_site("localhost", limits=site_limits(Settings()))
    with pytest.raises(BlockedURL) as caught:
        await read_site("file:///etc/passwd", limits=site_limits(Settings()))
    assert caught.value.details["reason"] == "scheme"


async def test_a_deep_link_also_reads_the_home_page_within_the_page_budget(tablely: SiteServer) -> None:
    snap = await read_site(tablely.url_for("/pricing", host=HOST), limits=settings(), max_pages=4)
    assert [p.kind for p in snap.pages][:2] == ["home", "pricing"]  # the home page speaks for the company
    assert snap.pages[0].url == tablely.url_for("/", host=HOST)
    assert len(snap.pages) <= 4 and tablely.hits["/"] == 1 and tablely.hits["/pricing"] == 1
    assert snap.final_url == tablely.url_for("/pricing", host=HOST)


async def test_the_home_page_is_not_read_twice(tablely: SiteServer) -> None:
    await read_site(tablely.url_for("/", host=HOST), limits=settings())
    assert tablely.hits["/"] == 1
