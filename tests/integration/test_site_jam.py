"""The site reader cannot jam: runs abandoned mid-request, or a thousand at once against one host, leave
nothing behind that makes the next run for that host wait (encode/httpcore#1093, see tools.host_pools).

Before the fix both bursts left the shared pool with all ten slots "connecting" and the fresh request
below failed after 10 s (``UpstreamTimeout``, reason ``timeout``) while the site answered in 1 ms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.site_server import SiteServer, html, serve_site
from tools.errors import UpstreamTimeout
from tools.website import SiteLimits, build_site_client, read_site

pytestmark = pytest.mark.slow

RUNS = 1000
FRESH_WITHIN_S = 2.0  # the site answers in ~1 ms; generous for a loaded machine, far below the 10 s jam


def settings(**overrides: object) -> SiteLimits:
    return dataclasses.replace(SiteLimits(allow_hosts=("127.0.0.1",)), **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def site() -> AsyncIterator[SiteServer]:
    routes = {"/": html("<title>Fast</title><h1>Fast</h1>"),
              "/slow": dataclasses.replace(html("<title>Slow</title><h1>Slow</h1>"), wait=0.05)}  # fmt: skip
    async with serve_site(routes) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_site_client(settings()) as shared:  # one client for every run, as in the server
        yield shared


async def assert_answers_within_its_latency(site: SiteServer, client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    snap = await read_site(site.url + "/?fresh=1", client=client, limits=settings(max_pages=1))
    elapsed = time.perf_counter() - started
    assert snap.pages[0].title == "Fast"
    assert elapsed < FRESH_WITHIN_S, f"a fresh run took {elapsed:.2f} s after the burst"


async def test_runs_abandoned_mid_request_do_not_jam_the_host(site: SiteServer, client: httpx.AsyncClient) -> None:
    rng = random.Random(1093)

    async def abandoned(i: int) -> None:  # like an SSE client that hangs up at a random moment
        async with asyncio.timeout(rng.uniform(0.01, 1.5)):
            await read_site(site.url + f"/slow?run={i}", client=client, limits=settings(max_pages=1))

    results = await asyncio.gather(*(abandoned(i) for i in range(RUNS)), return_exceptions=True)
    assert any(isinstance(r, TimeoutError) for r in results)  # runs really were cut mid-flight
    await assert_answers_within_its_latency(site, client)


async def test_a_thousand_concurrent_runs_against_one_host_leave_it_answering(
    site: SiteServer, client: httpx.AsyncClient
) -> None:
    busy = settings(max_pages=1, site_deadline_s=2.0)  # distinct cold runs; the later ones hit the deadline
    results = await asyncio.gather(
        *(read_site(site.url + f"/slow?run={i}", client=client, limits=busy) for i in range(RUNS)),
        return_exceptions=True,
    )
    read = sum(not isinstance(r, BaseException) for r in results)
    assert read > 0
    assert all(not isinstance(r, BaseException) or isinstance(r, UpstreamTimeout) for r in results)
    await assert_answers_within_its_latency(site, client)
