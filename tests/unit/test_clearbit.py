"""Clearbit client against cassettes recorded from the loopback stand-in (see tests/support)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from graph.knowledge.fieldpath import is_filled
from graph.settings import Settings
from tests.support.provider_standin import (
    CLEARBIT_BAD_KEY,
    CLEARBIT_KEY,
    CLEARBIT_STANDIN_URL,
    FakeClock,
    Recording,
    cassette_name,
    provider_cassette,
    serve_providers,
)
from tools.clearbit import ClearbitClient, ClearbitCompany
from tools.errors import (
    InvalidRequest,
    ProviderAuthError,
    ProviderError,
    ProviderRequestError,
    UpstreamTimeout,
)
from tools.http import InMemoryResponseCache, ProviderLimiter, RetryPolicy, make_client
from tools.provider_tools import TOOLS
from tools.providers import ProviderClients, build_provider_clients


@pytest.fixture
def rec(request: pytest.FixtureRequest) -> Iterator[Recording]:
    with provider_cassette(cassette_name("clearbit", request.node.name)) as recording:
        yield recording


def clearbit(rec: Recording, clock: FakeClock, key: str = CLEARBIT_KEY, **kwargs: object) -> ClearbitClient:
    return ClearbitClient(
        SecretStr(key),
        CLEARBIT_STANDIN_URL,
        http=rec.client("clearbit"),
        owns_http=True,
        retry=RetryPolicy(sleep=clock.sleep, clock=clock),
        limiter=ProviderLimiter("clearbit", sleep=clock.sleep, clock=clock),
        sleep=clock.sleep,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


def test_base_url_override_replaces_scheme_and_host_only() -> None:
    plain = ClearbitClient(SecretStr(CLEARBIT_KEY))
    assert plain.url("https://company.clearbit.com", "/v2/companies/find") == (
        "https://company.clearbit.com/v2/companies/find"
    )
    proxied = ClearbitClient(SecretStr(CLEARBIT_KEY), "http://127.0.0.1:9999/")
    assert proxied.url("https://company.clearbit.com", "/v2/companies/find") == (
        "http://127.0.0.1:9999/v2/companies/find"
    )
    assert (
        proxied.url("https://person.clearbit.com", "/v2/people/find")
        == "http://127.0.0.1:9999/v2/people/find"
    )


async def test_find_company_with_basic_auth(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        company = await client.find_company("https://harborlane.example/")
    assert isinstance(company, ClearbitCompany)
    assert company.name == "Harbor Lane Logistics" and company.metrics["employees"] == 340
    assert "samsara" in company.tech and company.category["industry"] == "Road & Rail"
    assert getattr(company, "techCategories", None)  # extra fields are kept
    assert is_filled(company.raw, "metrics.employees") and is_filled(company.raw, "category.naicsCode")
    assert client.usage.as_dict() == {"calls": 1, "credits": 1, "errors": 0, "cache_hits": 0}
    sent = rec.sent[0]
    assert str(sent.url) == "http://clearbit.standin.test/v2/companies/find?domain=harborlane.example"
    scheme, _, token = sent.headers["authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(token).decode() == f"{CLEARBIT_KEY}:"


async def test_bearer_auth(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock, auth_scheme="bearer") as client:
        assert await client.find_company("brightpath.example") is not None
    assert rec.sent[0].headers["authorization"] == f"Bearer {CLEARBIT_KEY}"


async def test_202_queued_is_polled_until_found(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        company = await client.find_company("queued.example")
    assert company is not None and company.domain == "queued.example"
    assert clock.sleeps == [1.0, 2.0]  # backoff between polls
    assert client.usage.calls == 3 and client.usage.credits == 1


async def test_202_past_the_bounded_wait_times_out(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock, queued_wait_s=0.5) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            await client.find_company("queued.example")
    assert caught.value.details == {"provider": "clearbit", "reason": "queued"}
    assert clock.sleeps == [0.5] and client.usage.calls == 2 and client.usage.errors == 1


async def test_404_is_not_found_without_error(rec: Recording, clock: FakeClock) -> None:
    cache = InMemoryResponseCache(clock=clock)
    async with clearbit(rec, clock, cache=cache) as client:
        assert await client.find_company("unknown.example") is None
        assert await client.find_company("unknown.example") is None  # negative result cached
    assert client.usage.as_dict() == {"calls": 1, "credits": 0, "errors": 0, "cache_hits": 1}


async def test_422_is_request_error(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        with pytest.raises(ProviderRequestError) as caught:
            await client.find_company("localhost")
    assert caught.value.http_status == 422 and caught.value.details["reason"] == "domain_invalid"


async def test_401_is_auth_error(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock, key=CLEARBIT_BAD_KEY) as client:
        with pytest.raises(ProviderAuthError) as caught:
            await client.find_company("harborlane.example")
    assert caught.value.details["reason"] == "invalid_api_key" and client.usage.calls == 1


async def test_429_is_retried(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        assert await client.find_company("busy.example") is not None
    assert clock.sleeps == [1.0] and client.usage.calls == 2


async def test_500_always_is_provider_error(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        with pytest.raises(ProviderError) as caught:
            await client.find_company("broken.example")
    assert caught.value.http_status == 500 and client.usage.calls == 4


async def test_garbage_body_is_provider_error(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        with pytest.raises(ProviderError) as caught:
            await client.find_company("garbage.example")
    assert caught.value.details["reason"] == "bad_body"


async def test_find_person_and_combined(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        person = await client.find_person("Dana.Okafor@harborlane.example")
        unknown = await client.find_person("someone@unknown.example")
        both = await client.find_combined("dana.okafor@brightpath.example")
    assert person is not None and person.employment["title"] == "VP of Operations"
    assert is_filled(person.raw, "employment.seniority")
    assert unknown is None
    assert both[0] is not None and both[1] is not None and both[1].domain == "brightpath.example"
    assert [r.url.path for r in rec.sent] == ["/v2/people/find", "/v2/people/find", "/v2/combined/find"]
    with pytest.raises(InvalidRequest):
        await client.find_person("not-an-email")


async def test_timeout_is_upstream_timeout(clock: FakeClock) -> None:
    with serve_providers() as standin:
        client = ClearbitClient(
            SecretStr(CLEARBIT_KEY),
            standin.url,
            http=make_client("clearbit", timeout=0.3),
            owns_http=True,
            retry=RetryPolicy(max_attempts=2, sleep=clock.sleep, clock=clock),
        )
        async with client:
            with pytest.raises(UpstreamTimeout):
                await client.find_company("slow.example")
    assert client.usage.calls == 2


async def test_tools_wrap_the_client(rec: Recording, clock: FakeClock) -> None:
    async with clearbit(rec, clock) as client:
        tools = {tool.name: tool for tool in TOOLS(ProviderClients(clearbit=client))}
        assert set(tools) == {"clearbit_find_company", "clearbit_find_person"}
        company = await tools["clearbit_find_company"].ainvoke({"domain": "norrsken.example"})
        missing = await tools["clearbit_find_company"].ainvoke({"domain": "unknown.example"})
    assert company["found"] is True and company["record"]["name"] == "Norrsken Robotics AB"
    assert missing == {"found": False}


async def test_build_provider_clients_honours_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARBIT_API_KEY", CLEARBIT_KEY)
    monkeypatch.setenv("CLEARBIT_BASE_URL", CLEARBIT_STANDIN_URL)
    monkeypatch.delenv("APOLLO_API_KEY", raising=False)
    async with build_provider_clients(Settings(), ["apollo", "clearbit"]) as clients:
        assert clients.configured == ["clearbit"] and clients.clearbit is not None
        assert clients.clearbit.url("https://person.clearbit.com", "/v2/people/find") == (
            f"{CLEARBIT_STANDIN_URL}/v2/people/find"
        )
        assert CLEARBIT_KEY not in repr(clients)
