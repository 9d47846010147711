"""Credit safety: the server memoizes provider answers (company 30 days, person 7 days), as the CLI does.

``refresh`` runs the graph again and re-reads the seller's site, but what Apollo and Clearbit said about a
domain minutes ago is not bought again. The providers are the loopback stand-in; every request it gets is a
provider call (a credit, on a real plan).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.provider_standin import APOLLO_KEY, CLEARBIT_KEY, ProviderStandIn, serve_providers
from tests.support.site_server import SiteServer

SAMPLES = ["brightpath.example", "copperkettle.example", "norrsken.example", "tinyleaf.example",
           "harborlane.example"]
REFRESHES = 40


@pytest.fixture
def providers(
    site: SiteServer, offline_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ProviderStandIn]:
    with serve_providers() as standin:
        monkeypatch.setenv("APOLLO_API_KEY", APOLLO_KEY)
        monkeypatch.setenv("CLEARBIT_API_KEY", CLEARBIT_KEY)
        monkeypatch.setenv("APOLLO_BASE_URL", standin.url + "/api/v1")
        monkeypatch.setenv("CLEARBIT_BASE_URL", standin.url)
        monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
        # the per-blueprint refresh limit would refuse 39 of the 40 refreshes: measure the provider cache alone
        monkeypatch.setenv("BLUEPRINT_REFRESH_INTERVAL_S", "0")
        get_settings.cache_clear()
        yield standin


async def test_refreshes_do_not_pay_the_providers_again(site: SiteServer, providers: ProviderStandIn) -> None:
    body = {"website": site.url, "sample_domains": SAMPLES, "options": {"cache": "refresh"}}
    async with app_client(create_app()) as client:
        first = await client.post(ENRICH, json=body)
        assert first.status_code == 200, first.text
        first_calls = len(providers.requests)
        assert first_calls > 0 and first.json()["coverage"]["sample_size"] == len(SAMPLES)
        for _ in range(REFRESHES - 1):
            again = await client.post(ENRICH, json=body)
            assert again.status_code == 200
            assert again.json()["coverage"] == first.json()["coverage"]  # same answers, from the cache
    print(f"\nprovider calls for {REFRESHES} refreshes of one request with {len(SAMPLES)} sample domains: "
          f"{len(providers.requests)} ({first_calls} by the first)")
    assert len(providers.requests) == first_calls
    # refreshes did run the graph again and re-read the site (one that arrives while the previous run is
    # still storing its result joins that run, so not quite every one)
    assert site.hits["/"] > REFRESHES // 2


async def test_bypass_asks_the_providers_again(site: SiteServer, providers: ProviderStandIn) -> None:
    """``bypass`` reads and writes no cache at all, provider answers included (as on the CLI)."""
    body = {"website": site.url, "sample_domains": SAMPLES[:2], "options": {"cache": "bypass"}}
    async with app_client(create_app()) as client:
        assert (await client.post(ENRICH, json=body)).status_code == 200
        once = len(providers.requests)
        assert (await client.post(ENRICH, json=body)).status_code == 200
    assert once > 0 and len(providers.requests) == 2 * once
