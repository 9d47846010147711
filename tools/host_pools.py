"""Connection pools for the site reader that no cancelled run can jam.

httpcore's pool can leave a connection behind in the "connecting" state when a request is cancelled
after the pool assigned it a new connection but before that connection started to connect
(encode/httpcore#1093). Such a connection is never reaped and keeps its slot; once ``max_connections``
of them pile up, every later request to that host waits for a slot until its pool timeout, while the
site itself answers in a millisecond. Measured on a loopback site: 1,000 runs abandoned at random
moments left the shared pool with 10 of 10 slots "connecting", and the next request failed after 10 s.

So no pool outlives the run that used it:

* :class:`RunPools` holds the pools of one run (one ``read_site`` call, redirect hops and sub-pages
  included) and closes them when the run ends — a connection orphaned by a cancelled request is
  dropped with its run instead of haunting every later one;
* :class:`HostGate` is the only thing shared across runs: at most ``per_host`` requests in flight to
  one host, waited for with asyncio's own cancellation-safe semaphore and for at most the pool
  timeout — the politeness bound a shared pool used to give, without its state;
* :class:`HostPools` is the per-run set of pools, one per ``(scheme, host, port)`` so TLS sessions are
  never shared across names; beyond ``max_pools`` the least recently used idle ones are closed (a pool
  is idle when no response it produced is still open, so a request in flight is never cut).
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import httpx

from tools.ssrf import Resolver

__all__ = ["RUN_POOLS_EXTENSION", "HostGate", "HostPools", "PoolKey", "RunPools", "call_on_close"]

PoolKey = tuple[str, str, int]
#: The request extension that names the run a request belongs to (a :class:`RunPools`).
RUN_POOLS_EXTENSION = "blueprint.run_pools"


class _ClosingStream(httpx.AsyncByteStream):
    """A response body that runs ``on_close`` once, when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, on_close: Callable[[], Awaitable[None]]) -> None:
        self._inner = inner
        self._on_close: Callable[[], Awaitable[None]] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:  # closing twice runs it once
                await on_close()


def call_on_close(response: httpx.Response, on_close: Callable[[], Awaitable[None]]) -> None:
    """Run ``on_close`` once when ``response``'s body is closed (read to the end or abandoned)."""
    assert isinstance(response.stream, httpx.AsyncByteStream)
    response.stream = _ClosingStream(response.stream, on_close)


@dataclass
class _Entry:
    transport: httpx.AsyncBaseTransport
    open_responses: int = 0


class HostPools:
    """One inner transport (connection pool) per ``(scheme, host, port)``, at most ``max_pools`` idle."""

    def __init__(self, factory: Callable[[], httpx.AsyncBaseTransport], max_pools: int = 64) -> None:
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

        async def release() -> None:
            entry.open_responses -= 1

        call_on_close(response, release)
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


class RunPools:
    """The connection pools of one run, made on first use and all closed when the run ends.

    A request joins a run through the :data:`RUN_POOLS_EXTENSION` request extension; each transport
    that serves the run gets its own :class:`HostPools` (its own TLS and limit settings). The run also
    shares its name look-ups (:meth:`resolver`): a site's seven pages are one look-up, not seven.
    """

    def __init__(self) -> None:
        self._by_transport: dict[int, tuple[object, HostPools]] = {}  # the owner is kept: ids stay unique
        self._closed = False
        self._lookups: dict[tuple[str, int], asyncio.Future[list[str]]] = {}

    def resolver(self, resolve: Resolver) -> Resolver:
        """``resolve`` asked at most once per ``(host, port)`` while it answers (a failed look-up is
        forgotten, so the next request asks again). Concurrent requests share the one look-up; one of
        them being cancelled does not cancel it for the others. Every request still checks the answer
        and connects to it (the SSRF guard): the run's pages simply go to one answer."""

        async def shared(host: str, port: int) -> list[str]:
            key = (host, port)
            lookup = self._lookups.get(key)
            if lookup is None:
                lookup = self._lookups[key] = asyncio.ensure_future(resolve(host, port))
                lookup.add_done_callback(functools.partial(self._forget_failure, key))
            return list(await asyncio.shield(lookup))

        return shared

    def _forget_failure(self, key: tuple[str, int], lookup: asyncio.Future[list[str]]) -> None:
        failed = lookup.cancelled() or lookup.exception() is not None  # retrieved: never "unretrieved"
        if failed and self._lookups.get(key) is lookup:
            del self._lookups[key]

    def pools_for(self, owner: object, make: Callable[[], HostPools]) -> HostPools:
        if self._closed:
            raise RuntimeError("this run's connections are closed; start a new RunPools")
        if id(owner) not in self._by_transport:
            self._by_transport[id(owner)] = (owner, make())
        return self._by_transport[id(owner)][1]

    async def aclose(self) -> None:
        self._closed = True
        for lookup in self._lookups.values():
            lookup.cancel()  # a look-up nobody waits for any more
        self._lookups = {}
        pools, self._by_transport = [p for _, p in self._by_transport.values()], {}
        for host_pools in pools:
            await host_pools.aclose()

    async def __aenter__(self) -> RunPools:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@dataclass
class _Gate:
    slots: asyncio.Semaphore
    users: int = 0  # holders and waiters: an unused gate is dropped, so the map stays small


class HostGate:
    """At most ``per_host`` requests in flight to one host across all runs of the process."""

    def __init__(self, per_host: int = 10) -> None:
        self.per_host = per_host
        self._gates: dict[PoolKey, _Gate] = {}

    def __len__(self) -> int:
        return len(self._gates)

    async def enter(
        self, key: PoolKey, request: httpx.Request, timeout: float | None
    ) -> Callable[[], Awaitable[None]]:
        """Wait (at most ``timeout`` s, else ``httpx.PoolTimeout``) for a slot; returns its release."""
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _Gate(asyncio.Semaphore(self.per_host))
        gate.users += 1
        try:
            async with asyncio.timeout(timeout):
                await gate.slots.acquire()
        except TimeoutError:
            self._leave(key, gate)
            raise httpx.PoolTimeout(f"no free connection slot for {key[1]} in {timeout:g} s",
                                    request=request) from None  # fmt: skip
        except BaseException:
            self._leave(key, gate)
            raise
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                gate.slots.release()
                self._leave(key, gate)

        return release

    def _leave(self, key: PoolKey, gate: _Gate) -> None:
        gate.users -= 1
        if gate.users == 0 and self._gates.get(key) is gate:
            del self._gates[key]
