"""The stub world on loopback: the seller's site, an OpenAI-compatible LLM, Apollo and Clearbit — each
with a fixed latency — and the real server (``blueprint serve``) as a subprocess pointed at them.

Everything binds to 127.0.0.1 on a port the OS picks; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.openai_standin import OpenAIStandIn
from tests.support.provider_standin import (
    APOLLO_KEY,
    CLEARBIT_KEY,
    ProviderStandIn,
    serve_providers,
)
from tests.support.site_server import RequestRecord, Route, SiteServer

__all__ = ["Latencies", "ServerProcess", "SlowSite", "World", "free_port", "stub_world"]

ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = ROOT / "tests" / "fixtures" / "sites" / "tablely"


@dataclass(frozen=True)
class Latencies:
    """Fixed upstream latencies in seconds (time before the status line / the answer)."""

    site: float = 0.05
    llm: float = 0.4
    provider: float = 0.05


class SlowSite(SiteServer):
    """The fixture site, every answer held back by a fixed latency (a real site is never instant)."""

    def __init__(self, directory: Path, latency: float) -> None:
        super().__init__(directory=directory)
        self.latency = latency
        self._mirrors: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def _route_for(self, record: RequestRecord) -> Route:
        route = super()._route_for(record)
        route.wait = self.latency  # file routes are built per request: changing one changes nothing shared
        return route

    def homepage_hits(self, query: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == "/" and r.query == query)

    def __enter__(self) -> SlowSite:
        return self.start()

    def start(self) -> SlowSite:
        super().start()
        assert self._httpd is not None
        _quiet_and_fast(self._httpd)
        return self

    def mirrors(self, count: int) -> list[str]:
        """``count`` more addresses (own ports) serving the same site: distinct sellers' sites for the
        concurrency figure. The server keeps one connection pool per site (at most 10 connections, a
        polite crawler's limit), so a hundred runs against one address would queue in that one pool —
        a hundred different sellers would not."""
        assert self._httpd is not None, "start the site first"
        while len(self._mirrors) < count:
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._httpd.RequestHandlerClass)
            httpd.daemon_threads = True
            httpd.block_on_close = False
            _quiet_and_fast(httpd)
            thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._mirrors.append((httpd, thread))
        return [f"http://127.0.0.1:{httpd.server_address[1]}" for httpd, _ in self._mirrors[:count]]

    def stop(self) -> None:
        for httpd, thread in self._mirrors:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
        self._mirrors = []
        super().stop()


def _quiet_and_fast(httpd: ThreadingHTTPServer) -> None:
    nodelay(httpd)
    backlog(httpd)
    # runs cancelled after their first SSE event hang up mid-answer: not worth a traceback each
    httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]


class SlowProviders(ProviderStandIn):
    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.latency)  # a handler thread per connection: sleeping here delays only this call
        return super().answer(method, target, headers, body)


def _bench_server(server: ThreadingHTTPServer) -> None:
    backlog(server)
    nodelay(server)


@contextlib.contextmanager
def serve_slow_providers(latency: float) -> Iterator[SlowProviders]:
    standin = SlowProviders(latency)
    with serve_providers(standin, configure=_bench_server):
        yield standin


def backlog(server: ThreadingHTTPServer, size: int = 512) -> None:
    """A listen backlog for a hundred connections opened at once (``socketserver`` listens with 5; a
    full backlog drops SYNs, and the client's retransmit costs a whole second). Listening again on a
    listening socket only resizes its backlog."""
    server.request_queue_size = size
    server.socket.listen(size)


def nodelay(server: ThreadingHTTPServer) -> None:
    """Answer without Nagle's algorithm, as real web servers do.

    ``BaseHTTPRequestHandler`` writes the headers and the body in two sends; with Nagle on, the body
    waits for the client's delayed ACK of the headers (about 40 ms on Linux loopback) — a stub artefact
    that would otherwise show up as our overhead in every upstream call.
    """
    server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def blueprint_command() -> list[str]:
    """The installed console script next to this interpreter, else the same entry point via ``-c``."""
    script = Path(sys.executable).parent / "blueprint"
    if script.exists():
        return [str(script)]
    found = shutil.which("blueprint")
    return [found] if found else [sys.executable, "-c", "from server.cli import app; app()"]


@dataclass
class ServerProcess:
    """A uvicorn subprocess on a free port; its stderr goes to a log file (never a full pipe)."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, ready_path: str = "/healthz", timeout: float = 60.0) -> ServerProcess:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + ready_path, timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"server did not answer {ready_path} in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()


@dataclass
class World:
    latencies: Latencies
    site: SlowSite
    llm: OpenAIStandIn
    providers: SlowProviders
    server: ServerProcess
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1


def server_env(workdir: Path, llm: OpenAIStandIn, providers: SlowProviders) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINT_", "OPENAI_", "APOLLO_", "CLEARBIT_"))}
    env.update({
        "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
        "BLUEPRINT_CACHE_DIR": str(workdir / "cache"),
        "BLUEPRINT_REFRESH_INTERVAL_S": "0",  # cold runs repeat `refresh` on one request on purpose
        # the bench measures how the server copes with 100 concurrent cold runs, not the admission policy
        # that would queue most of them (BLUEPRINT_MAX_RUNS defaults to 8)
        "BLUEPRINT_MAX_RUNS": "128",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "sk-bench-not-a-key",
        "APOLLO_API_KEY": APOLLO_KEY,
        "APOLLO_BASE_URL": providers.url + "/api/v1",
        "CLEARBIT_API_KEY": CLEARBIT_KEY,
        "CLEARBIT_BASE_URL": providers.url,
        "LANGSMITH_TRACING": "false",
        "PYTHONPATH": str(ROOT),
    })
    return env


@contextlib.contextmanager
def stub_world(latencies: Latencies, workdir: Path | None = None, *, workers: int = 1) -> Iterator[World]:
    """Start the stubs and the real server; stop all of them at the end, whatever happened."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bp-bench-")))
        site = stack.enter_context(SlowSite(SITE_DIR, latencies.site))
        llm = stack.enter_context(OpenAIStandIn(latency=latencies.llm))
        assert llm._httpd is not None
        nodelay(llm._httpd)
        backlog(llm._httpd)
        providers = stack.enter_context(serve_slow_providers(latencies.provider))
        env = server_env(workdir, llm, providers)
        port = free_port()
        # the working directory is the scratch folder: a developer's .env must not leak into the numbers
        server = ServerProcess(
            [*blueprint_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env, cwd=workdir, log_path=workdir / "server.log", port=port,
        )
        stack.callback(server.stop)
        server.start()
        yield World(latencies, site, llm, providers, server, workdir, env, workers)
