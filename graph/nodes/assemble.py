"""Node ``assemble``: put the sections together into the contract's ``Blueprint``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from graph.fingerprint import blueprint_id_for, package_version, run_key
from graph.nodes._common import context_of, engine_of, knowledge, request_of
from graph.resources import get_resources
from graph.schemas import Blueprint, LLMUsage, Meta
from graph.state import BlueprintState, Context

__all__ = ["assemble"]


async def assemble(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    kb = await knowledge()
    engine = engine_of(state, runtime)
    settings = get_resources().settings
    model = (context_of(runtime).model or settings.blueprint_model) if engine == "llm" else None
    key = run_key(request, engine=engine, model=model, knowledge_version=kb.version)
    started = state.get("started_at") or time.time()
    blueprint = Blueprint(
        blueprint_id=context_of(runtime).blueprint_id or blueprint_id_for(key),
        website=request.website,
        company=state["company"],
        icp=state["resolved_icp"],
        firmographic=state["firmographic"],
        technographic=state["technographic"],
        personalization=state["personalization"],
        sources=state.get("sources") or [],
        collection_methods=state.get("collection_methods") or [],
        coverage=state.get("coverage"),
        warnings=state.get("warnings") or [],
        meta=Meta(
            engine=engine,
            model=model,
            duration_ms=int((time.time() - started) * 1000),
            provider_calls=state.get("provider_calls") or {},
            llm=state.get("llm_usage") or LLMUsage(),
            version=f"{package_version()}+kb.{kb.version}",
            knowledge_version=kb.version,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    return {"blueprint": blueprint.model_dump(mode="json")}
