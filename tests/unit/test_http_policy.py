"""The provider HTTP policy: retries (tenacity), limiter (aiolimiter + quota pacing), cache, errors.

Transport-level behaviour is driven by ``httpx.MockTransport`` and a fake clock, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable

import httpx
import pytest
from pydantic import BaseModel

from tests.support.provider_standin import FakeClock
from tools.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRequestError,
    UpstreamTimeout,
)
from tools.http import (
    CACHE_TTL_S,
    InMemoryResponseCache,
    ProviderLimiter,
    ProviderUsage,
    RetryPolicy,
    cache_key,
    make_client,
    parse_retry_after,
    send,
)
from tools.provider_base import error_for_response, normalize_domain, tolerant_model, transport_error

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A MockTransport handler replaying ``answers`` in order (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


async def run(
    handler: Handler, policy: RetryPolicy, clock: FakeClock
) -> tuple[httpx.Response, ProviderUsage]:
    usage = ProviderUsage()
    limiter = ProviderLimiter("apollo", sleep=clock.sleep, clock=clock)
    async with make_client("apollo", transport=httpx.MockTransport(handler)) as http:
        response = await send(
            lambda: http.get("http://provider.test/x"), limiter=limiter, retry=policy, usage=usage
        )
    return response, usage




@pytest.fixture
def policy(clock: FakeClock) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock, wall_clock=lambda: 1_800_000_000.0)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(email.utils.formatdate(now + 12, usegmt=True), now=now) == pytest.approx(
        12, abs=1
    )
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_429_honours_retry_after_capped(policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(
        httpx.Response(429, headers={"retry-after": "120"}), httpx.Response(200, json={})
    )
    response, usage = await run(handler, policy, clock)
    assert response.status_code == 200
    assert clock.sleeps == [policy.retry_after_cap_s]
    assert usage.calls == len(seen) == 2


async def test_429_http_date_retry_after(policy: RetryPolicy, clock: FakeClock) -> None:
    date = email.utils.formatdate(1_800_000_000.0 + 4, usegmt=True)
    handler, _ = scripted(httpx.Response(429, headers={"retry-after": date}), httpx.Response(200))
    response, _ = await run(handler, policy, clock)
    assert response.status_code == 200
    assert clock.sleeps == [pytest.approx(4, abs=1)]


async def test_5xx_backoff_is_jittered_exponential_and_bounded(policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(500), httpx.Response(503), httpx.Response(200))
    response, _ = await run(handler, policy, clock)
    assert response.status_code == 200 and len(seen) == 3
    assert len(clock.sleeps) == 2
    for attempt, waited in enumerate(clock.sleeps, start=1):
        assert 0 <= waited <= min(policy.max_delay_s, policy.base_delay_s * 2**attempt)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_are_not_retried(status: int, policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(status))
    response, usage = await run(handler, policy, clock)
    assert response.status_code == status
    assert len(seen) == usage.calls == 1 and clock.sleeps == []


async def test_attempts_are_bounded_and_last_answer_returned(policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(503))
    response, _ = await run(handler, policy, clock)
    assert response.status_code == 503
    assert len(seen) == policy.max_attempts


async def test_total_time_budget_stops_retrying(clock: FakeClock) -> None:
    policy = RetryPolicy(max_attempts=10, total_budget_s=45, sleep=clock.sleep, clock=clock)
    handler, seen = scripted(httpx.Response(429, headers={"retry-after": "20"}))
    response, _ = await run(handler, policy, clock)
    # 20 s + 20 s fit in the 45 s budget; a third wait would overrun it, so we stop with the 429.
    assert response.status_code == 429
    assert clock.sleeps == [20, 20] and len(seen) == 3


async def test_timeouts_are_retried_then_raised(policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(httpx.ReadTimeout):
        await run(handler, policy, clock)
    assert len(seen) == policy.max_attempts


async def test_connection_error_then_success(policy: RetryPolicy, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200, json={"ok": True}))
    response, _ = await run(handler, policy, clock)
    assert response.json() == {"ok": True} and len(seen) == 2


def test_default_rates_follow_documented_limits() -> None:
    assert ProviderLimiter("apollo").per_minute == 50
    assert ProviderLimiter("clearbit").per_minute == 600
    assert ProviderLimiter("clearbit", per_minute=5).bucket.max_rate == 5


async def test_limiter_blocks_past_the_rate() -> None:
    limiter = ProviderLimiter("apollo")
    for _ in range(50):  # the free plan's minute budget goes through at once
        await asyncio.wait_for(limiter.acquire(), timeout=1)
    assert not limiter.bucket.has_capacity()
    with pytest.raises(TimeoutError):  # the 51st waits for the bucket to drain (about 1.2 s)
        await asyncio.wait_for(limiter.acquire(), timeout=0.05)


async def test_limiter_paces_when_apollo_quota_runs_low(clock: FakeClock) -> None:
    limiter = ProviderLimiter("apollo", sleep=clock.sleep, clock=clock, max_pause_s=10)
    limiter.observe({"x-rate-limit-minute": "50", "x-minute-requests-left": "40"})
    await limiter.acquire()
    assert clock.sleeps == []
    limiter.observe({"x-rate-limit-minute": "50", "x-minute-requests-left": "4"})
    assert limiter.pause_s == 10  # 60 s / 5 calls = 12 s, capped at max_pause_s
    await limiter.acquire()
    assert clock.sleeps == [10]
    limiter.observe(
        {"x-rate-limit-hourly": "200", "x-hourly-requests-left": "150", "x-24-hour-requests-left": "0"}
    )
    assert limiter.pause_s == 10  # an exhausted day window keeps us slow
    limiter.observe({"x-minute-requests-left": "45", "x-hourly-requests-left": "150"})
    assert limiter.pause_s == 0


def test_limiter_paces_on_clearbit_reset_header() -> None:
    limiter = ProviderLimiter("clearbit", max_pause_s=10)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "3", "x-ratelimit-reset": "8"})
    assert limiter.pause_s == pytest.approx(8 / 4)
    limiter.observe({"x-ratelimit-limit": "600", "x-ratelimit-remaining": "500", "x-ratelimit-reset": "8"})
    assert limiter.pause_s == 0
    limiter.observe({"x-ratelimit-remaining": "nonsense"})
    assert limiter.pause_s == 0


async def test_in_memory_cache_expires_by_ttl(clock: FakeClock) -> None:
    cache = InMemoryResponseCache(clock=clock)
    key = cache_key("apollo", "company", " Acme.Example ")
    assert key == "provider:apollo:company:acme.example"
    await cache.set(key, {"raw": {"organization": {"name": "Acme"}}}, CACHE_TTL_S["company"])
    clock.now += CACHE_TTL_S["company"] - 1
    assert await cache.get(key) == {"raw": {"organization": {"name": "Acme"}}}
    clock.now += 2
    assert await cache.get(key) is None and len(cache) == 0
    assert CACHE_TTL_S["company"] == 30 * 86400 and CACHE_TTL_S["person"] == 7 * 86400


async def test_make_client_sets_timeouts_and_no_secret() -> None:
    async with make_client("apollo", base_url="http://provider.test", timeout=3) as http:
        assert http.timeout.read == 3 and http.timeout.connect == 3
        assert "x-api-key" not in http.headers and "authorization" not in http.headers
        assert http.headers["user-agent"].startswith("enrichment-blueprint/")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.example/about?x=1", "acme.example"),
        ("acme.example", "acme.example"),
        ("http://user@shop.acme.example:8080/", "shop.acme.example"),
        ("  ", ""),
    ],
)
def test_normalize_domain(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


def test_tolerant_model_drops_surprising_fields() -> None:
    class Org(BaseModel):
        name: str | None = None
        employees: int | None = None
        tags: list[str] = []

    org = tolerant_model(Org, {"name": "Acme", "employees": "many", "tags": None, "extra": 1})
    assert (org.name, org.employees, org.tags) == ("Acme", None, [])


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, ProviderRequestError),
        (422, ProviderRequestError),
        (429, ProviderRateLimited),
        (500, ProviderError),
        (503, ProviderError),
    ],
)
def test_error_for_response_maps_the_error_tree(status: int, cls: type[ProviderError]) -> None:
    response = httpx.Response(status, headers={"retry-after": "3"})
    error = error_for_response("apollo", "Apollo", response, reason="why", detail="provider said no")
    assert type(error) is cls
    assert error.details["provider"] == "apollo" and error.details["http_status"] == status
    assert error.details["reason"] == "why"
    if status == 429:
        assert error.details["retry_after_s"] == 3


def test_transport_errors_map_to_timeout_or_upstream() -> None:
    assert isinstance(transport_error("apollo", "Apollo", httpx.ReadTimeout("x")), UpstreamTimeout)
    refused = transport_error("clearbit", "Clearbit", httpx.ConnectError("x"))
    assert isinstance(refused, ProviderError) and refused.details["provider"] == "clearbit"


async def test_paced_calls_are_spread_not_woken_together() -> None:
    # Real (tiny) sleeps: three concurrent callers must take three pauses, not one shared pause.
    limiter = ProviderLimiter("apollo", max_pause_s=0.05)
    limiter.observe({"x-rate-limit-minute": "50", "x-minute-requests-left": "2"})
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(limiter.acquire() for _ in range(3)))
    assert loop.time() - started >= 0.14
