"""Redaction cannot miss a field: a key planted in any field of any error shape of either provider, in
any data value, in a cached record or in an LLM endpoint's error never comes out of the clients.

Each planting puts the key (as written, upper- or lower-cased, or as Basic credentials) into one string
of a real response shape, then everything the client hands out — the record, its raw JSON, the cache
entry it wrote, the error (message, details, repr, traceback with its whole chain) and every log
record — is searched for it, case-insensitively.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from graph.engine.llm_client import complete
from graph.settings import Settings
from tests.support.provider_standin import FakeClock
from tools.apollo import ApolloClient
from tools.clearbit import ClearbitClient
from tools.errors import BlueprintError, LLMError, ProviderAuthError, ProviderRateLimited, UpstreamTimeout
from tools.http import InMemoryResponseCache, ProviderLimiter, RetryPolicy, make_client
from tools.redaction import MASK, Redactor

KEY = "sk-live-Planted-7Hq2Wv9Zr4"  # the client's own key
OTHER = "bp-svc-Other-Secret-3Kd8"  # another configured secret (a service API key, say)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers"


def forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"{secret}:".encode()).decode()
    return [secret, secret.upper(), secret.lower(), basic, basic.rstrip("=")]


def leaks(text: str) -> list[str]:
    """Every form of either secret found in ``text``, compared case-insensitively."""
    low = text.lower()
    return [form for secret in (KEY, OTHER) for form in forms(secret) if form.lower() in low]


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string leaf of a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from string_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from string_paths(v, (*path, i))


def planted(body: Any, path: tuple[Any, ...], secret: str) -> Any:
    out = copy.deepcopy(body)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = f"{target[path[-1]]}_{secret}"
    return out


def planted_everywhere(body: Any) -> Any:
    for path in list(string_paths(body)):
        body = planted(body, path, KEY)
    return body


def plantings(body: Any) -> Iterator[tuple[str, Any]]:
    """``body`` with one form of a secret appended to one string, for every string and form; then with a
    secret as a key of a nested object, and in every string at once."""
    for path in string_paths(body):
        for i, secret in enumerate([KEY, KEY.upper(), KEY.lower(), forms(KEY)[3], OTHER]):
            yield f"{'.'.join(map(str, path))}#{i}", planted(body, path, secret)
    yield "all", planted_everywhere(body)
    if isinstance(body, dict):
        yield "as_key", {**body, "extra": {KEY: {"nested": [OTHER]}}}


# -- provider error shapes, as the providers send them --------------------------------------------

APOLLO_ERRORS: dict[str, tuple[int, Any]] = {
    "401_text": (401, "Invalid access credentials."),  # text/plain
    "403_inaccessible": (403, {"error": "This API key is not authorized to access api/v1/organizations/enrich.",
                               "error_code": "API_INACCESSIBLE"}),
    "403_paid_plan": (403, {"message": "This endpoint is only available to Apollo users on paid plans."}),
    "422_error": (422, {"error": "Invalid parameter 'domain'"}),
    "429_message": (429, {"message": "The maximum number of api calls allowed is 50 times per minute."}),
    "400_error_code": (400, {"status": "failed", "error_code": "RECORD_LIMIT_EXCEEDED",
                             "error_message": "cannot enrich more than 10 in a single request"}),
    "500_error": (500, {"error": "Internal server error"}),
    "422_nested": (422, {"error": {"code": "INVALID_PARAM", "message": "bad domain",
                                   "details": [{"field": "domain", "reason": "malformed"}]}}),
    "422_error_list": (422, {"errors": ["domain is invalid"], "error_code": "INVALID"}),
}
CLEARBIT_ERRORS: dict[str, tuple[int, Any]] = {
    "401": (401, {"error": {"type": "invalid_api_key", "message": "Invalid API key provided"}}),
    "403": (403, {"error": {"type": "forbidden", "message": "Your plan does not include this API"}}),
    "404": (404, {"error": {"type": "unknown_record", "message": "Record not found"}}),
    "422": (422, {"error": {"type": "domain_invalid", "message": "Invalid domain."}}),
    "429": (429, {"error": {"type": "rate_limit", "message": "Rate limit exceeded."}}),
    "202": (202, {"error": {"type": "queued", "message": "Lookup queued; retry shortly."}}),
    "500": (500, {"error": {"type": "server_error", "message": "Something went wrong."}}),
    "422_nested": (422, {"error": {"type": "params_invalid", "message": "Invalid parameters",
                                   "params": [{"name": "domain", "error": "malformed"}]}}),
    "502_text": (502, "Bad gateway"),
}


def cases(shapes: dict[str, tuple[int, Any]]) -> list[tuple[str, int, Any]]:
    out = []
    for name, (status, body) in shapes.items():
        if isinstance(body, str):  # a text body: the secret inside it, or as all of it
            out += [(f"{name}:text", status, f"{body} {KEY}"), (f"{name}:only", status, KEY.upper())]
        else:
            out += [(f"{name}:{label}", status, planted_body) for label, planted_body in plantings(body)]
    return out


def respond(status: int, body: Any) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers={"content-type": "text/plain; charset=utf-8"})
    return httpx.Response(status, json=body)


def transport(status: int, body: Any) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: respond(status, body))


def quick_retry() -> RetryPolicy:
    clock = FakeClock()
    return RetryPolicy(sleep=clock.sleep, clock=clock)


def apollo(mock: httpx.MockTransport, cache: InMemoryResponseCache | None = None) -> ApolloClient:
    return ApolloClient(SecretStr(KEY), "http://apollo.test/api/v1", http=make_client("apollo", transport=mock),
                        owns_http=True, retry=quick_retry(), limiter=ProviderLimiter("apollo"), cache=cache,
                        secrets=[OTHER])


def clearbit(mock: httpx.MockTransport, cache: InMemoryResponseCache | None = None) -> ClearbitClient:
    clock = FakeClock()
    return ClearbitClient(SecretStr(KEY), "http://clearbit.test", http=make_client("clearbit", transport=mock),
                          owns_http=True, retry=quick_retry(), limiter=ProviderLimiter("clearbit"), cache=cache,
                          sleep=clock.sleep, clock=clock, queued_wait_s=3, secrets=[OTHER])


class WrittenCache(InMemoryResponseCache):
    """Keeps a copy of every entry written, as JSON, to search it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self.written.append(json.dumps({key: value}))
        await super().set(key, value, ttl_s)


def everything_said(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, BlueprintError):
        parts.append(json.dumps(exc.to_dict()))
    return "\n".join(parts)


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(message)s %(args)s")
    return "\n".join(formatter.format(r) + repr(r.args) for r in caplog.records)


# -- the redactor itself ------------------------------------------------------------------------------


def test_every_form_of_every_secret_is_masked_in_strings_keys_and_nesting() -> None:
    redactor = Redactor([SecretStr(KEY), OTHER, None, ""])
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    text = f"a {KEY} b {KEY.upper()} c {basic} d {basic.rstrip('=')} e {OTHER.lower()} f"
    assert redactor.text(text) == "a *** b *** c *** d *** e *** f"
    value = {KEY: [OTHER, ("x", f"y{KEY}"), {"n": 1, "b": True}], "plain": None}
    assert redactor.value(value) == {MASK: [MASK, ("x", "y***"), {"n": 1, "b": True}], "plain": None}
    assert repr(redactor) == "Redactor()"


def test_secrets_json_would_escape_and_values_json_cannot_hold_are_still_found() -> None:
    odd = 'k3y"with\\quote'  # in JSON it reads k3y\"with\\quote: the one-pass check cannot see it
    assert Redactor([odd]).value({"a": [f"x {odd} y"]}) == {"a": ["x *** y"]}
    marker = object()  # not JSON: the answer is walked instead
    assert Redactor([KEY]).value({"a": marker, "b": KEY}) == {"a": marker, "b": MASK}
    clean = {"name": "Acme", "tags": ["a", "b"]}
    assert Redactor([KEY]).value(clean) is clean  # nothing to hide: the answer itself, not a copy


def test_no_secret_means_no_change_and_too_short_secrets_are_not_credentials() -> None:
    assert not Redactor([])
    assert Redactor(["abc"]).text("abc abcd") == "abc abcd"  # 3 characters protect nothing
    assert Redactor(["abcd"]).text("abc abcd") == "abc ***"


def test_an_error_and_its_whole_chain_are_redacted_in_place() -> None:
    class Upstream(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.body = {"error": {"message": message, "code": f"E_{KEY}"}}
            self.code = KEY

    with pytest.raises(BlueprintError) as info:
        try:
            raise Upstream(f"Incorrect API key provided: {KEY}")
        except Upstream as inner:
            raise BlueprintError(f"failed ({KEY})", details={"why": [OTHER]}) from inner
    caught = info.value
    assert leaks(everything_said(caught))  # before: the key is in the message, the details and the cause
    assert Redactor([KEY, OTHER]).error(caught) is caught
    assert leaks(everything_said(caught)) == []
    assert caught.message == "failed (***)" and caught.details == {"why": ["***"]}
    assert isinstance(caught.__cause__, Upstream) and caught.__cause__.body["error"]["code"] == "E_***"


def test_settings_list_every_configured_secret_including_future_ones() -> None:
    settings = Settings(_env_file=None, OPENAI_API_KEY="sk-o-1234", APOLLO_API_KEY="apk-1234",  # type: ignore[call-arg]
                        BLUEPRINT_API_KEYS="svc-a-1234,svc-b-1234")
    assert sorted(settings.secret_values) == ["apk-1234", "sk-o-1234", "svc-a-1234", "svc-b-1234"]

    class Later(Settings):  # a token added later (HubSpot, say) is a SecretStr field: it is picked up as is
        hubspot_access_token: SecretStr | None = None

    later = Later(_env_file=None, hubspot_access_token=SecretStr("pat-na1-1234"))  # type: ignore[call-arg]
    assert later.secret_values == ["pat-na1-1234"]


# -- every field of every error shape ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "status", "body"), cases(APOLLO_ERRORS), ids=[c[0] for c in cases(APOLLO_ERRORS)])
async def test_apollo_errors_never_carry_a_key(
    name: str, status: int, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    async with apollo(transport(status, body)) as client:
        for call in (lambda: client.enrich_organization("acme.example"),
                     lambda: client.bulk_enrich_organizations(["acme.example", "b.example"]),
                     lambda: client.match_person(email="jo@acme.example")):
            with pytest.raises(BlueprintError) as caught:
                await call()
            said.append(everything_said(caught.value))
            if status in (401, 403):
                assert isinstance(caught.value, ProviderAuthError)
            if status == 429:
                assert isinstance(caught.value, ProviderRateLimited)
    assert leaks(body if isinstance(body, str) else json.dumps(body))  # the detector sees the planted key
    assert leaks("\n".join(said) + log_text(caplog)) == [], name


@pytest.mark.parametrize(("name", "status", "body"), cases(CLEARBIT_ERRORS),
                         ids=[c[0] for c in cases(CLEARBIT_ERRORS)])
async def test_clearbit_errors_never_carry_a_key(
    name: str, status: int, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    async with clearbit(transport(status, body)) as client:
        for call in (lambda: client.find_company("acme.example"), lambda: client.find_person("jo@acme.example"),
                     lambda: client.find_combined("jo@acme.example")):
            try:
                said.append(repr(await call()))  # 404: "not found", nothing of the body is kept
            except BlueprintError as exc:
                said.append(everything_said(exc))
                assert status != 202 or isinstance(exc, UpstreamTimeout)
    assert leaks(body if isinstance(body, str) else json.dumps(body))  # the detector sees the planted key
    assert leaks("\n".join(said) + log_text(caplog)) == [], name
    if status == 404:
        assert said[0] == "None"


# -- provider data values, fresh and cached -------------------------------------------------------


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _records_said(found: Any) -> str:
    items = found if isinstance(found, list | tuple) else [found]
    return "\n".join(f"{item!r}\n{json.dumps(item.raw)}\n{item.model_dump_json()}" for item in items if item)


async def test_apollo_data_echoing_a_key_is_redacted_in_records_and_cache() -> None:
    org = _fixture("apollo_organization_enrich.json")["organization"]
    body = {"organization": planted_everywhere(org) | {"primary_domain": "acme.example"}}
    body["organization"]["short_description"] = f"Our API key is {KEY} and {OTHER}"
    cache = WrittenCache()
    async with apollo(transport(200, body), cache) as client:
        found = await client.enrich_organization("acme.example")
        bulk = await client.bulk_enrich_organizations(["acme.example"])  # from the cache now
    assert found is not None and found.short_description == "Our API key is *** and ***"
    assert found.name and found.name.endswith("_***")  # the data is kept, only the secret goes
    said = _records_said([found, *bulk.values()]) + "\n".join(cache.written)
    assert leaks(said) == []


async def test_clearbit_data_echoing_a_key_is_redacted_in_records_and_cache() -> None:
    company = planted_everywhere(_fixture("clearbit_company.json"))
    cache = WrittenCache()
    async with clearbit(transport(200, company | {"secret": OTHER}), cache) as client:
        found = await client.find_company("acme.example")
        person, in_combined = await client.find_combined("jo@acme.example")
    assert found is not None and found.description and found.description.endswith("_***")
    said = _records_said([found, person, in_combined]) + "\n".join(cache.written)
    assert leaks(said) == []


async def test_a_poisoned_cache_entry_is_redacted_on_the_way_out() -> None:
    """An entry written before answers were redacted still holds the key; it never comes out of a client."""
    from tools.http import cache_key

    cache = InMemoryResponseCache()
    await cache.set(cache_key("apollo", "company", "acme.example"),
                    {"raw": {"organization": {"name": f"Acme {KEY}"}}}, 60)
    await cache.set(cache_key("clearbit", "company", "acme.example"), {"raw": {"name": f"Acme {KEY}"}}, 60)
    unreachable = transport(500, {"error": "the cache should have answered"})
    async with apollo(unreachable, cache) as a, clearbit(unreachable, cache) as c:
        org, company = await a.enrich_organization("acme.example"), await c.find_company("acme.example")
    assert org is not None and org.name == "Acme ***" and leaks(json.dumps(org.raw)) == []
    assert company is not None and company.name == "Acme ***" and leaks(json.dumps(company.raw)) == []


# -- LLM endpoint errors ---------------------------------------------------------------------------


class _Answer(BaseModel):
    text: str


LLM_ERRORS = {
    "401": (401, {"error": {"message": f"Incorrect API key provided: {KEY}", "type": f"invalid_{KEY}",
                            "param": KEY, "code": f"invalid_api_key_{KEY.upper()}"}}),
    "400_nested": (400, {"error": {"message": "bad", "details": [{"field": OTHER}]}}),
    "500_text": (500, f"upstream proxy error for key {KEY}"),
    "200_not_a_completion": (200, {"echo": KEY, "choices": "nope"}),
}


@pytest.mark.parametrize("name", sorted(LLM_ERRORS))
async def test_llm_errors_never_carry_a_key(name: str, caplog: pytest.LogCaptureFixture) -> None:
    status, body = LLM_ERRORS[name]
    caplog.set_level(logging.DEBUG)
    http = httpx.AsyncClient(transport=transport(status, body))
    llm = ChatOpenAI(model="m", api_key=SecretStr(KEY), base_url="http://llm.test/v1", max_retries=0,
                     http_async_client=http)
    try:
        with pytest.raises((LLMError, UpstreamTimeout)) as caught:
            await complete(llm, [HumanMessage("hi")], _Answer, redactor=Redactor([KEY, OTHER]))
    finally:
        await http.aclose()
    assert caught.value.__cause__ is not None  # the library's error is kept, cleaned, for the traceback
    assert leaks(everything_said(caught.value) + log_text(caplog)) == [], name


# -- log lines --------------------------------------------------------------------------------------


def test_log_lines_are_redacted_as_a_last_net() -> None:
    """Whatever is logged by mistake — a message, an extra, an upstream error's traceback — is masked."""
    import sys

    from server import logging as service_logging

    try:
        raise ValueError(f"upstream said {KEY}")
    except ValueError:
        record = logging.LogRecord("graph", logging.ERROR, __file__, 1, "oops %s", (OTHER,), sys.exc_info())
    record.provider_body = {"echo": KEY.upper()}
    line = service_logging.JsonFormatter(Redactor([KEY, OTHER])).format(record)
    assert leaks(line) == [] and line.count(MASK) == 3
