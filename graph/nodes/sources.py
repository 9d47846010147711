"""Node ``sources``: merge and de-duplicate the chosen data points' sources, with field maps and notes."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.plan import plan_sources
from graph.nodes._common import knowledge
from graph.state import BlueprintState, Context

__all__ = ["sources"]


async def sources(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    kb = await knowledge()
    chosen = [dp for name in ("firmographic", "technographic", "personalization")
              for dp in state[name].data_points]
    return {"sources": plan_sources(kb, chosen)}
