"""Node ``personalization``: triggers, events and pains that make outreach timely and specific."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.nodes._section import build_section
from graph.state import BlueprintState, Context

__all__ = ["personalization"]


async def personalization(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    return await build_section("personalization", state, runtime)
