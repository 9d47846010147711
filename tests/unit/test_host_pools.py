"""The site reader's pools: bounded per run, closed with their run; the per-host gate frees every slot."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tools.host_pools import HostGate, HostPools, RunPools


class FakePool(httpx.AsyncHTTPTransport):
    """An inner transport that answers at once and remembers whether it was closed."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(f"from {self.name}".encode()))

    async def aclose(self) -> None:
        self.closed = True


def pools(limit: int) -> tuple[HostPools, list[FakePool]]:
    made: list[FakePool] = []

    def factory() -> httpx.AsyncHTTPTransport:
        made.append(FakePool(f"pool{len(made)}"))
        return made[-1]

    return HostPools(factory, max_pools=limit), made


def key(n: int) -> tuple[str, str, int]:
    return ("https", f"site{n}.example", 443)


def request(n: int) -> httpx.Request:
    return httpx.Request("GET", f"https://site{n}.example/")


async def test_one_pool_per_host_reused() -> None:
    hp, made = pools(4)
    for _ in range(3):
        response = await hp.send(key(1), request(1))
        assert await response.aread() == b"from pool0"
        await response.aclose()
    assert len(made) == 1 and len(hp) == 1


async def test_least_recently_used_idle_pools_are_closed_beyond_the_limit() -> None:
    hp, made = pools(2)
    for n in (1, 2, 1, 3):  # site 2 is now the least recently used
        response = await hp.send(key(n), request(n))
        await response.aclose()
    assert len(hp) == 2
    assert [p.closed for p in made] == [False, True, False]  # pool1 (site 2) closed, site 1 and 3 kept


async def test_a_pool_with_an_open_response_is_not_closed() -> None:
    hp, made = pools(1)
    busy = await hp.send(key(1), request(1))  # body not read, not closed: in flight
    done = await hp.send(key(2), request(2))
    await done.aclose()
    assert not made[0].closed  # over the limit, but busy
    assert await busy.aread() == b"from pool0"
    await busy.aclose()
    response = await hp.send(key(3), request(3))  # now site 1's and site 2's pools are idle
    await response.aclose()
    assert made[0].closed and made[1].closed and not made[2].closed
    await hp.aclose()
    assert made[2].closed and len(hp) == 0


async def test_a_failed_request_does_not_leave_its_pool_busy() -> None:
    class Refusing(FakePool):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

    made: list[FakePool] = []

    def factory() -> httpx.AsyncHTTPTransport:
        made.append(Refusing("r") if not made else FakePool("ok"))
        return made[-1]

    hp = HostPools(factory, max_pools=1)
    with pytest.raises(httpx.ConnectError):
        await hp.send(key(1), request(1))
    response = await hp.send(key(2), request(2))
    await response.aclose()
    assert made[0].closed  # idle after its failure, so evicted


async def test_a_run_closes_every_pool_it_opened_and_refuses_new_ones() -> None:
    run = RunPools()
    owner = object()
    hp, made = pools(4)
    assert run.pools_for(owner, lambda: hp) is run.pools_for(owner, lambda: pools(4)[0])  # one per transport
    response = await hp.send(key(1), request(1))
    await response.aclose()
    await run.aclose()
    assert made[0].closed and len(hp) == 0
    with pytest.raises(RuntimeError):
        run.pools_for(owner, lambda: hp)


async def test_the_host_gate_bounds_requests_in_flight_and_frees_its_slots() -> None:
    gate = HostGate(per_host=2)
    first = await gate.enter(key(1), request(1), timeout=1.0)
    second = await gate.enter(key(1), request(1), timeout=1.0)
    other_host = await gate.enter(key(2), request(2), timeout=1.0)  # each host has its own bound
    with pytest.raises(httpx.PoolTimeout):
        await gate.enter(key(1), request(1), timeout=0.01)
    waiter = asyncio.create_task(gate.enter(key(1), request(1), timeout=1.0))
    await asyncio.sleep(0)
    await first()
    await first()  # releasing twice frees one slot
    third = await waiter
    for release in (second, third, other_host):
        await release()
    assert len(gate) == 0  # no state is kept for hosts nobody is reading


async def test_a_cancelled_wait_for_the_gate_leaves_no_slot_taken() -> None:
    gate = HostGate(per_host=1)
    held = await gate.enter(key(1), request(1), timeout=None)
    waiters = [asyncio.create_task(gate.enter(key(1), request(1), timeout=None)) for _ in range(5)]
    await asyncio.sleep(0)
    await held()  # the slot goes to the first waiter ...
    for task in waiters:
        task.cancel()  # ... which is cancelled before it runs, like an abandoned run
    await asyncio.gather(*waiters, return_exceptions=True)
    release = await gate.enter(key(1), request(1), timeout=0.5)
    await release()
    assert len(gate) == 0
