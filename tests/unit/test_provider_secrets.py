"""Provider keys never leak: not into cassettes, log lines, errors (message, details, chain) or reprs."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr

from tests.support.provider_standin import (
    APOLLO_FREE_KEY,
    APOLLO_KEY,
    APOLLO_REVOKED_KEY,
    APOLLO_SCOPED_KEY,
    APOLLO_STANDIN_URL,
    CASSETTES,
    CLEARBIT_BAD_KEY,
    CLEARBIT_KEY,
    CLEARBIT_STANDIN_URL,
    TEST_SECRETS,
    FakeClock,
    provider_cassette,
)
from tools.apollo import ApolloClient
from tools.clearbit import ClearbitClient
from tools.errors import BlueprintError
from tools.http import ProviderLimiter, RetryPolicy, make_client


def secret_forms() -> list[str]:
    """Each key as written, and as it looks inside a Basic or Bearer Authorization header."""
    forms = []
    for key in TEST_SECRETS:
        forms += [key, base64.b64encode(f"{key}:".encode()).decode(), base64.b64encode(key.encode()).decode()]
    return forms


def leaks(text: str) -> list[str]:
    return [form for form in secret_forms() if form in text]


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.glob("*.yaml"))


def test_cassettes_exist() -> None:
    names = {path.name.split("_test_")[0] for path in cassette_files()}
    assert {"apollo", "clearbit", "secrets"} <= names and len(cassette_files()) >= 30
    basic = base64.b64encode(f"{CLEARBIT_KEY}:".encode()).decode()
    assert leaks(f"authorization: Basic {basic}") == [basic]  # the detector itself works


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.stem)
def test_no_key_in_cassette(path: Path) -> None:
    text = path.read_text()
    assert leaks(text) == []
    for interaction in yaml.safe_load(text)["interactions"]:
        headers = {name.lower() for name in interaction["request"]["headers"]}
        assert not headers & {"x-api-key", "authorization", "cookie"}, path.name


# Every failure path, with every key, recorded like the other cassettes; the errors and the log
# lines they produce are then searched for the keys.
Scenario = Callable[[ApolloClient, ClearbitClient], Awaitable[object]]
SCENARIOS: dict[str, tuple[str, str, Scenario]] = {
    "apollo_ok": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: a.enrich_organization("harborlane.example")),
    "apollo_401": (
        APOLLO_REVOKED_KEY,
        CLEARBIT_KEY,
        lambda a, c: a.enrich_organization("harborlane.example"),
    ),
    "apollo_403": (APOLLO_SCOPED_KEY, CLEARBIT_KEY, lambda a, c: a.bulk_enrich_organizations(["a.example"])),
    "apollo_403_plan": (APOLLO_FREE_KEY, CLEARBIT_KEY, lambda a, c: a.match_person(email="x@a.example")),
    "apollo_429": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: a.enrich_organization("throttled.example")),
    "apollo_500": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: a.enrich_organization("broken.example")),
    "clearbit_ok": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: c.find_company("harborlane.example")),
    "clearbit_401": (APOLLO_KEY, CLEARBIT_BAD_KEY, lambda a, c: c.find_company("harborlane.example")),
    "clearbit_422": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: c.find_person("who@localhost")),
    "clearbit_garbage": (APOLLO_KEY, CLEARBIT_KEY, lambda a, c: c.find_company("garbage.example")),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_no_key_in_errors_logs_or_reprs(name: str, caplog: pytest.LogCaptureFixture) -> None:
    apollo_key, clearbit_key, scenario = SCENARIOS[name]
    clock = FakeClock()
    caplog.set_level(logging.DEBUG)
    with provider_cassette(f"secrets_test_{name}") as rec:
        retry = RetryPolicy(sleep=clock.sleep, clock=clock)
        apollo = ApolloClient(
            SecretStr(apollo_key),
            APOLLO_STANDIN_URL,
            http=rec.client("apollo"),
            owns_http=True,
            retry=retry,
            limiter=ProviderLimiter("apollo"),
        )
        clearbit = ClearbitClient(
            SecretStr(clearbit_key),
            CLEARBIT_STANDIN_URL,
            http=rec.client("clearbit"),
            owns_http=True,
            retry=retry,
            limiter=ProviderLimiter("clearbit"),
        )
        seen: list[str] = [repr(apollo), repr(clearbit), str(vars(apollo.usage))]
        try:
            result = await scenario(apollo, clearbit)
            seen += [repr(result), json.dumps(getattr(result, "raw", None))]
        except BlueprintError as exc:
            seen += [str(exc), repr(exc), json.dumps(exc.to_dict()), "".join(traceback.format_exception(exc))]
        finally:
            await apollo.aclose()
            await clearbit.aclose()
    seen += [record.getMessage() for record in caplog.records]
    assert leaks("\n".join(seen)) == []
    assert len(seen) > 3


async def test_provider_message_echoing_the_key_is_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": f"Invalid parameter for key {APOLLO_KEY}"})

    client = ApolloClient(
        SecretStr(APOLLO_KEY),
        "http://provider.test",
        http=make_client("apollo", transport=httpx.MockTransport(handler)),
        owns_http=True,
    )
    async with client:
        with pytest.raises(BlueprintError) as caught:
            await client.enrich_organization("acme.example")
    assert caught.value.details["provider_message"] == "Invalid parameter for key ***"
    assert leaks(json.dumps(caught.value.to_dict())) == []


def test_no_key_in_any_cassette_written_by_this_session() -> None:
    # Runs last in this module, so cassettes recorded by the tests above are scanned in the same run.
    assert [path.name for path in cassette_files() if leaks(path.read_text())] == []
