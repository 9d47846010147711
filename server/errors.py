"""One exception layer: every failure becomes ``{"error": {code, message, details, request_id}}``.

* :class:`tools.errors.BlueprintError` subclasses carry their own code and status.
* FastAPI's request validation (bad fields, malformed JSON, missing body) → 422 ``validation_error``
  with one readable line per problem in ``details.errors``.
* Starlette's HTTP errors (unknown route, wrong method, ...) → their status with a stable code.
* Anything else is a bug: :mod:`server.middleware` logs it with its trace and answers 500
  ``internal_error`` without one.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.errors import BlueprintError

__all__ = [
    "BlueprintHTTPException",
    "ErrorBody",
    "ErrorEnvelope",
    "envelope",
    "envelope_response",
    "install_error_handlers",
    "internal_error",
    "json_response",
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON bytes straight from orjson: no ``jsonable_encoder`` pass over a large blueprint."""
    return Response(
        orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json"
    )


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, blocked_url.")
    message: str = Field(description="What went wrong, for a person.")
    details: dict[str, Any] = Field(default_factory=dict, description="Structured context; never secrets.")
    request_id: str | None = Field(default=None, description="Echo of X-Request-ID; quote it in bug reports.")


class ErrorEnvelope(BaseModel):
    """The body of every non-2xx JSON answer."""

    error: ErrorBody


def envelope(
    code: str, message: str, details: dict[str, Any] | None, request_id: str | None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}, "request_id": request_id}}


def envelope_response(
    exc: BlueprintError, request_id: str | None, headers: dict[str, str] | None = None
) -> Response:
    extra = dict(headers or {})
    if exc.status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer realm="blueprint"')
    # Overloaded and RateLimited from the admission layer carry it as an attribute; the refresh limit in details
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is None and exc.status == 429:
        retry_after = exc.details.get("retry_after_s")
    if isinstance(retry_after, int):
        extra.setdefault("Retry-After", str(retry_after))
    return json_response(envelope(exc.code, exc.message, exc.details, request_id), exc.status, extra)


class BlueprintHTTPException(StarletteHTTPException):
    """A :class:`BlueprintError` raised where FastAPI lets only an ``HTTPException`` through unchanged —
    while it reads the request body, anything else becomes a 400. Answered with ``error``'s envelope."""

    def __init__(self, error: BlueprintError, headers: dict[str, str] | None = None) -> None:
        super().__init__(error.status, detail=error.message, headers=headers)
        self.error = error


def internal_error(exc: BaseException) -> BlueprintError:
    """What the caller learns about a bug: its class name, nothing more (the trace goes to the log)."""
    return BlueprintError(f"internal error ({type(exc).__name__}); the request id identifies it in the logs")


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts)


# what pydantic says when the body is not a JSON object: a form (curl -d without a Content-Type) or a
# JSON array, string or number
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def readable_validation_errors(errors: list[Any], content_type: str = "application/json") -> list[dict[str, Any]]:
    """One ``{field, message, type}`` per problem; ``content_type`` is the request's, to tell a sender of
    a form (curl's default for ``-d``) to send JSON."""
    out: list[dict[str, Any]] = []
    for err in errors:
        kind = err.get("type", "")
        loc = tuple(err.get("loc", ()))
        if kind == "json_invalid":
            cause = (err.get("ctx") or {}).get("error", "invalid JSON")
            position = f" at character {loc[1]}" if len(loc) > 1 else ""
            out.append(
                {"field": "body", "message": f"the body is not valid JSON: {cause}{position}", "type": kind}
            )
            continue
        message = str(err.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        if kind == "missing" and loc == ("body",):
            message = "a JSON body is required"
        elif kind in _NOT_AN_OBJECT and loc == ("body",):
            media = content_type.split(";", 1)[0].strip().lower() or "none"
            message = ("the body must be a JSON object: send JSON with Content-Type: application/json"
                       + ("" if media == "application/json" else f" (this one came as {media})"))
        out.append({"field": _loc(loc), "message": message, "type": kind})
    return out


async def _on_blueprint_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BlueprintError)
    return envelope_response(exc, _request_id(request))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = readable_validation_errors(list(exc.errors()), request.headers.get("content-type", ""))
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid request"
    body = envelope(
        "validation_error", f"Invalid request — {summary}", {"errors": errors}, _request_id(request)
    )
    return json_response(body, 422)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, BlueprintHTTPException):
        return envelope_response(exc.error, _request_id(request), dict(exc.headers or {}))
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "HTTP error"
    code = _HTTP_CODES.get(status, phrase.lower().replace(" ", "_").replace("-", "_"))
    if status == 404:
        message = f"No such resource: {request.method} {request.url.path}"
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = exc.detail if isinstance(exc.detail, str) else phrase
    headers = dict(exc.headers or {})
    return json_response(envelope(code, message, {}, _request_id(request)), status, headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BlueprintError, _on_blueprint_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
