"""Build the blueprint ``StateGraph``.

    fetch_site → analyze_company → resolve_icp ─┬─ firmographic ───┐
                                                ├─ technographic ──┼─ sources → collection_methods → assemble
                                                └─ personalization ┘

Each node is wrapped so that it reports ``node_started`` / ``node_completed`` (with its section
payload, dumped lazily under the runner: :mod:`graph.node_outputs`) on the custom stream as it runs;
the HTTP layer turns those into SSE events.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graph.node_outputs import NODE_OUTPUT_KEYS, output_of
from graph.nodes.analyze_company import analyze_company
from graph.nodes.assemble import assemble
from graph.nodes.collection_methods import collection_methods
from graph.nodes.fetch_site import fetch_site
from graph.nodes.firmographic import firmographic
from graph.nodes.personalization import personalization
from graph.nodes.resolve_icp import resolve_icp
from graph.nodes.sources import sources
from graph.nodes.technographic import technographic
from graph.state import BlueprintState, Context, InputState, OutputState

__all__ = ["NODE_OUTPUT_KEYS", "SECTION_NODES", "build_graph"]

Node = Callable[[BlueprintState, Runtime[Context]], Awaitable[dict[str, Any]]]
SECTION_NODES = ("firmographic", "technographic", "personalization")


def instrumented(name: str, fn: Node) -> Node:
    @functools.wraps(fn)
    async def run(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
        write = get_stream_writer()
        write({"event": "node_started", "node": name})
        started = time.perf_counter()
        update = await fn(state, runtime)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        write({"event": "node_completed", "node": name, "duration_ms": duration_ms,
               "output": output_of(name, update)})
        for warning in update.get("warnings", []):
            write({"event": "warning", **warning.model_dump(mode="json")})
        return update

    return run


def build_graph(*, coverage: Node | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    builder = StateGraph(BlueprintState, context_schema=Context, input_schema=InputState,
                         output_schema=OutputState)
    nodes: dict[str, Node] = {
        "fetch_site": fetch_site, "analyze_company": analyze_company, "resolve_icp": resolve_icp,
        "firmographic": firmographic, "technographic": technographic, "personalization": personalization,
        "sources": sources, "collection_methods": collection_methods, "assemble": assemble,
    }
    if coverage is not None:
        nodes["coverage"] = coverage
    for name, fn in nodes.items():
        builder.add_node(name, instrumented(name, fn))  # type: ignore[call-overload]
    builder.add_edge(START, "fetch_site")
    builder.add_edge("fetch_site", "analyze_company")
    builder.add_edge("analyze_company", "resolve_icp")
    for section in SECTION_NODES:
        builder.add_edge("resolve_icp", section)
    builder.add_edge(list(SECTION_NODES), "sources")
    builder.add_edge("sources", "collection_methods")
    if coverage is not None:
        builder.add_edge("collection_methods", "coverage")
        builder.add_edge("coverage", "assemble")
    else:
        builder.add_edge("collection_methods", "assemble")
    builder.add_edge("assemble", END)
    return builder.compile(name="enrichment_blueprint")
