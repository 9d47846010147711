"""The one error hierarchy of Enrichment Blueprint.

Every failure the product reports to a user is a :class:`BlueprintError`.  Each class carries the
stable ``code`` and HTTP ``status`` of the JSON error envelope (``{"error": {"code", "message",
"details", "request_id"}}``), so the HTTP layer, the CLI and the Python API all map failures the same way::

    BlueprintError                      500 internal_error
    ├── InvalidRequest                  422 validation_error   (bad input, bad option, engine not configured)
    │   └── BlockedURL                  422 blocked_url        (SSRF guard: private address, odd scheme)
    ├── InsufficientInformation         422 insufficient_information (site unreadable/thin and no ICP)
    ├── Unauthorized                    401 unauthorized       (our own API keys)
    ├── NotFound                        404 not_found
    ├── RateLimited                     429 rate_limited       (our own rate limit)
    ├── PayloadTooLarge                 413 payload_too_large  (request body over BLUEPRINT_MAX_BODY_BYTES)
    ├── Overloaded                      503 overloaded         (every run slot and queue place taken)
    ├── UpstreamError                   502 upstream_error     (a dependency answered badly)
    │   ├── SiteFetchError                                     (the seller's site)
    │   ├── LLMError                                           (the OpenAI-compatible endpoint)
    │   └── ProviderError                                      (Apollo, Clearbit)
    │       ├── ProviderAuthError                              (401/403: bad key, plan without API access)
    │       ├── ProviderRateLimited                            (429 after the retry budget)
    │       └── ProviderRequestError                           (422 and other 4xx: the request was refused)
    └── UpstreamTimeout                 504 timeout

Messages are written for the user and never contain a secret; ``details`` is a JSON-safe dict.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BlockedURL",
    "BlueprintError",
    "InsufficientInformation",
    "InvalidRequest",
    "LLMError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ProviderAuthError",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRequestError",
    "RateLimited",
    "SiteFetchError",
    "Unauthorized",
    "UpstreamError",
    "UpstreamTimeout",
    "validation_problems",
]


class BlueprintError(RuntimeError):
    """Base of every reported failure. Subclasses fix ``code`` and ``status``.

    A ``RuntimeError`` so that hosts which show only the messages of well-known exception types show
    ours: LangGraph's API server (``langgraph dev``, Studio) replaces any other exception's message
    with "An internal error occurred". ``str()`` is ``"<code>: <message>"``, so that view names the
    stable code as the JSON envelope does; ``message`` stays the bare sentence."""

    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The body of the error envelope, without the request id (the HTTP layer adds it)."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidRequest(BlueprintError):
    code = "validation_error"
    status = 422


class BlockedURL(InvalidRequest):
    code = "blocked_url"


class InsufficientInformation(BlueprintError):
    code = "insufficient_information"
    status = 422


class Unauthorized(BlueprintError):
    code = "unauthorized"
    status = 401


class NotFound(BlueprintError):
    code = "not_found"
    status = 404


class RateLimited(BlueprintError):
    """Our own per-key rate limit (``BLUEPRINT_RATE_LIMIT``); ``retry_after_s`` is the ``Retry-After``."""

    code = "rate_limited"
    status = 429

    def __init__(
        self, message: str, *, retry_after_s: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(BlueprintError):
    """A request body larger than the server accepts (``BLUEPRINT_MAX_BODY_BYTES``)."""

    code = "payload_too_large"
    status = 413


class Overloaded(BlueprintError):
    """Every run slot and every place in the wait queue is taken (``BLUEPRINT_MAX_RUNS``): retry later.

    ``retry_after_s`` is the server's estimate of when a slot frees up (the ``Retry-After`` header)."""

    code = "overloaded"
    status = 503

    def __init__(self, message: str, *, retry_after_s: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s, **(details or {})})
        self.retry_after_s = retry_after_s


class UpstreamError(BlueprintError):
    code = "upstream_error"
    status = 502


class SiteFetchError(UpstreamError):
    """The seller's website could not be read (DNS, connection, HTTP status, content type)."""


class LLMError(UpstreamError):
    """The OpenAI-compatible endpoint failed or returned unusable output."""


class ProviderError(UpstreamError):
    """A data provider (Apollo, Clearbit) failed. ``provider`` names it; ``http_status`` is its answer."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = {"provider": provider, **({"http_status": http_status} if http_status else {})}
        super().__init__(message, details={**merged, **(details or {})})
        self.provider = provider
        self.http_status = http_status


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong, or the plan has no access to this endpoint."""


class ProviderRateLimited(ProviderError):
    """429 that outlived the retry budget."""


class ProviderRequestError(ProviderError):
    """422 and other 4xx: the provider refused the request as made."""


class UpstreamTimeout(BlueprintError):
    code = "timeout"
    status = 504


def validation_problems(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic's error list (``ValidationError.errors()``) as ``{"field", "message"}`` pairs a person
    can read: the field path dotted, and without pydantic's ``"Value error, "`` prefix on our own
    validators' messages."""
    return [{"field": ".".join(str(part) for part in err.get("loc", ())) or "request",
             "message": str(err.get("msg", "invalid value")).removeprefix("Value error, ")}
            for err in errors]
