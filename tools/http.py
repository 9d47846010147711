"""The one HTTP policy for data providers: clients, retries, rate limits, response cache, usage.

Every provider call goes through :func:`send`: acquire the provider's rate limiter, send, read the
provider's remaining-quota headers, and retry (tenacity) on 429, 5xx, timeouts and connection errors.
Clients are built by :func:`make_client` at runtime (lifespan / run), never at import. Clock and sleep
are injectable so retry and limiter behaviour is testable without real waiting.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_result
from tenacity.wait import wait_random_exponential

__all__ = [
    "CACHE_TTL_S",
    "DEFAULT_RATES_PER_MIN",
    "InMemoryResponseCache",
    "ProviderLimiter",
    "ProviderUsage",
    "ResponseCache",
    "RetryPolicy",
    "cache_key",
    "make_client",
    "parse_retry_after",
    "send",
    "shared_tls_context",
]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

#: Documented default limits: Apollo free plan 50/min, Clearbit 600/min.
DEFAULT_RATES_PER_MIN: dict[str, float] = {"apollo": 50, "clearbit": 600}
#: Response-cache TTL per kind of record. Firmographics move slowly; people change jobs faster.
#: ``not_found`` is short so a record that appears later is picked up.
CACHE_TTL_S: dict[str, int] = {"company": 30 * 86400, "person": 7 * 86400, "not_found": 86400}

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (httpx.TimeoutException, httpx.ConnectError, httpx.RemoteProtocolError)


@functools.lru_cache(maxsize=1)
def shared_tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one reads the CA bundle (about 15 ms of
    CPU), which per-run clients (providers, the site reader's per-host pools) otherwise paid every run."""
    return httpx.create_ssl_context()


def make_client(
    provider: str,
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """One ``httpx.AsyncClient`` per provider, with explicit timeouts and pool limits.

    Secrets are *not* put here: provider clients add their key per request, so a client can be shared
    or injected by tests without carrying a key.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"user-agent": f"enrichment-blueprint/0.1 ({provider})", **(headers or {})},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
        transport=transport,
        verify=shared_tls_context(),
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``retry-after`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """Bounded, jittered exponential backoff that honours ``retry-after`` (capped)."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    retry_after_cap_s: float = 30.0
    total_budget_s: float = 45.0
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.monotonic
    wall_clock: Clock = time.time

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response: httpx.Response = outcome.result()
            hinted = parse_retry_after(response.headers.get("retry-after"), now=self.wall_clock())
            if hinted is not None:
                return min(hinted, self.retry_after_cap_s)
        backoff = wait_random_exponential(multiplier=self.base_delay_s, max=self.max_delay_s)
        return float(backoff(state))

    def retrying(self) -> AsyncRetrying:
        started = self.clock()

        def stop(state: RetryCallState) -> bool:
            # Stop when attempts run out, or when the next wait would overrun the time budget:
            # better to report the provider's answer now than to sleep past the caller's deadline.
            over_budget = self.clock() - started + (state.upcoming_sleep or 0.0) > self.total_budget_s
            return state.attempt_number >= self.max_attempts or over_budget

        return AsyncRetrying(
            retry=retry_if_exception_type(RETRY_EXCEPTIONS)
            | retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            wait=self._wait,
            stop=stop,
            sleep=self.sleep,
            # Out of attempts: hand back the last response (the caller maps its status) or re-raise
            # the last transport error, instead of tenacity's RetryError.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            before_sleep=lambda s: log.info("provider call retry %d", s.attempt_number),
        )


# (header with requests left, header with the window's limit, window length in seconds)
_QUOTA_HEADERS: dict[str, list[tuple[str, str | None, float]]] = {
    "apollo": [
        ("x-minute-requests-left", "x-rate-limit-minute", 60.0),
        ("x-hourly-requests-left", "x-rate-limit-hourly", 3600.0),
        ("x-24-hour-requests-left", "x-rate-limit-24-hour", 86400.0),
    ],
    "clearbit": [("x-ratelimit-remaining", "x-ratelimit-limit", 60.0)],
}


@dataclass
class ProviderLimiter:
    """A leaky-bucket limiter (aiolimiter) plus pacing when quota headers say the budget runs low.

    When a window has few requests left, the next calls are spread over what remains of that window
    (``window / (left + 1)`` per call, capped by ``max_pause_s``) instead of running into 429s.
    """

    provider: str
    per_minute: float | None = None
    low_water_ratio: float = 0.1
    max_pause_s: float = 10.0
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.monotonic
    pause_s: float = 0.0
    _bucket: AsyncLimiter = field(init=False, repr=False)
    _pace: asyncio.Lock = field(init=False, repr=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        rate = self.per_minute or DEFAULT_RATES_PER_MIN.get(self.provider, 60)
        self.per_minute = rate
        self._bucket = AsyncLimiter(rate, 60.0)

    @property
    def bucket(self) -> AsyncLimiter:
        return self._bucket

    async def acquire(self) -> None:
        if self.pause_s > 0:
            # Paced calls go one at a time, so concurrent callers are spread out, not woken together.
            async with self._pace:
                await self.sleep(self.pause_s)
        await self._bucket.acquire()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Update the pacing from one response's quota headers (unknown headers are ignored)."""
        pause = 0.0
        for left_name, limit_name, window in _QUOTA_HEADERS.get(self.provider, []):
            left = _as_float(headers.get(left_name))
            if left is None:
                continue
            limit = _as_float(headers.get(limit_name)) if limit_name else None
            threshold = max(1.0, (limit or 20.0) * self.low_water_ratio)
            if left > threshold:
                continue
            reset = _as_float(headers.get("x-ratelimit-reset")) if self.provider == "clearbit" else None
            if reset is not None and reset > 1e9:  # an epoch timestamp rather than seconds-to-reset
                reset = max(0.0, reset - time.time())
            pause = max(pause, (reset if reset is not None else window) / (left + 1))
        self.pause_s = min(pause, self.max_pause_s)


def _as_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class ProviderUsage:
    """Per-provider counters reported in ``meta.provider_calls``."""

    calls: int = 0  # HTTP requests actually sent (retries and 202 polls included)
    credits: int = 0  # records returned (1 credit per enriched organization/person)
    errors: int = 0  # logical calls that ended in an error
    cache_hits: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "credits": self.credits, "errors": self.errors,
                "cache_hits": self.cache_hits}


class ResponseCache(Protocol):
    """Where provider responses are memoized (graph/cache.py implements it over diskcache)."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None: ...


class InMemoryResponseCache:
    """A dict-backed :class:`ResponseCache` with expiry, for tests and single-process use."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            self._items.pop(key, None)
            return None
        return item[1]

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self._items[key] = (self._clock() + ttl_s, value)

    def __len__(self) -> int:
        return len(self._items)


def cache_key(provider: str, kind: str, identifier: str) -> str:
    return f"provider:{provider}:{kind}:{identifier.strip().lower()}"


async def send(
    request: Callable[[], Awaitable[httpx.Response]],
    *,
    limiter: ProviderLimiter,
    retry: RetryPolicy,
    usage: ProviderUsage,
) -> httpx.Response:
    """Send one logical request under the provider's limiter and retry policy.

    Returns the final response whatever its status (the provider client maps statuses to errors);
    raises the last ``httpx`` transport error when every attempt failed to get an answer.
    """

    async def attempt() -> httpx.Response:
        await limiter.acquire()
        usage.calls += 1
        response = await request()
        limiter.observe(response.headers)
        log.debug("%s %s -> %s", response.request.method, response.request.url.path, response.status_code)
        return response

    response: httpx.Response = await retry.retrying()(attempt)
    return response
