"""The outermost layer of every HTTP request: request id, one access-log line, and the last-resort 500.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so streaming responses pass through untouched and
a client disconnect still reaches the endpoint as a cancellation.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import secrets
import time
from collections.abc import Iterator

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import envelope_response, internal_error
from server.logging import request_id_var

__all__ = ["REQUEST_ID_HEADER", "RequestContextMiddleware", "new_request_id"]

log = logging.getLogger("server.access")
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is echoed into headers and logs: accept only a plain token, else make our own.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


@functools.cache
def _id_source() -> tuple[str, Iterator[int]]:
    return secrets.token_hex(8), itertools.count(1)


def new_request_id() -> str:
    """32 hex characters, unique: a random per-process prefix and a counter. A request id correlates
    logs; it guards nothing, so it need not cost a system call for fresh randomness on every request."""
    prefix, counter = _id_source()
    return f"{prefix}{next(counter):016x}"


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _VALID_ID.match(text) else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.exception("unhandled error", extra={"path": scope.get("path"), "method": scope.get("method")})
            if status:  # the response already began: nothing sensible can be sent any more
                raise
            status = 500
            await envelope_response(internal_error(exc), request_id)(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)
