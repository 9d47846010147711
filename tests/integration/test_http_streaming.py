"""Streaming against a real uvicorn server on a free port: timing, order, keep-alive, disconnects.

The seller's homepage is served late on purpose, so "the first event arrives before the site is
fetched" and "a disconnect mid-run cancels the run" are observable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import httpx
import psutil
import pytest

from server.app import create_app
from tests.support.http_helpers import ENRICH, TABLELY, parse_sse, tablely_home
from tests.support.site_server import RequestRecord, Route, SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
SSE = {"accept": "text/event-stream"}


class SlowHome:
    """The homepage, answered ``delay`` seconds after it was asked for."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.asked = threading.Event()
        self.served_at: float | None = None

    def __call__(self, record: RequestRecord) -> Route:
        self.asked.set()
        time.sleep(self.delay)
        self.served_at = time.monotonic()
        return html(tablely_home())


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")


def slow_site(delay: float) -> tuple[SiteServer, SlowHome]:
    home = SlowHome(delay)
    return serve_site({"/": home}, directory=TABLELY), home


@pytest.fixture
def server(allow_loopback: None) -> Iterator[UvicornThread]:
    with UvicornThread(create_app()) as running:
        yield running


def _flight_tasks(server: UvicornThread) -> list[Any]:
    runner = server.app.state.runner

    async def grab() -> list[Any]:
        return [flight.task for flight in runner._flights.values()]

    return server.call(grab)


def _wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_first_event_precedes_the_site_and_events_follow_the_contract(
    server: UvicornThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.2)  # keep-alive comments while the site is slow
    site, home = slow_site(1.0)
    with site, httpx.Client(timeout=30) as client:
        sent = time.monotonic()
        lines: list[str] = []
        first_event_at: float | None = None
        with client.stream("POST", server.url + ENRICH, json={"website": site.url}, headers=SSE) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("event:") and first_event_at is None:
                    first_event_at = time.monotonic()
                lines.append(line)
    assert first_event_at is not None and home.served_at is not None
    assert first_event_at < home.served_at  # run_started left before the homepage was answered
    assert first_event_at - sent < 0.5
    assert ": ping" in lines
    events = parse_sse(lines)
    names = [e.event for e in events]
    assert names[0] == "run_started" and names[-2:] == ["blueprint", "done"]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert {"firmographic", "technographic", "personalization", "sources", "collection_methods"} <= {
        e.data["node"] for e in events if e.event == "node_completed"
    }


def _client_sockets_to(port: int) -> list[Any]:
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


def test_disconnect_cancels_the_run_and_leaves_nothing_behind(server: UvicornThread) -> None:
    site, home = slow_site(3.0)
    with site:
        baseline = server.tasks()
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", server.url + ENRICH, json={"website": site.url}, headers=SSE) as response,
        ):
            lines = response.iter_lines()  # held: dropping a half-read iterator closes the connection
            assert next(lines) == "event: run_started"
            assert home.asked.wait(2), "the run never asked for the homepage"
            (task,) = _flight_tasks(server)
            assert not task.done()
            response.close()  # disconnect mid-run
        assert _wait_for(task.done), "the run kept going after its only client left"
        assert task.cancelled()
        assert _wait_for(lambda: not _flight_tasks(server))
        assert _wait_for(lambda: not (server.tasks() - baseline)), server.tasks() - baseline
        assert _wait_for(lambda: not _client_sockets_to(site.port)), "a connection to the site is left open"
        assert home.served_at is None  # cancelled while the site was still thinking
        runner = server.app.state.runner
        assert runner.graph_runs == 1


def test_a_run_with_another_listener_survives_a_disconnect(server: UvicornThread) -> None:
    site, home = slow_site(1.0)
    with site, httpx.Client(timeout=30) as quitter, httpx.Client(timeout=30) as stayer:
        request = {"website": site.url}
        with stayer.stream("POST", server.url + ENRICH, json=request, headers=SSE) as staying:
            lines = staying.iter_lines()
            assert next(lines) == "event: run_started"
            with quitter.stream("POST", server.url + ENRICH, json=request, headers=SSE) as leaving:
                assert next(leaving.iter_lines()) == "event: run_started"
            rest = ["event: run_started", *lines]
        events = parse_sse(rest)
        assert [e.event for e in events][-2:] == ["blueprint", "done"]
        runner = server.app.state.runner
        assert runner.graph_runs == 1
        assert site.hits["/"] == 1
        assert home.served_at is not None


def test_json_through_the_real_server(server: UvicornThread, allow_loopback: None) -> None:
    with serve_site(directory=TABLELY) as site, httpx.Client(timeout=30) as client:
        miss = client.post(server.url + ENRICH, json={"website": site.url}, headers={"X-Request-ID": "real-1"})
        hit = client.post(server.url + ENRICH, json={"website": site.url})
    assert (miss.status_code, miss.headers["x-cache"], miss.headers["x-request-id"]) == (200, "MISS", "real-1")
    assert hit.headers["x-cache"] == "HIT"
    assert hit.json()["blueprint_id"] == miss.json()["blueprint_id"]
