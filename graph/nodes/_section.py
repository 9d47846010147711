"""The shared body of the three data-point section nodes (firmographic, technographic, personalization)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.engine.analysis import site_zones
from graph.engine.custom import place_custom
from graph.engine.geo import localise_sources, target_markets
from graph.engine.select import rank_candidates, select_section
from graph.nodes._common import knowledge, request_of
from graph.nodes._llm import refine
from graph.nodes.analyze_company import provider_zones
from graph.schemas import Section
from graph.state import BlueprintState, Context

__all__ = ["build_section"]


async def build_section(name: str, state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    kb = await knowledge()
    site = state.get("site")
    zones = [*(site_zones(site) if site else []), *provider_zones(state.get("provider_evidence") or {})]
    limit = request.options.max_data_points
    ranked = rank_candidates(name, kb, state["targeting"], zones, state.get("resolved_icp"))
    section = Section(data_points=select_section(
        name, kb, state["company"], state["targeting"], zones, state.get("resolved_icp"), limit, ranked))
    # the LLM picks from a wider, still grounded, candidate list
    candidates = ranked[: 2 * limit + 5]
    section, updates = await refine(name, state, runtime, section, kb=kb, candidates=candidates, limit=limit)
    # the LLM may add or rewrite data points: their sources too must have data where the leads are
    markets = target_markets(state.get("company"), state.get("resolved_icp"))
    localised = localise_sources(kb, section.data_points, markets)
    # the team's own data points for this request (their sources are the team's choice), whichever engine
    # chose the rest
    placed = place_custom(name, localised, request, kb, state["company"], zones, state.get("resolved_icp"))
    return {name: Section(data_points=placed), **updates}
