"""Providers and an LLM endpoint that echo the key they were sent, everywhere, through the real server.

The provider stand-in runs with ``echo_key``: every string of every answer — record values, error
messages, Clearbit's ``error.type``, Apollo's ``error_code``, Apollo's text/plain 401 — carries the key
it was sent; the OpenAI stand-in answers one node with a 401 whose every field carries its key. Runs with
working, revoked and scoped keys (JSON and SSE) must then hold no key in the blueprint JSON, the SSE
stream, the cache folder, the log records or the prompts the LLM was sent — and must show the masked
values, so the redacted paths were really taken.
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
from server import logging as service_logging
from server.app import create_app
from server.logging import JsonFormatter
from tests.support.openai_standin import Fault, OpenAIStandIn
from tests.support.provider_standin import (
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_SCOPED_KEY,
    CLEARBIT_BAD_KEY,
    CLEARBIT_KEY,
    TEST_SECRETS,
    ProviderStandIn,
    serve_providers,
)
from tests.support.site_server import SiteServer, serve_site
from tests.support.uvicorn_server import UvicornThread
from tools import ssrf

pytestmark = pytest.mark.slow

ENRICH = "/v1/campaigns/enrichment"
SELLER = "harborlane.example"
PAGE = (Path(__file__).parents[2] / "server" / "demo" / "roadledger.html").read_text(encoding="utf-8")
OPENAI_KEY = "sk-proj-echoed-Fw52Lp83Nc17"
SERVICE_KEY = "bp-svc-echoed-Tq48Vm26Xa"
KEYS = [*TEST_SECRETS, OPENAI_KEY, SERVICE_KEY]


def leaks(text: str | bytes) -> list[str]:
    """Each key found in ``text`` — as written, in any case, or as Basic credentials."""
    haystack = (text.decode("latin-1") if isinstance(text, bytes) else text).lower()
    found = []
    for key in KEYS:
        basic = base64.b64encode(f"{key}:".encode()).decode()
        found += [form for form in (key.lower(), basic.lower(), basic.rstrip("=").lower()) if form in haystack]
    return found


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[SiteServer, ProviderStandIn, OpenAIStandIn]]:
    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "system_resolve", loopback)
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", SELLER)
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("BLUEPRINT_API_KEYS", SERVICE_KEY)
    monkeypatch.setenv("BLUEPRINT_MODEL", "standin-model")
    monkeypatch.setenv("BLUEPRINT_REFRESH_INTERVAL_S", "0")  # each key pair refreshes the same blueprint on purpose
    with (
        serve_site({"/": PAGE}) as site,
        serve_providers(ProviderStandIn(echo_key=True)) as providers,
        OpenAIStandIn(faults=[Fault("echo_key", node="technographic")]) as llm,
    ):
        monkeypatch.setenv("APOLLO_BASE_URL", providers.url + "/api/v1")
        monkeypatch.setenv("CLEARBIT_BASE_URL", providers.url)
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        yield site, providers, llm


def _runs(site: SiteServer, apollo: str, clearbit: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:
    """A JSON run and an SSE run (each fresh) with these provider keys: the blueprint and the stream."""
    monkeypatch.setenv("APOLLO_API_KEY", apollo)
    monkeypatch.setenv("CLEARBIT_API_KEY", clearbit)
    get_settings.cache_clear()
    body = {"website": site.url_for("/", host=SELLER),
            "sample_domains": ["brightpath.example", "broken.example", "unknown.example"],
            "options": {"cache": "refresh"}}
    auth = {"Authorization": f"Bearer {SERVICE_KEY}"}
    with UvicornThread(create_app()) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post(ENRICH, json=body, headers=auth)
        stream = client.post(ENRICH, json=body, headers={**auth, "accept": "text/event-stream"})
    assert answer.status_code == 200 and stream.status_code == 200, (answer.text[:300], stream.text[:300])
    return answer.json(), stream.text


def test_keys_echoed_by_providers_and_the_llm_leak_nowhere(
    world: tuple[SiteServer, ProviderStandIn, OpenAIStandIn],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:
    site, providers, llm = world
    caplog.set_level(logging.DEBUG)
    working, working_sse = _runs(site, APOLLO_KEY, CLEARBIT_KEY, monkeypatch)
    revoked, revoked_sse = _runs(site, APOLLO_REVOKED_KEY, CLEARBIT_BAD_KEY, monkeypatch)
    scoped, scoped_sse = _runs(site, APOLLO_SCOPED_KEY, CLEARBIT_KEY, monkeypatch)

    # the leaky paths were taken: echoed values arrive masked, in evidence, warnings and prompts
    sources = {e["source"] for e in working["company"]["evidence"]}
    assert {"apollo", "clearbit"} <= sources, sources
    assert "***" in json.dumps(working["company"]["evidence"])
    warnings = [w["message"] for bp in (working, revoked, scoped) for w in bp["warnings"]]
    assert any("Clearbit rejected the API key" in m and "***" in m for m in warnings), warnings
    assert any("Apollo refused access" in m and "***" in m for m in warnings), warnings  # error_code echoed
    assert any(w["code"] == "llm_fallback" and w["node"] == "technographic" for w in working["warnings"])
    prompts = json.dumps(llm.requests)
    assert llm.requests and "***" in prompts
    assert sum(1 for r in providers.requests if r["path"].startswith("/v2/")) >= 6

    said = [json.dumps(bp) for bp in (working, revoked, scoped)] + [working_sse, revoked_sse, scoped_sse]
    for text in said:
        assert leaks(text) == [], text[:300]
    assert leaks(prompts) == []
    formatter = JsonFormatter()
    for record in caplog.records:
        assert leaks(formatter.format(record)) == [], record.name
        assert leaks(repr(record.args)) == [], record.name
    # and the service's own log stream masks every configured secret of the apps, should one be logged
    assert service_logging._formatter is not None
    slip = logging.LogRecord("graph", logging.ERROR, __file__, 1, "slipped: %s %s", (OPENAI_KEY, SERVICE_KEY), None)
    assert leaks(service_logging._formatter.format(slip)) == []

    folder = tmp_path / "cache"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, "the runs wrote nothing to the cache"
    for path in files:
        assert leaks(path.read_bytes()) == [], path
    with diskcache.Cache(str(folder), disk=diskcache.JSONDisk) as cache:
        entries = [f"{k} {json.dumps(cache.get(k))}" for k in cache.iterkeys()]
    assert any(e.startswith("run:") for e in entries)
    assert leaks("\n".join(entries)) == []
