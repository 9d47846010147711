"""Schemathesis hooks for ``.ci/fuzz.sh``: a check that every non-2xx answer is the error envelope.

Loaded by schemathesis (``SCHEMATHESIS_HOOKS``) inside its own virtualenv, not by the project: it
imports nothing from the project, only schemathesis.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

ENVELOPE_KEYS = {"code", "message", "details", "request_id"}


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """Every non-2xx answer is ``{"error": {"code", "message", "details", "request_id"}}``, no trace."""
    if response.status_code < 400:
        if "text/event-stream" in (response.headers.get("content-type") or [""])[0]:
            _complete_stream(response)
        return
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.content[:200]!r}") from exc
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"} or not set(error) >= ENVELOPE_KEYS:
        raise AssertionError(f"{response.status_code} answer is not the error envelope: {body!r}"[:400])
    if not isinstance(error["code"], str) or not error["code"] or not isinstance(error["message"], str):
        raise AssertionError(f"envelope without a code or message: {error!r}"[:400])
    if "Traceback" in response.text:
        raise AssertionError("an error answer carries a stack trace")
    if response.headers.get("x-request-id", [""])[0] != error["request_id"]:
        raise AssertionError("the envelope's request_id is not the X-Request-ID header")


def _complete_stream(response: Any) -> None:
    """An SSE answer ends with ``done`` (a stream that never ends is a hung run), errors in the envelope."""
    if getattr(response, "stream_cut_short", False):
        raise AssertionError("the event stream did not end within the request timeout (a hung run?)")
    events: list[tuple[str, str]] = []
    for block in response.content.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], fields.get("data", "")))
    if not events or events[-1][0] != "done":
        raise AssertionError(f"the event stream does not end with `done`: {[name for name, _ in events]}")
    for name, data in events:
        if name == "error":
            error = json.loads(data)
            if not set(error) >= ENVELOPE_KEYS or not error["code"]:
                raise AssertionError(f"an `error` event without code/message/details/request_id: {data[:300]}")
