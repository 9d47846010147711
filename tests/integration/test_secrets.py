"""Secrets never leak: a whole run through the real server with every key set to a distinctive string.

Provider keys (the stand-in's, good and revoked), an OpenAI key and the service's own API keys are
searched — raw, as Basic credentials and as Bearer tokens — in every log record (DEBUG and up, third-
party loggers included), every error envelope, blueprint and SSE stream, every byte of the cache
folder, every cache key, and every file under tests/cassettes. The access log lines carry the id of
the request they belong to.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import diskcache
import httpx
import pytest

from graph.settings import get_settings
from server.app import create_app
from server.logging import JsonFormatter
from tests.support.openai_standin import Fault, OpenAIStandIn
from tests.support.provider_standin import (
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    CLEARBIT_BAD_KEY,
    CLEARBIT_KEY,
    TEST_SECRETS,
    serve_providers,
)
from tests.support.site_server import SiteServer, serve_site
from tests.support.uvicorn_server import UvicornThread
from tools import ssrf

pytestmark = pytest.mark.slow

ENRICH = "/v1/campaigns/enrichment"
SELLER = "harborlane.example"
PAGE = (Path(__file__).parents[2] / "server" / "demo" / "roadledger.html").read_text(encoding="utf-8")
CASSETTES = Path(__file__).parents[1] / "cassettes"
OPENAI_KEY = "sk-proj-leakcheck-Zr81Qw64Ty29Ux"
SERVICE_KEYS = ["bp-svc-leakcheck-Hn27Vc93Lp", "bp-svc-leakcheck-Kd54Xs18Mq"]
# keys other tests use; cassettes recorded with them must not hold them either
OTHER_TEST_KEYS = ["sk-test-never-in-a-cassette-9Xq2"]
ALL_KEYS = [*TEST_SECRETS, OPENAI_KEY, *SERVICE_KEYS, *OTHER_TEST_KEYS]


def forms(key: str) -> list[str]:
    """The key as written and as it travels: Basic credentials (``key:``) and a Bearer header value."""
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return [key, basic, basic.rstrip("="), f"Bearer {key}"]


def leaks(text: str | bytes, keys: list[str] = ALL_KEYS) -> list[str]:
    haystack = text.decode("latin-1") if isinstance(text, bytes) else text
    return [form for key in keys for form in forms(key) if form in haystack]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[SiteServer, str, str]]:
    """The seller's site, the provider stand-in and the OpenAI stand-in (technographic fails)."""

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "system_resolve", loopback)
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", SELLER)
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("BLUEPRINT_API_KEYS", ",".join(SERVICE_KEYS))
    monkeypatch.setenv("BLUEPRINT_MODEL", "standin-model")
    with (
        serve_site({"/": PAGE}) as site,
        serve_providers() as providers,
        OpenAIStandIn(faults=[Fault("error_500", node="technographic")]) as llm,
    ):
        monkeypatch.setenv("APOLLO_BASE_URL", providers.url + "/api/v1")
        monkeypatch.setenv("CLEARBIT_BASE_URL", providers.url)
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        yield site, providers.url, llm.base_url


def _serve_and_ask(
    site: SiteServer, apollo: str, clearbit: str, monkeypatch: pytest.MonkeyPatch, cache: str = "use"
) -> list[str]:
    """Start a server with these provider keys, make good and bad requests; every answer body."""
    monkeypatch.setenv("APOLLO_API_KEY", apollo)
    monkeypatch.setenv("CLEARBIT_API_KEY", clearbit)
    get_settings.cache_clear()
    website = site.url_for("/", host=SELLER)
    body = {"website": website, "sample_domains": ["brightpath.example", "broken.example", "unknown.example"],
            "options": {"cache": cache}}
    good = {"Authorization": f"Bearer {SERVICE_KEYS[1]}"}
    answers: list[httpx.Response] = []
    with UvicornThread(create_app()) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        answers.append(client.post(ENRICH, json=body, headers={**good, "X-Request-ID": "secrets-json"}))
        answers.append(client.post(ENRICH, json=body, headers={**good, "accept": "text/event-stream"}))
        answers.append(client.post(ENRICH, json=body, headers={"X-API-Key": SERVICE_KEYS[0] + "x"}))  # 401
        answers.append(client.post(ENRICH, json=body, headers={"Authorization": "Bearer nope"}))  # 401
        answers.append(client.post(ENRICH, json={"website": "http://169.254.169.254/"}, headers=good))  # 422
        answers.append(client.post(ENRICH, json={"website": website, "icp": "x"}, headers=good))  # 422
        answers.append(client.post(ENRICH, content=b"{not json", headers=good))  # 422
        answers.append(client.get(f"{ENRICH}/bp_{'0' * 24}", headers=good))  # 404
    statuses = [a.status_code for a in answers]
    assert statuses[:2] == [200, 200] and statuses[2:4] == [401, 401] and statuses[7] == 404, statuses
    assert all(s == 422 for s in statuses[4:7]), statuses
    for answer in answers[2:]:
        assert set(answer.json()) == {"error"}  # the envelope, for each error
    return [a.text for a in answers]


def test_no_key_leaks_anywhere(
    world: tuple[SiteServer, str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    site, _, _ = world
    caplog.set_level(logging.DEBUG)  # every logger, third-party HTTP clients included
    bodies = _serve_and_ask(site, APOLLO_KEY, CLEARBIT_KEY, monkeypatch)
    # provider auth errors; refresh: the run key (rightly) ignores keys, so the first run would be a hit
    monkeypatch.setenv("BLUEPRINT_REFRESH_INTERVAL_S", "0")  # its JSON and SSE requests both refresh
    bodies += _serve_and_ask(site, APOLLO_REVOKED_KEY, CLEARBIT_BAD_KEY, monkeypatch, cache="refresh")

    blueprint = json.loads(bodies[0])
    assert {"apollo", "clearbit"} <= {e["source"] for e in blueprint["company"]["evidence"]}  # keys were used
    assert any(w["code"] == "llm_fallback" for w in blueprint["warnings"])  # an LLM error was reported
    revoked = json.loads(bodies[8])
    assert any(w["code"] == "provider_error" and "API key" in w["message"] for w in revoked["warnings"])

    for text in bodies:
        assert leaks(text) == [], text[:300]
    formatter = JsonFormatter()
    for record in caplog.records:
        assert leaks(formatter.format(record)) == [], record.name
        assert leaks(repr(record.args)) == [], record.name

    folder = tmp_path / "cache"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, "the runs wrote nothing to the cache"
    for path in files:
        assert leaks(path.read_bytes()) == [], path
    # JSONDisk stores keys and values zlib-compressed: scan them decoded too, not only the raw bytes
    with diskcache.Cache(str(folder), disk=diskcache.JSONDisk) as cache:
        keys = [str(k) for k in cache.iterkeys()]
        values = [json.dumps(cache.get(k)) for k in cache.iterkeys()]
    assert any(k.startswith("run:") for k in keys), keys
    assert leaks("\n".join(keys)) == [] and leaks("\n".join(values)) == []


def test_no_key_in_any_cassette() -> None:
    files = [p for p in CASSETTES.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert leaks(path.read_bytes()) == [], path


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_access_log_lines_carry_the_request_id(
    world: tuple[SiteServer, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, _, _ = world
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    get_settings.cache_clear()
    good = {"Authorization": f"Bearer {SERVICE_KEYS[0]}"}
    # formatted when emitted, in the request's own context, exactly as the service's stderr handler does
    handler = _Lines()
    logging.getLogger("server").addHandler(handler)
    try:
        with UvicornThread(create_app()) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            ok = client.post(ENRICH, json={"website": site.url_for("/", host=SELLER)},
                             headers={**good, "X-Request-ID": "trace-ok-1"})
            denied = client.post(ENRICH, json={"website": "x.example"}, headers={"X-Request-ID": "trace-401-1"})
            generated = client.get("/healthz")
    finally:
        logging.getLogger("server").removeHandler(handler)
    assert ok.status_code == 200 and denied.status_code == 401
    assert denied.json()["error"]["request_id"] == "trace-401-1"
    lines = [json.loads(line) for line in handler.lines]
    by_id: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        by_id.setdefault(str(line["request_id"]), []).append(line)
    for request_id, status in (("trace-ok-1", 200), ("trace-401-1", 401)):
        access = [line for line in by_id.get(request_id, []) if line["logger"] == "server.access"]
        assert access and access[0]["status"] == status, [(x["logger"], x["request_id"]) for x in lines]
    generated_id = generated.headers["x-request-id"]
    assert generated_id and any(line["request_id"] == generated_id for line in lines)
