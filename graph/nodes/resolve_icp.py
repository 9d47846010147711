"""Node ``resolve_icp``: the provided ICP wins where it speaks; inference fills the rest."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.icp import resolve_icp as resolve
from graph.nodes._common import knowledge, request_of
from graph.state import BlueprintState, Context

__all__ = ["resolve_icp"]


async def resolve_icp(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    kb = await knowledge()
    resolved, targeting = resolve(state["company"], state["market"], kb, request.icp)
    return {"resolved_icp": resolved, "targeting": targeting}
