"""Per-caller request rate (``BLUEPRINT_RATE_LIMIT``): fixed windows, kept in this process's memory.

Each caller (an API key, or a client address when the server has no keys) gets ``requests`` per window of
``period_s`` seconds; the window opens with the caller's first request. A decision carries what the IETF
``RateLimit-*`` header fields report (draft-ietf-httpapi-ratelimit-headers): the limit, what remains, and
the seconds until the window resets — also the ``Retry-After`` of a refusal.

Counts are per process: N uvicorn workers (or replicas) each allow the full rate. Fixed windows allow up to
twice the rate across a window boundary; for credit safety that bound is what matters, and it is cheap
(a dict lookup per request, nothing shared).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from graph.settings import Rate

__all__ = ["Decision", "RateLimiter"]

MAX_TRACKED = 10_000  # callers remembered at once; past it, expired windows (then the oldest) are dropped


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # whole seconds until the window resets (at least 1)

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset_s)}


class RateLimiter:
    def __init__(
        self, rate: Rate, *, clock: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._max_tracked = max_tracked
        self._windows: dict[str, tuple[float, int]] = {}  # caller → (window start, requests in it)

    def take(self, caller: str) -> Decision:
        """Count one request by ``caller`` (a refused one is not counted)."""
        now = self._clock()
        start, used = self._windows.get(caller, (now, 0))
        if now - start >= self.rate.period_s:
            start, used = now, 0
            self._windows.pop(caller, None)  # re-inserted below: the dict stays ordered by window start
        reset_s = max(1, math.ceil(start + self.rate.period_s - now))
        if used >= self.rate.requests:
            return Decision(False, self.rate.requests, 0, reset_s)
        used += 1
        if caller not in self._windows and len(self._windows) >= self._max_tracked:
            self._forget(now)
        self._windows[caller] = (start, used)
        return Decision(True, self.rate.requests, self.rate.requests - used, reset_s)

    def _forget(self, now: float) -> None:
        """Drop expired windows from the oldest on; if none expired, the oldest one (it is lenient to
        forget a caller, never strict)."""
        for caller, (start, _) in list(self._windows.items()):
            if now - start < self.rate.period_s:
                break
            del self._windows[caller]
        if len(self._windows) >= self._max_tracked:
            del self._windows[next(iter(self._windows))]
