"""Unit tests of the server's small parts: error shaping, auth, routing by Accept, SSE mapping, logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from graph.run import BlueprintRunner
from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import Settings
from server.deps import require_api_key
from server.errors import envelope, readable_validation_errors
from server.events import to_sse, wire_data
from server.examples import BLUEPRINT_EXAMPLE, REQUEST_EXAMPLES
from server.logging import JsonFormatter, request_id_var
from server.middleware import _incoming_id
from server.routes import wants_stream
from tools.errors import InsufficientInformation, Unauthorized


def test_examples_validate_against_the_contract_models() -> None:
    Blueprint.model_validate(BLUEPRINT_EXAMPLE)
    for example in REQUEST_EXAMPLES.values():
        EnrichmentRequest.model_validate(example["value"])


def test_validation_errors_read_well() -> None:
    errors = readable_validation_errors(
        [
            {
                "type": "json_invalid",
                "loc": ("body", 14),
                "msg": "JSON decode error",
                "ctx": {"error": "Expecting ','"},
            },
            {"type": "missing", "loc": ("body",), "msg": "Field required"},
            {"type": "value_error", "loc": ("body", "website"), "msg": "Value error, website must use http"},
        ]
    )
    assert errors[0] == {
        "field": "body",
        "message": "the body is not valid JSON: Expecting ',' at character 14",
        "type": "json_invalid",
    }
    assert errors[1]["message"] == "a JSON body is required"
    assert errors[2] == {"field": "body.website", "message": "website must use http", "type": "value_error"}


def test_envelope_shape() -> None:
    assert envelope("not_found", "gone", None, "r1") == {
        "error": {"code": "not_found", "message": "gone", "details": {}, "request_id": "r1"}
    }


def _settings(keys: str = "") -> Settings:
    return Settings.model_validate({"BLUEPRINT_API_KEYS": keys})


def _http_request(settings: Settings) -> Any:
    """What ``require_api_key`` uses of a request: its state, and the app's runner (for the tenant)."""
    runner = BlueprintRunner(settings=settings, cache=None)
    return SimpleNamespace(state=SimpleNamespace(), app=SimpleNamespace(state=SimpleNamespace(runner=runner)))


async def test_auth_is_off_without_keys_and_constant_time_with_them() -> None:
    open_request = _http_request(_settings())
    await require_api_key(open_request, _settings(), None, None)
    assert open_request.state.tenant is None  # one tenant
    settings = _settings("alpha-key,beta-key")
    assert settings.api_keys == [SecretStr("alpha-key"), SecretStr("beta-key")]
    request = _http_request(settings)
    await require_api_key(request, settings, None, "beta-key")
    assert request.state.tenant.startswith("t_") and "beta" not in request.state.tenant
    with pytest.raises(Unauthorized, match="required"):
        await require_api_key(_http_request(settings), settings, None, None)
    with pytest.raises(Unauthorized, match="not valid"):
        await require_api_key(_http_request(settings), settings, None, "alpha-ke")


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        (b"", b"application/json", False),
        (b"", b"text/event-stream", True),
        (b"", b"Text/Event-Stream; q=1, application/json", True),
        (b"stream=true", b"*/*", True),
        (b"x=1&stream=1", None, True),
        (b"stream=false", b"text/event-stream", False),
        (b"", None, False),
    ],
)
def test_wants_stream(query: bytes, accept: bytes | None, expected: bool) -> None:
    headers = [(b"accept", accept)] if accept is not None else []
    assert wants_stream({"type": "http", "query_string": query, "headers": headers}) is expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("abc-123", True),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", True),
        ("has space", False),
        ("x" * 129, False),
        ("line\nbreak", False),
        ("", False),
    ],
)
def test_incoming_request_ids(given: str, kept: bool) -> None:
    scope = {"headers": [(b"x-request-id", given.encode())]}
    assert (_incoming_id(scope) == given) is kept


async def _events() -> AsyncIterator[dict[str, Any]]:
    yield {"event": "run_started", "data": {"blueprint_id": "bp_1", "cache": "miss", "engine": "catalog"}}
    yield {"event": "node_started", "data": {"node": "fetch_site"}}
    error = InsufficientInformation("too little", details={"supply": ["icp"]})
    yield {"event": "error", "data": error.to_dict(), "exception": error}
    yield {"event": "done", "data": {}}


async def test_sse_mapping_numbers_events_and_keeps_exceptions_off_the_wire() -> None:
    sent = [e async for e in to_sse(_events(), "req-9")]
    assert [e.event for e in sent] == ["run_started", "node_started", "error", "done"]
    assert [e.id for e in sent] == ["1", "2", "3", "4"]
    error = json.loads(sent[2].raw_data or "")
    assert error == {
        "code": "insufficient_information",
        "message": "too little",
        "details": {"supply": ["icp"]},
        "request_id": "req-9",
    }
    assert json.loads(sent[3].raw_data or "") == {}
    assert wire_data({"event": "node_started", "data": {"node": "x"}}, "r") == {"node": "x"}


def test_json_log_lines_carry_the_request_id_and_extras() -> None:
    formatter = JsonFormatter()
    token = request_id_var.set("req-log")
    try:
        record = logging.LogRecord("server.access", logging.INFO, __file__, 1, "request", None, None)
        record.status = 200
        line = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-log" and line["status"] == 200 and line["msg"] == "request"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failing = logging.LogRecord("server", logging.ERROR, __file__, 1, "bad", None, sys.exc_info())
    assert "ValueError: boom" in json.loads(formatter.format(failing))["trace"]


async def test_startup_warms_the_engine_and_freezes_the_long_lived_heap(tmp_path: Any) -> None:
    """After start-up the engine is ready (no first-request compile) and the objects loaded so far are
    out of the garbage collector's full sweeps; shutdown gives them back."""
    import gc

    from graph.knowledge import load_knowledge
    from server.app import create_app

    app = create_app(Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_ENGINE="catalog"))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
        kb = load_knowledge()
        assert all(("select.section_index", s) in kb._derived for s in ("firmographic", "technographic"))
    assert gc.get_freeze_count() == 0


def test_request_ids_are_unique_32_hex_tokens() -> None:
    from server.middleware import new_request_id

    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
