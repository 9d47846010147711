"""The chat model is built lazily from settings, once per model per Resources, for any endpoint."""

from __future__ import annotations

import pytest
from langchain_openai import AzureChatOpenAI
from pydantic import SecretStr

from graph.engine.llm_client import PLACEHOLDER_KEY, chat_model
from graph.resources import open_resources
from graph.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


async def test_one_model_per_resources_and_its_http_client_closes_with_them() -> None:
    async with open_resources(_settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1")) as resources:
        first = chat_model(resources, "llama3.1")
        assert chat_model(resources, "llama3.1") is first
        assert chat_model(resources, "qwen2.5") is not first
        http = resources.extras["llm_http"]
        assert isinstance(first.openai_api_key, SecretStr)
        assert first.openai_api_key.get_secret_value() == PLACEHOLDER_KEY  # a local server needs no key
        assert first.max_retries == 0 and first.openai_api_base == "http://127.0.0.1:9/v1"
    assert http.is_closed


@pytest.mark.parametrize("base", ["https://contoso.openai.azure.com", "https://contoso.openai.azure.com/openai"])
async def test_azure_deployment_endpoints_use_the_azure_client(base: str) -> None:
    settings = _settings(OPENAI_API_KEY="azure-key-123", OPENAI_BASE_URL=base, OPENAI_API_VERSION="2024-10-21")
    async with open_resources(settings) as resources:
        llm = chat_model(resources, "my-gpt4o-deployment")
        assert isinstance(llm, AzureChatOpenAI)
        assert llm.azure_endpoint == "https://contoso.openai.azure.com"
        assert llm.deployment_name == "my-gpt4o-deployment" and llm.openai_api_version == "2024-10-21"
        assert isinstance(llm.openai_api_key, SecretStr)
        assert "azure-key-123" not in repr(llm)


async def test_openai_proper_needs_only_the_key() -> None:
    async with open_resources(_settings(OPENAI_API_KEY="sk-test-abc")) as resources:
        llm = chat_model(resources, "gpt-4o-mini")
        assert llm.openai_api_base in (None, "") and not llm.default_query


async def test_provider_tools_only_for_configured_providers_not_yet_heard_from() -> None:
    from graph.engine.llm import _provider_tools

    settings = _settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1", APOLLO_API_KEY="apk-test")
    async with open_resources(settings) as resources:
        tools, clients = _provider_tools(resources, ["apollo", "clearbit"], {})
        assert [t.name for t in tools] == ["apollo_enrich_organization"]  # no Clearbit key, no person lookups
        await clients.aclose()
        assert _provider_tools(resources, ["apollo"], {"apollo": {"industry": "restaurants"}}) == ([], None)
    async with open_resources(_settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1")) as resources:
        assert _provider_tools(resources, ["apollo", "clearbit"], {}) == ([], None)


@pytest.mark.parametrize("endpoint", [
    {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
    {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://contoso.openai.azure.com", "OPENAI_API_VERSION": "2024-10-21"},
])
async def test_the_messages_reach_the_wire_as_the_sdk_itself_would_send_them(endpoint: dict[str, str]) -> None:
    """``MessagesAsBuilt`` skips the SDK's type-driven transform of the messages; the request body is the
    same bytes as the SDK's own ``create`` sends (key order included), tools and extra_body too."""
    import json

    import httpx2 as httpx  # the SDK's own HTTP client library
    import openai
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    from graph.engine.llm_client import MessagesAsBuilt

    bodies: list[tuple[str, bytes]] = []
    completion = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                  "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "{\"ok\": true}"}}],
                  "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append((str(request.url), request.content))
        return httpx.Response(200, json=completion)

    messages = [SystemMessage("system <rules> é"), HumanMessage("the seller's page"),
                AIMessage("", tool_calls=[{"id": "call_1", "name": "lookup", "args": {"domain": "a.example"}}]),
                ToolMessage('{"industry": "restaurants"}', tool_call_id="call_1")]
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    kwargs = {"extra_body": {"response_format": {"type": "json_schema"}}, "tools": [tool]}
    async with openai.DefaultAsyncHttpxClient(transport=httpx.MockTransport(answer)) as http, \
            open_resources(_settings(**endpoint)) as resources:
        resources.extras["llm_http"] = http
        llm = chat_model(resources, "m")
        assert isinstance(llm.async_client, MessagesAsBuilt)
        reply = await llm.ainvoke(messages, **kwargs)
        llm.async_client = llm.async_client._completions  # the SDK's own, for the reference body
        reference = await llm.ainvoke(messages, **kwargs)
    assert reply.content == reference.content == "{\"ok\": true}"
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[0][0].endswith(("/v1/chat/completions", "/deployments/m/chat/completions?api-version=2024-10-21"))
    sent = json.loads(bodies[0][1])
    assert sent["messages"][0] == {"content": "system <rules> é", "role": "system"} and len(sent["messages"]) == 4
    assert sent["tools"] == [tool] and sent["response_format"] == {"type": "json_schema"}


@pytest.mark.parametrize("endpoint", [
    {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
    {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://contoso.openai.azure.com", "OPENAI_API_VERSION": "2024-10-21"},
])
@pytest.mark.parametrize("reply", [
    {"role": "assistant", "content": "{\"ok\": true}"},
    {"role": "assistant", "content": None, "refusal": None,
     "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"d\": 1}"}}]},
    {"role": "assistant", "content": None, "refusal": "I can't help with that."},
])
async def test_the_response_is_read_as_a_dict_into_the_same_message(endpoint: dict[str, str], reply: dict) -> None:
    """The SDK's raw response is parsed as a dict (no ChatCompletion model built and dumped again): the
    message langchain-openai makes of it is the one it makes of the SDK's model — content, tool calls,
    usage and a refusal — except that an absent refusal is not spelled out as ``None``."""
    import httpx2 as httpx
    import openai
    from langchain_core.messages import HumanMessage

    from graph.engine.llm_client import MessagesAsBuilt

    completion = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                  "choices": [{"index": 0, "finish_reason": "stop", "message": reply}],
                  "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                            "prompt_tokens_details": {"cached_tokens": 1}}}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=completion)

    async with openai.DefaultAsyncHttpxClient(transport=httpx.MockTransport(answer)) as http, \
            open_resources(_settings(**endpoint)) as resources:
        resources.extras["llm_http"] = http
        llm = chat_model(resources, "m")
        assert isinstance(llm.async_client, MessagesAsBuilt)
        ours = await llm.ainvoke([HumanMessage("hi")])
        llm.async_client = llm.async_client._completions  # the SDK's own parse into a ChatCompletion
        theirs = await llm.ainvoke([HumanMessage("hi")])
    assert ours.content == theirs.content
    assert ours.tool_calls == theirs.tool_calls and ours.invalid_tool_calls == theirs.invalid_tool_calls
    assert ours.usage_metadata == theirs.usage_metadata and ours.usage_metadata is not None
    assert ours.response_metadata["token_usage"]["prompt_tokens"] == 3
    assert ours.response_metadata["finish_reason"] == theirs.response_metadata["finish_reason"] == "stop"
    spelled_out = {k: v for k, v in theirs.additional_kwargs.items() if not (k == "refusal" and v is None)}
    assert ours.additional_kwargs == spelled_out
    assert ("refusal" in ours.additional_kwargs) == bool(reply.get("refusal"))
