"""Small helpers every node shares: the validated request, the resolved engine, the knowledge base."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from langgraph.runtime import Runtime

from graph.knowledge import KnowledgeBase, load_knowledge
from graph.schemas import EnrichmentRequest
from graph.state import BlueprintState, Context
from tools.errors import InvalidRequest

__all__ = ["context_of", "engine_of", "knowledge", "request_of"]


def context_of(runtime: Runtime[Context] | None) -> Context:
    ctx = runtime.context if runtime is not None else None
    if isinstance(ctx, dict):  # langgraph dev passes the context as JSON
        return Context(**{k: v for k, v in ctx.items() if k in Context.__dataclass_fields__})
    return ctx or Context()


def request_of(state: BlueprintState) -> EnrichmentRequest:
    """The request fields of the state, validated (Studio and notebooks may pass raw dicts)."""
    data: dict[str, Any] = {"website": state["website"]}
    for key in ("icp", "sample_domains", "options"):
        if state.get(key) is not None:
            data[key] = state.get(key)
    return EnrichmentRequest.model_validate(data)


def engine_of(state: BlueprintState, runtime: Runtime[Context] | None) -> Literal["catalog", "llm"]:
    from graph.resources import get_resources

    settings = get_resources().settings
    requested = context_of(runtime).engine or request_of(state).options.engine
    engine = settings.resolve_engine(requested)
    if engine == "llm" and not settings.llm_configured:
        raise InvalidRequest(
            "engine 'llm' needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL, or use engine 'catalog'",
            details={"field": "options.engine", "supply": ["OPENAI_API_KEY", "OPENAI_BASE_URL"]},
        )
    return engine


async def knowledge() -> KnowledgeBase:
    """The knowledge base; the first load reads files, so it runs off the event loop (later calls are a
    cache lookup and skip the thread hop)."""
    if load_knowledge.cache_info().currsize:
        return load_knowledge()
    return await asyncio.to_thread(load_knowledge)
