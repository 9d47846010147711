"""Broken upstreams: every provider and the LLM answering 429 (with and without ``retry-after``), 500,
garbage, timeouts, 401 and 403. The blueprint is still delivered, with warnings, in bounded time, and
no upstream is asked more often than its retry budget allows (the stand-ins count every request).

Providers: the loopback provider stand-in (live, scripted by the seller's domain and the key), with
clients built at a 0.5 s timeout so its ``slow.example`` (1.5 s) times out. LLM: a loopback endpoint
that answers ``/v1/chat/completions`` with the scripted failure.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.engine.llm_client import RETRY_ATTEMPTS
from graph.resources import open_resources
from graph.run import BlueprintRunner
from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import get_settings
from tests.support.http_helpers import TABLELY
from tests.support.provider_standin import (
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_SCOPED_KEY,
    CLEARBIT_BAD_KEY,
    CLEARBIT_KEY,
    ProviderStandIn,
    serve_providers,
)
from tests.support.site_server import Route, SiteServer, html, serve_site
from tools import ssrf
from tools.http import RetryPolicy, make_client

pytestmark = pytest.mark.slow

PAGE = (Path(__file__).parents[2] / "server" / "demo" / "roadledger.html").read_text(encoding="utf-8")
PROVIDER_ATTEMPTS = RetryPolicy().max_attempts
LLM_NODES = 4  # analyze_company and the three sections
SECTIONS = ("firmographic", "technographic", "personalization")


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderStandIn]:
    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # every seller domain of the scenarios is served by the loopback site

    monkeypatch.setattr(ssrf, "system_resolve", loopback)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with serve_providers() as server:
        monkeypatch.setenv("APOLLO_BASE_URL", server.url + "/api/v1")
        monkeypatch.setenv("CLEARBIT_BASE_URL", server.url)
        yield server


@pytest.fixture
async def seller() -> AsyncIterator[SiteServer]:
    async with serve_site({"/": PAGE}) as site:
        yield site


def _keys(monkeypatch: pytest.MonkeyPatch, apollo: str = APOLLO_KEY, clearbit: str = CLEARBIT_KEY) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", apollo)
    monkeypatch.setenv("CLEARBIT_API_KEY", clearbit)


async def _generate(site: SiteServer, domain: str, monkeypatch: pytest.MonkeyPatch, **body: Any) -> Blueprint:
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", domain)
    get_settings.cache_clear()
    settings = get_settings()
    async with open_resources(settings) as resources:
        resources.extras["provider_http_factory"] = lambda provider: make_client(provider, timeout=0.5)
        runner = BlueprintRunner(settings=settings, cache=None, resources=resources)
        request = EnrichmentRequest.model_validate(
            {"website": site.url_for("/", host=domain), "options": {"cache": "bypass"}, **body}
        )
        blueprint, _ = await runner.generate(request)
    return blueprint


def _attempts(standin: ProviderStandIn) -> Counter[tuple[str, str]]:
    """Requests per (provider endpoint, looked-up domain)."""
    return Counter((r["path"], r["query"].get("domain", "")) for r in standin.requests)


def _delivered(bp: Blueprint) -> None:
    for name in SECTIONS:
        assert getattr(bp, name).data_points, f"{name} is empty"
    assert bp.sources and bp.collection_methods


# ── providers ──────────────────────────────────────────────────────────────────────────────────
@dataclasses.dataclass(frozen=True)
class Scenario:
    domain: str  # the seller: the stand-in scripts its answer by the looked-up domain
    attempts: int  # requests per provider for the seller lookup
    warned: bool  # whether each provider's failure ends up as a warning
    apollo_key: str = APOLLO_KEY
    clearbit_key: str = CLEARBIT_KEY


PROVIDER_SCENARIOS = {
    "429 with retry-after, always": Scenario("throttled.example", PROVIDER_ATTEMPTS, True),
    "429 with retry-after, once": Scenario("busy.example", 2, False),
    "429 without retry-after, once": Scenario("busy-nohint.example", 2, False),
    "500 always": Scenario("broken.example", PROVIDER_ATTEMPTS, True),
    "timeouts": Scenario("slow.example", PROVIDER_ATTEMPTS, True),
    "garbage body": Scenario("garbage.example", 1, True),
    "401": Scenario("harborlane.example", 1, True, apollo_key=APOLLO_REVOKED_KEY, clearbit_key=CLEARBIT_BAD_KEY),
}


@pytest.mark.parametrize("name", list(PROVIDER_SCENARIOS))
async def test_failing_providers_still_deliver_within_budget(
    name: str, standin: ProviderStandIn, seller: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = PROVIDER_SCENARIOS[name]
    _keys(monkeypatch, scenario.apollo_key, scenario.clearbit_key)
    started = time.monotonic()
    bp = await _generate(seller, scenario.domain, monkeypatch)
    elapsed = time.monotonic() - started
    _delivered(bp)
    attempts = _attempts(standin)
    assert attempts[("/api/v1/organizations/enrich", scenario.domain)] == scenario.attempts
    assert attempts[("/v2/companies/find", scenario.domain)] == scenario.attempts
    warned = sorted(w.message.split(" ")[0] for w in bp.warnings if w.code == "provider_error")
    assert warned == (["apollo", "clearbit"] if scenario.warned else []), bp.warnings
    assert elapsed < 20, f"{name}: {elapsed:.1f}s"  # throttled: three 2 s retry-after waits at most


async def test_apollo_403_is_not_retried(
    standin: ProviderStandIn, seller: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(monkeypatch, apollo=APOLLO_SCOPED_KEY)  # 403 API_INACCESSIBLE
    bp = await _generate(seller, "harborlane.example", monkeypatch)
    _delivered(bp)
    assert _attempts(standin)[("/api/v1/organizations/enrich", "harborlane.example")] == 1
    assert [w.message.split(" ")[0] for w in bp.warnings if w.code == "provider_error"] == ["apollo"]
    assert "clearbit" in {e.source for e in bp.company.evidence}  # the working provider still counts


async def test_coverage_probe_with_failing_lead_domains_stays_in_budget(
    standin: ProviderStandIn, seller: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(monkeypatch)
    samples = ["brightpath.example", "broken.example", "slow.example", "garbage.example", "throttled.example"]
    started = time.monotonic()
    bp = await _generate(seller, "harborlane.example", monkeypatch, sample_domains=samples)
    elapsed = time.monotonic() - started
    _delivered(bp)
    attempts = _attempts(standin)
    assert attempts and max(attempts.values()) <= PROVIDER_ATTEMPTS, attempts
    assert attempts[("/v2/companies/find", "brightpath.example")] == 1
    assert bp.coverage is not None and bp.coverage.sample_size == len(samples)
    assert any(w.code == "provider_error" and w.node == "coverage" for w in bp.warnings)
    assert elapsed < 30


# ── the LLM ────────────────────────────────────────────────────────────────────────────────────
def _llm_answer(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Route:
    default = b'{"error": {"message": "scripted failure", "type": "server_error"}}'
    return Route(status=status, headers={"Content-Type": "application/json", **(headers or {})},
                 body=body or default)


LLM_SCENARIOS: dict[str, tuple[Route, int]] = {
    # name: (the answer to every call, requests per node)
    "429 with retry-after": (_llm_answer(429, {"retry-after": "30"}), RETRY_ATTEMPTS),
    "429 without retry-after": (_llm_answer(429), RETRY_ATTEMPTS),
    "500": (_llm_answer(500), RETRY_ATTEMPTS),
    "garbage body": (html("<html><body>Bad gateway</body></html>"), 1),
    "timeout": (dataclasses.replace(_llm_answer(200), wait=3.0), 1),
    "401": (_llm_answer(401, body=b'{"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}'), 1),
    "403": (_llm_answer(403), 1),
}


@pytest.fixture
def tablely(monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteServer]:
    for name in ("APOLLO_API_KEY", "CLEARBIT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with serve_site(directory=TABLELY) as site:
        yield site


def _use_llm(monkeypatch: pytest.MonkeyPatch, llm: SiteServer) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", llm.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-broken-upstream-test")
    monkeypatch.setenv("BLUEPRINT_ENGINE", "llm")
    monkeypatch.setenv("BLUEPRINT_LLM_TIMEOUT_S", "1.0")


@pytest.mark.parametrize("name", list(LLM_SCENARIOS))
async def test_failing_llm_falls_back_within_budget(
    name: str, tablely: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer, per_node = LLM_SCENARIOS[name]
    with serve_site({"/v1/chat/completions": answer}) as llm:
        _use_llm(monkeypatch, llm)
        started = time.monotonic()
        bp = await _generate(tablely, "127.0.0.1", monkeypatch)
        elapsed = time.monotonic() - started
    _delivered(bp)
    assert bp.meta.engine == "llm"
    fallbacks = sorted(w.node or "" for w in bp.warnings if w.code == "llm_fallback")
    assert fallbacks == sorted(["analyze_company", *SECTIONS]), bp.warnings
    assert llm.hits["/v1/chat/completions"] == LLM_NODES * per_node  # the retry budget, never more
    assert elapsed < 10, f"{name}: {elapsed:.1f}s"  # a 30 s retry-after is not slept through


async def test_everything_broken_at_once_still_delivers(
    standin: ProviderStandIn, seller: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(monkeypatch)
    with serve_site({"/v1/chat/completions": _llm_answer(500)}) as llm:
        _use_llm(monkeypatch, llm)
        started = time.monotonic()
        bp = await _generate(seller, "broken.example", monkeypatch, sample_domains=["slow.example"])
        elapsed = time.monotonic() - started
    _delivered(bp)
    codes = {w.code for w in bp.warnings}
    assert {"provider_error", "llm_fallback"} <= codes
    assert max(_attempts(standin).values()) <= PROVIDER_ATTEMPTS
    assert llm.hits["/v1/chat/completions"] <= (LLM_NODES + 1) * RETRY_ATTEMPTS  # +1: a provider tool round
    assert elapsed < 30
