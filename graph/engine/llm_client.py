"""The chat model of the LLM engine: built lazily from settings, one per model per :class:`Resources`.

Any OpenAI-compatible endpoint works: OpenAI, Azure OpenAI (its ``/openai/v1/`` URL, or a deployment
URL plus ``OPENAI_API_VERSION``), or a local server (Ollama, vLLM, llama.cpp) through
``OPENAI_BASE_URL`` — a local server needs no key, so a placeholder is sent.

Each :class:`Resources` owns its HTTP client (closed with it): the process-wide default client of
langchain-openai is bound to the first event loop that used it, and ``generate_blueprint`` runs every
call in a fresh loop.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import certifi
import openai
from langchain_core.messages import AIMessage, BaseMessage
from langchain_openai import AzureChatOpenAI, ChatOpenAI
from langchain_openai.chat_models.base import BaseChatOpenAI
from pydantic import BaseModel, SecretStr, ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from graph.engine.llm_models import response_format
from graph.resources import Resources
from graph.schemas import LLMUsage
from tools.errors import LLMError, UpstreamTimeout
from tools.redaction import Redactor

__all__ = ["Completion", "MessagesAsBuilt", "chat_model", "complete", "estimate_tokens", "parse", "redactor_of"]

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)

RETRY_ATTEMPTS = 2  # one retry of a transient failure: more would blow the latency budget
# transient: worth one more try. Connection errors are not retried: timeouts are a subclass of them, and a
# node that timed out falls back rather than waiting twice.
TRANSIENT = (openai.RateLimitError, openai.InternalServerError)
PLACEHOLDER_KEY = "not-needed-for-local-servers"


@dataclass
class Completion:
    message: AIMessage
    usage: LLMUsage


def estimate_tokens(text: str) -> int:
    """A conservative token estimate (~3.5 characters per token for English and JSON); no tokenizer
    download is needed, and the real count comes back in the response's usage."""
    return len(text) * 2 // 7 + 1


def _build(resources: Resources, model: str, http: Any) -> BaseChatOpenAI:
    settings = resources.settings
    key = SecretStr(settings.openai_api_key.get_secret_value() if settings.openai_api_key else PLACEHOLDER_KEY)
    common: dict[str, Any] = {
        "timeout": settings.llm_timeout_s,
        "max_retries": 0,  # retries are ours (bounded, transient errors only)
        "temperature": 0,
        "http_async_client": http,
        "api_key": key,
    }
    llm: BaseChatOpenAI
    if settings.openai_api_version:
        # Azure deployment endpoints: /openai/deployments/<model>/...?api-version=..., key in an api-key
        # header. The model name is the deployment name.
        parts = urlsplit(settings.openai_base_url or "")
        llm = AzureChatOpenAI(azure_endpoint=f"{parts.scheme}://{parts.netloc}", azure_deployment=model,
                              api_version=settings.openai_api_version, model=model, **common)
    else:
        llm = ChatOpenAI(model=model, base_url=settings.openai_base_url or None, **common)
    llm.async_client = MessagesAsBuilt(llm.async_client)
    return llm


def _as_built(payload: dict[str, Any]) -> dict[str, Any]:
    """The request's messages moved into ``extra_body`` (unless the caller put some there already)."""
    messages = payload.get("messages")
    extra = payload.get("extra_body") or {}
    if not isinstance(messages, list) or "messages" in extra:
        return payload
    return {**payload, "messages": [], "extra_body": {**extra, "messages": messages}}


class MessagesAsBuilt:
    """The SDK's ``chat.completions`` as langchain-openai's ``async_client``, sending the messages as
    langchain-openai built them.

    ``create`` walks its whole body through the SDK's type-driven transform, which exists for key aliases
    and file formats that chat messages never use: every message is checked against each of the six
    message types of its union, ~0.5 ms of CPU a call spent in typing introspection to return the same
    dicts. The messages ride in ``extra_body`` instead, which the SDK merges into the JSON body over the
    key it stands for: the same JSON on the wire, key order included (the response_format rides there for
    the same reason; see :func:`complete`). Everything else is the SDK's own call."""

    def __init__(self, completions: Any) -> None:
        self._completions = completions
        self.with_raw_response = _RawMessagesAsBuilt(completions)

    async def create(self, **payload: Any) -> Any:
        return await self._completions.create(**_as_built(payload))

    def __getattr__(self, name: str) -> Any:  # anything else langchain-openai may use: the SDK's own
        if name.startswith("_"):  # not set yet (a copy being built): no recursion through _completions
            raise AttributeError(name)
        return getattr(self._completions, name)


class _RawMessagesAsBuilt:
    def __init__(self, completions: Any) -> None:
        self._raw = completions.with_raw_response

    async def create(self, **payload: Any) -> Any:
        return _ParsedAsDict(await self._raw.create(**_as_built(payload)))


class _ParsedAsDict:
    """The SDK's raw response (what langchain-openai asks for), parsed as the dict its JSON is.

    Parsed as a ``ChatCompletion``, the SDK builds the response model field by field through its
    type-driven constructor, and langchain-openai dumps it straight back to a dict in a worker thread
    (~0.15 ms of CPU a call together); it reads a dict as it is (``parse(to=dict)`` is the SDK's own,
    documented parse). The message, its tool calls and the usage come out the same; what differs is only
    that an absent ``refusal`` is left out of the message's ``additional_kwargs`` rather than set to
    ``None`` (a refusal, when there is one, is there either way)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def parse(self) -> Any:
        return self._raw.parse(to=dict)

    def __getattr__(self, name: str) -> Any:  # headers, http_response, ...: the SDK's own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._raw, name)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~25 ms of CPU, too much per run."""
    return ssl.create_default_context(cafile=certifi.where())


def chat_model(resources: Resources, model: str) -> BaseChatOpenAI:
    """The chat model for ``model``, created on first use and cached in ``resources.extras``."""
    models: dict[str, BaseChatOpenAI] = resources.extras.setdefault("llm", {})
    if model not in models:
        if "llm_http" not in resources.extras:
            http = openai.DefaultAsyncHttpxClient(timeout=resources.settings.llm_timeout_s, verify=_tls())
            resources.extras["llm_http"] = http
            resources.on_close(http.aclose)
        models[model] = _build(resources, model, resources.extras["llm_http"])
    return models[model]


def redactor_of(resources: Resources) -> Redactor:
    """The redactor of every configured secret, built once per :class:`Resources`."""
    redactor: Redactor | None = resources.extras.get("redactor")
    if redactor is None:
        redactor = resources.extras["redactor"] = Redactor(resources.settings.secret_values)
    return redactor


def _as_is(exc: BaseException) -> BaseException:
    return exc


def _usage(message: AIMessage) -> LLMUsage:
    meta = message.usage_metadata
    if meta:
        return LLMUsage(calls=1, prompt_tokens=meta.get("input_tokens", 0),
                        completion_tokens=meta.get("output_tokens", 0))
    raw = (message.response_metadata or {}).get("token_usage") or {}
    return LLMUsage(calls=1, prompt_tokens=int(raw.get("prompt_tokens") or 0),
                    completion_tokens=int(raw.get("completion_tokens") or 0))


async def complete(
    llm: BaseChatOpenAI,
    messages: Sequence[BaseMessage],
    schema: type[BaseModel],
    *,
    tools: Sequence[dict[str, Any]] = (),
    redactor: Redactor | None = None,
) -> Completion:
    """One chat completion answering ``schema`` as strict json_schema (or calling one of ``tools``).

    An endpoint's error may echo a key in any field (message, type, code, param, body): ``redactor``
    cleans the client library's exception, kept as the cause of ours, before it can reach a log line."""
    # the schema rides in ``extra_body``: passed as ``response_format`` it sends langchain-openai down the
    # SDK's ``parse`` path, which walks the whole schema through its type-driven request transform on
    # every call (~1 ms of CPU each) only to produce the JSON it already is. The wire body is the same.
    # Arguments go straight to ``ainvoke`` and the retry is tenacity's: ``.bind().with_retry()`` wraps the
    # model in two more runnables, each setting up callbacks again on every call.
    kwargs: dict[str, Any] = {"extra_body": {"response_format": response_format(schema)}}
    if tools:
        kwargs["tools"] = list(tools)
    retrying = AsyncRetrying(retry=retry_if_exception_type(TRANSIENT), stop=stop_after_attempt(RETRY_ATTEMPTS),
                             wait=wait_exponential_jitter(multiplier=0.2, max=1.0, jitter=0.2), reraise=True)
    clean = redactor.error if redactor is not None else _as_is
    try:
        async for attempt in retrying:
            with attempt:
                message = await llm.ainvoke(list(messages), **kwargs)
    except openai.APITimeoutError as exc:
        raise UpstreamTimeout("The LLM endpoint did not answer in time.") from clean(exc)
    except openai.APIStatusError as exc:
        raise LLMError(f"The LLM endpoint answered HTTP {exc.status_code}.",
                       details={"http_status": exc.status_code}) from clean(exc)
    except openai.OpenAIError as exc:  # connection errors, unusable completions (length, refusals)
        raise LLMError(f"The LLM endpoint failed ({type(exc).__name__}).") from clean(exc)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # a 200 whose body is not a chat completion (an HTML page, a proxy's error text): the client
        # library trips over it while reading; to us it is an unusable answer, and the node falls back
        raise LLMError("The LLM endpoint returned an unusable response (not a chat completion).") from clean(exc)
    if not isinstance(message, AIMessage):
        raise LLMError("The LLM endpoint returned no message.")
    return Completion(message=message, usage=_usage(message))


def parse(completion: Completion, schema: type[M]) -> M:
    """The completion's JSON content as ``schema``; an :class:`LLMError` carrying the usage otherwise."""
    content = completion.message.content
    text = content if isinstance(content, str) else json.dumps(content)
    try:
        return schema.model_validate_json(text)
    except ValidationError as exc:
        kind = "invalid JSON" if any(e["type"] == "json_invalid" for e in exc.errors()) else "schema mismatch"
        error = LLMError(f"The LLM's answer was not usable ({kind}).", details={"reason": kind})
        error.usage = completion.usage  # type: ignore[attr-defined]  # counted even when unusable
        raise error from exc
