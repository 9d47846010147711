"""Runs as resources against real servers: start, status, events resumed exactly, cancel, owners, Markdown.

The seller's homepage answers late, so a run is observably in progress when a client drops its stream,
reconnects (to the same server, or to a second server *process* sharing the cache folder) and resumes
with ``Last-Event-ID``: the events it ends up with are exactly ids 1..n, none lost, none twice, and the
same as a full replay.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, TABLELY, SseEvent, free_port, parse_sse, tablely_home
from tests.support.site_server import RequestRecord, Route, SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RUNS = ENRICH + "/runs"
HOME_DELAY_S = 2.0
REDIS_URL = os.environ.get("BLUEPRINT_TEST_REDIS_URL")


def _slow_home(record: RequestRecord) -> Route:
    time.sleep(HOME_DELAY_S)
    return html(tablely_home())


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": _slow_home}, directory=TABLELY) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline_env: None) -> dict[str, str]:
    values = {"BLUEPRINT_CACHE_DIR": str(tmp_path / "shared-cache"), "BLUEPRINT_ENGINE": "catalog",
              "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return values


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[UvicornThread]:
    with UvicornThread(create_app()) as running:
        yield running


@contextlib.contextmanager
def _server_process(env: dict[str, str], folder: Path) -> Iterator[str]:
    """A server in its own process (the settings in ``env``); its URL."""
    port = free_port()
    log = folder / f"server-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]
    with log.open("w") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=sink,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the second server did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def other_process(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A second server, in its own process, on the same cache folder."""
    with _server_process(env, tmp_path) as url:
        yield url


def _read(client: httpx.Client, url: str, *, stop_after: int | None = None, **headers: str) -> list[SseEvent]:
    """Events from ``url``; with ``stop_after`` the connection is dropped after that many events."""
    events: list[SseEvent] = []
    lines: list[str] = []
    with client.stream("GET", url, headers=headers) as answer:
        assert answer.status_code == 200, answer.read()
        for line in answer.iter_lines():
            lines.append(line)
            if line == "":
                events += parse_sse(lines)
                lines = []
                if stop_after is not None and len(events) >= stop_after:
                    break  # leaving the block closes the connection mid-run
    return events + parse_sse(lines)


def _start(client: httpx.Client, site: SiteServer, **headers: str) -> dict[str, Any]:
    answer = client.post(RUNS, json={"website": site.url}, headers=headers)
    assert answer.status_code == 202, answer.text
    run: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"{RUNS}/{run['run_id']}"
    assert run["status"] == "queued" and run["run_id"].startswith("run_")
    return run


def _ids(events: list[SseEvent]) -> list[int]:
    return [e.id for e in events if e.id is not None]


def test_a_run_is_a_resource_and_a_cache_hit_points_at_the_blueprint(
    server: UvicornThread, site: SiteServer
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        run = _start(client, site)
        status = client.get(run["links"]["self"]).json()
        assert status["status"] in {"queued", "running"} and status["blueprint"] is None
        events = _read(client, run["links"]["events"])
        names = [e.event for e in events]
        assert names[0] == "run_started" and names[-2:] == ["blueprint", "done"]
        assert _ids(events) == list(range(1, len(events) + 1))
        done = client.get(run["links"]["self"]).json()
        assert done["status"] == "done" and done["error"] is None
        assert done["blueprint"]["blueprint_id"] == done["blueprint_id"] == events[-2].data["blueprint_id"]
        assert {"fetch_site", "assemble"} <= set(done["nodes"]) and done["duration_ms"] >= HOME_DELAY_S * 1000
        assert done["created_at"] <= done["started_at"] <= done["finished_at"]
        assert done["links"]["blueprint"] == f"{ENRICH}/{done['blueprint_id']}"
        assert done["last_event_id"] == len(events)

        again = client.post(RUNS, json={"website": site.url})  # the same request: answered from the cache
        assert again.status_code == 200 and again.json()["run_id"] is None
        assert again.headers["location"] == done["links"]["blueprint"]
        markdown = client.get(again.headers["location"], headers={"accept": "text/markdown"})
        assert markdown.headers["content-type"].startswith("text/markdown")
        assert markdown.text.startswith("# Enrichment blueprint") and "Tablely" in markdown.text
        as_query = client.get(again.headers["location"] + "?format=markdown")
        assert as_query.text == markdown.text
        assert client.get(again.headers["location"]).json()["blueprint_id"] == done["blueprint_id"]
    assert site.hits["/"] == 1


def test_events_resume_exactly_after_a_dropped_connection_and_several_clients_follow(
    server: UvicornThread, site: SiteServer
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        run = _start(client, site)
        alongside: list[SseEvent] = []  # a second client following the same run at the same time

        def follow_alongside() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as other:
                alongside.extend(_read(other, run["links"]["events"]))

        follower = threading.Thread(target=follow_alongside)
        follower.start()
        first = _read(client, run["links"]["events"], stop_after=2)  # dropped while the site is loading
        assert _ids(first) == [1, 2]
        assert server.app.state.runs.active == 1
        assert client.get(run["links"]["self"]).json()["status"] == "running"  # dropping cancels nothing
        rest = _read(client, run["links"]["events"], **{"Last-Event-ID": str(first[-1].id)})
        whole = _read(client, run["links"]["events"])  # another client, later: a full replay
        # coming back after the last event of a finished run: 204 tells an EventSource to stop reconnecting
        over = client.get(run["links"]["events"], headers={"Last-Event-ID": str(whole[-1].id)})
        assert over.status_code == 204 and not over.content
        assert client.get(run["links"]["events"] + f"?last_event_id={whole[-1].id + 5}").status_code == 204
    follower.join(timeout=30)
    resumed = first + rest
    assert _ids(resumed) == list(range(1, len(resumed) + 1))  # none lost, none repeated
    assert [(e.id, e.event, e.data) for e in resumed] == [(e.id, e.event, e.data) for e in whole]
    assert [(e.id, e.event, e.data) for e in alongside] == [(e.id, e.event, e.data) for e in whole]
    assert server.app.state.runs.active == 0
    assert resumed[-1].event == "done" and resumed[-2].event == "blueprint"


def test_resuming_after_an_id_the_run_has_not_reached_waits_without_blocking_the_server(
    server: UvicornThread, site: SiteServer
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        run = _start(client, site)
        ahead: list[SseEvent] = []

        def follow_ahead() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as other:
                ahead.extend(_read(other, run["links"]["events"] + "?last_event_id=1000000"))

        follower = threading.Thread(target=follow_ahead)
        follower.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 1.0  # the event loop is not spinning on the far-ahead client
        follower.join(timeout=30)
        # nothing after that id: the stream ends with the run, with the `done` every stream ends with (under the
        # client's own id, so coming back gets 204)
        assert not follower.is_alive() and [(e.event, e.id) for e in ahead] == [("done", 1000000)]
        assert client.get(run["links"]["self"]).json()["status"] == "done"


def _resume_elsewhere(here_url: str, there_url: str, site: SiteServer) -> str:
    """Start a run on one server, drop its stream mid-run, resume on the other; returns the run id."""
    with httpx.Client(base_url=here_url, timeout=30) as here, httpx.Client(base_url=there_url,
                                                                          timeout=30) as there:
        run = _start(here, site)
        first = _read(here, run["links"]["events"], stop_after=2)
        elsewhere = there.get(run["links"]["self"]).json()
        assert elsewhere["status"] == "running"  # the run is still in progress in the first process
        rest = _read(there, run["links"]["events"], **{"Last-Event-ID": str(first[-1].id)})
        assert [e.event for e in rest[-2:]] == ["blueprint", "done"]
        done = there.get(run["links"]["self"]).json()
        assert done["status"] == "done" and done["blueprint"]["blueprint_id"] == done["blueprint_id"]
        whole = _read(here, run["links"]["events"])
    resumed = first + rest
    assert _ids(resumed) == list(range(1, len(resumed) + 1))
    assert [(e.id, e.event, e.data) for e in resumed] == [(e.id, e.event, e.data) for e in whole]
    return str(run["run_id"])


def test_a_second_process_on_the_same_cache_resumes_the_stream_and_reports_the_run(
    server: UvicornThread, other_process: str, site: SiteServer
) -> None:
    _resume_elsewhere(server.url, other_process, site)


@pytest.fixture
def redis_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    if not REDIS_URL:
        pytest.skip("BLUEPRINT_TEST_REDIS_URL is not set (see .ci/run)")
    monkeypatch.setenv("BLUEPRINT_CACHE_URL", REDIS_URL)
    get_settings.cache_clear()
    env["BLUEPRINT_CACHE_URL"] = REDIS_URL
    yield env


def test_two_replicas_on_one_redis_resume_the_stream(redis_env: dict[str, str], site: SiteServer) -> None:
    """Replicas share nothing but Redis: separate cache folders, the run cache at BLUEPRINT_CACHE_URL."""
    with UvicornThread(create_app()) as first:
        redis_env["BLUEPRINT_CACHE_DIR"] += "-other-replica"  # (unused with Redis; proves nothing else is shared)
        with _server_process(redis_env, Path(redis_env["BLUEPRINT_CACHE_DIR"]).parent) as second:
            run_id = _resume_elsewhere(first.url, second, site)
    client = redis.Redis.from_url(str(REDIS_URL))
    try:
        keys = list(client.scan_iter(match=f"*{run_id}*"))
        assert keys  # the run was kept in Redis ...
        client.delete(*keys)  # ... and is removed, leaving the test database as it was
    finally:
        client.close()


def test_delete_cancels_a_run_and_its_followers_see_it_end(server: UvicornThread, site: SiteServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        run = _start(client, site)
        first = _read(client, run["links"]["events"], stop_after=2)
        cancelled = client.delete(run["links"]["self"])
        assert cancelled.status_code == 200, cancelled.text
        body = cancelled.json()
        assert body["status"] == "failed" and body["error"]["code"] == "cancelled"
        events = _read(client, run["links"]["events"], **{"Last-Event-ID": str(first[-1].id)})
        assert [e.event for e in events[-2:]] == ["error", "done"] and events[-2].data["code"] == "cancelled"
        assert "blueprint" not in [e.event for e in events]
        # the graph run was cancelled too (nobody else waited on it): no flight is left behind
        assert _wait(lambda: not server.app.state.runner._flights)
        again = client.delete(run["links"]["self"])  # a finished run is left as it is
        assert again.status_code == 200 and again.json()["status"] == "failed"


def test_delete_on_another_process_stops_the_run_where_it_runs(
    server: UvicornThread, other_process: str, site: SiteServer
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as here, httpx.Client(base_url=other_process,
                                                                            timeout=30) as there:
        run = _start(here, site)
        _read(here, run["links"]["events"], stop_after=2)
        asked = there.delete(run["links"]["self"])
        assert asked.status_code == 202 and asked.json()["cancel_requested"] is True
        assert _wait(lambda: here.get(run["links"]["self"]).json()["status"] == "failed", timeout=10)
        assert here.get(run["links"]["self"]).json()["error"]["code"] == "cancelled"


def test_unknown_and_malformed_run_ids(server: UvicornThread) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        missing = client.get(f"{RUNS}/run_{'0' * 32}")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert client.get(f"{RUNS}/run_{'0' * 32}/events").status_code == 404
        assert client.delete(f"{RUNS}/run_{'0' * 32}").status_code == 404
        assert client.get(f"{RUNS}/../../etc").status_code in {404, 422}
        assert client.get(f"{RUNS}/run_nothex/events").json()["error"]["code"] == "validation_error"
        bad = client.post(RUNS, json={"website": "http://10.0.0.1"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "blocked_url"
        llm = client.post(RUNS, json={"website": "https://acme.example", "options": {"engine": "llm"}})
        assert llm.status_code == 422 and llm.json()["error"]["code"] == "validation_error"


def test_with_api_keys_a_run_is_its_owners_and_the_stream_takes_a_token_not_a_key(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, site: SiteServer
) -> None:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", "key-one,key-two")
    get_settings.cache_clear()
    one, two = {"X-API-Key": "key-one"}, {"Authorization": "Bearer key-two"}
    with UvicornThread(create_app()) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post(RUNS, json={"website": site.url}).status_code == 401
        run = _start(client, site, **one)
        events_url = run["links"]["events"]
        assert "?token=" in events_url and "key-one" not in events_url
        assert client.get(run["links"]["self"], headers=one).status_code == 200
        assert client.get(run["links"]["self"], headers=two).status_code == 404  # not theirs: as if absent
        assert client.delete(run["links"]["self"], headers=two).status_code == 404
        plain = events_url.split("?")[0]
        refused = client.get(plain)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert client.get(plain + "?token=1.forged").status_code == 401
        assert client.get(plain + "?api_key=key-one").status_code == 401  # keys never ride in URLs
        assert client.get(plain, headers=two).status_code == 404
        events = _read(client, events_url)  # what a browser's EventSource does: no headers, the token
        assert [e.event for e in events[-2:]] == ["blueprint", "done"]
        assert _read(client, plain, **one)[-1].event == "done"  # or the owner's key in a header


def _wait(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
