"""The CPU profile's attribution: a function's file decides its layer; built-ins and shared helpers
count in their callers' layers unless they are named after a layer of their own."""

from __future__ import annotations

from types import SimpleNamespace

from bench.profile_cpu import OTHER, _builtin, layer_of


def stat(module: str, name: str = "f", builtin: bool = False) -> SimpleNamespace:
    return SimpleNamespace(module=module, name=name, builtin=builtin)


def test_files_map_to_their_layers() -> None:
    site = "/venv/lib/python3.11/site-packages"
    assert layer_of(stat(f"{site}/langgraph/pregel/_algo.py")).startswith("graph runtime")
    assert layer_of(stat(f"{site}/langchain_core/callbacks/manager.py")).startswith("graph runtime")
    assert layer_of(stat(f"{site}/openai/_utils/_transform.py")).startswith("LLM request building")
    assert layer_of(stat(f"{site}/langchain_core/messages/ai.py")).startswith("LLM request building")
    assert layer_of(stat(f"{site}/pydantic/main.py")) == "pydantic"
    assert layer_of(stat("/repo/tools/extract.py")).startswith("extraction")
    assert layer_of(stat("/repo/graph/engine/select.py")) == "engine and knowledge"
    assert layer_of(stat("/repo/graph/run.py")) == "nodes, runner, assembly"
    assert layer_of(stat("/repo/tools/website.py")).startswith("outbound HTTP")
    assert layer_of(stat(f"{site}/httpcore2/_async/http11.py")).startswith("outbound HTTP")  # the OpenAI SDK's
    assert layer_of(stat(f"{site}/starlette/routing.py")).startswith("HTTP server")
    assert layer_of(stat("/usr/lib/python3.11/enum.py")) == OTHER


def test_builtins_and_shared_helpers_count_in_their_callers_layer() -> None:
    assert _builtin(stat("builtins", "isinstance", builtin=True))
    assert _builtin(stat("/usr/lib/python3.11/typing.py", "get_origin"))
    assert not _builtin(stat("builtins", "orjson.dumps", builtin=True))  # JSON is a layer of its own
    assert not _builtin(stat("builtins", "<method 'search' of 're.Pattern' objects>", builtin=True))
    assert not _builtin(stat("/repo/graph/engine/text.py", "count"))
