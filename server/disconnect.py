"""Work for a JSON request that stops when its client goes away.

A streaming (SSE) response notices a disconnect on its own; a JSON endpoint does not: it would run to
the end for nobody, and a server shutting down waits for it. :func:`until_disconnected` runs the work
next to a watch on the ASGI ``receive`` channel, which yields ``http.disconnect`` once the request's
body has been read and the client has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.types import Receive

__all__ = ["CLIENT_CLOSED_REQUEST", "until_disconnected"]

T = TypeVar("T")
CLIENT_CLOSED_REQUEST = 499  # nginx's status for "the client closed the request": what the access log shows


async def until_disconnected(connection: Request, work: Coroutine[Any, Any, T]) -> tuple[bool, T | None]:
    """``(True, result)`` of ``work``, or ``(False, None)`` once the client has gone; ``work`` is then
    cancelled, and this returns after it has finished unwinding. ``work``'s exceptions propagate."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnect(connection.receive))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False, None
    return True, task.result()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
