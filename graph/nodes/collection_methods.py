"""Node ``collection_methods``: group data points by method, with provider order, cadence, cost, validation."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.plan import plan_collection
from graph.nodes._common import knowledge
from graph.state import BlueprintState, Context

__all__ = ["collection_methods"]


async def collection_methods(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    kb = await knowledge()
    sections = {name: state[name].data_points
                for name in ("firmographic", "technographic", "personalization")}
    return {"collection_methods": plan_collection(kb, sections)}
