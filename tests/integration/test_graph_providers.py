"""The graph with provider keys: the seller is enriched, sample domains are probed for coverage, and
provider failures become warnings. Provider traffic replays from cassettes recorded against the
loopback stand-in; the seller's site is served on loopback (never recorded)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.cache import RunCache
from graph.resources import open_resources
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import get_settings
from tests.support.provider_standin import (
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_STANDIN_URL,
    CLEARBIT_KEY,
    CLEARBIT_STANDIN_URL,
    Recording,
    provider_cassette,
)
from tests.support.site_server import SiteServer, serve_site
from tools import ssrf

pytestmark = pytest.mark.slow

SELLER = "harborlane.example"  # a domain the stand-in knows: the seller's own record exists
PAGE = (Path(__file__).parents[2] / "server" / "demo" / "roadledger.html").read_text(encoding="utf-8")
SAMPLES = ["brightpath.example", "copperkettle.example", "norrsken.example", "tinyleaf.example", "unknown.example"]


def graph_cassette(name: str) -> contextlib.AbstractContextManager[Recording]:
    """Provider traffic of a whole-graph run; the loopback seller site is never recorded."""
    return provider_cassette(f"graph_{name}", ignore_hosts=["127.0.0.1", SELLER])


@pytest.fixture
async def seller_site(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SiteServer]:
    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "system_resolve", loopback)
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", SELLER)
    monkeypatch.setenv("APOLLO_BASE_URL", APOLLO_STANDIN_URL)
    monkeypatch.setenv("CLEARBIT_BASE_URL", CLEARBIT_STANDIN_URL)
    async with serve_site({"/": PAGE}) as site:
        yield site


async def _run(site: SiteServer, rec: Recording, **request: object) -> dict:
    settings = get_settings()
    cache = RunCache(settings.cache_dir, ttl_s=60)
    async with open_resources(settings) as resources:
        resources.extras["provider_http_factory"] = lambda provider: rec.client(provider)
        runner = BlueprintRunner(settings=settings, cache=cache, resources=resources)
        body = {"website": site.url_for("/", host=SELLER), "options": {"cache": "bypass"}, **request}
        blueprint, _ = await runner.generate(EnrichmentRequest.model_validate(body))
    cache.close()
    return blueprint.model_dump(mode="json")


async def test_seller_enrichment_and_coverage_probe(seller_site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", APOLLO_KEY)
    monkeypatch.setenv("CLEARBIT_API_KEY", CLEARBIT_KEY)
    get_settings.cache_clear()
    with graph_cassette("coverage_probe") as rec:
        bp = await _run(seller_site, rec, sample_domains=SAMPLES)
    evidence_sources = {e["source"] for e in bp["company"]["evidence"]}
    assert {"apollo", "clearbit"} <= evidence_sources  # the seller's own records, marked by provider
    coverage = bp["coverage"]
    assert coverage["sample_size"] == len(SAMPLES)
    assert coverage["domains_enriched"]["apollo"] == len(SAMPLES)
    employees = coverage["by_data_point"].get("employee_count")
    rates = [r for by in coverage["by_data_point"].values() for r in by.values()]
    assert rates and all(0.0 <= r <= 1.0 for r in rates)
    assert any(0.0 < r < 1.0 for r in rates)  # sparse records: partial fill rates, not all-or-nothing
    if employees:
        assert set(employees) <= {"apollo", "clearbit"}
    calls = bp["meta"]["provider_calls"]
    assert calls["apollo"]["credits"] >= 1 and calls["clearbit"]["calls"] >= len(SAMPLES)
    # every waterfall that was measured is ordered by fill rate (then cost)
    by_key = coverage["by_data_point"]
    for method in bp["collection_methods"]:
        measured = [s for s in method["provider_order"] if any(s in by_key.get(k, {}) for k in method["data_points"])]
        means = [sum(by_key.get(k, {}).get(s, 0.0) for k in method["data_points"]) for s in measured]
        assert means == sorted(means, reverse=True)


async def test_failing_provider_is_a_warning_not_a_failure(
    seller_site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", APOLLO_REVOKED_KEY)  # 401 text/plain
    monkeypatch.delenv("CLEARBIT_API_KEY", raising=False)
    get_settings.cache_clear()
    with graph_cassette("revoked_key") as rec:
        bp = await _run(seller_site, rec, sample_domains=SAMPLES[:2])
    codes = [(w["code"], w["node"]) for w in bp["warnings"]]
    assert ("provider_error", "fetch_site") in codes and ("provider_error", "coverage") in codes
    assert bp["firmographic"]["data_points"]  # the blueprint is still delivered
    assert APOLLO_REVOKED_KEY not in str(bp)
    assert bp["coverage"]["domains_enriched"] == {}


async def test_samples_without_keys_warn_and_skip(seller_site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("APOLLO_API_KEY", "CLEARBIT_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    with graph_cassette("no_keys") as rec:
        bp = await _run(seller_site, rec, sample_domains=SAMPLES[:1])
    assert bp["coverage"] is None
    assert [w["code"] for w in bp["warnings"]] == ["coverage_skipped"]
    assert bp["meta"]["provider_calls"] == {}
    assert os.environ.get("APOLLO_API_KEY") is None
