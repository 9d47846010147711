"""Admission control parts: the rate setting, the per-caller rate limiter, the run slots, and the runner
refusing a new run (not an identical one) when every slot and queue place is taken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from graph.admission import RunSlots
from graph.cache import RunCache
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Rate, Settings
from server.rate_limit import Decision, RateLimiter
from tests.support.provider_standin import FakeClock
from tools.errors import Overloaded


# ── BLUEPRINT_RATE_LIMIT ──
@pytest.mark.parametrize(
    ("text", "rate"),
    [("60/minute", Rate(60, 60)), ("10/s", Rate(10, 1)), ("5/hours", Rate(5, 3600)), (" 2 / SECOND ", Rate(2, 1)),
     ("off", None), ("", None)],
)
def test_rate_setting_parses(text: str, rate: Rate | None) -> None:
    assert Settings(BLUEPRINT_RATE_LIMIT=text).rate_limit == rate  # type: ignore[call-arg]


def test_rate_limit_is_off_by_default() -> None:
    assert Settings().rate_limit is None


@pytest.mark.parametrize("text", ["60", "x/minute", "0/minute", "5/day", "-1/s"])
def test_a_bad_rate_setting_stops_start_up(text: str) -> None:
    with pytest.raises(ValidationError, match="N/second, N/minute or N/hour"):
        Settings(BLUEPRINT_RATE_LIMIT=text)  # type: ignore[call-arg]


# ── rate limiter ──
def test_a_caller_gets_its_rate_per_window_then_a_reset() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Rate(3, 60), clock=clock)
    decisions = [limiter.take("key:0") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].headers() == {"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "60"}
    assert limiter.take("key:1").allowed  # callers do not share a budget
    clock.now += 59.5
    refused = limiter.take("key:0")
    assert not refused.allowed and refused.reset_s == 1
    clock.now += 0.5
    assert limiter.take("key:0") == Decision(True, 3, 2, 60)  # a new window


def test_the_limiter_remembers_a_bounded_number_of_callers() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Rate(1, 60), clock=clock, max_tracked=3)
    for caller in ("a", "b", "c"):
        assert limiter.take(caller).allowed
    assert limiter.take("d").allowed  # "a", the oldest, is forgotten: lenient, never strict
    assert len(limiter._windows) == 3 and "a" not in limiter._windows
    assert not limiter.take("d").allowed
    clock.now += 61  # all expired: they go first
    assert limiter.take("e").allowed and set(limiter._windows) <= {"c", "d", "e"}


# ── run slots ──
async def test_slots_admit_limit_plus_queue_then_refuse_with_a_retry_time() -> None:
    clock = FakeClock()
    slots = RunSlots(2, 1, clock=clock)
    tickets = [slots.reserve() for _ in range(3)]
    with pytest.raises(Overloaded) as refused:
        slots.reserve()
    assert refused.value.status == 503 and refused.value.retry_after_s >= 1
    assert refused.value.details["max_runs"] == 2
    await tickets[0].acquire()
    await tickets[1].acquire()
    third = asyncio.create_task(tickets[2].acquire())
    await asyncio.sleep(0)
    assert not third.done()  # queued behind the two running
    clock.now += 30
    tickets[0].release()
    tickets[0].release()  # idempotent
    await asyncio.wait_for(third, 1)
    assert slots.admitted == 2
    assert slots.retry_after_s() == 30  # one wave of the typical (30 s) run
    tickets[1].release()
    tickets[2].release()
    assert slots.admitted == 0
    slots.reserve()  # room again


async def test_a_ticket_cancelled_while_queued_gives_its_place_back() -> None:
    slots = RunSlots(1, 1)
    running, queued = slots.reserve(), slots.reserve()
    await running.acquire()
    waiter = asyncio.create_task(queued.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    queued.release()
    running.release()
    assert slots.admitted == 0
    again = slots.reserve()
    await asyncio.wait_for(again.acquire(), 1)  # the semaphore was not leaked


# ── the runner ──
UNREACHABLE = {"website": "https://unresolvable-seller.invalid", "options": {"engine": "catalog"}}


def _events(runner: BlueprintRunner, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
    return cast(AsyncGenerator[dict[str, Any], None], runner.stream(EnrichmentRequest.model_validate(body)))


async def test_a_full_runner_refuses_new_runs_but_identical_requests_join(tmp_path: Path) -> None:
    """(The server gives its runner slots; the CLI's and the Python API's runners have none.)"""
    settings = Settings(BLUEPRINT_CACHE_DIR=tmp_path)  # type: ignore[call-arg]
    cache = RunCache(tmp_path, ttl_s=3600)
    runner = BlueprintRunner(settings=settings, cache=cache, slots=RunSlots(1, 0))
    assert runner.slots is not None
    first = _events(runner, UNREACHABLE)
    assert (await anext(first))["event"] == "run_started"
    twin = _events(runner, UNREACHABLE)
    assert (await anext(twin))["event"] == "run_started"  # joins the flight: no slot needed
    other = _events(runner, {**UNREACHABLE, "icp": {"notes": "another run"}})
    with pytest.raises(Overloaded):
        await anext(other)
    assert runner.slots.admitted == 1
    rest = [e["event"] async for e in twin]
    assert rest[-1] == "done" and runner.graph_runs == 1  # one run for both
    await first.aclose()
    assert runner.slots.admitted == 0  # the finished run gave its slot back
    third = _events(runner, {**UNREACHABLE, "icp": {"notes": "another run"}})
    assert (await anext(third))["event"] == "run_started"
    await third.aclose()  # left before it started: its place is given back too
    assert runner.slots.admitted == 0 and not runner._flights
    await runner.aclose()
    cache.close()
