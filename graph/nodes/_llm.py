"""The seam between the catalog engine and the LLM engine, with the per-node fallback.

Every node computes its catalog result first (cheap, offline, and the LLM's grounding). With the llm
engine, :func:`refine` hands it to ``graph.engine.llm.refine`` for that node; any LLM failure keeps the
catalog result and adds an ``llm_fallback`` warning — the run never fails because of the LLM.
The LLM step returns a ``graph.engine.llm.Refined``: its result, token usage, grounding warnings
(``llm_ungrounded``) and extra state updates (the ICP suggested by ``analyze_company``).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from pydantic import ValidationError

from graph.nodes._common import engine_of
from graph.schemas import LLMUsage, Warning
from graph.state import BlueprintState, Context
from tools.errors import LLMError, UpstreamTimeout

__all__ = ["refine"]

T = TypeVar("T")
log = logging.getLogger(__name__)


async def refine(
    node: str, state: BlueprintState, runtime: Runtime[Context], catalog_result: T, **grounding: Any
) -> tuple[T, dict[str, Any]]:
    """``(result, extra_state_updates)``: the LLM's result for ``node``, or the catalog's on failure."""
    if engine_of(state, runtime) != "llm":
        return catalog_result, {}
    from graph.engine import llm  # imported lazily: the catalog path never loads langchain-openai

    try:
        refined = await llm.refine(node, state, runtime, catalog_result, **grounding)
    except (LLMError, UpstreamTimeout, ValidationError, ValueError) as exc:
        reason = getattr(exc, "message", None) or type(exc).__name__
        log.warning("llm fallback in %s: %s", node, reason)
        usage = getattr(exc, "usage", None) or LLMUsage()
        warning = Warning(code="llm_fallback", node=node,
                          message=f"The LLM failed for {node} ({reason}); the catalog result is used.")
        return catalog_result, {"warnings": [warning], "llm_usage": usage}
    return refined.result, {**refined.updates, "warnings": refined.warnings, "llm_usage": refined.usage}
