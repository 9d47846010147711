"""A run starts when a subscriber asks for more than ``run_started``: a stream's first event goes out
before the graph takes the event loop, and a client gone after that first event costs no run at all."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

from graph.cache import RunCache
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Settings

# .invalid never resolves: a run that does start ends quickly with an error, offline
UNREACHABLE = {"website": "https://unresolvable-seller.invalid", "options": {"engine": "catalog"}}


def _runner(tmp_path: Path) -> tuple[BlueprintRunner, RunCache]:
    settings = Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_ENGINE="catalog")  # type: ignore[call-arg]
    cache = RunCache(tmp_path, ttl_s=3600)
    return BlueprintRunner(settings=settings, cache=cache), cache


def _events(runner: BlueprintRunner, request: EnrichmentRequest) -> AsyncGenerator[dict[str, Any], None]:
    return cast(AsyncGenerator[dict[str, Any], None], runner.stream(request))


async def test_leaving_after_run_started_never_runs_the_graph(tmp_path: Path) -> None:
    runner, cache = _runner(tmp_path)
    events = _events(runner, EnrichmentRequest.model_validate(UNREACHABLE))
    first = await anext(events)
    assert first["event"] == "run_started" and first["data"]["cache"] == "miss"
    assert runner.graph_runs == 0 and len(runner._flights) == 1  # registered, not started
    await events.aclose()
    assert runner.graph_runs == 0 and not runner._flights  # the client left: nothing ran, nothing stays
    await runner.aclose()
    cache.close()


async def test_the_run_starts_for_whoever_asks_next_and_survives_the_first_leaving(tmp_path: Path) -> None:
    runner, cache = _runner(tmp_path)
    request = EnrichmentRequest.model_validate(UNREACHABLE)
    leaver, stayer = _events(runner, request), _events(runner, request)
    assert (await anext(leaver))["event"] == "run_started"
    assert (await anext(stayer))["event"] == "run_started"  # the same flight
    assert len(runner._flights) == 1
    await leaver.aclose()  # one subscriber remains: the flight is kept
    assert len(runner._flights) == 1
    rest = [e["event"] async for e in stayer]
    assert runner.graph_runs == 1
    assert rest[-2:] == ["error", "done"]  # the unreachable site, reported to the one who stayed
    assert not runner._flights
    await runner.aclose()
    cache.close()
