"""One connection pool per website host, bounded: a long-running server reads thousands of sites.

The site reader keeps one inner transport (connection pool) per ``(scheme, host, port)`` so TLS
sessions are never shared across names and one site gets at most a polite number of connections.
Unbounded, that dict grows with every seller ever read; here the least recently used *idle* pools
are closed once there are more than ``max_pools``. A pool is idle when no response it produced is
still open (a response body is counted until it is closed), so a request in flight is never cut.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

__all__ = ["HostPools"]

PoolKey = tuple[str, str, int]


@dataclass
class _Entry:
    transport: httpx.AsyncHTTPTransport
    open_responses: int = 0


class _CountedStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:  # closing twice releases once
                self._release()
                self._release = None


class HostPools:
    def __init__(self, factory: Callable[[], httpx.AsyncHTTPTransport], max_pools: int = 64) -> None:
        self._factory = factory
        self.max_pools = max_pools
        self._entries: OrderedDict[PoolKey, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def send(self, key: PoolKey, request: httpx.Request) -> httpx.Response:
        entry = self._entries.get(key)
        created = entry is None
        if entry is None:
            entry = self._entries[key] = _Entry(self._factory())
        self._entries.move_to_end(key)
        entry.open_responses += 1  # counted before evicting: the pool about to be used is never idle
        try:
            if created:  # only a new pool can take the set over its bound
                await self._evict_idle()
            response = await entry.transport.handle_async_request(request)
        except BaseException:
            entry.open_responses -= 1
            raise

        def release() -> None:
            entry.open_responses -= 1

        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CountedStream(response.stream, release)
        return response

    async def _evict_idle(self) -> None:
        """Close least recently used idle pools until at most ``max_pools`` remain (busy ones stay)."""
        excess = len(self._entries) - self.max_pools
        victims: list[_Entry] = []
        # chosen and removed without awaiting in between: a pool picked up by another task meanwhile
        # would otherwise be closed under it
        for key, entry in list(self._entries.items()):
            if len(victims) >= excess:
                break
            if entry.open_responses == 0:
                victims.append(self._entries.pop(key))
        for entry in victims:
            await entry.transport.aclose()

    async def aclose(self) -> None:
        entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            await entry.transport.aclose()
