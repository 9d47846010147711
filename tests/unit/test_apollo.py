"""Apollo client against cassettes recorded from the loopback stand-in (see tests/support)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from graph.knowledge.fieldpath import is_filled
from graph.settings import Settings
from tests.support.provider_standin import (
    APOLLO_FREE_KEY,
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_SCOPED_KEY,
    APOLLO_STANDIN_URL,
    FakeClock,
    Recording,
    cassette_name,
    provider_cassette,
    serve_providers,
)
from tools.apollo import ApolloClient, ApolloOrganization
from tools.errors import (
    InvalidRequest,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRequestError,
    UpstreamTimeout,
)
from tools.http import InMemoryResponseCache, ProviderLimiter, RetryPolicy, make_client
from tools.provider_tools import TOOLS
from tools.providers import ProviderClients, build_provider_clients


@pytest.fixture
def rec(request: pytest.FixtureRequest) -> Iterator[Recording]:
    with provider_cassette(cassette_name("apollo", request.node.name)) as recording:
        yield recording


def apollo(rec: Recording, clock: FakeClock, key: str = APOLLO_KEY, **kwargs: object) -> ApolloClient:
    return ApolloClient(
        SecretStr(key),
        APOLLO_STANDIN_URL,
        http=rec.client("apollo"),
        owns_http=True,
        retry=RetryPolicy(sleep=clock.sleep, clock=clock),
        limiter=ProviderLimiter("apollo", sleep=clock.sleep, clock=clock),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_enrich_organization(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        org = await client.enrich_organization("https://www.harborlane.example/about")
    assert isinstance(org, ApolloOrganization)
    assert org.name == "Harbor Lane Logistics" and org.estimated_num_employees == 340
    assert "Samsara" in org.technology_names and org.industry
    assert getattr(org, "departmental_head_count", None)  # extra fields are kept
    assert is_filled(org.raw, "organization.technology_names")
    assert is_filled(org.raw, "organization.current_technologies[].name")
    assert client.usage.as_dict() == {"calls": 1, "credits": 1, "errors": 0, "cache_hits": 0}
    sent = rec.sent[0]
    assert sent.method == "GET" and sent.url.path == "/api/v1/organizations/enrich"
    assert sent.url.params["domain"] == "harborlane.example"
    assert sent.headers["x-api-key"] == APOLLO_KEY


async def test_enrich_unknown_domain_is_none_without_credit(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        assert await client.enrich_organization("unknown.example") is None
    assert client.usage.credits == 0 and client.usage.errors == 0


async def test_bulk_enrich_chunks_by_ten(rec: Recording, clock: FakeClock) -> None:
    domains = [
        "harborlane.example",
        "brightpath.example",
        "copperkettle.example",
        "norrsken.example",
        "tinyleaf.example",
        "unknown.example",
    ] + [f"lead{i}.example" for i in range(6)]
    domains.append("https://www.Brightpath.example/")  # same company, different spelling
    async with apollo(rec, clock) as client:
        found = await client.bulk_enrich_organizations(domains)
    assert set(found) == set(domains)
    assert [req.url.path for req in rec.sent] == ["/api/v1/organizations/bulk_enrich"] * 2
    assert [len(json.loads(req.content)["domains"]) for req in rec.sent] == [10, 2]
    assert found["unknown.example"] is None and found["lead0.example"] is None
    bright = found["brightpath.example"]
    assert bright is not None and bright.name == "Brightpath Dental Group"
    assert found["https://www.Brightpath.example/"] == bright
    assert bright.raw["organization"]["primary_domain"] == "brightpath.example"
    tiny = found["tinyleaf.example"]
    assert tiny is not None and not is_filled(tiny.raw, "organization.technology_names")
    assert client.usage.credits == 5 and client.usage.calls == 2


async def test_cache_serves_repeat_lookups(rec: Recording, clock: FakeClock) -> None:
    cache = InMemoryResponseCache(clock=clock)
    async with apollo(rec, clock, cache=cache) as client:
        first = await client.bulk_enrich_organizations(["harborlane.example", "unknown.example"])
        again = await client.bulk_enrich_organizations(["harborlane.example", "unknown.example"])
        single = await client.enrich_organization("harborlane.example")
    assert first == again and single == first["harborlane.example"]
    assert single is not None and single.raw == first["harborlane.example"].raw  # type: ignore[union-attr]
    assert client.usage.calls == 1 and client.usage.credits == 1 and client.usage.cache_hits == 3


async def test_match_person(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        person = await client.match_person(email="dana.okafor@harborlane.example")
        nobody = await client.match_person(name="Nobody Known", domain="harborlane.example")
    assert person is not None and person.title == "VP of Operations" and person.seniority == "vp"
    assert person.organization is not None and person.organization.primary_domain == "harborlane.example"
    assert is_filled(person.raw, "person.title")
    assert nobody is None
    assert client.usage.credits == 1 and client.usage.calls == 2
    body = json.loads(rec.sent[0].content)
    assert body == {"email": "dana.okafor@harborlane.example", "reveal_personal_emails": False}


async def test_match_person_needs_identifying_input(clock: FakeClock) -> None:
    client = ApolloClient(SecretStr(APOLLO_KEY), APOLLO_STANDIN_URL)
    with pytest.raises(InvalidRequest):
        await client.match_person(name="Dana Okafor")
    with pytest.raises(InvalidRequest):
        await client.bulk_enrich_organizations(["ok.example", " "])
    assert client.usage.calls == 0
    await client.aclose()


async def test_401_text_plain_is_auth_error(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock, key=APOLLO_REVOKED_KEY) as client:
        with pytest.raises(ProviderAuthError) as caught:
            await client.enrich_organization("harborlane.example")
    assert caught.value.http_status == 401 and caught.value.details["reason"] == "invalid_api_key"
    assert caught.value.details["provider_message"] == "Invalid access credentials."
    assert client.usage.errors == 1 and client.usage.calls == 1  # 401 is never retried


async def test_403_api_inaccessible(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock, key=APOLLO_SCOPED_KEY) as client:
        with pytest.raises(ProviderAuthError) as caught:
            await client.enrich_organization("harborlane.example")
    assert caught.value.http_status == 403 and caught.value.details["reason"] == "api_inaccessible"


async def test_403_paid_plan_only(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock, key=APOLLO_FREE_KEY) as client:
        assert await client.enrich_organization("harborlane.example") is not None
        with pytest.raises(ProviderAuthError) as caught:
            await client.match_person(email="dana.okafor@harborlane.example")
    assert caught.value.details["reason"] == "paid_plan_only"


async def test_422_is_request_error(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        with pytest.raises(ProviderRequestError) as caught:
            await client.enrich_organization("localhost")
    assert caught.value.http_status == 422 and "domain" in caught.value.details["provider_message"]
    assert client.usage.calls == 1


async def test_429_with_retry_after_is_retried(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        org = await client.enrich_organization("busy.example")
    assert org is not None and clock.sleeps == [1.0] and client.usage.calls == 2


async def test_429_without_retry_after_backs_off(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        org = await client.bulk_enrich_organizations(["busy-nohint.example"])
    assert org["busy-nohint.example"] is not None
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 1.0


async def test_429_outliving_retries_is_rate_limited(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        with pytest.raises(ProviderRateLimited) as caught:
            await client.enrich_organization("throttled.example")
    assert caught.value.details["retry_after_s"] == 2 and client.usage.calls == 4
    assert client.usage.errors == 1


async def test_500_once_then_success(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        assert await client.enrich_organization("flaky.example") is not None
    assert client.usage.calls == 2


async def test_500_always_is_provider_error(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        with pytest.raises(ProviderError) as caught:
            await client.enrich_organization("broken.example")
    assert type(caught.value) is ProviderError and caught.value.http_status == 500


async def test_garbage_body_is_provider_error(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        with pytest.raises(ProviderError) as caught:
            await client.enrich_organization("garbage.example")
    assert caught.value.details["reason"] == "bad_body"


async def test_low_quota_headers_slow_the_limiter(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        await client.enrich_organization("lowquota.example")
        assert client.limiter.pause_s > 0
        await client.enrich_organization("harborlane.example")
    assert clock.sleeps == [client.limiter.max_pause_s] and client.limiter.pause_s == 0


async def test_timeout_is_upstream_timeout(clock: FakeClock) -> None:
    # Timeouts cannot be recorded, so this one runs against the live stand-in (about 0.6 s).
    with serve_providers() as standin:
        client = ApolloClient(
            SecretStr(APOLLO_KEY),
            standin.url + "/api/v1",
            http=make_client("apollo", timeout=0.3),
            owns_http=True,
            retry=RetryPolicy(max_attempts=2, sleep=clock.sleep, clock=clock),
        )
        async with client:
            with pytest.raises(UpstreamTimeout) as caught:
                await client.enrich_organization("slow.example")
    assert caught.value.details == {"provider": "apollo", "reason": "ReadTimeout"}
    assert client.usage.calls == 2 and client.usage.errors == 1


async def test_tools_wrap_the_client(rec: Recording, clock: FakeClock) -> None:
    async with apollo(rec, clock) as client:
        tools = {tool.name: tool for tool in TOOLS(ProviderClients(apollo=client))}
        assert set(tools) == {
            "apollo_enrich_organization",
            "apollo_bulk_enrich_organizations",
            "apollo_match_person",
        }
        found = await tools["apollo_enrich_organization"].ainvoke({"domain": "harborlane.example"})
        bulk = await tools["apollo_bulk_enrich_organizations"].ainvoke({"domains": ["unknown.example"]})
        failed = await tools["apollo_enrich_organization"].ainvoke({"domain": "broken.example"})
    assert found["found"] is True and found["record"]["name"] == "Harbor Lane Logistics"
    assert bulk == {"unknown.example": {"found": False}}
    assert isinstance(failed, str) and failed.startswith("upstream_error: Apollo failed with HTTP 500")


async def test_build_provider_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", APOLLO_KEY)
    monkeypatch.setenv("APOLLO_BASE_URL", APOLLO_STANDIN_URL)
    monkeypatch.delenv("CLEARBIT_API_KEY", raising=False)
    settings = Settings()
    assert build_provider_clients(settings, []).configured == []
    async with build_provider_clients(settings, ["apollo", "clearbit"]) as clients:
        assert clients.configured == ["apollo"] and clients.clearbit is None
        assert repr(clients.apollo) == f"ApolloClient(base_url={APOLLO_STANDIN_URL!r})"
        assert clients.usage() == {"apollo": {"calls": 0, "credits": 0, "errors": 0, "cache_hits": 0}}
        assert next(tool.name for tool in TOOLS(clients)) == "apollo_enrich_organization"


async def test_runs_in_one_loop_share_the_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLO_API_KEY", APOLLO_KEY)
    first, second = (build_provider_clients(Settings(), ["apollo"]) for _ in range(2))
    assert first.apollo is not None and second.apollo is not None
    assert first.apollo.limiter is second.apollo.limiter  # one budget per key, not per run
    await first.aclose()
    await second.aclose()
