"""Long-lived things a run needs (settings, HTTP clients, caches), created at run time, never at import.

``run.py`` and the server's lifespan open a :class:`Resources` and bind it with :func:`use_resources`;
nodes call :func:`get_resources`. When nothing is bound (``langgraph dev``, a bare ``graph.ainvoke`` in
a notebook) a default set is created lazily, once per event loop, because httpx clients belong to the
loop that first used them.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from graph.settings import Settings, get_settings

__all__ = ["Resources", "get_resources", "open_resources", "site_limits", "use_resources"]

if TYPE_CHECKING:
    from tools.website import SiteLimits


@dataclass
class Resources:
    settings: Settings
    site_client: httpx.AsyncClient
    page_cache: Any = None  # tools.website.PageCache when a cache is available
    response_cache: Any = None  # tools.http.ResponseCache for provider answers
    extras: dict[str, Any] = field(default_factory=dict)  # provider clients, LLM, opened by their modules
    _closers: list[Any] = field(default_factory=list)

    def on_close(self, closer: Any) -> None:
        """Register an async callable to run at :meth:`aclose`."""
        self._closers.append(closer)

    async def aclose(self) -> None:
        for closer in reversed(self._closers):
            await closer()
        await self.site_client.aclose()


_current: ContextVar[Resources | None] = ContextVar("blueprint_resources", default=None)
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Resources] = weakref.WeakKeyDictionary()


def site_limits(settings: Settings) -> SiteLimits:
    """The site reader's limits from the settings (tools take plain values, never the settings)."""
    from tools.website import SiteLimits

    return SiteLimits(
        allow_hosts=tuple(settings.allow_private_hosts),
        fetch_timeout_s=settings.fetch_timeout_s,
        site_deadline_s=settings.site_deadline_s,
        max_pages=settings.max_pages,
    )


def _build(settings: Settings) -> Resources:
    from tools.website import build_site_client

    return Resources(settings=settings, site_client=build_site_client(site_limits(settings)))


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings | None = None, *, page_cache: Any = None, response_cache: Any = None
) -> AsyncIterator[Resources]:
    resources = _build(settings or get_settings())
    resources.page_cache = page_cache
    resources.response_cache = response_cache
    try:
        yield resources
    finally:
        await resources.aclose()


@contextlib.contextmanager
def use_resources(resources: Resources) -> Iterator[Resources]:
    token = _current.set(resources)
    try:
        yield resources
    finally:
        _current.reset(token)


def get_resources() -> Resources:
    bound = _current.get()
    if bound is not None:
        return bound
    loop = asyncio.get_running_loop()
    if loop not in _per_loop:
        _per_loop[loop] = _build(get_settings())
    return _per_loop[loop]
