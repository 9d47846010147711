"""What both provider clients share: tolerant records that keep the provider's JSON, and the mapping of
a provider's final answer (or its silence) into the error tree of ``tools.errors``.

Redaction happens at each client's boundary (``tools.redaction``): every decoded answer goes through
``Redactor.value`` before it is read, cached or returned, and every error the client raises goes
through ``Redactor.error``; the helpers here only bound the length of what they copy.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from tools.errors import (
    BlueprintError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRequestError,
    UpstreamTimeout,
)
from tools.http import parse_retry_after

__all__ = ["RawRecord", "error_for_response", "normalize_domain", "tolerant_model", "transport_error"]

MAX_DETAIL = 300  # a provider's message, cut to a length fit for an error message
MAX_REASON = 64  # a provider's error code or type


class RawRecord(BaseModel):
    """Base of provider records: tolerant of extra fields, and keeps the provider's JSON as ``raw``."""

    model_config = ConfigDict(extra="allow")
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def raw(self) -> dict[str, Any]:
        """The provider's JSON for this record: what knowledge-base field paths are evaluated on."""
        return self._raw

    def with_raw(self, raw: dict[str, Any]) -> Any:
        self._raw = raw
        return self


M = TypeVar("M", bound=BaseModel)


def tolerant_model(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data``, dropping fields whose type surprises us rather than failing the record.

    Providers change shapes; the raw dict is kept next to the model, so nothing is lost.
    """
    payload = dict(data)
    for _ in range(3):
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
            if not bad:
                raise
            for key in bad:
                payload.pop(str(key), None)
    return model.model_validate({})


def normalize_domain(value: str) -> str:
    """``https://www.Acme.example/about`` -> ``acme.example`` (what providers key companies by)."""
    host = value.strip().lower()
    host = host.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0]
    return host.removeprefix("www.").strip(".")


def error_for_response(
    provider: str, label: str, response: httpx.Response, *, reason: str, detail: str = ""
) -> ProviderError:
    """Map a final non-2xx answer to the error tree (retries are already spent by then)."""
    status = response.status_code
    reason = reason[:MAX_REASON]
    details: dict[str, Any] = {"reason": reason}
    if detail:
        details["provider_message"] = detail[:MAX_DETAIL]
    if status in (401, 403):
        what = "rejected the API key" if status == 401 else "refused access for this key or plan"
        return ProviderAuthError(f"{label} {what} ({reason}).", provider=provider, http_status=status,
                                 details=details)
    if status == 429:
        hinted = parse_retry_after(response.headers.get("retry-after"))
        if hinted is not None:
            details["retry_after_s"] = round(hinted, 1)
        return ProviderRateLimited(f"{label} rate limit reached; try again later.", provider=provider,
                                   http_status=status, details=details)
    if 400 <= status < 500:
        return ProviderRequestError(f"{label} refused the request ({reason}).", provider=provider,
                                    http_status=status, details=details)
    return ProviderError(f"{label} failed with HTTP {status}.", provider=provider, http_status=status,
                         details=details)


def transport_error(provider: str, label: str, exc: httpx.TransportError) -> BlueprintError:
    """A request that never got an answer: timeouts become 504s, the rest 502s."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"{label} did not answer in time.", details={"provider": provider,
                                                                            "reason": kind})
    return ProviderError(f"Could not reach {label}.", provider=provider, details={"reason": kind})
