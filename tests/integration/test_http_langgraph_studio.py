"""LangGraph Studio's local API (``langgraph dev``) serves our graph from ``langgraph.json``, offline.

Starts ``langgraph dev`` on a free port (once for the module), streams runs through ``langgraph_sdk``
with the request fields as input, and checks that the section nodes report and the final state holds
the blueprint, and that a failing run shows the project's error code and message (not LangGraph's
"An internal error occurred").
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from graph.schemas import Blueprint
from tests.support.http_helpers import TABLELY, free_port
from tests.support.site_server import SiteServer, serve_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("langgraph") is None, reason="langgraph-cli[inmem] is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {"firmographic", "technographic", "personalization", "sources", "collection_methods"}


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site(directory=TABLELY) as server:
        yield server


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("studio")
    port = free_port()
    log = tmp_path / "langgraph-dev.log"
    env = {
        **os.environ,
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
        "BLUEPRINT_CACHE_DIR": str(tmp_path / "cache"),
        "BLUEPRINT_ENGINE": "catalog",
    }
    command = ["langgraph", "dev", "--no-browser", "--no-reload", "--port", str(port)]
    with log.open("w") as sink:
        # its own process group: `langgraph dev` starts children that must go when the test ends
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "langgraph dev exited:\n" + log.read_text()
            assert time.monotonic() < deadline, "langgraph dev did not answer /ok:\n" + log.read_text()
            try:
                if httpx.get(url + "/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def test_langgraph_dev_streams_a_run_of_the_graph(studio: str, site: SiteServer) -> None:
    client = get_client(url=studio)
    thread = await client.threads.create()
    inputs: dict[str, Any] = {
        "website": site.url,
        "icp": {"industries": ["restaurants"], "geographies": ["United States"]},
        "options": {"engine": "catalog", "max_data_points": 6},
    }
    updated: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    async for part in client.runs.stream(
        thread["thread_id"], "enrichment_blueprint", input=inputs, stream_mode=["updates", "custom"]
    ):
        assert part.event != "error", part.data
        if part.event == "updates" and isinstance(part.data, dict):
            updated.update(part.data)
        elif part.event == "custom" and isinstance(part.data, dict):
            custom.append(part.data)
    assert set(updated) >= SECTIONS, updated
    # what the README says: `updates` carry only the output schema's key (the blueprint, from `assemble`),
    # so every other node's update reads None; its output is in its `node_completed` custom event
    assert updated["assemble"] is not None and updated["firmographic"] is None
    completed = {c["node"]: c for c in custom if c.get("event") == "node_completed"}
    assert set(completed) >= SECTIONS
    assert completed["fetch_site"]["output"]["pages"] and completed["firmographic"]["output"]
    state = await client.threads.get_state(thread["thread_id"])
    values = state["values"]
    assert isinstance(values, dict)
    assert {"company", "firmographic", "site"} <= set(values)  # the thread state holds every key
    blueprint = Blueprint.model_validate(values["blueprint"])
    assert blueprint.icp.source == "provided"
    assert len(blueprint.firmographic.data_points) <= 6
    assert site.hits["/"] == 1


async def test_langgraph_dev_shows_the_error_code_and_message_of_a_failed_run(studio: str) -> None:
    client = get_client(url=studio)
    thread = await client.threads.create()
    unreachable = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    errors: list[Any] = []
    async for part in client.runs.stream(
        thread["thread_id"], "enrichment_blueprint", input={"website": unreachable}, stream_mode=["updates"]
    ):
        if part.event == "error":
            errors.append(part.data)
    assert len(errors) == 1, errors
    error = errors[0]
    assert error["error"] == "InsufficientInformation"
    assert error["message"].startswith(f"insufficient_information: The website {unreachable} could not be read")
    assert "An internal error occurred" not in error["message"]
