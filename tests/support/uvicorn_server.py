"""A real uvicorn server in a thread, on a free loopback port — for streaming tests and benchmarks.

``httpx.ASGITransport`` buffers whole responses, so it cannot show when an SSE event leaves the server
or what a disconnect does; this can::

    with UvicornThread(create_app()) as server:
        httpx.get(server.url + "/healthz")
        server.call(some_coroutine_function)   # runs on the server's own event loop
        server.tasks()                          # asyncio.all_tasks() of that loop

The port is chosen by the OS (bind to port 0), so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import uvicorn

__all__ = ["UvicornThread"]

T = TypeVar("T")


class _Server(uvicorn.Server):
    loop: asyncio.AbstractEventLoop | None = None

    def install_signal_handlers(self) -> None:  # only the main thread may; the test runner owns signals
        return

    async def serve(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class UvicornThread:
    def __init__(self, app: Any, *, startup_timeout: float = 30.0, **config: Any) -> None:
        self.app = app  # kept for tests: e.g. ``server.app.state.runner``
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "on")
        self.config = uvicorn.Config(app, host="127.0.0.1", port=0, **config)
        self.server = _Server(self.config)
        self.startup_timeout = startup_timeout
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> UvicornThread:
        self._thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn stopped during startup (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> UvicornThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # address ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        for server in self.server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server not started")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # the server's event loop -------------------------------------------------------------------
    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run ``fn()`` on the server's loop and return its result."""
        assert self.server.loop is not None, "server not started"
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(fn), self.server.loop)
        return future.result(timeout)

    def tasks(self) -> set[asyncio.Task[Any]]:
        """The loop's tasks, except the one that asked."""

        async def collect() -> set[asyncio.Task[Any]]:
            me = asyncio.current_task()
            return {t for t in asyncio.all_tasks() if t is not me}

        return self.call(collect)


async def _as_coroutine(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()
