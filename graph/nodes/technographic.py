"""Node ``technographic``: the tools a lead runs: incumbents the seller replaces or plugs into."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.nodes._section import build_section
from graph.state import BlueprintState, Context

__all__ = ["technographic"]


async def technographic(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    return await build_section("technographic", state, runtime)
