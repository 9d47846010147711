"""The door of the API, before any request body is read: API key, request rate, body size.

FastAPI reads and parses a route's body before it resolves the route's dependencies, so an API-key
dependency alone answers 401 only after the whole body sat in memory (eight 200 MB bodies without a key
took a server from 126 MB to 1.7 GB). This pure ASGI middleware decides from the request line and
headers alone, in this order:

1. ``/v1`` routes, when ``BLUEPRINT_API_KEYS`` is set: a valid key, else ``401 unauthorized``.
2. ``/v1`` routes, when ``BLUEPRINT_RATE_LIMIT`` is set: the caller's rate (:mod:`server.rate_limit`), else
   ``429 rate_limited`` with ``Retry-After``; every ``/v1`` answer carries ``RateLimit-*`` headers.
3. Every route: a declared ``Content-Length`` over ``BLUEPRINT_MAX_BODY_BYTES`` → ``413
   payload_too_large``; a chunked body is counted while it is read and refused as soon as it passes the
   limit.
4. ``/v1`` routes: at most :func:`door_limit` requests in progress in this process
   (``BLUEPRINT_MAX_REQUESTS``), else ``503 overloaded`` with ``Retry-After`` — at the door, for a
   fraction of what refusing a new run behind the run slots (:mod:`graph.admission`) costs once the body
   was parsed and the cache asked. In a burst, hundreds of requests are past this point before the first
   of them reaches the run slots, so the door cannot wait for the slots to fill.

A refusal sent while a large or chunked body is still unread says ``Connection: close``: the server then
drops the connection instead of draining (reading and discarding) what the client keeps sending.
The API-key dependency (:mod:`server.deps`) still runs on every route: it documents the security scheme
in OpenAPI and checks again.
"""

from __future__ import annotations

import hmac
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.admission import RunSlots
from graph.settings import Settings
from server.errors import BlueprintHTTPException, envelope_response
from server.rate_limit import RateLimiter
from tools.errors import BlueprintError, Overloaded, PayloadTooLarge, RateLimited, Unauthorized

__all__ = ["AdmissionMiddleware"]

API_PREFIX = "/v1/"


_EVENTS_PATH = re.compile(r"^/v1/campaigns/enrichment/runs/[^/]+/events$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _offered_keys(scope: Scope) -> list[str]:
    """The credentials a request carries, as the dependency reads them: ``Bearer`` token, ``X-API-Key``."""
    offered: list[str] = []
    scheme, _, token = (_header(scope, b"authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        offered.append(token.strip())
    api_key = _header(scope, b"x-api-key")
    if api_key:
        offered.append(api_key)
    return offered


def authenticate(settings: Settings, scope: Scope) -> str | None:
    """The caller's identity for rate limiting — ``key:<index>`` of the matching API key — or ``None``
    when the server has no keys. Raises :class:`Unauthorized`."""
    if not settings.api_keys:
        return None
    offered = _offered_keys(scope)
    if not offered:
        raise Unauthorized("An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.")
    keys = [key.get_secret_value().encode() for key in settings.api_keys]
    match: int | None = None
    for candidate in offered:
        given = candidate.encode()
        # every comparison is made (no early exit), so timing tells neither which key matched nor how close
        for index, key in enumerate(keys):
            if hmac.compare_digest(given, key) and match is None:
                match = index
    if match is None:
        raise Unauthorized("The API key is not valid.")
    return f"key:{match}"


def _declared_length(scope: Scope) -> int | None:
    text = _header(scope, b"content-length")
    return int(text) if text is not None and text.strip().isdigit() else None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this server accepts ({limit} bytes).", details={"limit_bytes": limit}
    )


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._limiter: RateLimiter | None = None
        self._in_progress = 0  # API requests past the door and not yet answered

    def _rate_limiter(self, settings: Settings) -> RateLimiter | None:
        if settings.rate_limit is None:
            return None
        if self._limiter is None or self._limiter.rate != settings.rate_limit:
            self._limiter = RateLimiter(settings.rate_limit)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings
        api = scope["path"].startswith(API_PREFIX)
        # a run's event stream: a browser's EventSource cannot send a key, so it may prove itself with the
        # run's signed stream token instead (checked by the route); it holds no run slot, so the door
        # limit does not count it either
        events = scope["method"] == "GET" and _EVENTS_PATH.match(scope["path"]) is not None
        declared = _declared_length(scope)
        chunked = _header(scope, b"transfer-encoding") is not None
        has_body = bool(declared) or chunked
        # a refusal that leaves a big or unbounded body unread closes the connection rather than let the
        # server read and discard it; a small declared one is drained and the connection kept
        close = chunked or (declared or 0) > settings.max_body_bytes
        rate_headers: dict[str, str] = {}
        try:
            if api:
                token_only = events and not _offered_keys(scope) and b"token=" in scope.get("query_string", b"")
                caller = None if token_only else authenticate(settings, scope)
                limiter = self._rate_limiter(settings)
                if limiter is not None:
                    client = scope.get("client")
                    decision = limiter.take(caller or f"client:{client[0] if client else 'unknown'}")
                    rate_headers = decision.headers()
                    if not decision.allowed:
                        raise _rate_limited(decision.reset_s, settings)
            if declared is not None and declared > settings.max_body_bytes:
                raise _too_large(settings.max_body_bytes)
            if api and not events and self._in_progress >= door_limit(settings):
                raise _busy(scope)
        except BlueprintError as refusal:
            headers = {**rate_headers, **({"Connection": "close"} if close else {})}
            request_id = scope.get("state", {}).get("request_id")
            await envelope_response(refusal, request_id, headers)(scope, receive, send)
            return
        if rate_headers:
            send = _with_headers(send, rate_headers)
        if has_body:
            receive = _counting(receive, settings.max_body_bytes)
        if not api or events:
            await self.app(scope, receive, send)
            return
        self._in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_progress -= 1


def door_limit(settings: Settings) -> int:
    """API requests one process handles at once: ``BLUEPRINT_MAX_REQUESTS``, by default twice what its run
    slots and queue admit, so requests that need no new run (cache hits, requests joining an identical
    run) keep as much room again."""
    return settings.max_requests or 2 * (settings.max_runs + settings.run_queue)


def _slots(scope: Scope) -> RunSlots | None:
    slots = getattr(getattr(scope["app"].state, "runner", None), "slots", None)
    return slots if isinstance(slots, RunSlots) else None


def _busy(scope: Scope) -> Overloaded:
    """Refused at the door: parsing and checking a request costs ~0.5 ms of the event loop, so a burst of
    a thousand would hold up every other answer (/healthz included) for the time it takes to refuse
    them one by one behind the run slots."""
    slots = _slots(scope)
    retry_after = slots.retry_after_s() if slots is not None else 5
    return Overloaded("The server is handling as many requests as it accepts at once; retry after the time "
                      "in the Retry-After header.", retry_after_s=retry_after)


def _rate_limited(reset_s: int, settings: Settings) -> RateLimited:
    rate = settings.rate_limit
    assert rate is not None
    return RateLimited(
        f"Too many requests: at most {rate.requests} per {rate.period_s} s; "
        "retry after the time in the Retry-After header.",
        retry_after_s=reset_s,
        details={"limit": rate.requests, "period_s": rate.period_s, "retry_after_s": reset_s},
    )


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            mutable = MutableHeaders(scope=message)
            for name, value in headers.items():
                mutable.append(name, value)
        await send(message)

    return sending


def _counting(receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses a body (chunked, or longer than declared) as soon as it passes ``limit``."""
    received = 0

    async def receiving() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BlueprintHTTPException(_too_large(limit), headers={"Connection": "close"})
        return message

    return receiving
