"""``node_completed`` outputs are dumped for the subscribers that read them, once, and never for a plain
JSON answer (:mod:`graph.node_outputs`): a subscriber that joins a run late still replays the same
outputs the graph's own stream carries."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from langgraph.runtime import Runtime

import graph.builder as builder
import graph.compiled as compiled
import graph.node_outputs as node_outputs
from graph.builder import build_graph
from graph.nodes.coverage import coverage
from graph.resources import open_resources, use_resources
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Settings, get_settings
from graph.state import BlueprintState, Context
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client, parse_sse
from tests.support.site_server import SiteServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

NODES = {"fetch_site", "analyze_company", "resolve_icp", *builder.SECTION_NODES, "sources", "collection_methods",
         "coverage", "assemble"}


@pytest.fixture
def dumps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the node of every output dump, in order."""
    made: list[str] = []
    dump = node_outputs.node_output

    def counted(name: str, update: dict[str, Any]) -> Any:
        made.append(name)
        return dump(name, update)

    monkeypatch.setattr(node_outputs, "node_output", counted)
    return made


def _gated(fn: Callable[..., Awaitable[dict[str, Any]]], gate: asyncio.Event) -> Any:
    @functools.wraps(fn)
    async def gated(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
        await gate.wait()
        return await fn(state, runtime)

    return gated


async def _until(events: AsyncIterator[dict[str, Any]], kind: str, node: str) -> list[dict[str, Any]]:
    seen = []
    async for event in events:
        seen.append(event)
        if event["event"] == kind and event["data"].get("node") == node:
            break
    return seen


def _outputs(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["data"]["node"]: e["data"]["output"] for e in events if e["event"] == "node_completed"}


async def _eager_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs as the graph's own stream carries them (dumped as each node completes)."""
    found: dict[str, Any] = {}
    async with open_resources(get_settings()) as resources:
        with use_resources(resources):
            async for event in compiled.graph.astream(inputs, context=Context(engine="catalog"), stream_mode="custom"):
                if event["event"] == "node_completed":
                    found[event["node"]] = event["output"]
    return found


async def test_a_late_subscriber_replays_the_outputs_a_json_caller_never_dumped(
    site: SiteServer, dumps: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inputs = {"website": site.url_for("/"), "options": {"engine": "catalog", "cache": "refresh"}}
    eager = await _eager_outputs(inputs)
    assert set(eager) == NODES and dumps.count("firmographic") == 1
    dumps.clear()

    gate = asyncio.Event()  # holds the run at `sources`, with every earlier node's event published
    monkeypatch.setattr(builder, "sources", _gated(builder.sources, gate))
    monkeypatch.setattr(compiled, "graph", build_graph(coverage=coverage))
    settings = Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_ENGINE="catalog")  # type: ignore[call-arg]
    runner = BlueprintRunner(settings=settings)
    request = EnrichmentRequest.model_validate(inputs)

    plain = cast(AsyncIterator[dict[str, Any]], runner.stream(request, outputs=False))  # the JSON answer's view
    early = await _until(plain, "node_started", "sources")
    assert {"firmographic", "technographic", "personalization"} <= set(_outputs(early))
    assert dumps == []  # nobody has read an output yet

    late = [cast(AsyncIterator[dict[str, Any]], runner.stream(request)) for _ in range(2)]  # two late SSE clients
    replayed = [await _until(events, "node_started", "sources") for events in late]
    assert sorted(dumps) == sorted(_outputs(early))  # dumped once for both late subscribers

    gate.set()

    async def rest(events: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
        return [event async for event in events]

    plain_rest, *late_rest = await asyncio.gather(rest(plain), *(rest(events) for events in late))
    assert runner.graph_runs == 1  # all three followed the one run
    for before, after in zip(replayed, late_rest, strict=True):
        got = before + after
        assert [e["event"] for e in got] == [e["event"] for e in early + plain_rest]
        assert _outputs(got) == eager  # identical to the outputs dumped as the nodes completed
        assert got[-2]["event"] == "blueprint"
        assert _outputs(got)["firmographic"]["data_points"] == got[-2]["data"]["firmographic"]["data_points"]
    assert sorted(dumps) == sorted(NODES)  # every output dumped exactly once
    await runner.aclose()


async def test_a_json_request_dumps_no_output_and_a_stream_dumps_each_once(
    site: SiteServer, dumps: list[str]
) -> None:
    body = {"website": site.url_for("/"), "options": {"engine": "catalog", "cache": "bypass"}}
    async with app_client(create_app()) as client:
        answer = await client.post(ENRICH, json=body)
        assert answer.status_code == 200 and answer.json()["firmographic"]["data_points"]
        assert dumps == []
        streamed = await client.post(ENRICH, json=body, headers={"accept": "text/event-stream"})
    assert streamed.status_code == 200
    events = parse_sse(streamed.text.splitlines())
    completed = {e.data["node"]: e.data["output"] for e in events if e.event == "node_completed"}
    assert set(completed) == NODES and sorted(dumps) == sorted(NODES)
    assert completed["fetch_site"]["pages"][0] == site.url_for("/")
    assert completed["firmographic"]["data_points"] == answer.json()["firmographic"]["data_points"]
