"""A loopback HTTP server for tests: fixed routes or a directory, with hostile behaviours on demand.

Usage (sync or async tests alike; the server runs in its own thread)::

    with serve_site({"/": html("<h1>Hi</h1>"), "/old": redirect("/")}) as site:
        httpx.get(site.url + "/old")
        assert site.hits["/"] == 1

A route is a :class:`Route`, a ``(status, headers, body)`` tuple, a ``str``/``bytes`` body (HTML), or a
callable ``(RequestRecord) -> Route`` for dynamic answers. ``directory=`` serves files under a folder.
Bodies can be generated (``huge``) so a 10 MB page never sits in memory, dripped slowly (``drip``),
and every request is recorded (``hits`` per path, ``requests``, ``bytes_sent`` per path).
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "RequestRecord",
    "Route",
    "SiteServer",
    "drip",
    "html",
    "huge",
    "redirect",
    "serve_site",
]


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Route:
    """One canned answer. ``body`` is sent ``repeat`` times in ``chunk_size`` pieces, ``delay`` apart.

    ``dataclasses.replace(route, wait=0.5)`` makes any route slow.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    body: bytes = b""
    repeat: int = 1
    chunk_size: int = 64 * 1024
    delay: float = 0.0  # seconds between chunks (slow drip)
    wait: float = 0.0  # seconds before the status line (a slow server)
    content_length: bool = True  # False: no Content-Length, connection closed at the end

    def chunks(self) -> Iterator[bytes]:
        for _ in range(self.repeat):
            for start in range(0, len(self.body), self.chunk_size):
                yield self.body[start : start + self.chunk_size]


def html(body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8") -> Route:
    data = body.encode() if isinstance(body, str) else body
    return Route(status=status, headers={"Content-Type": content_type}, body=data)


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, headers={"Location": location, "Content-Type": "text/html"}, body=b"")


def huge(
    size_bytes: int, content_type: str = "text/html; charset=utf-8", unit: bytes = b"<p>lorem</p>\n"
) -> Route:
    """A generated body of about ``size_bytes`` (a whole number of ``unit``), never held in memory."""
    block = unit * max(1, (64 * 1024) // len(unit))
    return Route(headers={"Content-Type": content_type}, body=block, repeat=max(1, size_bytes // len(block)))


def drip(
    body: bytes | str, *, every: float = 0.2, chunk_size: int = 1, content_type: str = "text/html"
) -> Route:
    data = body.encode() if isinstance(body, str) else body
    return Route(headers={"Content-Type": content_type}, body=data, chunk_size=chunk_size, delay=every)


RouteSpec = Route | tuple[int, Mapping[str, str], bytes | str] | str | bytes | Callable[[RequestRecord], Any]


def _as_route(spec: Any) -> Route:
    if isinstance(spec, Route):
        return spec
    if isinstance(spec, str | bytes):
        return html(spec)
    if isinstance(spec, tuple):
        status, headers, body = spec
        data = body.encode() if isinstance(body, str) else body
        return Route(status=status, headers=dict(headers), body=data)
    raise TypeError(f"not a route: {spec!r}")


class SiteServer:
    """The running server. ``url`` is ``http://127.0.0.1:<port>``; use :meth:`url_for` for paths."""

    def __init__(self, routes: Mapping[str, RouteSpec] | None = None, directory: str | Path | None = None):
        self.routes: dict[str, RouteSpec] = dict(routes or {})
        self.directory = Path(directory) if directory else None
        self.hits: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None  # kept after stop(), so URLs can still be compared

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> SiteServer:
        handler = type("Handler", (_Handler,), {"site": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._port = int(self._httpd.server_address[1])
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a dripping handler must not hold up teardown
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SiteServer:
        return self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # addresses ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._port is not None, "server not started"
        return self._port

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str = "/", host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host`` swaps in another name (e.g. one a fake resolver maps here)."""
        return f"http://{host or '127.0.0.1'}:{self.port}{path}"

    # routing -----------------------------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.hits[record.path] += 1
            self.requests.append(record)

    def _count_sent(self, path: str, n: int) -> None:
        with self._lock:
            self.bytes_sent[path] += n

    def _route_for(self, record: RequestRecord) -> Route:
        spec = self.routes.get(record.path)
        if callable(spec) and not isinstance(spec, Route):
            return _as_route(spec(record))
        if spec is not None:
            return _as_route(spec)
        if self.directory is not None:
            return self._file_route(record.path)
        return html("<h1>Not found</h1>", status=404)

    def _file_route(self, path: str) -> Route:
        assert self.directory is not None
        root = self.directory.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        elif not candidate.exists() and candidate.with_suffix(".html").is_file():
            candidate = candidate.with_suffix(".html")  # pretty URLs: /pricing → pricing.html
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return html("<h1>Not found</h1>", status=404)
        ctype = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        return Route(headers={"Content-Type": ctype}, body=candidate.read_bytes())


class _Handler(BaseHTTPRequestHandler):
    site: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _serve(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = RequestRecord(self.command, parts.path or "/", parts.query, dict(self.headers.items()), body)
        self.site._record(record)
        route = self.site._route_for(record)
        if route.wait:
            self.site._stopping.wait(route.wait)
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.content_length:
            self.send_header("Content-Length", str(len(route.body) * route.repeat))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not send_body:
            return
        try:
            for chunk in route.chunks():
                if self.site._stopping.is_set():
                    break
                self.wfile.write(chunk)
                self.wfile.flush()
                self.site._count_sent(record.path, len(chunk))
                if route.delay:
                    time.sleep(route.delay)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (body cap, deadline): that is the point

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    do_POST = do_PUT = do_DELETE = do_GET


def serve_site(
    routes: Mapping[str, RouteSpec] | None = None, *, directory: str | Path | None = None
) -> SiteServer:
    """A not-yet-started server; use it as a (sync or async) context manager."""
    return SiteServer(routes, directory)
