"""Runs that end the hard way: a CLI killed or stopped mid-run, a JSON client that leaves, a server told
to stop. None of them may hold up the next run or the server's exit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from tests.support.http_helpers import ENRICH, free_port
from tests.support.run_locks import lock_keys
from tests.support.site_server import RequestRecord, Route, SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

ROOT = Path(__file__).resolve().parents[2]
HOME = (ROOT / "tests" / "fixtures" / "sites" / "engine_vetlab.html").read_text(encoding="utf-8")


class GatedHome:
    """The homepage, answered after ``latency`` seconds, or held until :meth:`open` while ``held``."""

    def __init__(self) -> None:
        self.held = True
        self.latency = 0.0
        self.asked = threading.Event()
        self._gate = threading.Event()

    def open(self) -> None:
        self.held = False
        self._gate.set()

    def __call__(self, record: RequestRecord) -> Route:
        self.asked.set()
        if self.held:
            self._gate.wait(60)
        time.sleep(self.latency)
        return html(HOME)


@pytest.fixture
def home() -> GatedHome:
    return GatedHome()


@pytest.fixture
def site(home: GatedHome) -> Iterator[SiteServer]:
    with serve_site({"/": home}) as server:
        yield server
        home.open()  # frees a handler still holding the homepage


def _env(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "BLUEPRINT_CACHE_DIR": str(cache_dir), "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
            "BLUEPRINT_ENGINE": "catalog", "BLUEPRINT_FETCH_TIMEOUT_S": "120", "BLUEPRINT_SITE_DEADLINE_S": "120"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from server.cli import app; app()", *args]


def _wait_for(predicate: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _timed_run(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=100)
    return done, time.monotonic() - started


# ───────────────────────────── the CLI ─────────────────────────────


def test_a_cli_killed_mid_run_does_not_hold_up_the_next(tmp_path: Path, site: SiteServer, home: GatedHome) -> None:
    cache_dir = tmp_path / "cache"
    command = _cli("generate", site.url_for("/"))
    killed = subprocess.Popen(command, env=_env(cache_dir), cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert home.asked.wait(60), "the first run never reached the site"
        assert len(lock_keys(cache_dir)) == 1  # it holds the run lock
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
    home.latency = 0.5  # the site answers from now on, taking this long
    home.open()
    # straight after the kill, while the dead holder's lease (10 s) still runs: on a loaded machine a run
    # before this one can outlast the lease, and the lock would then be free without any takeover
    again, again_s = _timed_run(command, _env(cache_dir))
    assert again.returncode == 0, again.stderr
    # what the same run costs with no lock in the way (its own cache folder): interpreter, imports, site
    control, control_s = _timed_run(command, _env(tmp_path / "control-cache"))
    assert control.returncode == 0, control.stderr
    assert again_s < control_s + 3, (again_s, control_s)  # not the old 300 s lock expiry
    assert "took over the run lock" in again.stderr  # the killed holder was seen to be gone, not waited out
    assert json.loads(again.stdout)["meta"]["cache"] == "miss"
    assert lock_keys(cache_dir) == []


@pytest.mark.parametrize(
    ("stop", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"]
)
def test_a_cli_stopped_mid_run_releases_its_lock(
    tmp_path: Path, site: SiteServer, home: GatedHome, stop: signal.Signals, exit_code: int
) -> None:
    cache_dir = tmp_path / "cache"
    stopped = subprocess.Popen(_cli("generate", site.url_for("/")), env=_env(cache_dir), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert home.asked.wait(60), "the run never reached the site"
        assert len(lock_keys(cache_dir)) == 1
        sent = time.monotonic()
        stopped.send_signal(stop)
        _, stderr = stopped.communicate(timeout=10)
    finally:
        if stopped.poll() is None:
            stopped.kill()
            stopped.wait()
    assert stopped.returncode == exit_code, stderr
    assert time.monotonic() - sent < 5
    assert lock_keys(cache_dir) == [], f"{stop.name} left the run lock behind"


# ───────────────────────────── the server ─────────────────────────────


def _post_json(port: int, body: dict[str, Any], query: str = "") -> socket.socket:
    """A request on a raw socket: the test decides when the client goes away (``close()``)."""
    data = json.dumps(body).encode()
    head = (f"POST {ENRICH}{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head + data)
    return sock


def _runner_state(server: UvicornThread) -> tuple[int, set[str]]:
    runner = server.app.state.runner

    async def grab() -> tuple[int, set[str]]:
        return len(runner._flights), runner.locks.held

    return server.call(grab)


def test_a_json_client_leaving_cancels_its_run(site: SiteServer, home: GatedHome) -> None:
    with UvicornThread(create_app()) as server:
        client = _post_json(server.port, {"website": site.url_for("/")})
        assert home.asked.wait(30), "the run never reached the site"
        flights, held = _runner_state(server)
        assert flights == 1 and len(held) == 1  # the run is on, holding its lock
        client.close()
        assert _wait_for(lambda: _runner_state(server) == (0, set()), 5), "the run outlived its only client"
        assert server.app.state.runner.graph_runs == 1
        cache_dir = server.app.state.settings.cache_dir
    assert lock_keys(cache_dir) == []


def test_a_json_run_another_client_waits_on_survives_a_disconnect(site: SiteServer, home: GatedHome) -> None:
    request = {"website": site.url_for("/")}
    with UvicornThread(create_app()) as server:
        leaving = _post_json(server.port, request)
        assert home.asked.wait(30)
        answers: list[httpx.Response] = []
        with httpx.Client(timeout=60) as client:
            staying = threading.Thread(target=lambda: answers.append(client.post(server.url + ENRICH, json=request)))
            staying.start()
            assert _wait_for(lambda: _subscribers(server) == 2, 10)
            leaving.close()
            time.sleep(0.5)
            assert _runner_state(server)[0] == 1, "the run was cancelled though a client still waited"
            home.open()
            staying.join(30)
        assert answers and answers[0].status_code == 200 and answers[0].headers["x-cache"] == "MISS"
        assert server.app.state.runner.graph_runs == 1 and site.hits["/"] == 1


def _subscribers(server: UvicornThread) -> int:
    runner = server.app.state.runner

    async def grab() -> int:
        return sum(flight.subscribers for flight in runner._flights.values())

    return server.call(grab)


def test_server_sigterm_exits_within_seconds_of_its_last_client_leaving(
    tmp_path: Path, site: SiteServer, home: GatedHome
) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(_cli("serve", "--port", str(port)), env=_env(tmp_path / "cache"), cwd=ROOT,
                                  stdout=sink, stderr=subprocess.STDOUT)
    try:
        assert _wait_for(lambda: _healthy(port) or server.poll() is not None, 60) and server.poll() is None, \
            log.read_text()
        json_client = _post_json(port, {"website": site.url_for("/")})
        assert home.asked.wait(30), log.read_text()
        sse_client = _post_json(port, {"website": site.url_for("/"), "options": {"cache": "bypass"}}, "?stream=true")
        received = b""
        while b"run_started" not in received:
            chunk = sse_client.recv(4096)
            assert chunk, received
            received += chunk
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert server.poll() is None  # clients still wait: a graceful shutdown waits for them
        sse_client.close()
        time.sleep(0.5)
        assert server.poll() is None
        left = time.monotonic()
        json_client.close()  # the last client leaves
        server.wait(timeout=30)
        exit_s = time.monotonic() - left
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert exit_s < 5, (exit_s, log.read_text())
    assert lock_keys(tmp_path / "cache") == []


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
