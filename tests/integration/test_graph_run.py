"""Whole graph runs against a seller site served on loopback: the Python API, the graph's own stream,
the failure modes (insufficient information, blocked URL, unconfigured LLM) and the run cache."""

from __future__ import annotations

import asyncio
import functools
import itertools
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

import graph.builder as builder
from graph import agenerate_blueprint, generate_blueprint
from graph.builder import SECTION_NODES, build_graph
from graph.nodes.coverage import coverage
from graph.resources import open_resources, use_resources
from graph.schemas import Blueprint
from graph.settings import get_settings
from graph.state import BlueprintState, Context
from tests.support.site_server import SiteServer, serve_site
from tools.errors import BlockedURL, InsufficientInformation, InvalidRequest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

SITES = Path(__file__).parents[1] / "fixtures" / "sites"
HOME = (SITES / "engine_restaurant_pos.html").read_text(encoding="utf-8")
PRICING = """<html><head><title>Pricing | Servewell</title></head><body><main><h1>Pricing</h1>
<h2>Starter</h2><p>$69 per location per month: POS, KDS and online ordering for one restaurant.</p>
<h2>Growth</h2><p>$149 per location per month for multi-unit restaurant groups, with menu management.</p>
</main></body></html>"""
NODES = ("fetch_site", "analyze_company", "resolve_icp", *SECTION_NODES, "sources", "collection_methods",
         "coverage", "assemble")
CONTRACT = {
    "": {"schema_version", "blueprint_id", "website", "company", "icp", "firmographic", "technographic",
         "personalization", "sources", "collection_methods", "coverage", "warnings", "meta"},
    "company": {"name", "domain", "summary", "offering", "category", "markets_served", "integrations", "evidence"},
    "icp": {"source", "confidence", "industries", "company_size", "geographies", "buyer_titles", "technologies",
            "evidence"},
    "meta": {"engine", "model", "duration_ms", "cache", "provider_calls", "llm", "version"},
    "data_point": {"key", "name", "description", "why", "priority", "value_type", "example", "qualification_rule",
                   "source_ids", "evidence"},
    "source": {"id", "name", "kind", "provides", "fields", "access", "cost", "notes"},
    "method": {"data_points", "method", "provider_order", "cadence", "est_cost_per_1k_leads_usd", "validation"},
}
RESTAURANT_ICP = {"industries": ["multi-unit QSR franchisees"], "buyer_titles": ["VP of Operations"]}




@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": HOME, "/pricing": PRICING}) as server:
        yield server


@pytest.fixture
def empty_site() -> Iterator[SiteServer]:
    with serve_site({"/": "<html><head><title></title></head><body></body></html>"}) as server:
        yield server


def closed_port_url() -> str:
    """A loopback URL nobody listens on (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def assert_contract(bp: dict[str, Any]) -> None:
    assert CONTRACT[""] <= set(bp)
    assert CONTRACT["company"] <= set(bp["company"])
    assert CONTRACT["icp"] <= set(bp["icp"])
    assert CONTRACT["meta"] <= set(bp["meta"])
    assert {"calls", "prompt_tokens", "completion_tokens"} <= set(bp["meta"]["llm"])
    for section in SECTION_NODES:
        assert set(bp[section]) >= {"data_points"}
        for dp in bp[section]["data_points"]:
            assert CONTRACT["data_point"] <= set(dp)
    for source in bp["sources"]:
        assert CONTRACT["source"] <= set(source)
    for method in bp["collection_methods"]:
        assert CONTRACT["method"] <= set(method)
    Blueprint.model_validate(bp)  # and it round-trips through the model


async def stream_graph(
    compiled: Any, inputs: dict[str, Any], context: Context
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any] | None, list[float]]:
    """Run ``compiled.astream`` with the custom and updates modes; returns (custom events, update node
    names, the blueprint, the monotonic arrival time of each custom event)."""
    events: list[dict[str, Any]] = []
    arrivals: list[float] = []
    updates: list[str] = []
    blueprint = None
    async with open_resources(get_settings()) as resources:
        with use_resources(resources):
            async for mode, payload in compiled.astream(inputs, context=context, stream_mode=["custom", "updates"]):
                if mode == "custom":
                    events.append(payload)
                    arrivals.append(time.monotonic())
                else:
                    updates.extend(payload)
                    if "assemble" in payload:
                        blueprint = payload["assemble"]["blueprint"]
    return events, updates, blueprint, arrivals


# ───────────────────────────── the Python API ─────────────────────────────


async def test_agenerate_blueprint_returns_the_contract(site: SiteServer) -> None:
    bp = await agenerate_blueprint(site.url_for("/"))
    data = bp.model_dump(mode="json")
    assert_contract(data)
    assert data["company"]["name"] == "Servewell"
    assert data["website"] == site.url_for("/")
    assert data["icp"]["source"] == "inferred"
    assert data["meta"]["engine"] == "catalog" and data["meta"]["cache"] == "miss"
    assert data["meta"]["version"] and data["meta"]["duration_ms"] >= 0
    assert data["coverage"] is None  # no sample domains
    assert all(data[s]["data_points"] for s in SECTION_NODES)
    assert site.hits["/"] >= 1 and site.hits["/pricing"] == 1  # the sub-page linked from the home page
    assert "# Enrichment blueprint — Servewell" in bp.to_markdown()
    assert bp._repr_markdown_() == bp.to_markdown()


async def test_provided_icp_and_options_flow_through(site: SiteServer) -> None:
    bp = await agenerate_blueprint(site.url_for("/"), icp=RESTAURANT_ICP, options={"max_data_points": 4})
    assert bp.icp.source == "provided"
    assert bp.icp.industries == RESTAURANT_ICP["industries"]
    assert bp.icp.buyer_titles == RESTAURANT_ICP["buyer_titles"]
    assert "company_size" in bp.icp.inferred_fields
    assert all(1 <= len(getattr(bp, s).data_points) <= 4 for s in SECTION_NODES)


# ───────────────────────────── the graph itself ─────────────────────────────


async def test_graph_stream_reports_every_node_in_order(site: SiteServer) -> None:
    from graph import graph

    inputs = {"website": site.url_for("/"), "options": {"cache": "bypass"}}
    events, updates, blueprint, _ = await stream_graph(graph, inputs, Context(engine="catalog"))
    assert blueprint is not None
    assert_contract(blueprint)
    node_events = [(e["event"], e["node"]) for e in events if e["event"] in {"node_started", "node_completed"}]
    started = [n for kind, n in node_events if kind == "node_started"]
    completed = [n for kind, n in node_events if kind == "node_completed"]
    assert sorted(started) == sorted(NODES) and sorted(completed) == sorted(NODES)
    assert set(updates) == set(NODES)
    at = {(kind, node): i for i, (kind, node) in enumerate(node_events)}
    chain = ["fetch_site", "analyze_company", "resolve_icp"]
    for before, after in itertools.pairwise(chain):
        assert at[("node_completed", before)] < at[("node_started", after)]
    for section in SECTION_NODES:
        assert at[("node_completed", "resolve_icp")] < at[("node_started", section)]
        assert at[("node_completed", section)] < at[("node_started", "sources")]
    tail = ["sources", "collection_methods", "coverage", "assemble"]
    for before, after in itertools.pairwise(tail):
        assert at[("node_completed", before)] < at[("node_started", after)]
    # the sections share one step (fan-out / join); that they overlap in time is shown with slowed nodes
    # below — a catalog section never waits on I/O, so it may finish before its siblings start
    # node_completed carries that node's output
    done = {e["node"]: e for e in events if e["event"] == "node_completed"}
    assert done["fetch_site"]["output"]["pages"][0] == site.url_for("/")
    assert done["firmographic"]["output"]["data_points"] == blueprint["firmographic"]["data_points"]
    assert done["sources"]["output"] == blueprint["sources"]
    assert all(e["duration_ms"] >= 0 for e in done.values())


def _slowed(fn: Callable[..., Awaitable[dict[str, Any]]], delay: float) -> Any:
    @functools.wraps(fn)
    async def slow(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
        await asyncio.sleep(delay)
        return await fn(state, runtime)

    return slow


async def test_sections_overlap_in_time(site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    delay = 0.4
    for name in SECTION_NODES:
        monkeypatch.setattr(builder, name, _slowed(getattr(builder, name), delay))
    slow_graph = build_graph(coverage=coverage)
    inputs = {"website": site.url_for("/"), "options": {"cache": "bypass"}}
    events, _, blueprint, arrivals = await stream_graph(slow_graph, inputs, Context(engine="catalog"))
    assert blueprint is not None
    when = {(e["event"], e.get("node")): t for e, t in zip(events, arrivals, strict=True)}
    first_start = min(when[("node_started", s)] for s in SECTION_NODES)
    last_done = max(when[("node_completed", s)] for s in SECTION_NODES)
    # one after the other would take ≥ 3 × delay
    assert last_done - first_start < 2 * delay


# ───────────────────────────── failures ─────────────────────────────


async def test_empty_site_without_icp_is_insufficient_information(empty_site: SiteServer) -> None:
    with pytest.raises(InsufficientInformation) as caught:
        await agenerate_blueprint(empty_site.url_for("/"))
    err = caught.value
    assert err.code == "insufficient_information"
    assert err.details["supply"] and any("icp" in s for s in err.details["supply"])
    assert err.details["website"] == empty_site.url_for("/")


async def test_thin_site_without_icp_is_insufficient_information() -> None:
    thin = "<html><head><title>Acme</title></head><body><h1>Welcome to Acme</h1><p>We make things better. " \
           "Contact us to learn more about what we do for you.</p></body></html>"
    with serve_site({"/": thin}) as server, pytest.raises(InsufficientInformation) as caught:
        await agenerate_blueprint(server.url_for("/"))
    assert "icp.industries" in caught.value.details["supply"]
    assert caught.value.details["words_read"] < 40


async def test_unreachable_site_without_icp_is_insufficient_information() -> None:
    url = closed_port_url()
    with pytest.raises(InsufficientInformation) as caught:
        await agenerate_blueprint(url)
    details = caught.value.details
    assert details["website"] == url
    assert details["supply"] and details["reason"]
    assert url in caught.value.message


async def test_unreachable_site_with_icp_still_yields_a_blueprint() -> None:
    bp = await agenerate_blueprint(closed_port_url(), icp=RESTAURANT_ICP)
    assert_contract(bp.model_dump(mode="json"))
    assert [w.code for w in bp.warnings] == ["site_unreachable"]
    assert bp.warnings[0].node == "fetch_site"
    assert bp.icp.source == "provided"
    keys = {dp.key for dp in bp.data_points()}
    assert "restaurant_unit_count" in keys  # the ICP alone drives the targeting


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://169.254.169.254/latest/meta-data/"])
async def test_metadata_address_is_blocked(url: str) -> None:
    with pytest.raises(BlockedURL) as caught:
        await agenerate_blueprint(url)
    assert caught.value.code == "blocked_url"
    with pytest.raises(BlockedURL):  # an ICP does not turn a blocked URL into a warning
        await agenerate_blueprint(url, icp=RESTAURANT_ICP)


async def test_llm_engine_without_llm_config_is_invalid(site: SiteServer) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await agenerate_blueprint(site.url_for("/"), engine="llm")
    assert caught.value.code == "validation_error"
    assert "OPENAI_API_KEY" in caught.value.message
    with pytest.raises(InvalidRequest):
        await agenerate_blueprint(site.url_for("/"), options={"engine": "llm"})
    assert site.hits["/"] == 0  # refused before any I/O


async def test_llm_engine_in_graph_context_is_invalid(site: SiteServer) -> None:
    from graph import graph

    with pytest.raises(InvalidRequest):
        await stream_graph(graph, {"website": site.url_for("/")}, Context(engine="llm"))
    assert site.hits["/"] == 0


# ───────────────────────────── run cache ─────────────────────────────


async def test_second_identical_run_is_a_cache_hit(site: SiteServer) -> None:
    first = await agenerate_blueprint(site.url_for("/"))
    hits_after_first = site.hits["/"]
    second = await agenerate_blueprint(site.url_for("/"))
    assert first.meta.cache == "miss" and second.meta.cache == "hit"
    assert second.blueprint_id == first.blueprint_id
    assert second.firmographic == first.firmographic
    assert site.hits["/"] == hits_after_first  # a hit never touches the site
    bypass = await agenerate_blueprint(site.url_for("/"), use_cache=False)
    assert bypass.meta.cache == "bypass"
    assert site.hits["/"] == hits_after_first + 1
    assert bypass.blueprint_id == first.blueprint_id  # same request, same id
    other = await agenerate_blueprint(site.url_for("/"), options={"max_data_points": 3})
    assert other.meta.cache == "miss" and other.blueprint_id != first.blueprint_id


async def test_cache_lives_in_blueprint_cache_dir(site: SiteServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(folder))
    get_settings.cache_clear()
    await agenerate_blueprint(site.url_for("/"))
    assert folder.is_dir() and any(folder.iterdir())
    assert (await agenerate_blueprint(site.url_for("/"))).meta.cache == "hit"


# ───────────────────────────── the sync wrapper ─────────────────────────────


async def test_sync_wrapper_works_inside_a_running_loop(site: SiteServer) -> None:
    asyncio.get_running_loop()  # we are inside one, as in Jupyter
    bp = generate_blueprint(site.url_for("/"), use_cache=False)
    assert isinstance(bp, Blueprint) and bp.company.name == "Servewell"
    # and the loop is still usable afterwards
    again = await agenerate_blueprint(site.url_for("/"), use_cache=False)
    assert again.blueprint_id == bp.blueprint_id


def test_sync_wrapper_without_a_loop(site: SiteServer) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # a plain script: the wrapper runs its own loop
    bp = generate_blueprint(site.url_for("/"), RESTAURANT_ICP, options={"max_data_points": 5})
    assert bp.icp.source == "provided"
    assert len(bp.firmographic.data_points) <= 5


async def test_sync_wrapper_from_worker_threads(site: SiteServer) -> None:
    # two notebooks' worth of callers at once: each gets its own loop in its own thread
    results = await asyncio.gather(*(asyncio.to_thread(generate_blueprint, site.url_for("/"), use_cache=False)
                                     for _ in range(2)))
    assert {r.blueprint_id for r in results} == {results[0].blueprint_id}
