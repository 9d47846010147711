"""Node ``resolve_icp``: the provided ICP wins where it speaks; inference fills the rest.

With the llm engine, ``analyze_company`` has already put the LLM's ICP suggestion in ``resolved_icp``
(seller and ICP come from one call); it fills what the provided ICP leaves open, before the catalog.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.icp import resolve_icp as resolve
from graph.engine.llm_grounding import merge_icp_suggestion
from graph.nodes._common import engine_of, knowledge, request_of
from graph.schemas import ResolvedICP
from graph.state import BlueprintState, Context

__all__ = ["resolve_icp"]


async def resolve_icp(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    kb = await knowledge()
    resolved, targeting = resolve(state["company"], state["market"], kb, request.icp)
    suggestion = state.get("resolved_icp")
    if suggestion is not None and engine_of(state, runtime) == "llm":
        suggestion = ResolvedICP.model_validate(suggestion)  # a dict when state went through JSON (Studio)
        resolved = merge_icp_suggestion(resolved, suggestion, request.icp)
    return {"resolved_icp": resolved, "targeting": targeting}
