"""What a newcomer meets first over HTTP: a form body, a ``?stream=`` typo, a start-up with a broken pack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.knowledge import KnowledgeError, load_knowledge
from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.site_server import SiteServer, serve_site


@pytest.fixture
async def client(site: SiteServer) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app()) as c:
        yield c


async def test_a_form_body_is_told_to_send_json(client: httpx.AsyncClient, site: SiteServer) -> None:
    # what `curl -d website=... URL` sends
    response = await client.post(ENRICH, content=f"website={site.url}".encode(),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "send JSON with Content-Type: application/json" in error["message"]
    assert "application/x-www-form-urlencoded" in error["message"]
    assert "valid dictionary" not in error["message"]


async def test_a_json_array_body_is_told_to_send_an_object(client: httpx.AsyncClient) -> None:
    response = await client.post(ENRICH, json=["acme.example"])
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "the body must be a JSON object" in message and "came as" not in message


@pytest.mark.parametrize("value", ["maybe", "", "truthy"])
async def test_a_stream_flag_that_is_not_a_boolean_is_422(client: httpx.AsyncClient, site: SiteServer,
                                                          value: str) -> None:
    response = await client.post(ENRICH, params={"stream": value}, json={"website": site.url})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert f"stream={value!r} is not a boolean" in error["message"]
    assert error["details"]["errors"][0]["field"] == "query.stream"


@pytest.mark.parametrize("value", ["false", "0", "off"])
async def test_a_false_stream_flag_answers_json(client: httpx.AsyncClient, site: SiteServer, value: str) -> None:
    response = await client.post(ENRICH, params={"stream": value}, json={"website": site.url})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


async def test_an_invalid_knowledge_folder_fails_start_up_with_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUEPRINT_KNOWLEDGE_DIR", str(tmp_path / "nope"))
    get_settings.cache_clear()
    load_knowledge.cache_clear()
    try:
        app = create_app()
        incoming = [{"type": "lifespan.startup"}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        with pytest.raises(KnowledgeError):
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    finally:
        load_knowledge.cache_clear()
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    message = sent[0]["message"]
    assert message.startswith("cannot start: knowledge packs: 1 problem")
    assert "knowledge folder not found" in message and "Traceback" not in message


async def test_a_thin_page_refusal_has_the_words_needed_and_the_refresh_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    thin = "<html><title>Hi</title><body><p>Hello there, friends.</p></body></html>"
    with serve_site({"/": thin}) as server:
        async with app_client(create_app()) as client:
            answers = [await client.post(ENRICH, json={"website": server.url}) for _ in range(2)]
            fresh = await client.post(ENRICH, json={"website": server.url, "options": {"cache": "refresh"}})
    for answer in [*answers, fresh]:
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "insufficient_information"
        assert error["details"]["min_words"] == 40 and "at least 40 needed" in error["message"]
    again = answers[1].json()["error"]
    assert again["details"]["page_cache"]["ttl_s"] == 86400
    assert 'options.cache "refresh"' in again["message"]
    assert "page_cache" not in fresh.json()["error"]["details"]  # a refresh read the site itself
