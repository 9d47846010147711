"""Node ``firmographic``: data points that qualify an account (size, footprint, segment, stage)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.nodes._section import build_section
from graph.state import BlueprintState, Context

__all__ = ["firmographic"]


async def firmographic(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    return await build_section("firmographic", state, runtime)
